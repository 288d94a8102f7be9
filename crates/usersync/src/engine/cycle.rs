//! A scheduled cycle of one app: incremental when it can be, a full reconcile when
//! it must.
//!
//! [`sync_cycle`] is what the scheduler and plain `usersync sync` run. It is a full
//! reconcile (`run::read_plan_execute`, the full run's own path) when asked
//! (`sync --full`), when no full sync has succeeded yet to continue from, when
//! the app's settings were saved since the last one, when the last incremental
//! cycle was incomplete (it failed, was held or partial, or the System Log did not
//! explain a change), when the app's `policy.full_reconcile_hours` have passed
//! since the last one (0: always), and when a group was created, renamed or
//! deleted in Okta. Otherwise it reads only what changed (`incremental`). Either
//! way the run records which it was and why (`runs.sync_kind`), and the
//! checkpoint moves only when the run succeeded: a full reconcile sets it
//! (`run::read_plan_execute`), a cycle moves it on with what it covered.

use std::time::Instant;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use usersync_store::checkpoints::INCREMENTAL_STATE;
use usersync_store::{App, RunId, RunStatus, RunTrigger, SyncKind};

use super::changes::CycleState;
use super::incremental::{Cycle, incremental};
use super::lock::{Wait, start_claimed};
use super::outcome::SyncChoice;
use super::run::{find_app, finish, prepare, read_plan_execute};
use super::{Deps, EngineError, Mode, RunOutcome};

/// What the caller asks of a cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// Incremental when it can be (the scheduler, plain `sync`).
    Auto,
    /// A full reconcile (`sync --full`).
    Full,
}

/// Runs one cycle of `app_name` (see the module docs).
///
/// # Errors
/// As [`super::run_sync_once`].
pub async fn sync_cycle(
    deps: &Deps,
    app_name: &str,
    trigger: RunTrigger,
    want: Want,
) -> Result<RunOutcome, EngineError> {
    let app = find_app(deps, app_name).await?;
    let claim = start_claimed(deps, &app, trigger, Wait::No).await?;
    let started = Instant::now();
    let run = claim.run;
    // Every applying run's progress goes to the store, for the console's live page.
    let (deps, _live) = &super::live::recording(deps, run);
    let mut outcome = RunOutcome::new(&app.name, Some(run), Mode::Apply);
    let result = cycle_run(deps, &app, run, want, &mut outcome).await;
    finish(deps, outcome, result, started).await
}

async fn cycle_run(
    deps: &Deps,
    app: &App,
    run: RunId,
    want: Want,
    outcome: &mut RunOutcome,
) -> anyhow::Result<()> {
    let state = load_state(deps, app).await?;
    let full = match want {
        Want::Full => Some("a full sync was asked for".to_owned()),
        Want::Auto => full_reason(state.as_ref(), app, Utc::now()),
    };
    let prepared = prepare(deps, app).await?;
    let result = async {
        let state = match (full, state) {
            (None, Some(state)) => state,
            (full, _) => {
                let reason = reason_or_first(full);
                choose(deps, run, SyncKind::Full, reason, outcome).await?;
                return read_plan_execute(deps, app, Some(run), &prepared, outcome).await;
            }
        };
        let why = format!(
            "only what changed in Okta since {}",
            state.since.to_rfc3339()
        );
        choose(deps, run, SyncKind::Incremental, why, outcome).await?;
        let result = incremental(deps, app, run, &prepared, &state, outcome).await;
        match result {
            Ok(Cycle::Reconcile(reason)) => {
                choose(deps, run, SyncKind::Full, reason, outcome).await?;
                read_plan_execute(deps, app, Some(run), &prepared, outcome).await
            }
            Ok(Cycle::Done(next)) => commit(deps, app, run, state, next, outcome).await,
            Err(err) => {
                let due = format!("incremental run {run} stopped: {err:#}");
                save_state(
                    deps,
                    app,
                    &CycleState {
                        full_due: Some(due),
                        ..state
                    },
                )
                .await?;
                Err(err)
            }
        }
    }
    .await;
    outcome.okta_rate_limits = prepared.conns.okta.rate_limit_headroom();
    result
}

fn reason_or_first(reason: Option<String>) -> String {
    reason.unwrap_or_else(|| "no full sync has succeeded yet to continue from".to_owned())
}

/// Why the next cycle must be a full reconcile, or `None` when it can be incremental.
pub(crate) fn full_reason(
    state: Option<&CycleState>,
    app: &App,
    now: DateTime<Utc>,
) -> Option<String> {
    let Some(state) = state else {
        return Some(reason_or_first(None));
    };
    let hours = app.policy.full_reconcile_hours;
    if hours == 0 {
        return Some("policy.full_reconcile_hours is 0: every cycle is a full sync".into());
    }
    if state.settings_at != app.updated_at {
        return Some("the app's settings changed since the last full reconcile".into());
    }
    if let Some(why) = &state.full_due {
        return Some(format!("the last incremental cycle was incomplete: {why}"));
    }
    if now >= state.full_at + chrono::Duration::hours(i64::from(hours)) {
        return Some(format!(
            "the full reconcile is due (every {hours} hours; the last started {})",
            state.full_at.to_rfc3339()
        ));
    }
    None
}

/// Records the run's kind and reason, in the store and in the outcome.
async fn choose(
    deps: &Deps,
    run: RunId,
    kind: SyncKind,
    reason: String,
    outcome: &mut RunOutcome,
) -> anyhow::Result<()> {
    deps.store.set_sync_kind(run, kind, &reason).await?;
    tracing::info!(app = %outcome.app, %run, %kind, "{reason}");
    outcome.sync = Some(SyncChoice { kind, reason });
    Ok(())
}

/// Moves the checkpoint on when the cycle succeeded; otherwise keeps it and makes
/// the next cycle a full reconcile.
async fn commit(
    deps: &Deps,
    app: &App,
    run: RunId,
    state: CycleState,
    next: CycleState,
    outcome: &RunOutcome,
) -> anyhow::Result<()> {
    let next = if outcome.status == RunStatus::Succeeded {
        next
    } else {
        CycleState {
            full_due: Some(format!("incremental run {run} ended {}", outcome.status)),
            ..state
        }
    };
    save_state(deps, app, &next).await
}

/// The app's checkpoint; one that cannot be read counts as none (a full reconcile).
pub(crate) async fn load_state(deps: &Deps, app: &App) -> anyhow::Result<Option<CycleState>> {
    let Some(text) = deps.store.checkpoint(app.id, INCREMENTAL_STATE).await? else {
        return Ok(None);
    };
    match serde_json::from_str(&text) {
        Ok(state) => Ok(Some(state)),
        Err(e) => {
            tracing::warn!(app = %app.name, "the incremental checkpoint is unreadable ({e}); the next cycle is a full reconcile");
            Ok(None)
        }
    }
}

pub(crate) async fn save_state(deps: &Deps, app: &App, state: &CycleState) -> anyhow::Result<()> {
    let text = serde_json::to_string(state).context("writing the incremental checkpoint")?;
    deps.store
        .set_checkpoint(app.id, INCREMENTAL_STATE, &text)
        .await
        .context("saving the incremental checkpoint")
}
