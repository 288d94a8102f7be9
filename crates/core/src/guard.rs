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

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

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

/// Guards a plan: from an incomplete Okta read, drops the destructive ops (the run
/// will end partial); from a complete one, holds the plan when its destructive ops
/// exceed `limits`.
pub fn guard(plan: UnguardedPlan, completeness: &Completeness, limits: &SafetyLimits) -> Plan {
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
        decide_hold(&ops, limits, managed_users)
    };
    Plan {
        ops,
        skipped,
        guard,
        notes,
    }
}

fn decide_hold(ops: &[PlannedOp], limits: &SafetyLimits, managed_users: usize) -> Guard {
    let destructive: Vec<_> = ops.iter().filter(|p| p.op.is_destructive()).collect();
    let count = destructive.len();
    let users: HashSet<_> = destructive.iter().filter_map(|p| p.op.username()).collect();
    let mut reasons = Vec::new();
    if count > limits.max_destructive as usize {
        reasons.push(format!(
            "{count} destructive operations planned, more than the limit of {} (limits.max_destructive)",
            limits.max_destructive
        ));
    }
    if managed_users > 0 && count > limits.percent_applies_above as usize {
        #[allow(clippy::cast_precision_loss)] // user counts are far below 2^52
        let percent = users.len() as f64 * 100.0 / managed_users as f64;
        if percent > limits.max_destructive_percent {
            reasons.push(format!(
                "destructive operations touch {} of {managed_users} managed users ({percent:.1}%), more than {}% (limits.max_destructive_percent)",
                users.len(),
                limits.max_destructive_percent
            ));
        }
    }
    if reasons.is_empty() {
        Guard::Proceed
    } else {
        Guard::Held { reasons }
    }
}
