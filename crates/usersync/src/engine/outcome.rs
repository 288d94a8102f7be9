//! What a run hands back: [`RunOutcome`], with its plan and what became of each
//! applied op.
//!
//! A first sync of a large org applies a million ops, so the outcome keeps each op
//! once: in the plan (or, for an approval, in the recorded ops it applied), with
//! the results pointing at it by `seq`. The JSON form (`usersync sync --output
//! json`) still shows each result with its `planned` op, looked up when written.
//!
//! [`final_status`] decides how a run ends (succeeded, partial, failed or held)
//! from its guarded plan and its results.

use serde::ser::{Serialize, SerializeSeq as _, SerializeStruct as _, Serializer};
use usersync_core::{Guard, Plan, PlannedOp, SkipReason};
use usersync_okta::BucketHeadroom;
use usersync_store::{OpOutcome, RunId, RunStatus};

use super::apply::{NOT_WRITABLE, OpResult};
use super::{Mode, ReadStats};

/// The result of a run (or of a dry run).
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub app: String,
    /// `None` for dry runs, which record nothing.
    pub run_id: Option<RunId>,
    pub mode: Mode,
    /// For a dry run: the status a real run would end with before applying.
    pub status: RunStatus,
    /// Why the run is not `succeeded` (or what the administrator must do); for a
    /// succeeded run, warnings: users who need attention in Okta (see [`final_status`]).
    pub reasons: Vec<String>,
    /// `None` when the run failed before it could plan.
    pub plan: Option<Plan>,
    /// What became of each applied op (empty for dry runs), in `seq` order; the op
    /// itself is [`RunOutcome::planned`].
    pub results: Vec<OpResult>,
    pub okta: Option<ReadStats>,
    pub target: Option<ReadStats>,
    /// What Okta's answers said about each rate-limit bucket the run used, as the
    /// run ended (empty when Okta never answered). Not part of the CLI's JSON form.
    pub okta_rate_limits: Vec<BucketHeadroom>,
    pub seconds: f64,
    /// For a run of the whole app: full or incremental, and why.
    pub sync: Option<SyncChoice>,
    /// The recorded ops an approval applied, by `seq` (empty otherwise: then the
    /// results are numbered by their position in `plan`, from 1).
    pub(crate) recorded: Vec<(u32, PlannedOp)>,
}

impl RunOutcome {
    pub(crate) fn new(app: &str, run_id: Option<RunId>, mode: Mode) -> Self {
        Self {
            app: app.to_owned(),
            run_id,
            mode,
            status: RunStatus::Running,
            reasons: Vec::new(),
            plan: None,
            results: Vec::new(),
            okta: None,
            target: None,
            okta_rate_limits: Vec::new(),
            seconds: 0.0,
            sync: None,
            recorded: Vec::new(),
        }
    }

    pub(crate) fn set(&mut self, status: RunStatus, reasons: Vec<String>) {
        self.status = status;
        self.reasons = reasons;
    }

    /// The op a result with this `seq` is about.
    #[must_use]
    pub fn planned(&self, seq: u32) -> Option<&PlannedOp> {
        if self.recorded.is_empty() {
            let index = usize::try_from(seq).ok()?.checked_sub(1)?;
            return self.plan.as_ref()?.ops.get(index);
        }
        let at = self.recorded.binary_search_by_key(&seq, |(s, _)| *s).ok()?;
        Some(&self.recorded[at].1)
    }

    /// Applied, failed and skipped operation counts.
    #[must_use]
    pub fn tally(&self) -> (usize, usize, usize) {
        let count = |o: OpOutcome| self.results.iter().filter(|r| r.outcome == o).count();
        (
            count(OpOutcome::Applied),
            count(OpOutcome::Failed),
            count(OpOutcome::Skipped),
        )
    }
}

/// Whether a run of the whole app read everything or only what changed, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SyncChoice {
    pub kind: usersync_store::SyncKind,
    pub reason: String,
}

