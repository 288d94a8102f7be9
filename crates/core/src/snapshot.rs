//! Snapshots: what one side looked like when it was read.
//!
//! An [`OktaSnapshot`] is the desired state (users, groups, memberships read from
//! Okta) and carries a [`Completeness`] flag that must never lie: destructive
//! operations are only ever planned from a complete read. A [`TargetSnapshot`] is
//! the current state of one Atlassian product.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::ids::{Email, GroupName, OktaGroupId, OktaUserId, TargetUserKey, Username};
use crate::memberships::Memberships;
use crate::profile::Profile;

/// Okta's user lifecycle status (`UserStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OktaStatus {
    Staged,
    Provisioned,
    Active,
    Recovery,
    PasswordExpired,
    LockedOut,
    Suspended,
    Deprovisioned,
}

impl OktaStatus {
    /// Every status, in Okta's lifecycle order.
    pub const ALL: [OktaStatus; 8] = [
        Self::Staged,
        Self::Provisioned,
        Self::Active,
        Self::Recovery,
        Self::PasswordExpired,
        Self::LockedOut,
        Self::Suspended,
        Self::Deprovisioned,
    ];

    /// Okta's wire spelling, e.g. `PASSWORD_EXPIRED`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Staged => "STAGED",
            Self::Provisioned => "PROVISIONED",
            Self::Active => "ACTIVE",
            Self::Recovery => "RECOVERY",
            Self::PasswordExpired => "PASSWORD_EXPIRED",
            Self::LockedOut => "LOCKED_OUT",
            Self::Suspended => "SUSPENDED",
            Self::Deprovisioned => "DEPROVISIONED",
        }
    }

    /// Parses Okta's wire spelling; `None` for statuses we do not know
    /// (such as the transitional `ACTIVATING`).
    #[must_use]
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

/// Okta's group type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OktaGroupType {
    OktaGroup,
    AppGroup,
    BuiltIn,
}

impl OktaGroupType {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OktaGroup => "OKTA_GROUP",
            Self::AppGroup => "APP_GROUP",
            Self::BuiltIn => "BUILT_IN",
        }
    }

    #[must_use]
    pub fn parse(value: &str) -> Option<Self> {
        [Self::OktaGroup, Self::AppGroup, Self::BuiltIn]
            .into_iter()
            .find(|t| t.as_str() == value)
    }
}

/// One Okta user, with the profile attributes the mapping may use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OktaUser {
    pub id: OktaUserId,
    pub status: OktaStatus,
    /// `profile.login`, usually an e-mail-shaped string.
    pub login: String,
    /// Every string-valued profile attribute (`email`, `firstName`, `displayName`, custom ones).
    /// Non-string values are rendered as their JSON text; nulls are left out.
    pub profile: Profile,
}

impl OktaUser {
    /// A profile attribute, treating empty strings as absent (Okta sends both).
    #[must_use]
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.profile.get(name).filter(|v| !v.trim().is_empty())
    }
}

/// One Okta group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OktaGroup {
    pub id: OktaGroupId,
    pub name: String,
    pub description: Option<String>,
    pub kind: OktaGroupType,
}

/// Whether a read saw everything it asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Completeness {
    /// Every page of every listing was read.
    Complete,
    /// Something was not read; each reason names what and why.
    Incomplete { reasons: Vec<String> },
}

impl Completeness {
    #[must_use]
    pub fn is_complete(&self) -> bool {
        matches!(self, Self::Complete)
    }

    /// Records one more thing that could not be read.
    pub fn add_reason(&mut self, reason: impl Into<String>) {
        match self {
            Self::Complete => {
                *self = Self::Incomplete {
                    reasons: vec![reason.into()],
                };
            }
            Self::Incomplete { reasons } => reasons.push(reason.into()),
        }
    }
}

/// The desired state, as read from Okta.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OktaSnapshot {
    pub users: Vec<OktaUser>,
    pub groups: Vec<OktaGroup>,
    /// Group id to the ids of its members.
    pub memberships: Memberships,
    pub completeness: Completeness,
}

impl OktaSnapshot {
    /// An empty, complete snapshot (a starting point for builders and tests).
    #[must_use]
    pub fn empty() -> Self {
        Self {
            users: Vec::new(),
            groups: Vec::new(),
            memberships: Memberships::new(),
            completeness: Completeness::Complete,
        }
    }
}

/// One user in an Atlassian product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetUser {
    /// The immutable key, when the product has one.
    pub key: Option<TargetUserKey>,
    pub username: Username,
    pub display_name: String,
    pub email: Option<Email>,
    pub active: bool,
    /// True when the user lives in a read-only directory (e.g. LDAP): usersync never changes it.
    pub managed_elsewhere: bool,
}

/// One group in an Atlassian product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetGroup {
    pub name: GroupName,
    /// True when the group lives in a read-only directory.
    pub managed_elsewhere: bool,
}

/// The current state of one Atlassian product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct TargetSnapshot {
    pub users: Vec<TargetUser>,
    pub groups: Vec<TargetGroup>,
    /// Group name to the usernames of its members (active and inactive).
    pub memberships: BTreeMap<GroupName, BTreeSet<Username>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_their_okta_spelling() {
        for status in OktaStatus::ALL {
            assert_eq!(OktaStatus::parse(status.as_str()), Some(status));
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{}\"", status.as_str()));
        }
        assert_eq!(OktaStatus::parse("ACTIVATING"), None);
    }

    #[test]
    fn a_snapshot_becomes_incomplete_with_the_first_reason_and_keeps_all() {
        let mut c = Completeness::Complete;
        c.add_reason("group 00g1 members: HTTP 500");
        c.add_reason("group 00g2 members: HTTP 500");
        assert!(!c.is_complete());
        assert_eq!(
            c,
            Completeness::Incomplete {
                reasons: vec![
                    "group 00g1 members: HTTP 500".into(),
                    "group 00g2 members: HTTP 500".into()
                ]
            }
        );
    }
}
