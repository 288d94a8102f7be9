//! The apply executor: runs a plan's operations against a [`Target`].
//!
//! Operations run in stages that follow the plan's dependency order (each op's
//! stage is [`OpKind::stage`], decided in core with the order). Within a stage, operations
//! run concurrently up to a bound, except that the operations of one user (or one
//! group) form a lane that runs in order. Retries are the clients' business (they
//! retry what is safe to retry); here one failed operation never stops the others,
//! but the operations that depend on it (a membership of a user whose creation
//! failed) are skipped with the reason, and once the journal cannot record identity
//! links ([`Journal::stopped`]) no further op is attempted. Once the executor's
//! [`Executor::stop`] token is cancelled (Ctrl-C, or a server shutting down) it starts
//! no further op: those in flight finish and are recorded, the rest stay `pending`
//! (see [`Applied::not_started`]). Every outcome goes to a
//! [`Journal`] the moment it is known, with the identity links it implies ([`link_change`], the
//! core's one rule for that; the journal writes links at once, so links of created
//! users survive a crash, and may buffer the rest: see [`super::record`]); the
//! journal is flushed when the last stage ends.
//!
//! Plans can hold a million operations, so the executor borrows them from the plan
//! ([`Numbered`]) and its results carry no copy of the op ([`OpResult`]).

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use futures::StreamExt as _;
use futures::stream::FuturesUnordered;
use tokio_util::sync::CancellationToken;
use usersync_atlassian::{NewUser, Target, TargetError, UserChanges as TargetChanges};
use usersync_core::{
    GroupName, Links, Op, OpKind, PlannedOp, TargetUser, Username, link_change, membership_change,
    read_only_change,
};
use usersync_store::{LinkChanges, OpOutcome};

use super::progress::{Phase, Progress};

/// One operation of a run, numbered as recorded in the store, borrowed from its plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Numbered<'a> {
    pub seq: u32,
    pub planned: &'a PlannedOp,
}

/// What became of one operation (the op itself is the plan's, found by `seq`:
/// see [`super::RunOutcome::planned`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpResult {
    pub seq: u32,
    pub kind: OpKind,
    pub outcome: OpOutcome,
    pub error: Option<String>,
}

/// Where outcomes (and the link changes they imply) are written as they happen.
#[async_trait]
pub trait Journal: Send + Sync {
    /// One op finished; `links` are the identity link changes it implies.
    async fn record(&self, result: &OpResult, links: &LinkChanges);
    /// Writes whatever `record` buffered; called when the executor finishes.
    async fn flush(&self) {}
    /// Why no further op may touch the target, once the journal could not record
    /// an identity link: an account created without its link is one the next run
    /// cannot manage.
    fn stopped(&self) -> Option<String> {
        None
    }
}

/// Runs operations against one target.
pub struct Executor {
    pub target: Arc<dyn Target>,
    /// Lanes in flight at once. The engine runs more lanes than the target client
    /// has request slots (`Deps::apply_lanes`), so a lane waiting for the store does
    /// not leave a slot idle.
    pub concurrency: usize,
    /// The links as they were when the plan was made (renames keep the target key).
    pub links: Links,
    /// Whether a created group may later be deleted by usersync. Off for runs that
    /// could not see whether the group already existed (single-user runs).
    pub groups_created_are_owned: bool,
    /// Cancelled: start no further op (those in flight finish and are recorded).
    pub stop: CancellationToken,
}

/// What an executor did: the outcome of every op it attempted (or skipped), in `seq`
/// order, and how many it never started because it was told to stop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub results: Vec<OpResult>,
    /// Ops left `pending` because the stop token was cancelled before they started.
    pub not_started: usize,
}

/// Users and groups whose set-up failed in this run: later ops on them are skipped.
#[derive(Default)]
struct Broken {
    users: HashSet<Username>,
    groups: HashSet<GroupName>,
}