impl Serialize for RunOutcome {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("RunOutcome", 11)?;
        s.serialize_field("app", &self.app)?;
        s.serialize_field("run_id", &self.run_id)?;
        s.serialize_field("mode", &self.mode)?;
        s.serialize_field("status", &self.status)?;
        s.serialize_field("reasons", &self.reasons)?;
        s.serialize_field("plan", &self.plan)?;
        s.serialize_field("results", &Results(self))?;
        s.serialize_field("okta", &self.okta)?;
        s.serialize_field("target", &self.target)?;
        s.serialize_field("seconds", &self.seconds)?;
        s.serialize_field("sync", &self.sync)?;
        s.end()
    }
}

/// The results as the JSON form shows them: each with its planned op.
struct Results<'a>(&'a RunOutcome);

impl Serialize for Results<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(serde::Serialize)]
        struct Shown<'a> {
            seq: u32,
            planned: Option<&'a PlannedOp>,
            outcome: OpOutcome,
            error: Option<&'a str>,
        }
        let mut seq = serializer.serialize_seq(Some(self.0.results.len()))?;
        for r in &self.0.results {
            seq.serialize_element(&Shown {
                seq: r.seq,
                planned: self.0.planned(r.seq),
                outcome: r.outcome,
                error: r.error.as_deref(),
            })?;
        }
        seq.end()
    }
}

/// Ends `outcome` `interrupted`: it was told to stop ([`super::Deps::stop`]) while
/// applying, and `not_started` of its ops never reached the target. They stay
/// `pending` in the store, and since every outcome that happened was recorded, the
/// next run reads both sides, plans what is still missing and applies nothing twice.
pub(crate) fn interrupted(outcome: &mut RunOutcome, not_started: usize) {
    let (applied, failed, skipped) = outcome.tally();
    let done = applied + failed + skipped;
    let mut reasons = vec![format!(
        "stopped on request after {done} of {} operations ({applied} applied, {failed} failed, \
         {skipped} skipped); the other {not_started} were not started and stay pending: \
         the next run plans them again",
        done + not_started
    )];
    // What else the run would have reported (an incomplete read, failures) still holds.
    let (status, more) = final_status(outcome);
    if status != RunStatus::Succeeded {
        reasons.extend(more);
    }
    outcome.set(RunStatus::Interrupted, reasons);
}

