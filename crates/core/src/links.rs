//! Identity links: which Okta user is which target user, and which Okta group is
//! which target group.
//!
//! Links are what make usersync own what it manages: a target user is changed
//! only through its link, and a change of login or e-mail in Okta becomes an
//! update or a rename of the linked user, never a second account.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::{GroupName, OktaGroupId, OktaUserId, TargetUserKey, Username};

/// One Okta user linked to one target user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserLink {
    pub okta_id: OktaUserId,
    /// The target's immutable key, when it has one.
    pub target_key: Option<TargetUserKey>,
    /// The username the target user had when last synced.
    pub username: Username,
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
}

impl Links {
    #[must_use]
    pub fn from_parts(users: Vec<UserLink>, groups: Vec<GroupLink>) -> Self {
        Self {
            users: users.into_iter().map(|l| (l.okta_id.clone(), l)).collect(),
            groups: groups.into_iter().map(|l| (l.okta_id.clone(), l)).collect(),
        }
    }
}
