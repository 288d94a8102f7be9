//! What the target and the links would look like if every op of a plan succeeded.
//!
//! This is the planner's own model of the ops' effects. The idempotence tests use
//! it (apply, plan again, expect nothing), and a caller can use it to preview the
//! target after a dry run. It assumes ops are applied in plan order.

use crate::ids::{OktaUserId, TargetUserKey, Username};
use crate::links::{GroupLink, Links, UserLink};
use crate::plan::Plan;
use crate::plan::ops::Op;
use crate::snapshot::{TargetGroup, TargetSnapshot, TargetUser};

/// Applies every op of `plan` to copies of `current` and `links`.
#[must_use]
pub fn apply_to_snapshot(
    current: &TargetSnapshot,
    links: &Links,
    plan: &Plan,
) -> (TargetSnapshot, Links) {
    let mut target = current.clone();
    let mut links = links.clone();
    for planned in &plan.ops {
        apply_op(&mut target, &mut links, &planned.op);
    }
    (target, links)
}

fn apply_op(target: &mut TargetSnapshot, links: &mut Links, op: &Op) {
    match op {
        Op::LinkUser {
            okta_id,
            username,
            key,
        } => link_user(links, okta_id, key.clone(), username),
        Op::LinkGroup {
            okta_group_id,
            name,
        } => link_group(links, okta_group_id, name, false),
        Op::CreateGroup {
            okta_group_id,
            name,
        } => {
            target.groups.push(TargetGroup {
                name: name.clone(),
                managed_elsewhere: false,
            });
            link_group(links, okta_group_id, name, true);
        }
        Op::CreateUser {
            okta_id,
            username,
            display_name,
            email,
            active,
        } => {
            target.users.push(TargetUser {
                key: None,
                username: username.clone(),
                display_name: display_name.clone(),
                email: email.as_deref().cloned(),
                active: *active,
                managed_elsewhere: false,
            });
            link_user(links, okta_id, None, username);
        }
        Op::RenameUser { okta_id, from, to } => rename(target, links, okta_id, from, to),
        Op::UpdateUser {
            username, changes, ..
        } => {
            if let Some(user) = user_mut(target, username) {
                if let Some(c) = &changes.display_name {
                    user.display_name.clone_from(&c.to);
                }
                if let Some(c) = &changes.email {
                    user.email.clone_from(&c.to);
                }
            }
        }
        Op::ReactivateUser { username, .. } => set_active(target, username, true),
        Op::DeactivateUser { username, .. } => set_active(target, username, false),
        Op::AddMember { group, username } => {
            target
                .memberships
                .entry(group.clone())
                .or_default()
                .insert(username.clone());
        }
        Op::RemoveMember { group, username } => {
            if let Some(members) = target.memberships.get_mut(group) {
                members.remove(username);
            }
        }
        Op::DeleteUser { okta_id, username } => {
            target.users.retain(|u| u.username != *username);
            for members in target.memberships.values_mut() {
                members.remove(username);
            }
            links.users.remove(okta_id);
        }
        Op::DeleteGroup {
            okta_group_id,
            name,
        } => {
            target.groups.retain(|g| g.name != *name);
            target.memberships.remove(name);
            links.groups.remove(okta_group_id);
        }
    }
}

fn link_user(
    links: &mut Links,
    okta_id: &OktaUserId,
    target_key: Option<TargetUserKey>,
    username: &Username,
) {
    let link = UserLink {
        okta_id: okta_id.clone(),
        target_key,
        username: username.clone(),
    };
    links.users.insert(okta_id.clone(), link);
}

fn link_group(
    links: &mut Links,
    okta_id: &crate::ids::OktaGroupId,
    name: &crate::ids::GroupName,
    created: bool,
) {
    let link = GroupLink {
        okta_id: okta_id.clone(),
        target_name: name.clone(),
        created_by_usersync: created,
    };
    links.groups.insert(okta_id.clone(), link);
}

fn user_mut<'a>(target: &'a mut TargetSnapshot, username: &Username) -> Option<&'a mut TargetUser> {
    target.users.iter_mut().find(|u| u.username == *username)
}

fn set_active(target: &mut TargetSnapshot, username: &crate::ids::Username, active: bool) {
    if let Some(user) = user_mut(target, username) {
        user.active = active;
    }
}

fn rename(
    target: &mut TargetSnapshot,
    links: &mut Links,
    okta_id: &OktaUserId,
    from: &crate::ids::Username,
    to: &crate::ids::Username,
) {
    if let Some(user) = user_mut(target, from) {
        user.username = to.clone();
    }
    for members in target.memberships.values_mut() {
        if members.remove(from) {
            members.insert(to.clone());
        }
    }
    if let Some(link) = links.users.get_mut(okta_id) {
        link.username = to.clone();
    }
}