/// The status a run ends with, and why.
///
/// - `held` when the guard held the plan (non-destructive ops may have been applied);
/// - `failed` when every attempted op failed;
/// - `partial` when the Okta read was incomplete, or some ops failed or were
///   skipped for a failed dependency;
/// - `succeeded` otherwise, with warnings among the reasons when users could not be
///   mapped (invalid or colliding usernames) or created (no e-mail address): data
///   in Okta needs attention, but usersync did everything it could, so scripts
///   can tell this from an Okta read that failed.
///
/// Reads `outcome.plan` (with its guard as the run applied it) and `outcome.results`.
#[must_use]
pub fn final_status(outcome: &RunOutcome) -> (RunStatus, Vec<String>) {
    let Some(plan) = &outcome.plan else {
        return (RunStatus::Failed, vec!["the run made no plan".to_owned()]);
    };
    let results = &outcome.results;
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
    let not_writable = |r: &&OpResult| {
        r.outcome == OpOutcome::Skipped
            && r.error
                .as_deref()
                .is_some_and(|e| e.starts_with(NOT_WRITABLE))
    };
    let read_only = results.iter().filter(not_writable).count();
    let skipped = results
        .iter()
        .filter(|r| r.outcome == OpOutcome::Skipped)
        .count()
        - read_only;
    if !failed.is_empty() {
        let first = failed.iter().take(3).map(|r| {
            let op = outcome
                .planned(r.seq)
                .map_or_else(|| format!("operation {}", r.seq), |p| p.op.to_string());
            format!("{op} ({})", r.error.as_deref().unwrap_or("failed"))
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
    // Users who need attention are warnings: listed, but the run did all it could.
    reasons.extend(skipped_users(plan));
    if read_only > 0 {
        reasons.push(format!(
            "{read_only} operations were not made: the target refused them as the users' \
             directory is read-only; remembered, so they are not tried again"
        ));
    }
    (status, reasons)
}

/// The reasons that users the planner skipped give a run: the per-user errors
/// (an unusable username, a user to create without an e-mail), not the
/// deliberate hands-off ones (protected, managed elsewhere, not adopted).
fn skipped_users(plan: &Plan) -> Vec<String> {
    let logins = |wanted: fn(&SkipReason) -> bool| -> Vec<&str> {
        let skipped = plan.skipped.iter().filter(|s| wanted(&s.reason));
        skipped.map(|s| s.login.as_str()).collect()
    };
    let unmapped = logins(|r| {
        matches!(
            r,
            SkipReason::InvalidUsername { .. } | SkipReason::Collision { .. }
        )
    });
    let no_email = logins(|r| matches!(r, SkipReason::NoEmail { .. }));
    let e_g = |logins: &[&str]| {
        logins
            .iter()
            .take(3)
            .copied()
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut reasons = Vec::new();
    if !unmapped.is_empty() {
        reasons.push(format!(
            "{} users could not be given a valid, unique username (e.g. {}); see `usersync explain`",
            unmapped.len(),
            e_g(&unmapped)
        ));
    }
    if !no_email.is_empty() {
        reasons.push(format!(
            "{} users could not be created: they have no e-mail address and the target requires one (e.g. {}); see `usersync explain`",
            no_email.len(),
            e_g(&no_email)
        ));
    }
    reasons
}

#[cfg(test)]
mod tests {
    use usersync_core::{OktaUserId, Op, PlannedOp, Rule, SkippedUser, Username};

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
            kind: usersync_core::OpKind::DeactivateUser,
            outcome,
            error: Some("HTTP 500".into()),
        }
    }

    fn final_status(plan: Plan, results: &[OpResult]) -> (RunStatus, Vec<String>) {
        let mut outcome = RunOutcome::new("jira", None, super::super::Mode::Apply);
        outcome.plan = Some(plan);
        outcome.results = results.to_vec();
        super::final_status(&outcome)
    }

    #[test]
    fn the_run_status_follows_the_guard_and_the_outcomes() {
        assert_eq!(
            final_status(plan(Guard::Proceed), &[]).0,
            RunStatus::Succeeded
        );
        let held = Guard::Held {
            reasons: vec!["too many".into()],
        };
        assert_eq!(
            final_status(plan(held), &[]),
            (RunStatus::Held, vec!["too many".to_owned()])
        );
        let partial = Guard::Partial {
            reasons: vec!["group g: HTTP 503".into()],
            withheld: 2,
        };
        let (status, reasons) = final_status(plan(partial), &[]);
        assert_eq!(status, RunStatus::Partial);
        assert!(
            reasons[0].contains("2 destructive operations were withheld"),
            "{reasons:?}"
        );
        let (status, reasons) = final_status(plan(Guard::Proceed), &[result(OpOutcome::Failed)]);
        assert_eq!(status, RunStatus::Failed, "everything attempted failed");
        assert!(
            reasons[0].contains("deactivate user ann (HTTP 500)"),
            "{reasons:?}"
        );
        let mut no_email = plan(Guard::Proceed);
        no_email.skipped.push(SkippedUser {
            okta_id: OktaUserId::parse("00u2").unwrap(),
            login: "bob@x.org".into(),
            reason: SkipReason::NoEmail {
                username: "bob".into(),
            },
        });
        let (status, reasons) = final_status(no_email, &[]);
        assert_eq!(
            status,
            RunStatus::Succeeded,
            "a user who needs attention in Okta is a warning, not a failure"
        );
        assert!(reasons[0].contains("no e-mail address"), "{reasons:?}");
        let mixed = [result(OpOutcome::Applied), result(OpOutcome::Failed)];
        assert_eq!(
            final_status(plan(Guard::Proceed), &mixed).0,
            RunStatus::Partial
        );
    }
}
