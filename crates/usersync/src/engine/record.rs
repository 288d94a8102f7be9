//! Recording a run in the store: the plan's operations as rows, each outcome and
//! its link changes as they happen, and the run's final status with its reasons.

use async_trait::async_trait;
use usersync_core::{Guard, Op, Plan, PlannedOp, SkipReason};
use usersync_store::{AppId, LinkChanges, NewOperation, OpOutcome, RunId, RunStatus, Store};

use super::apply::{Journal, Numbered, OpResult};

/// The operation rows of a plan (numbered from 1 in plan order) and the numbered ops.
#[must_use]
pub fn number(plan: &Plan) -> (Vec<NewOperation>, Vec<Numbered>) {
    let mut rows = Vec::with_capacity(plan.ops.len());
    let mut numbered = Vec::with_capacity(plan.ops.len());
    for (i, planned) in plan.ops.iter().enumerate() {
        let seq = u32::try_from(i + 1).unwrap_or(u32::MAX);
        rows.push(NewOperation {
            seq,
            kind: planned.op.kind().as_str().to_owned(),
            subject: subject(&planned.op),
            rule: planned.rule.to_string(),
            payload: serde_json::to_value(planned).unwrap_or(serde_json::Value::Null),
        });
        numbered.push(Numbered {
            seq,
            planned: planned.clone(),
        });
    }
    (rows, numbered)
}

/// What an op acts on, for people: `user`, `group`, or `user in group`.
#[must_use]
pub fn subject(op: &Op) -> String {
    match op {
        Op::AddMember { group, username } | Op::RemoveMember { group, username } => {
            format!("{username} in {group}")
        }
        Op::RenameUser { from, to, .. } => format!("{from} -> {to}"),
        other => other
            .username()
            .map(ToString::to_string)
            .or_else(|| other.group().map(ToString::to_string))
            .unwrap_or_default(),
    }
}

/// Reads a recorded operation's payload back into the op it was.
///
/// # Errors
/// When the payload is not a planned op (a store written by another version).
pub fn parse_payload(payload: &serde_json::Value) -> anyhow::Result<PlannedOp> {
    serde_json::from_value(payload.clone())
        .map_err(|e| anyhow::anyhow!("a recorded operation could not be read back: {e}"))
}

/// A journal that writes outcomes and links to the store as each op finishes.
pub struct StoreJournal<'a> {
    pub store: &'a Store,
    pub app: AppId,
    pub run: RunId,
}

#[async_trait]
impl Journal for StoreJournal<'_> {
    async fn record(&self, result: &OpResult, links: &LinkChanges) {
        // Links first: a created user whose link is lost would be adopted (or
        // skipped) on the next run rather than duplicated, but a lost outcome
        // row costs nothing but accuracy of this run's report.
        if !links.is_empty()
            && let Err(err) = self.store.save_links(self.app, links).await
        {
            tracing::error!(run = %self.run, "could not save the identity link of {}: {err}", result.planned.op);
        }
        if let Err(err) = self
            .store
            .record_outcome(
                self.run,
                result.seq,
                result.outcome,
                result.error.as_deref(),
            )
            .await
        {
            tracing::error!(run = %self.run, "could not record the outcome of operation {}: {err}", result.seq);
        }
    }
}

/// A journal that records nothing (dry runs and tests).
pub struct NoJournal;

#[async_trait]
impl Journal for NoJournal {
    async fn record(&self, _: &OpResult, _: &LinkChanges) {}
}

