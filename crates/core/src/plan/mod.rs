//! The planner: from the desired state (Okta), the current state (the target) and
//! the identity links, the typed operations that bring the target in line.
//!
//! Planning is pure and deterministic: the same inputs give the same ops in the
//! same (dependency) order. Users are resolved first (who is managed, under which
//! username), then groups and memberships are planned against that resolution.
//!
//! [`plan`] gives an [`UnguardedPlan`]; only [`crate::guard::guard`], the next step
//! of the pipeline, turns it into a [`Plan`] (deciding whether destructive ops may
//! run), so nothing downstream (recording, applying, explaining) can take a plan
//! that skipped the guard.

mod context;
mod groups;
mod mapped;
pub mod ops;
mod output;
mod renames;
pub mod simulate;
mod users;

#[cfg(test)]
pub(crate) mod tests;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::guard::Guard;
use crate::ids::{OktaUserId, Username};
use crate::links::Links;
use crate::mapping::{CompiledPolicy, TargetConstraints};
use crate::snapshot::{OktaSnapshot, TargetSnapshot};

pub use ops::{
    Change, NewAccount, Op, OpKind, PlannedOp, Rule, SkipReason, SkippedUser, UserChanges,
};

/// Which users a plan may touch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PlanScope {
    /// The whole app: every user and group.
    Full,
    /// Only these users' own operations (the login-time single-user sync): never
    /// departures or membership removals for anyone else, never group deletions.
    Users { ids: BTreeSet<OktaUserId> },
}

impl PlanScope {
    /// A scope of one user.
    #[must_use]
    pub fn user(id: OktaUserId) -> Self {
        Self::Users {
            ids: BTreeSet::from([id]),
        }
    }

    #[must_use]
    pub fn includes(&self, id: &OktaUserId) -> bool {
        match self {
            Self::Full => true,
            Self::Users { ids } => ids.contains(id),
        }
    }

    #[must_use]
    pub fn is_full(&self) -> bool {
        matches!(self, Self::Full)
    }
}

/// Everything about the run that is not policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanOptions {
    pub constraints: TargetConstraints,
    /// The account usersync authenticates as: always protected.
    pub credential_username: Option<Username>,
    pub scope: PlanScope,
}

impl PlanOptions {
    /// A full plan for a target with these constraints.
    #[must_use]
    pub fn full(constraints: TargetConstraints, credential_username: Option<Username>) -> Self {
        Self {
            constraints,
            credential_username,
            scope: PlanScope::Full,
        }
    }
}

/// A guarded plan: what to do, who was skipped and why, and the guard's decision.
/// Made by [`crate::guard::guard`] from the planner's [`UnguardedPlan`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// In dependency order (see [`OpKind`]).
    pub ops: Vec<PlannedOp>,
    pub skipped: Vec<SkippedUser>,
    pub guard: Guard,
    /// Things an administrator should know that are not per-user errors
    /// (e.g. a default group missing in the target).
    pub notes: Vec<String>,
}

/// Counts per op kind, for tables and summaries.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Summary {
    /// Only kinds with at least one op.
    pub counts: BTreeMap<OpKind, usize>,
    pub total: usize,
    pub destructive: usize,
    pub skipped: usize,
}

impl Plan {
    /// True when there is nothing to apply.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    #[must_use]
    pub fn summary(&self) -> Summary {
        let mut summary = Summary {
            skipped: self.skipped.len(),
            ..Summary::default()
        };
        for planned in &self.ops {
            *summary.counts.entry(planned.op.kind()).or_default() += 1;
            summary.total += 1;
            summary.destructive += usize::from(planned.op.is_destructive());
        }
        summary
    }

    /// The ops that touch one Okta user (their own ops and their memberships).
    pub fn ops_for<'a>(
        &'a self,
        okta_id: &'a OktaUserId,
        usernames: &'a [Username],
    ) -> impl Iterator<Item = &'a PlannedOp> + 'a {
        self.ops.iter().filter(move |p| {
            p.op.okta_user() == Some(okta_id)
                || (p.op.okta_user().is_none()
                    && p.op.username().is_some_and(|u| usernames.contains(u)))
        })
    }
}

/// The planner's output before the guard: turn it into a [`Plan`] with
/// [`crate::guard::guard`].
#[derive(Debug, Clone, PartialEq)]
#[must_use = "an unguarded plan must go through `guard` before it is recorded or applied"]
pub struct UnguardedPlan {
    /// In dependency order (see [`OpKind`]).
    pub ops: Vec<PlannedOp>,
    pub skipped: Vec<SkippedUser>,
    pub notes: Vec<String>,
    /// How many users were linked when planning: the guard's base for percentages.
    pub managed_users: usize,
}

/// Plans the operations that bring `current` in line with `desired`.
///
/// Never fails: users whose mapping is unusable are listed in [`UnguardedPlan::skipped`],
/// and setting-level problems (such as a missing default group) in [`UnguardedPlan::notes`].
pub fn plan(
    desired: &OktaSnapshot,
    current: &TargetSnapshot,
    links: &Links,
    policy: &CompiledPolicy,
    options: &PlanOptions,
) -> UnguardedPlan {
    let ctx = context::Context::new(desired, current, links, policy, options);
    let mut out = output::Output::default();
    let managed = users::plan_users(&ctx, &mut out);
    groups::plan_groups(&ctx, &managed, &mut out);
    let (ops, skipped, notes) = out.into_ops();
    UnguardedPlan {
        ops,
        skipped,
        notes,
        managed_users: links.users.len(),
    }
}
