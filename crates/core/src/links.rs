//! Identity links: which Okta user is which target user, and which Okta group is
//! which target group.
//!
//! Links are what make usersync own what it manages: a target user is changed
//! only through its link, and a change of login or e-mail in Okta becomes an
//! update or a rename of the linked user, never a second account. What each op
//! does to the links is [`link_change`], for the engine and the simulator alike.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::ids::{GroupName, OktaGroupId, OktaUserId, TargetUserKey, Username};
use crate::plan::{Op, PlannedOp, Rule};
use crate::snapshot::TargetSnapshot;

/// One Okta user linked to one target user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserLink {
    pub okta_id: OktaUserId,
    /// The target's immutable key, when it has one.
    pub target_key: Option<TargetUserKey>,
    /// The username the target user had when last synced.
    pub username: Username,
    /// The target refused to change this user because their directory is read-only
    /// (e.g. LDAP): their attributes and state are not written again (the planner
    /// records a skip instead), while their memberships of writable groups are.
    #[serde(default)]
    pub read_only: bool,
}

/// One Okta group linked to one target group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupLink {
    pub okta_id: OktaGroupId,
    pub target_name: GroupName,
    /// True when usersync created the group (only such groups may ever be deleted).
    pub created_by_usersync: bool,
}

/// Every link of one app, indexed by Okta id.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Links {
    pub users: BTreeMap<OktaUserId, UserLink>,
    pub groups: BTreeMap<OktaGroupId, GroupLink>,
    /// Memberships usersync added by a group-mapping rule (`policy.group_map`): target
    /// group -> the Okta users it added. Only these are ever removed from such a group.
    #[serde(default)]
    pub mapped: BTreeMap<GroupName, BTreeSet<OktaUserId>>,
}

impl Links {
    #[must_use]
    pub fn from_parts(users: Vec<UserLink>, groups: Vec<GroupLink>) -> Self {
        Self {
            users: users.into_iter().map(|l| (l.okta_id.clone(), l)).collect(),
            groups: groups.into_iter().map(|l| (l.okta_id.clone(), l)).collect(),
            mapped: BTreeMap::new(),
        }
    }
}

impl Links {
    /// Applies one change (as [`link_change`] gives it).
    pub fn apply(&mut self, change: LinkChange) {
        match change {
            LinkChange::SetUser(link) => {
                self.users.insert(link.okta_id.clone(), link);
            }
            LinkChange::EndUser(id) => {
                self.users.remove(&id);
            }
            LinkChange::SetGroup(link) => {
                self.groups.insert(link.okta_id.clone(), link);
            }
            LinkChange::MarkReadOnly(id) => {
                if let Some(link) = self.users.get_mut(&id) {
                    link.read_only = true;
                }
            }
            LinkChange::EndGroup(id, name) => {
                if self.groups.get(&id).is_some_and(|l| l.target_name == name) {
                    self.groups.remove(&id);
                }
            }
            LinkChange::TrackMember(group, id) => {
                self.mapped.entry(group).or_default().insert(id);
            }
            LinkChange::ForgetMember(group, id) => {
                if let Some(ids) = self.mapped.get_mut(&group) {
                    ids.remove(&id);
                    if ids.is_empty() {
                        self.mapped.remove(&group);
                    }
                }
            }
        }
    }
}

/// Remembered group-mapping memberships ([`Links::mapped`]) that a complete read
/// of the target shows are gone: someone removed the member, or the group is no
/// longer there. They are no longer usersync's to remove: forgotten, so that the
/// same membership granted again by an administrator is never taken for one
/// usersync added. A membership usersync should still give is added (and
/// remembered) again by the plan. A user with no link is kept: without their
/// username nothing shows the membership gone.
#[must_use]
pub fn stale_mapped(links: &Links, current: &TargetSnapshot) -> Vec<LinkChange> {
    let mut stale = Vec::new();
    for (group, ids) in &links.mapped {
        let exists = current.groups.iter().any(|g| &g.name == group);
        let members = current.memberships.get(group);
        for id in ids {
            let gone = match links.users.get(id) {
                None => false,
                Some(_) if !exists => true,
                Some(link) => !members.is_some_and(|m| m.contains(&link.username)),
            };
            if gone {
                stale.push(LinkChange::ForgetMember(group.clone(), id.clone()));
            }
        }
    }
    stale
}

