//! Guards: the pipeline's step between planning and applying (`read -> map ->
//! plan -> guard -> apply -> record`) that stops the failures sync tools are most
//! blamed for (mass deprovisioning from a partial read or a config slip).
//!
//! [`guard`] is the only way from the planner's [`UnguardedPlan`] to a [`Plan`],
//! the type recording and applying take, so no caller can skip it.
//!
//! From an incomplete Okta snapshot no destructive op is planned at all (updates
//! still go ahead, and the run ends partial; creates, adoptions and renames wait
//! too, which the planner decides: see `plan::users`). From a complete one, a
//! plan whose destructive ops exceed the safety limits is held for approval.
//!
//! The limits are one budget per app over a rolling window
//! (`limits.window_minutes`): what runs of any trigger already applied in the
//! window ([`Spent`], counted by the caller from its records) adds to the plan's
//! own destructive ops, so many small runs (one per Okta event) cannot together
//! do what one full run would be held for.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::app::labels::describe;
use crate::plan::{Plan, PlannedOp, UnguardedPlan};
use crate::policy::SafetyLimits;
use crate::snapshot::Completeness;

/// The guard's decision about a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Guard {
    /// Apply everything.
    Proceed,
    /// The Okta read was incomplete: destructive ops were left out of the plan and
    /// the run must end partial with these reasons.
    Partial {
        reasons: Vec<String>,
        withheld: usize,
    },
    /// Too destructive: apply nothing destructive until an administrator approves.
    Held { reasons: Vec<String> },
}

impl Guard {
    #[must_use]
    pub fn is_held(&self) -> bool {
        matches!(self, Self::Held { .. })
    }

    #[must_use]
    pub fn is_partial(&self) -> bool {
        matches!(self, Self::Partial { .. })
    }
}

/// The destructive operations an app's runs already applied within the rolling
/// window (`limits.window_minutes`), approvals excluded: the part of the budget
/// that is spent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spent {
    pub operations: usize,
    /// The distinct target users those operations touched.
    pub users: usize,
}

impl Spent {
    /// Nothing spent: a plan judged on its own (dry runs of history-less callers,
    /// explanations, benchmarks).
    pub const NOTHING: Self = Self {
        operations: 0,
        users: 0,
    };

    /// What `ops` (destructive ones applied in the window) spent.
    pub fn of<'a>(ops: impl IntoIterator<Item = &'a crate::plan::Op>) -> Self {
        let mut operations = 0;
        let mut users = HashSet::new();
        for op in ops.into_iter().filter(|op| op.is_destructive()) {
            operations += 1;
            users.extend(op.username());
        }
        Self {
            operations,
            users: users.len(),
        }
    }
}

/// Guards a plan: from an incomplete Okta read, drops the destructive ops (the run
/// will end partial); from a complete one, holds the plan when its destructive ops,
/// added to what the window already `spent`, exceed `limits`.
pub fn guard(
    plan: UnguardedPlan,
    completeness: &Completeness,
    limits: &SafetyLimits,
    spent: &Spent,
) -> Plan {
    let UnguardedPlan {
        mut ops,
        skipped,
        notes,
        managed_users,
    } = plan;
    let guard = if let Completeness::Incomplete { reasons } = completeness {
        let before = ops.len();
        ops.retain(|p| !p.op.is_destructive());
        let withheld = before - ops.len();
        let mut reasons = reasons.clone();
        if reasons.is_empty() {
            reasons.push("the Okta read was incomplete".into());
        }
        Guard::Partial { reasons, withheld }
    } else {
        decide_hold(&ops, limits, managed_users, spent)
    };
    Plan {
        ops,
        skipped,
        guard,
        notes,
    }
}

fn decide_hold(
    ops: &[PlannedOp],
    limits: &SafetyLimits,
    managed_users: usize,
    spent: &Spent,
) -> Guard {
    let destructive: Vec<_> = ops.iter().filter(|p| p.op.is_destructive()).collect();
    if destructive.is_empty() {
        // Nothing to hold back, however much of the budget is spent.
        return Guard::Proceed;
    }
    let planned = destructive.len();
    let count = planned + spent.operations;
    let users: HashSet<_> = destructive.iter().filter_map(|p| p.op.username()).collect();
    // A user in both the plan and the window counts twice: the share errs on the
    // side of holding.
    let users = users.len() + spent.users;
    let so_far = if spent.operations == 0 {
        String::new()
    } else {
        format!(
            " (and {} applied in the last {} minutes)",
            spent.operations, limits.window_minutes
        )
    };
    let mut reasons = Vec::new();
    if count > limits.max_destructive as usize {
        reasons.push(format!(
            "{planned} destructive operations planned{so_far}, over the limit of {} set in {}",
            limits.max_destructive,
            describe("policy.limits.max_destructive")
        ));
    }
    if managed_users > 0 && count > limits.percent_applies_above as usize {
        #[allow(clippy::cast_precision_loss)] // user counts are far below 2^52
        let percent = users as f64 * 100.0 / managed_users as f64;
        if percent > limits.max_destructive_percent {
            reasons.push(format!(
                "destructive operations{so_far} touch {users} of {managed_users} managed users ({percent:.1}%), over the {}% set in {}",
                limits.max_destructive_percent,
                describe("policy.limits.max_destructive_percent")
            ));
        }
    }
    if reasons.is_empty() {
        Guard::Proceed
    } else {
        Guard::Held { reasons }
    }
}
