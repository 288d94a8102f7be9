//! What a run hands back: [`RunOutcome`], with its plan and what became of each
//! applied op.
//!
//! A first sync of a large org applies a million ops, so the outcome keeps each op
//! once: in the plan (or, for an approval, in the recorded ops it applied), with
//! the results pointing at it by `seq`. The JSON form (`usersync sync --output
//! json`) still shows each result with its `planned` op, looked up when written.

use serde::ser::{Serialize, SerializeSeq as _, SerializeStruct as _, Serializer};
use usersync_core::{Plan, PlannedOp};
use usersync_okta::BucketHeadroom;
use usersync_store::{OpOutcome, RunId, RunStatus};

use super::apply::OpResult;
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
    /// Why the run is not `succeeded` (or what the administrator must do).
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

impl Serialize for RunOutcome {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("RunOutcome", 10)?;
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
