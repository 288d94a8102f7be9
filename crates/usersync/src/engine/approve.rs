//! Deciding on held runs.
//!
//! Approving does not blindly replay a plan that may be days old. It re-reads
//! both sides and re-plans first, then:
//! - refuses (the run stays held) when the fresh Okta read is incomplete, or when
//!   the fresh plan has destructive operations the administrator did not approve;
//! - otherwise applies the approved operations that are still needed, and marks
//!   the ones the fresh plan no longer has as skipped ("no longer needed").
//!
//! So an approval never does more than was approved, and never does what has
//! since become wrong (a user who came back in Okta is not deactivated).
//!
//! A held run of single-user plans (where later single-user runs collect their
//! destructive ops, see `engine::budget`) is re-planned for the users its ops are
//! about. An approval is the administrator's decision, so it is not held again by
//! the app's hold budget, and what it applies does not count against the budget.

use std::collections::HashSet;
use std::time::Instant;

use usersync_core::{Guard, Links, Op, PlanScope, PlannedOp};
use usersync_store::{OpOutcome, OutcomeUpdate, Run, RunId, RunStatus};

use super::apply::{Executor, Journal as _, Numbered, OpResult};
use super::budget::Budget;
use super::confirm;
use super::lock::AlreadyRunning;
use super::outcome::{final_status, interrupted};
use super::record::{StoreJournal, parse_payload, recorded_scope};
use super::run::{finish, prepare, read_both};
use super::{Deps, EngineError, Mode, RunOutcome};

fn key(op: &Op) -> String {
    serde_json::to_string(op).unwrap_or_default()
}

fn refused(err: anyhow::Error) -> EngineError {
    EngineError::Refused(format!("{err:#}"))
}

/// Approves held run `run_id` on behalf of `by` and applies it (see the module docs).
///
/// # Errors
/// [`EngineError::Refused`] when the run is not held, or approving now would do
/// something not approved; [`EngineError::AlreadyRunning`]; store failures.
pub async fn approve(deps: &Deps, run_id: RunId, by: &str) -> Result<RunOutcome, EngineError> {
    let run = deps.store.get_run(run_id).await?;
    if run.status != RunStatus::Held {
        return Err(EngineError::Refused(format!(
            "run {run_id} is {}, not held; only held runs can be approved",
            run.status
        )));
    }
    let app = deps.store.get_app(run.app_id).await?;
    let _guard = deps.locks.try_lock(&app.name)?;
    let started = Instant::now();
    let working_since = chrono::Utc::now();
    let pending = pending_ops(deps, run_id).await?;
    let prepared = prepare(deps, &app).await.map_err(refused)?;
    let mut reads = read_both(deps, &app, &prepared, None, false)
        .await
        .map_err(refused)?;
    if let usersync_core::Completeness::Incomplete { reasons } = &reads.desired.completeness {
        return Err(EngineError::Refused(format!(
            "run {run_id} stays held: the Okta read just now was incomplete ({}); try again later",
            reasons.join("; ")
        )));
    }
    let links = deps.store.load_links(app.id).await?;
    let scope = approval_scope(deps, run_id, &pending, &links).await?;
    let mut fresh = confirm::plan_confirmed(
        &prepared,
        &mut reads.desired,
        &reads.current,
        &links,
        scope,
        &Budget::NONE,
    )
    .await;
    if let Guard::Partial { reasons, .. } = &fresh.guard {
        return Err(EngineError::Refused(format!(
            "run {run_id} stays held: confirming the fresh read failed ({}); try again later",
            reasons.join("; ")
        )));
    }
    check_nothing_new(&run, &pending, &fresh)?;
    match deps.store.approve_run(run_id, by, working_since).await {
        Ok(_) => {}
        Err(usersync_store::StoreError::Claimed { run, .. }) => {
            return Err(AlreadyRunning {
                app: app.name.clone(),
                elsewhere: Some(run),
            }
            .into());
        }
        Err(e) => return Err(e.into()),
    }
    let _renewal = super::lock::renew(&deps.store, run_id);
    let (deps, _live) = &super::live::recording(deps, run_id);
    let still: HashSet<String> = fresh.ops.iter().map(|p| key(&p.op)).collect();
    let (apply, gone): (Vec<Numbered<'_>>, Vec<Numbered<'_>>) = pending
        .iter()
        .map(|(seq, planned)| Numbered { seq: *seq, planned })
        .partition(|n| still.contains(&key(&n.planned.op)));
    let mut outcome = RunOutcome::new(&app.name, Some(run_id), Mode::Apply);
    outcome.okta = Some(reads.okta);
    outcome.okta_rate_limits = prepared.conns.okta.rate_limit_headroom();
    outcome.target = Some(reads.target);
    let skipped = skip_unneeded(deps, run_id, &gone).await?;
    let executor = Executor {
        target: prepared.conns.target.clone(),
        concurrency: deps.apply_lanes(),
        links,
        groups_created_are_owned: true,
        stop: deps.stop.clone(),
    };
    let journal = StoreJournal::new(&deps.store, app.id, run_id);
    let applied = executor.run(apply, &journal, deps.progress.as_ref()).await;
    let mut results = applied.results;
    results.extend(skipped);
    results.sort_by_key(|r| r.seq);
    fresh.guard = Guard::Proceed;
    outcome.results = results;
    outcome.plan = Some(fresh);
    outcome.recorded = pending;
    if applied.not_started > 0 {
        interrupted(&mut outcome, applied.not_started);
    } else {
        let (status, reasons) = final_status(&outcome);
        outcome.set(status, reasons);
    }
    let stopped = journal
        .stopped()
        .map(|why| anyhow::anyhow!("the run {why}"));
    finish(deps, outcome, stopped.map_or(Ok(()), Err), started).await
}

