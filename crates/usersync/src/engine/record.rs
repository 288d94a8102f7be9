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
//!   the next run adopt or skip the user instead of converging cleanly. One write
//!   runs at a time; the links of ops that finish meanwhile queue and the next write
//!   takes all of them in one transaction (group commit), each lane still waiting
//!   until its own links are durable: eight lanes creating users no longer wait for
//!   eight transactions one after another;
//! - every other outcome (memberships, updates, (de)activations) is buffered and
//!   written in one transaction when [`FLUSH_AT`] are waiting, when [`FLUSH_EVERY`]
//!   has passed since the last write, when an op fails, with the next identity op's
//!   transaction, and when the executor ends (a due buffer found while another write
//!   runs is left to that write's successor: no lane waits for plain outcomes). These ops are idempotent: if the
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
    queue: Mutex<Queue>,
    /// One write at a time; whoever holds it writes everything queued, so lanes that
    /// queued links meanwhile find them written when their turn comes (group commit).
    writer: tokio::sync::Mutex<()>,
    /// [`FLUSH_EVERY`], but for tests.
    every: Duration,
    /// Set when identity links could not be recorded: see [`Journal::stopped`].
    stopped: OnceLock<String>,
}

/// What is waiting to be written, and when the queue was last emptied.
struct Queue {
    /// Outcomes not written yet (those of linked ops too).
    updates: Vec<OutcomeUpdate>,
    /// Link changes of ops waiting for their write, in the order the ops finished.
    links: Vec<LinkChanges>,
    since: Instant,
    /// Tickets handed to ops with links, and the last one whose links are written.
    issued: u64,
    written: u64,
}

impl<'a> StoreJournal<'a> {
    #[must_use]
    pub fn new(store: &'a Store, app: AppId, run: RunId) -> Self {
        Self {
            store,
            app,
            run,
            queue: Mutex::new(Queue {
                updates: Vec::new(),
                links: Vec::new(),
                since: Instant::now(),
                issued: 0,
                written: 0,
            }),
            writer: tokio::sync::Mutex::new(()),
            every: FLUSH_EVERY,
            stopped: OnceLock::new(),
        }
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Writes everything queued; the caller holds `writer`.
    async fn write_queued(&self) {
        let (links, updates, upto) = {
            let mut queue = self.queue();
            queue.since = Instant::now();
            let links = std::mem::take(&mut queue.links);
            (links, std::mem::take(&mut queue.updates), queue.issued)
        };
        if links.is_empty() {
            self.write(&updates).await;
        } else {
            self.write_with_links(&links, &updates).await;
        }
        self.queue().written = upto;
    }

    async fn write(&self, updates: &[OutcomeUpdate]) {
        if updates.is_empty() {
            return;
        }
        if let Err(err) = self.store.record_outcomes(self.run, updates).await {
            tracing::error!(run = %self.run, "could not record the outcomes of {} operations: {err}", updates.len());
        }
    }

    /// Writes `links` with the queued outcomes in one transaction; should that fail,
    /// each op's links alone (they matter more than the report), then the outcomes.
    /// Should an op's links fail again, the journal stops the run's target writes.
    async fn write_with_links(&self, links: &[LinkChanges], updates: &[OutcomeUpdate]) {
        let together = self
            .store
            .record_outcomes_with_links(self.app, links, self.run, updates)
            .await;
        let Err(err) = together else { return };
        tracing::warn!(run = %self.run, "could not record outcomes with their links, retrying the links alone: {err}");
        for changes in links {
            if let Err(err) = self.store.save_links(self.app, changes).await {
                tracing::error!(run = %self.run, "could not save identity links, stopping the run's changes: {err}");
                let why = format!(
                    "could not record identity links in the store ({err}); no further \
                     change was made to the target, so that no account exists without its link"
                );
                let _ = self.stopped.set(why);
            }
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
            let due = {
                let mut queue = self.queue();
                queue.updates.push(update);
                queue.updates.len() >= FLUSH_AT || queue.since.elapsed() >= self.every
            };
            // A failure is written at once; plain outcomes when due, unless a write
            // is under way (the next writer takes them along): no lane waits for them.
            if failed {
                let _turn = self.writer.lock().await;
                self.write_queued().await;
            } else if due && let Ok(_turn) = self.writer.try_lock() {
                self.write_queued().await;
            }
        } else {
            let ticket = {
                let mut queue = self.queue();
                queue.updates.push(update);
                queue.links.push(links.clone());
                queue.issued += 1;
                queue.issued
            };
            // The op goes on only once its links are written, by this lane or by the
            // one that held the turn while they were queued.
            let _turn = self.writer.lock().await;
            if self.queue().written < ticket {
                self.write_queued().await;
            }
        }
    }

    async fn flush(&self) {
        let _turn = self.writer.lock().await;
        self.write_queued().await;
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
