//! Scope: which Okta users and groups an app manages, and which part of that can
//! be pushed into the Okta query rather than filtered after reading.
//!
//! Okta's group listing takes `filter=type eq "..."`, so group types are pushed
//! down; include/exclude regexes, user statuses and group-membership scope are
//! applied here. (Statuses are not pushed down on purpose: a linked user who
//! turns SUSPENDED or DEPROVISIONED must still be read to be deactivated, and a
//! plain user listing hides DEPROVISIONED users.)

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::app::labels::describe;
use crate::ids::OktaUserId;
use crate::mapping::CompiledPolicy;
use crate::snapshot::{OktaGroup, OktaGroupType, OktaSnapshot, OktaStatus, OktaUser};

/// What the Okta reader can ask the API for instead of filtering afterwards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OktaQuery {
    /// The group types to list.
    pub group_types: Vec<OktaGroupType>,
    /// The `filter` expression for `GET /api/v1/groups`, e.g. `type eq "OKTA_GROUP"`;
    /// `None` when every type is wanted.
    pub group_filter: Option<String>,
    /// When non-empty, only members of these Okta groups (by name) are in scope, so a
    /// reader may list these groups' members instead of every user.
    pub only_members_of: Vec<String>,
    /// Always true: DEPROVISIONED users must be read (use `search`/`filter`, not a plain list).
    pub include_deprovisioned: bool,
}

/// How an Okta status counts for the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusClass {
    /// ACTIVE, PASSWORD_EXPIRED, LOCKED_OUT, RECOVERY.
    Active,
    /// SUSPENDED, DEPROVISIONED.
    Inactive,
    /// STAGED, PROVISIONED: not imported by default, and a linked user's state is left alone.
    NotYetActive,
}

/// Classifies an Okta status.
#[must_use]
pub fn status_class(status: OktaStatus) -> StatusClass {
    match status {
        OktaStatus::Active
        | OktaStatus::PasswordExpired
        | OktaStatus::LockedOut
        | OktaStatus::Recovery => StatusClass::Active,
        OktaStatus::Suspended | OktaStatus::Deprovisioned => StatusClass::Inactive,
        OktaStatus::Staged | OktaStatus::Provisioned => StatusClass::NotYetActive,
    }
}

impl CompiledPolicy {
    /// The part of the scope that can be pushed into Okta's API.
    #[must_use]
    pub fn okta_query(&self) -> OktaQuery {
        let mut group_types = self.policy.scope.group_types.clone();
        group_types.sort();
        group_types.dedup();
        let all = [
            OktaGroupType::OktaGroup,
            OktaGroupType::AppGroup,
            OktaGroupType::BuiltIn,
        ];
        let group_filter = (!all.iter().all(|t| group_types.contains(t))).then(|| {
            let terms: Vec<String> = group_types
                .iter()
                .map(|t| format!("type eq \"{}\"", t.as_str()))
                .collect();
            terms.join(" or ")
        });
        OktaQuery {
            group_types,
            group_filter,
            only_members_of: self.policy.scope.only_members_of.clone(),
            include_deprovisioned: true,
        }
    }

    /// Whether an Okta group is synced; the error says why not.
    ///
    /// # Errors
    /// A sentence naming the setting that excludes the group.
    pub fn group_scope(&self, group: &OktaGroup) -> Result<(), String> {
        if !self.policy.scope.group_types.contains(&group.kind) {
            return Err(format!(
                "group type {} is not in {}",
                group.kind.as_str(),
                describe("policy.scope.group_types")
            ));
        }
        if let Some(include) = &self.group_include
            && !include.is_match(&group.name)
        {
            return Err(format!(
                "name does not match {} {:?}",
                describe("policy.scope.group_include"),
                include.as_str()
            ));
        }
        if let Some(exclude) = &self.group_exclude
            && exclude.is_match(&group.name)
        {
            return Err(format!(
                "name matches {} {:?}",
                describe("policy.scope.group_exclude"),
                exclude.as_str()
            ));
        }
        Ok(())
    }
}

/// User scope resolved against one snapshot (who is a member of the scoping groups).
#[derive(Debug)]
pub struct UserScope<'a> {
    /// `None` when every user is in scope.
    members: Option<HashSet<&'a OktaUserId>>,
    names: Vec<&'a str>,
}

impl<'a> UserScope<'a> {
    /// Resolves `scope.only_members_of` against the snapshot's groups and memberships.
    #[must_use]
    pub fn new(policy: &'a CompiledPolicy, desired: &'a OktaSnapshot) -> Self {
        if policy.only_members_of.is_empty() {
            return Self {
                members: None,
                names: Vec::new(),
            };
        }
        let mut members = HashSet::new();
        for group in &desired.groups {
            if policy.only_members_of.contains(&group.name.to_lowercase())
                && let Some(ids) = desired.memberships.get(&group.id)
            {
                members.extend(ids.iter());
            }
        }
        let names = policy
            .policy
            .scope
            .only_members_of
            .iter()
            .map(String::as_str)
            .collect();
        Self {
            members: Some(members),
            names,
        }
    }

    /// Whether the user is in scope; the error says why not.
    ///
    /// # Errors
    /// A sentence saying which scoping groups the user is not a member of.
    pub fn verdict(&self, user: &OktaUser) -> Result<(), String> {
        match &self.members {
            Some(members) if !members.contains(&user.id) => Err(format!(
                "not a member of any scoping Okta group ({})",
                self.names.join(", ")
            )),
            _ => Ok(()),
        }
    }

    /// Why the user is in scope, in words (for `explain`).
    #[must_use]
    pub fn reason_in_scope(&self) -> String {
        if self.members.is_some() {
            format!("member of a scoping Okta group ({})", self.names.join(", "))
        } else {
            format!(
                "every Okta user is in scope, as {} is empty",
                describe("policy.scope.only_members_of")
            )
        }
    }
}
