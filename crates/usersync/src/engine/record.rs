//! Recording a run in the store, the journal of the pipeline's last step: the
//! plan's operations as rows, and each outcome and its link changes as they
//! happen. (The run's final status is decided in [`super::outcome`].)
//!
//! # The plan
//! [`record_plan`] writes the plan's ops as rows (JSON text, never a `Value` tree),
//! [`PLAN_BATCH`] rows per transaction, so recording a million-op plan needs memory
//! for one batch only; the run's plan blob holds everything but the ops (the
//! guard, the skipped users, the notes and the counts), since the ops are the rows.
//!
//! # Outcomes, and what survives a crash
//! [`StoreJournal`] writes at two speeds:
//! - an op that creates, moves or ends an identity link (link, create or rename a
//!   user or group, delete a user or group) is written at once, its links and its
//!   outcome in one transaction, before the executor goes on: a lost link would make
//!   the next run adopt or skip the user instead of converging cleanly;
//! - every other outcome (memberships, updates, (de)activations) is buffered and
//!   written in one transaction when [`FLUSH_AT`] are waiting, when [`FLUSH_EVERY`]
//!   has passed since the last write, when an op fails, with the next identity op's
//!   transaction, and when the executor ends. These ops are idempotent: if the
//!   process dies with some buffered, their rows stay `pending` in a run the next
//!   start marks `interrupted`, and the next run reads the target, plans them again
//!   if they did not happen, and converges without duplicates.

use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use async_trait::async_trait;
use serde::{Deserialize as _, Serialize};
use usersync_core::{Guard, Op, Plan, PlanScope, PlannedOp, SkippedUser};
use usersync_store::{AppId, LinkChanges, NewOperation, OpOutcome, OutcomeUpdate, RunId, Store};

use super::apply::{Journal, Numbered, OpResult};

/// Forgets the group-mapping memberships a complete read of the target shows are
/// gone (`usersync_core::stale_mapped`), in the store and in `links`, before a full
/// run plans: a membership removed by someone else is no longer usersync's, so the
/// same membership granted again by hand later is never removed as usersync's.
///
/// # Errors
/// When the store cannot save the change (the run then stops before any write).
pub(crate) async fn forget_stale_mapped(
    store: &Store,
    app: AppId,
    links: &mut usersync_core::Links,
    current: &usersync_core::TargetSnapshot,
) -> anyhow::Result<()> {
    let stale = usersync_core::stale_mapped(links, current);
    if stale.is_empty() {
        return Ok(());
    }
    let mut changes = LinkChanges::default();
    for change in &stale {
        if let usersync_core::LinkChange::ForgetMember(group, id) = change {
            changes.forget_members.push((group.clone(), id.clone()));
        }
    }
    store
        .save_links(app, &changes)
        .await
        .context("forgetting group-mapping memberships removed outside usersync")?;
    tracing::info!(app = %app, count = stale.len(), "forgot group-mapping memberships removed outside usersync");
    for change in stale {
        links.apply(change);
    }
    Ok(())
}

/// Operation rows written per transaction when a plan is recorded.
pub const PLAN_BATCH: usize = 2000;
/// Buffered outcomes that trigger a write.
pub const FLUSH_AT: usize = 256;
/// The longest an outcome waits in the buffer while others keep arriving.
pub const FLUSH_EVERY: Duration = Duration::from_millis(200);

/// The plan blob: the plan without its ops (which are the run's operation rows),
/// and the scope it was made for (an approval re-plans in the same scope).
#[derive(Serialize)]
struct PlanBlob<'a> {
    scope: &'a PlanScope,
    operations: usize,
    summary: usersync_core::Summary,
    skipped: &'a [SkippedUser],
    guard: &'a Guard,
    notes: &'a [String],
}

/// The scope a run's plan blob says it was made for (`Full` for blobs from before
/// the scope was recorded).
#[must_use]
pub fn recorded_scope(blob: Option<&serde_json::Value>) -> PlanScope {
    blob.and_then(|b| b.get("scope"))
        .and_then(|s| PlanScope::deserialize(s).ok())
        .unwrap_or(PlanScope::Full)
}

/// Records `plan` as the plan of `run`: the blob with the first batch of rows,
/// then the other batches (see the module docs).
///
/// # Errors
/// Store failures, or an op that cannot be encoded.
pub async fn record_plan(
    store: &Store,
    run: RunId,
    plan: &Plan,
    scope: &PlanScope,
) -> anyhow::Result<()> {
    let blob = serde_json::to_string(&PlanBlob {
        scope,
        operations: plan.ops.len(),
        summary: plan.summary(),
        skipped: &plan.skipped,
        guard: &plan.guard,
        notes: &plan.notes,
    })
    .context("encoding the plan")?;
    let mut batches = plan.ops.chunks(PLAN_BATCH);
    let first = batches.next().unwrap_or_default();
    store.record_plan(run, &rows(first, 1)?, &blob).await?;
    let mut next = first.len() + 1;
    for batch in batches {
        store.record_operations(run, &rows(batch, next)?).await?;
        next += batch.len();
    }
    Ok(())
}

