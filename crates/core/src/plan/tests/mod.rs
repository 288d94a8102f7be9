//! Scenario tests for the planner, with a small builder for both snapshots.
//!
//! Each scenario states a world (Okta, the target, the links, the policy), plans,
//! and asserts on the ops as the one-line text an administrator would read.

mod effects;
mod groups;
mod guards;
mod listing;
mod mapped;
mod renames;
mod size;
mod stable;
mod users;

use std::collections::{BTreeMap, BTreeSet};

use crate::guard::guard;
use crate::ids::{Email, GroupName, OktaGroupId, OktaUserId, Username};
use crate::links::{GroupLink, Links, UserLink};
use crate::mapping::{CompiledPolicy, TargetConstraints};
use crate::plan::simulate::apply_to_snapshot;
use crate::plan::{Plan, PlanOptions, plan};
use crate::policy::{SyncPolicy, UsernameRule};
use crate::snapshot::{
    OktaGroup, OktaGroupType, OktaSnapshot, OktaStatus, OktaUser, TargetGroup, TargetSnapshot,
    TargetUser,
};

pub(crate) fn uid(id: &str) -> OktaUserId {
    OktaUserId::parse(id).unwrap()
}

pub(crate) fn gid(id: &str) -> OktaGroupId {
    OktaGroupId::parse(id).unwrap()
}

pub(crate) fn name(n: &str) -> Username {
    Username::parse(n).unwrap()
}

pub(crate) fn group(n: &str) -> GroupName {
    GroupName::parse(n).unwrap()
}

/// Everything a plan reads.
pub(crate) struct World {
    pub okta: OktaSnapshot,
    pub target: TargetSnapshot,
    pub links: Links,
    pub policy: SyncPolicy,
    pub options: PlanOptions,
    /// What the app's earlier runs applied in the guard's window.
    pub spent: crate::guard::Spent,
}

impl World {
    /// An empty world: Jira, the credential `sync-bot`, and `(.*)@.*` -> `$1`.
    pub fn new() -> Self {
        let policy = SyncPolicy {
            username: UsernameRule {
                regex: "(.*)@.*".into(),
                replacement: "$1".into(),
            },
            ..SyncPolicy::default()
        };
        Self {
            okta: OktaSnapshot::empty(),
            target: TargetSnapshot::default(),
            links: Links::default(),
            policy,
            options: PlanOptions::full(TargetConstraints::jira(), Some(name("sync-bot"))),
            spent: crate::guard::Spent::NOTHING,
        }
    }

    /// An Okta user `login` with first name = the login's local part, last name `Doe`.
    pub fn okta_user(mut self, id: &str, login: &str, status: OktaStatus) -> Self {
        let local = login.split('@').next().unwrap_or(login);
        let profile = BTreeMap::from([
            ("firstName".to_owned(), local.to_owned()),
            ("lastName".to_owned(), "Doe".to_owned()),
            ("email".to_owned(), login.to_owned()),
            ("login".to_owned(), login.to_owned()),
        ]);
        self.okta.users.push(OktaUser {
            id: uid(id),
            status,
            login: login.into(),
            profile: profile.into(),
        });
        self
    }

    pub fn okta_group(mut self, id: &str, group_name: &str, members: &[&str]) -> Self {
        self.okta.groups.push(OktaGroup {
            id: gid(id),
            name: group_name.into(),
            description: None,
            kind: OktaGroupType::OktaGroup,
        });
        self.okta
            .memberships
            .insert(gid(id), members.iter().map(|m| uid(m)));
        self
    }

    pub fn target_user(
        mut self,
        username: &str,
        display_name: &str,
        email: &str,
        active: bool,
    ) -> Self {
        self.target.users.push(TargetUser {
            key: None,
            username: name(username),
            display_name: display_name.into(),
            email: Some(Email::parse(email).unwrap()),
            active,
            managed_elsewhere: false,
        });
        self
    }

    pub fn target_group(mut self, group_name: &str, members: &[&str]) -> Self {
        self.target.groups.push(TargetGroup {
            name: group(group_name),
            managed_elsewhere: false,
        });
        let members: BTreeSet<Username> = members.iter().map(|m| name(m)).collect();
        self.target.memberships.insert(group(group_name), members);
        self
    }

    pub fn link_user(mut self, okta_id: &str, username: &str) -> Self {
        let link = UserLink {
            okta_id: uid(okta_id),
            target_key: None,
            username: name(username),
            read_only: false,
        };
        self.links.users.insert(uid(okta_id), link);
        self
    }

    pub fn link_group(
        mut self,
        okta_id: &str,
        group_name: &str,
        created_by_usersync: bool,
    ) -> Self {
        let link = GroupLink {
            okta_id: gid(okta_id),
            target_name: group(group_name),
            created_by_usersync,
        };
        self.links.groups.insert(gid(okta_id), link);
        self
    }

    /// An ACTIVE Okta user already created, linked and up to date in the target.
    pub fn synced_user(self, id: &str, login: &str) -> Self {
        let local = login.split('@').next().unwrap_or(login).to_owned();
        self.okta_user(id, login, OktaStatus::Active)
            .target_user(&local, &format!("{local} Doe"), login, true)
            .link_user(id, &local)
    }

    pub fn policy(mut self, change: impl FnOnce(&mut SyncPolicy)) -> Self {
        change(&mut self.policy);
        self
    }

    pub fn plan(&self) -> Plan {
        let compiled = CompiledPolicy::compile(&self.policy).expect("test policy compiles");
        let unguarded = plan(
            &self.okta,
            &self.target,
            &self.links,
            &compiled,
            &self.options,
        );
        guard(
            unguarded,
            &self.okta.completeness,
            &self.policy.limits,
            &self.spent,
        )
    }

    /// Plans, applies the plan to the target and links, and returns the plan.
    pub fn converge(&mut self) -> Plan {
        let plan = self.plan();
        let (target, links) = apply_to_snapshot(&self.target, &self.links, &plan);
        self.target = target;
        self.links = links;
        plan
    }
}

/// The plan's ops as an administrator reads them.
pub(crate) fn ops(plan: &Plan) -> Vec<String> {
    plan.ops.iter().map(|p| p.op.to_string()).collect()
}

/// The plan's ops with their rules.
pub(crate) fn ops_with_rules(plan: &Plan) -> Vec<String> {
    plan.ops.iter().map(ToString::to_string).collect()
}

/// The skipped users as `login: reason`.
pub(crate) fn skipped(plan: &Plan) -> Vec<String> {
    plan.skipped
        .iter()
        .map(|s| format!("{}: {}", s.login, s.reason))
        .collect()
}