/// The status a run ends with, and why.
///
/// - `held` when the guard held the plan (non-destructive ops may have been applied);
/// - `failed` when every attempted op failed;
/// - `partial` when the Okta read was incomplete, some ops failed or were skipped
///   for a failed dependency, or users could not be mapped (invalid or colliding
///   usernames);
/// - `succeeded` otherwise.
#[must_use]
pub fn final_status(plan: &Plan, results: &[OpResult]) -> (RunStatus, Vec<String>) {
    let mut reasons = Vec::new();
    if let Guard::Held { reasons: held } = &plan.guard {
        reasons.extend(held.iter().cloned());
        return (RunStatus::Held, reasons);
    }
    if let Guard::Partial {
        reasons: why,
        withheld,
    } = &plan.guard
    {
        reasons.push(format!(
            "the Okta read was incomplete, so {withheld} destructive operations were withheld: {}",
            why.join("; ")
        ));
    }
    let failed: Vec<&OpResult> = results
        .iter()
        .filter(|r| r.outcome == OpOutcome::Failed)
        .collect();
    let skipped = results
        .iter()
        .filter(|r| r.outcome == OpOutcome::Skipped)
        .count();
    if !failed.is_empty() {
        let first = failed.iter().take(3).map(|r| {
            format!(
                "{} ({})",
                r.planned.op,
                r.error.as_deref().unwrap_or("failed")
            )
        });
        reasons.push(format!(
            "{} operations failed, e.g. {}",
            failed.len(),
            first.collect::<Vec<_>>().join("; ")
        ));
    }
    if skipped > 0 {
        reasons.push(format!(
            "{skipped} operations were skipped because an operation they depend on failed"
        ));
    }
    let unmapped: Vec<String> = plan
        .skipped
        .iter()
        .filter(|s| {
            matches!(
                s.reason,
                SkipReason::InvalidUsername { .. } | SkipReason::Collision { .. }
            )
        })
        .map(|s| s.login.clone())
        .collect();
    if !unmapped.is_empty() {
        let some: Vec<_> = unmapped.iter().take(3).cloned().collect();
        reasons.push(format!(
            "{} users could not be given a valid, unique username (e.g. {}); see `usersync explain`",
            unmapped.len(),
            some.join(", ")
        ));
    }
    let attempted = results
        .iter()
        .filter(|r| r.outcome != OpOutcome::Skipped)
        .count();
    let status = if !failed.is_empty() && failed.len() == attempted {
        RunStatus::Failed
    } else if reasons.is_empty() {
        RunStatus::Succeeded
    } else {
        RunStatus::Partial
    };
    (status, reasons)
}

#[cfg(test)]
mod tests {
    use usersync_core::{OktaUserId, PlannedOp, Rule, Username};

    use super::*;

    fn deactivation() -> PlannedOp {
        PlannedOp {
            op: Op::DeactivateUser {
                okta_id: OktaUserId::parse("00u1").unwrap(),
                username: Username::parse("ann").unwrap(),
            },
            rule: Rule::EnableDisableUsers {
                status: usersync_core::OktaStatus::Suspended,
            },
        }
    }

    fn plan(guard: Guard) -> Plan {
        Plan {
            ops: vec![deactivation()],
            skipped: Vec::new(),
            guard,
            notes: Vec::new(),
        }
    }

    fn result(outcome: OpOutcome) -> OpResult {
        OpResult {
            seq: 1,
            planned: deactivation(),
            outcome,
            error: Some("HTTP 500".into()),
        }
    }

    #[test]
    fn the_run_status_follows_the_guard_and_the_outcomes() {
        assert_eq!(
            final_status(&plan(Guard::Proceed), &[]).0,
            RunStatus::Succeeded
        );
        let held = Guard::Held {
            reasons: vec!["too many".into()],
        };
        assert_eq!(
            final_status(&plan(held), &[]),
            (RunStatus::Held, vec!["too many".to_owned()])
        );
        let partial = Guard::Partial {
            reasons: vec!["group g: HTTP 503".into()],
            withheld: 2,
        };
        let (status, reasons) = final_status(&plan(partial), &[]);
        assert_eq!(status, RunStatus::Partial);
        assert!(
            reasons[0].contains("2 destructive operations were withheld"),
            "{reasons:?}"
        );
        let (status, reasons) = final_status(&plan(Guard::Proceed), &[result(OpOutcome::Failed)]);
        assert_eq!(status, RunStatus::Failed, "everything attempted failed");
        assert!(
            reasons[0].contains("deactivate user ann (HTTP 500)"),
            "{reasons:?}"
        );
        let mixed = [result(OpOutcome::Applied), result(OpOutcome::Failed)];
        assert_eq!(
            final_status(&plan(Guard::Proceed), &mixed).0,
            RunStatus::Partial
        );
    }
}