impl Executor {
    /// Applies `ops`, reporting each outcome to `journal` and to `progress`.
    pub async fn run(
        &self,
        ops: Vec<Numbered<'_>>,
        journal: &dyn Journal,
        progress: &dyn Progress,
    ) -> Applied {
        let total = ops.len();
        progress.start(Phase::Apply, Some(total as u64));
        let broken = Mutex::new(Broken::default());
        let mut results = Vec::with_capacity(total);
        for mut now in by_stage(ops) {
            if self.stop.is_cancelled() {
                break;
            }
            // Pushing futures into a FuturesUnordered by hand (rather than a
            // `map(closure).buffer_unordered`) keeps the run's future `Send` for
            // any lifetime, so servers can spawn it.
            let mut waiting = lanes(&mut now);
            let mut running = FuturesUnordered::new();
            for lane in waiting.by_ref().take(self.concurrency.max(1)) {
                running.push(self.run_lane(lane, &broken, journal, progress));
            }
            while let Some(done) = running.next().await {
                results.extend(done);
                if self.stop.is_cancelled() {
                    continue;
                }
                if let Some(lane) = waiting.next() {
                    running.push(self.run_lane(lane, &broken, journal, progress));
                }
            }
        }
        journal.flush().await;
        results.sort_by_key(|r| r.seq);
        let failed = results
            .iter()
            .filter(|r| r.outcome == OpOutcome::Failed)
            .count();
        let not_started = total - results.len();
        let stopped = if not_started > 0 {
            format!(", {not_started} not started (stopped)")
        } else {
            String::new()
        };
        progress.finish(
            Phase::Apply,
            &format!("{} operations, {failed} failed{stopped}", results.len()),
        );
        Applied {
            results,
            not_started,
        }
    }

    async fn run_lane(
        &self,
        lane: &[Numbered<'_>],
        broken: &Mutex<Broken>,
        journal: &dyn Journal,
        progress: &dyn Progress,
    ) -> Vec<OpResult> {
        let mut out = Vec::with_capacity(lane.len());
        for &numbered in lane {
            // The lane's later ops wait for the earlier ones; once stopped, the
            // op in flight has finished and the rest stay pending.
            if self.stop.is_cancelled() {
                break;
            }
            let blocked = blocked_by(
                &numbered.planned.op,
                &broken.lock().unwrap_or_else(PoisonError::into_inner),
            );
            let blocked = blocked.or_else(|| {
                journal
                    .stopped()
                    .map(|why| format!("not attempted: the run stopped because it {why}"))
            });
            let (result, changes) = match blocked {
                Some(reason) => (skipped(numbered, reason), LinkChanges::default()),
                None => self.apply_one(numbered).await,
            };
            if result.outcome == OpOutcome::Failed {
                mark_broken(
                    &numbered.planned.op,
                    &mut broken.lock().unwrap_or_else(PoisonError::into_inner),
                );
            }
            journal.record(&result, &changes).await;
            out.push(result);
        }
        progress.advance(Phase::Apply, out.len() as u64);
        out
    }

    async fn apply_one(&self, numbered: Numbered<'_>) -> (OpResult, LinkChanges) {
        let op = &numbered.planned.op;
        let outcome = self.call(op).await;
        match outcome {
            Ok(created) => {
                tracing::debug!(seq = numbered.seq, "applied: {op}");
                let key = created.and_then(|u| u.key);
                let changes = link_change(op, &self.links, key, self.groups_created_are_owned)
                    .or_else(|| membership_change(numbered.planned))
                    .map(LinkChanges::from)
                    .unwrap_or_default();
                (result(numbered, OpOutcome::Applied, None), changes)
            }
            Err(err @ TargetError::ManagedElsewhere { .. }) if op.okta_user().is_some() => {
                // Remembered on the link, so the next plan records a skip instead of
                // trying again; the user's memberships go on.
                tracing::info!(seq = numbered.seq, "not writable: {op}: {err}");
                let changes = read_only_change(op)
                    .map(LinkChanges::from)
                    .unwrap_or_default();
                let why = format!("{NOT_WRITABLE}{err}");
                (skipped(numbered, why), changes)
            }
            Err(err) => {
                tracing::warn!(seq = numbered.seq, "failed: {op}: {err}");
                (
                    result(numbered, OpOutcome::Failed, Some(err.to_string())),
                    LinkChanges::default(),
                )
            }
        }
    }

    /// The target call for one op; a created user is returned for its key.
    async fn call(&self, op: &Op) -> Result<Option<TargetUser>, TargetError> {
        let t = &self.target;
        match op {
            Op::LinkUser { .. } | Op::LinkGroup { .. } => Ok(None),
            Op::CreateGroup { name, .. } => t.create_group(name).await.map(|()| None),
            Op::RenameUser { from, to, .. } => t.rename_user(from, to).await.map(|()| None),
            Op::CreateUser {
                okta_id,
                username,
                account,
            } => {
                // The planner skips users without an e-mail (`SkipReason::NoEmail`);
                // only an op recorded by an older version can still lack one.
                let Some(email) = account.email.clone() else {
                    return Err(TargetError::Rejected {
                        product: t.kind().as_str(),
                        action: format!("create user {username}"),
                        message: "the operation has no e-mail address; plan again".into(),
                    });
                };
                let user = NewUser {
                    username: username.clone(),
                    display_name: account.display_name.clone(),
                    email,
                    active: account.active,
                    external_id: Some(okta_id.as_str().to_owned()),
                };
                t.create_user(&user).await.map(Some)
            }
            Op::UpdateUser {
                username, changes, ..
            } => {
                let changes = TargetChanges {
                    display_name: changes.display_name.as_ref().map(|c| c.to.clone()),
                    email: changes.email.as_ref().and_then(|c| c.to.clone()),
                };
                t.update_user(username, &changes).await.map(|()| None)
            }
            Op::ReactivateUser { username, .. } => {
                t.set_active(username, true).await.map(|()| None)
            }
            Op::DeactivateUser { username, .. } => {
                t.set_active(username, false).await.map(|()| None)
            }
            Op::AddMember { group, username } => t.add_member(group, username).await.map(|()| None),
            Op::RemoveMember { group, username } => {
                t.remove_member(group, username).await.map(|()| None)
            }
            Op::DeleteUser { username, .. } => t.delete_user(username).await.map(|()| None),
            Op::DeleteGroup { name, .. } => t.delete_group(name).await.map(|()| None),
        }
    }
}

/// Splits ops into their stages ([`OpKind::stage`]), keeping their order within each
/// (each stage's list allocated at its exact size: a plan can hold a million ops).
fn by_stage(ops: Vec<Numbered<'_>>) -> [Vec<Numbered<'_>>; OpKind::STAGES] {
    let mut sizes = [0; OpKind::STAGES];
    for numbered in &ops {
        sizes[numbered.planned.op.kind().stage()] += 1;
    }
    let mut stages = sizes.map(Vec::with_capacity);
    for numbered in ops {
        stages[numbered.planned.op.kind().stage()].push(numbered);
    }
    stages
}

/// What a lane is for: ops with the same key run in order, one after another.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum LaneKey<'a> {
    OktaUser(&'a str),
    Username(&'a str),
    Group(&'a str),
}

/// The lane of an op: its Okta user, else its username, else its group.
fn lane_key<'a>(numbered: &Numbered<'a>) -> LaneKey<'a> {
    let op = &numbered.planned.op;
    if let Some(id) = op.okta_user() {
        LaneKey::OktaUser(id.as_str())
    } else if let Some(user) = op.username() {
        LaneKey::Username(user.folded())
    } else {
        LaneKey::Group(op.group().map_or("", GroupName::folded))
    }
}

/// Groups a stage's ops into lanes, in the order of their keys. The sort is stable,
/// so each lane keeps its ops in plan order, and a lane is a run of the sorted
/// stage: no list per lane (a million-op plan has a hundred thousand lanes).
fn lanes<'s, 'p>(ops: &'s mut [Numbered<'p>]) -> impl Iterator<Item = &'s [Numbered<'p>]> {
    ops.sort_by(|a, b| lane_key(a).cmp(&lane_key(b)));
    ops.chunk_by(|a, b| lane_key(a) == lane_key(b))
}