/// The scope to re-plan a held run in: the whole app for a full run's plan; for
/// a single-user run's (where later single-user runs collect their destructive
/// ops), the users its waiting ops are about, so other users' changes are not
/// taken for something the administrator is asked to approve.
async fn approval_scope(
    deps: &Deps,
    run_id: RunId,
    pending: &[(u32, PlannedOp)],
    links: &Links,
) -> Result<PlanScope, EngineError> {
    let blob = deps.store.run_plan(run_id).await?;
    if recorded_scope(blob.as_ref()).is_full() {
        return Ok(PlanScope::Full);
    }
    let ids = pending
        .iter()
        .filter_map(|(_, p)| {
            p.op.okta_user().cloned().or_else(|| {
                let name = p.op.username()?;
                links
                    .users
                    .values()
                    .find(|l| &l.username == name)
                    .map(|l| l.okta_id.clone())
            })
        })
        .collect();
    Ok(PlanScope::Users { ids })
}

/// The operations of a held run that still wait, as planned, in `seq` order.
async fn pending_ops(deps: &Deps, run_id: RunId) -> Result<Vec<(u32, PlannedOp)>, EngineError> {
    let mut pending = Vec::new();
    for op in deps.store.run_operations(run_id).await? {
        if op.outcome == OpOutcome::Pending {
            pending.push((op.seq, parse_payload(&op.payload).map_err(refused)?));
        }
    }
    Ok(pending)
}

/// Records approved operations the fresh plan no longer has as skipped.
async fn skip_unneeded(
    deps: &Deps,
    run_id: RunId,
    gone: &[Numbered<'_>],
) -> Result<Vec<OpResult>, EngineError> {
    let why = "no longer needed: Okta or the target changed since the plan was made";
    let skipped: Vec<OpResult> = gone
        .iter()
        .map(|n| OpResult {
            seq: n.seq,
            kind: n.planned.op.kind(),
            outcome: OpOutcome::Skipped,
            error: Some(why.into()),
        })
        .collect();
    let updates: Vec<OutcomeUpdate> = skipped
        .iter()
        .map(|r| OutcomeUpdate {
            seq: r.seq,
            outcome: r.outcome,
            error: r.error.clone(),
        })
        .collect();
    deps.store.record_outcomes(run_id, &updates).await?;
    Ok(skipped)
}

/// Refuses when the fresh plan has destructive ops the held plan did not.
fn check_nothing_new(
    run: &Run,
    pending: &[(u32, PlannedOp)],
    fresh: &usersync_core::Plan,
) -> Result<(), EngineError> {
    let approved: HashSet<String> = pending
        .iter()
        .filter(|(_, p)| p.op.is_destructive())
        .map(|(_, p)| key(&p.op))
        .collect();
    let new: Vec<String> = fresh
        .ops
        .iter()
        .filter(|p| p.op.is_destructive() && !approved.contains(&key(&p.op)))
        .map(|p| p.op.to_string())
        .collect();
    if new.is_empty() {
        return Ok(());
    }
    Err(EngineError::Refused(format!(
        "run {} stays held: since it was planned, {} destructive operations appeared that it does not contain (e.g. {}); reject it and review a new plan",
        run.id,
        new.len(),
        new.iter().take(3).cloned().collect::<Vec<_>>().join("; ")
    )))
}

/// Rejects held run `run_id` on behalf of `by`: nothing more of it is applied.
///
/// # Errors
/// [`EngineError::Store`] (a conflict when the run is not held).
pub async fn reject(deps: &Deps, run_id: RunId, by: &str) -> Result<Run, EngineError> {
    Ok(deps.store.reject_run(run_id, by).await?)
}