/// The operation rows of `ops`, numbered from `first`.
pub(crate) fn rows(ops: &[PlannedOp], first: usize) -> anyhow::Result<Vec<NewOperation>> {
    ops.iter()
        .enumerate()
        .map(|(i, planned)| {
            Ok(NewOperation {
                seq: seq_of(first + i),
                kind: planned.op.kind().as_str().to_owned(),
                subject: subject(&planned.op),
                rule: planned.rule.to_string(),
                payload: serde_json::to_string(planned).context("encoding an operation")?,
            })
        })
        .collect()
}

fn seq_of(position: usize) -> u32 {
    u32::try_from(position).unwrap_or(u32::MAX)
}

/// The plan's ops numbered from 1 in plan order, as [`record_plan`] records them.
#[must_use]
pub fn number(plan: &Plan) -> Vec<Numbered<'_>> {
    plan.ops
        .iter()
        .enumerate()
        .map(|(i, planned)| Numbered {
            seq: seq_of(i + 1),
            planned,
        })
        .collect()
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
    PlannedOp::deserialize(payload)
        .map_err(|e| anyhow::anyhow!("a recorded operation could not be read back: {e}"))
}

/// A journal that writes outcomes and links to the store (see the module docs).
pub struct StoreJournal<'a> {
    store: &'a Store,
    app: AppId,
    run: RunId,
    buffer: Mutex<Buffer>,
    /// [`FLUSH_EVERY`], but for tests.
    every: Duration,
    /// Set when identity links could not be recorded: see [`Journal::stopped`].
    stopped: OnceLock<String>,
}

/// Outcomes not written yet, and when the buffer was last emptied.
struct Buffer {
    updates: Vec<OutcomeUpdate>,
    since: Instant,
}

impl<'a> StoreJournal<'a> {
    #[must_use]
    pub fn new(store: &'a Store, app: AppId, run: RunId) -> Self {
        Self {
            store,
            app,
            run,
            buffer: Mutex::new(Buffer {
                updates: Vec::new(),
                since: Instant::now(),
            }),
            every: FLUSH_EVERY,
            stopped: OnceLock::new(),
        }
    }

    /// Adds `update` (when given) and takes the buffer when `write_now` or it is due.
    fn buffer(&self, update: Option<OutcomeUpdate>, write_now: bool) -> Vec<OutcomeUpdate> {
        let mut buffer = self.buffer.lock().unwrap_or_else(PoisonError::into_inner);
        buffer.updates.extend(update);
        let due = buffer.updates.len() >= FLUSH_AT || buffer.since.elapsed() >= self.every;
        if !(write_now || due) {
            return Vec::new();
        }
        buffer.since = Instant::now();
        std::mem::take(&mut buffer.updates)
    }

    async fn write(&self, updates: &[OutcomeUpdate]) {
        if updates.is_empty() {
            return;
        }
        if let Err(err) = self.store.record_outcomes(self.run, updates).await {
            tracing::error!(run = %self.run, "could not record the outcomes of {} operations: {err}", updates.len());
        }
    }

    /// Writes `links` with the buffered outcomes in one transaction; should that
    /// fail, the links alone (they matter more than the report), then the outcomes.
    /// Should the links fail again, the journal stops the run's target writes.
    async fn write_with_links(&self, links: &LinkChanges, updates: &[OutcomeUpdate]) {
        let together = self
            .store
            .record_outcomes_with_links(self.app, links, self.run, updates)
            .await;
        let Err(err) = together else { return };
        tracing::warn!(run = %self.run, "could not record outcomes with their links, retrying the links alone: {err}");
        if let Err(err) = self.store.save_links(self.app, links).await {
            tracing::error!(run = %self.run, "could not save identity links, stopping the run's changes: {err}");
            let why = format!(
                "could not record identity links in the store ({err}); no further \
                 change was made to the target, so that no account exists without its link"
            );
            let _ = self.stopped.set(why);
            return;
        }
        self.write(updates).await;
    }
}

#[async_trait]
impl Journal for StoreJournal<'_> {
    async fn record(&self, result: &OpResult, links: &LinkChanges) {
        let update = OutcomeUpdate {
            seq: result.seq,
            outcome: result.outcome,
            error: result.error.clone(),
        };
        if links.is_empty() {
            let failed = result.outcome == OpOutcome::Failed;
            let due = self.buffer(Some(update), failed);
            self.write(&due).await;
        } else {
            let mut updates = self.buffer(None, true);
            updates.push(update);
            self.write_with_links(links, &updates).await;
        }
    }

    async fn flush(&self) {
        let due = self.buffer(None, true);
        self.write(&due).await;
    }

    fn stopped(&self) -> Option<String> {
        self.stopped.get().cloned()
    }
}

/// A journal that records nothing (dry runs and tests).
pub struct NoJournal;

#[async_trait]
impl Journal for NoJournal {
    async fn record(&self, _: &OpResult, _: &LinkChanges) {}
}

#[cfg(test)]
#[path = "record_tests.rs"]
mod journal_tests;
