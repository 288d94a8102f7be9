//! What the target and the links would look like if every op of a plan succeeded.
//!
//! This is the planner's own model of the ops' effects. The idempotence tests use
//! it (apply, plan again, expect nothing), and a caller can use it to preview the
//! target after a dry run. It assumes ops are applied in plan order. What an op does
//! to the links is [`link_change`], the rule the engine records by.

use crate::ids::Username;
use crate::links::{Links, link_change, membership_change};
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
        if let Some(change) = membership_change(planned) {
            links.apply(change);
        }
    }
    (target, links)
}

fn apply_op(target: &mut TargetSnapshot, links: &mut Links, op: &Op) {
    if let Some(change) = link_change(op, links, None, true) {
        links.apply(change);
    }
    match op {
        Op::LinkUser { .. } | Op::LinkGroup { .. } => {}
        Op::CreateGroup { name, .. } => target.groups.push(TargetGroup {
            name: name.clone(),
            managed_elsewhere: false,
        }),
        Op::CreateUser {
            username, account, ..
        } => target.users.push(TargetUser {
            key: None,
            username: username.clone(),
            display_name: account.display_name.clone(),
            email: account.email.clone(),
            active: account.active,
            managed_elsewhere: false,
        }),
        Op::RenameUser { from, to, .. } => rename(target, from, to),
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
        Op::DeleteUser { username, .. } => {
            target.users.retain(|u| u.username != *username);
            for members in target.memberships.values_mut() {
                members.remove(username);
            }
        }
        Op::DeleteGroup { name, .. } => {
            target.groups.retain(|g| g.name != *name);
            target.memberships.remove(name);
        }
    }
}

fn user_mut<'a>(target: &'a mut TargetSnapshot, username: &Username) -> Option<&'a mut TargetUser> {
    target.users.iter_mut().find(|u| u.username == *username)
}

fn set_active(target: &mut TargetSnapshot, username: &Username, active: bool) {
    if let Some(user) = user_mut(target, username) {
        user.active = active;
    }
}

fn rename(target: &mut TargetSnapshot, from: &Username, to: &Username) {
    if let Some(user) = user_mut(target, from) {
        user.username = to.clone();
    }
    for members in target.memberships.values_mut() {
        if members.remove(from) {
            members.insert(to.clone());
        }
    }
}