/// Why an op cannot run because something it depends on failed earlier in the run.
fn blocked_by(op: &Op, broken: &Broken) -> Option<String> {
    if let Some(user) = op.username()
        && broken.users.contains(user)
    {
        return Some(format!(
            "skipped: an earlier operation on user {user} failed"
        ));
    }
    if let Op::AddMember { group, .. } | Op::RemoveMember { group, .. } = op
        && broken.groups.contains(group)
    {
        return Some(format!("skipped: group {group} could not be created"));
    }
    None
}

fn mark_broken(op: &Op, broken: &mut Broken) {
    match op {
        Op::CreateUser { username, .. } | Op::RenameUser { to: username, .. } => {
            broken.users.insert(username.clone());
        }
        Op::CreateGroup { name, .. } => {
            broken.groups.insert(name.clone());
        }
        _ => {}
    }
}

fn result(numbered: Numbered<'_>, outcome: OpOutcome, error: Option<String>) -> OpResult {
    OpResult {
        seq: numbered.seq,
        kind: numbered.planned.op.kind(),
        outcome,
        error,
    }
}

/// How the error of an op skipped because the target user's directory is read-only
/// begins: such a skip is not a failure of the run (see `outcome::final_status`).
pub const NOT_WRITABLE: &str = "not writable: ";

fn skipped(numbered: Numbered<'_>, reason: String) -> OpResult {
    result(numbered, OpOutcome::Skipped, Some(reason))
}

#[cfg(test)]
#[path = "apply_tests.rs"]
mod tests;