/// What applying one op does to the identity links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkChange {
    /// Inserts the link, or replaces the one with the same Okta id.
    SetUser(UserLink),
    EndUser(OktaUserId),
    /// Inserts the link, or replaces the one with the same Okta id.
    SetGroup(GroupLink),
    /// Ends the Okta group's link if it still names this target group: deleting the
    /// old group of a group recreated under a new name leaves the new link alone.
    EndGroup(OktaGroupId, GroupName),
    /// Sets [`UserLink::read_only`] on the user's link, if there is one (a link made
    /// earlier in the same run included).
    MarkReadOnly(OktaUserId),
    /// usersync added the Okta user to the target group by a group-mapping rule.
    TrackMember(GroupName, OktaUserId),
    /// usersync removed that membership (or it is no longer usersync's to remove).
    ForgetMember(GroupName, OktaUserId),
}

/// What a successfully applied membership op of a group-mapping rule does to the
/// remembered memberships ([`Links::mapped`]); `None` for every other op.
#[must_use]
pub fn membership_change(planned: &PlannedOp) -> Option<LinkChange> {
    match (&planned.op, &planned.rule) {
        (Op::AddMember { group, .. }, Rule::GroupMap { okta_user, .. }) => Some(
            LinkChange::TrackMember(group.clone(), (**okta_user).clone()),
        ),
        (Op::RemoveMember { group, .. }, Rule::GroupMapLeft { okta_user, .. }) => Some(
            LinkChange::ForgetMember(group.clone(), (**okta_user).clone()),
        ),
        _ => None,
    }
}

/// What the engine records when the target refuses to change the user `op` is
/// about because their directory is read-only; `None` when it is about no user.
#[must_use]
pub fn read_only_change(op: &Op) -> Option<LinkChange> {
    op.okta_user().cloned().map(LinkChange::MarkReadOnly)
}

/// What a successfully applied `op` does to the identity links, if anything: the one
/// rule the engine records by and the plan simulator previews with.
///
/// `links` are the links before the op (a rename keeps the user's target key);
/// `created_key` is the key the target gave a created user, when it gave one;
/// `created_groups_owned` says whether a created group may later be deleted by
/// usersync (not when the run could not see whether the group already existed).
#[must_use]
pub fn link_change(
    op: &Op,
    links: &Links,
    created_key: Option<TargetUserKey>,
    created_groups_owned: bool,
) -> Option<LinkChange> {
    let user = |okta_id: &OktaUserId, target_key, username: &Username| {
        LinkChange::SetUser(UserLink {
            okta_id: okta_id.clone(),
            target_key,
            username: username.clone(),
            read_only: false,
        })
    };
    let group = |okta_id: &OktaGroupId, name: &GroupName, created_by_usersync| {
        LinkChange::SetGroup(GroupLink {
            okta_id: okta_id.clone(),
            target_name: name.clone(),
            created_by_usersync,
        })
    };
    match op {
        Op::LinkUser {
            okta_id,
            username,
            key,
        } => Some(user(okta_id, key.as_deref().cloned(), username)),
        Op::CreateUser {
            okta_id, username, ..
        } => Some(user(okta_id, created_key, username)),
        Op::RenameUser { okta_id, to, .. } => {
            let key = links.users.get(okta_id).and_then(|l| l.target_key.clone());
            Some(user(okta_id, key, to))
        }
        Op::DeleteUser { okta_id, .. } => Some(LinkChange::EndUser(okta_id.clone())),
        Op::LinkGroup {
            okta_group_id,
            name,
        } => Some(group(okta_group_id, name, false)),
        Op::CreateGroup {
            okta_group_id,
            name,
        } => Some(group(okta_group_id, name, created_groups_owned)),
        Op::DeleteGroup {
            okta_group_id,
            name,
        } => Some(LinkChange::EndGroup(okta_group_id.clone(), name.clone())),
        Op::UpdateUser { .. }
        | Op::ReactivateUser { .. }
        | Op::DeactivateUser { .. }
        | Op::AddMember { .. }
        | Op::RemoveMember { .. } => None,
    }
}
