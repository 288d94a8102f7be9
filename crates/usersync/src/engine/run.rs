//! A full run of one app, and the steps single-user runs and approvals share:
//! preparing connections, reading both sides, executing and finishing.

use std::collections::BTreeSet;
use std::time::Instant;

use anyhow::Context as _;
use usersync_core::{
    Explanation, Links, OktaSnapshot, Plan, PlanOptions, PlanScope, TargetSnapshot, Username,
};
use usersync_okta::{ReadProgress, ReadScope};
use usersync_store::{App, RunId, RunStatus, RunTrigger, SyncKind};

use super::apply::{Executor, Journal as _, Numbered};
use super::budget;
use super::changes::{self, Covered, CycleState, Seen};
use super::confirm;
use super::connect::Connections;
use super::cycle::save_state;
use super::lock::{Wait, start_claimed};
use super::outcome::SyncChoice;
use super::outcome::final_status;
use super::outcome::interrupted;
pub(crate) use super::prepared::{Prepared, prepare};
use super::progress::Phase;
use super::record::{StoreJournal, number, record_plan};
use super::shared_read::ReadKey;
use super::{Deps, EngineError, Mode, ReadStats, RunOutcome, Stopped};

/// Both sides as read, with what each read saw.
pub(crate) struct Reads {
    pub desired: OktaSnapshot,
    pub current: TargetSnapshot,
    pub okta: ReadStats,
    pub target: ReadStats,
    /// When the Okta read began and what it covered (for the incremental checkpoint).
    pub covered: Covered,
}

pub(crate) async fn find_app(deps: &Deps, name: &str) -> Result<App, EngineError> {
    deps.store
        .find_app(name)
        .await?
        .ok_or_else(|| EngineError::UnknownApp(name.to_owned()))
}

/// Reads Okta (scope pushed into the query) and the whole target concurrently;
/// with `shared` (a full run's `Deps::shared_reads`), Okta through the cycle's
/// shared snapshot (`shared_read`), so apps on one org and credential read it once;
/// approvals and explanations pass `None`, as they must see Okta as it is now.
/// With `with_seen` (an applying full run), the changes within the margin before the
/// read are read first (`changes::seen_before`), so the next cycle skips them.
pub(crate) async fn read_both(
    deps: &Deps,
    app: &App,
    prepared: &Prepared,
    shared: Option<&super::SharedReads>,
    with_seen: bool,
) -> anyhow::Result<Reads> {
    let progress = &deps.progress;
    let scope = ReadScope {
        group_types: prepared.policy.okta_query().group_types,
        profile_attributes: Some(prepared.policy.profile_attributes()),
    };
    progress.start(Phase::ReadOkta, None);
    progress.start(Phase::ReadTarget, None);
    let covered_read = async {
        let read_at = chrono::Utc::now();
        let before = prepared.conns.okta.stats().requests;
        let seen = if with_seen {
            changes::seen_before(prepared, app, read_at, deps.incremental_margin).await
        } else {
            Seen::default()
        };
        let (snapshot, mut stats) = read_okta(deps, prepared, &scope).await?;
        // The change reads count too: they are this read's requests.
        stats.requests = Some(prepared.conns.okta.stats().requests - before);
        anyhow::Ok((snapshot, stats, Covered { read_at, seen }))
    };
    let read_okta = async {
        match shared {
            None => covered_read.await,
            Some(shared) => {
                let key = ReadKey::new(&prepared.conns.okta_identity, &scope);
                let read = shared.get_or_read(&key, &app.name, covered_read).await?;
                let mut stats = read.stats;
                if let Some(reader) = read.read_by {
                    tracing::info!(app = %app.name, read_by = %reader, "using the Okta read of this cycle");
                    stats.requests = Some(0);
                    stats.read_by = Some(reader);
                }
                Ok((
                    std::sync::Arc::unwrap_or_clone(read.snapshot),
                    stats,
                    read.covered,
                ))
            }
        }
    };
    let read_target = async {
        let read = prepared.conns.target.read_all().await;
        if let Ok(t) = &read {
            progress.finish(
                Phase::ReadTarget,
                &format!("{} users, {} groups", t.users.len(), t.groups.len()),
            );
        }
        read
    };
    // Reads change nothing, so a stop abandons them at once.
    let reads = std::pin::pin!(async { tokio::join!(read_okta, read_target) });
    let (desired, current) =
        Stopped::unless(&deps.stop, "reading Okta and the target", reads).await?;
    let (desired, okta_stats, covered) = desired?;
    let current = current.context("reading the target's users and groups")?;
    let state = if desired.completeness.is_complete() {
        "complete"
    } else {
        "INCOMPLETE"
    };
    let shared = okta_stats
        .read_by
        .as_ref()
        .map(|r| format!(", read once for app {r}"))
        .unwrap_or_default();
    progress.finish(
        Phase::ReadOkta,
        &format!(
            "{} users, {} groups ({state}{shared})",
            desired.users.len(),
            desired.groups.len()
        ),
    );
    let target_stats = ReadStats {
        users: current.users.len(),
        groups: current.groups.len(),
        memberships: current.memberships.values().map(BTreeSet::len).sum(),
        ..ReadStats::default()
    };
    Ok(Reads {
        desired,
        current,
        okta: okta_stats,
        target: target_stats,
        covered,
    })
}

/// One full Okta read by this app's client, with what it saw.
async fn read_okta(
    deps: &Deps,
    prepared: &Prepared,
    scope: &ReadScope,
) -> anyhow::Result<(OktaSnapshot, ReadStats)> {
    let okta = &prepared.conns.okta;
    let last = std::sync::atomic::AtomicU64::new(0);
    let report = |p: &ReadProgress| {
        let done = (p.users_read + p.groups_read + p.groups_with_members_read) as u64;
        let before = last.swap(done, std::sync::atomic::Ordering::Relaxed);
        deps.progress
            .advance(Phase::ReadOkta, done.saturating_sub(before));
    };
    let before = okta.stats().requests;
    let desired = okta
        .read_org_with_progress(scope, &report)
        .await
        .with_context(|| format!("reading the Okta org {}", okta.org_host()))?;
    let stats = ReadStats {
        users: desired.users.len(),
        groups: desired.groups.len(),
        memberships: desired.memberships.total(),
        requests: Some(okta.stats().requests - before),
        complete: Some(desired.completeness.is_complete()),
        read_by: None,
    };
    Ok((desired, stats))
}

/// Runs one full sync of `app_name` (see the module docs of [`crate::engine`]).
///
/// # Errors
/// [`EngineError`] when the app does not exist, another run of it is in progress,
/// or the store fails; a run that starts and then fails is an `Ok` outcome with
/// status `failed` and the reason.
pub async fn run_sync_once(
    deps: &Deps,
    app_name: &str,
    trigger: RunTrigger,
    mode: Mode,
) -> Result<RunOutcome, EngineError> {
    let app = find_app(deps, app_name).await?;
    let (_guard, claim) = match mode {
        Mode::Apply => (
            None,
            Some(start_claimed(deps, &app, trigger, Wait::No).await?),
        ),
        Mode::DryRun => (Some(deps.locks.try_lock(&app.name)?), None),
    };
    let started = Instant::now();
    let run = claim.as_ref().map(|c| c.run);
    // Every applying run's progress goes to the store, for the console's live page.
    let live = run.map(|run| super::live::recording(deps, run));
    let deps = live.as_ref().map_or(deps, |(d, _)| d);
    let mut outcome = RunOutcome::new(&app.name, run, mode);
    if let Some(run) = run {
        let reason = format!("a full sync was asked for ({trigger})");
        deps.store
            .set_sync_kind(run, SyncKind::Full, &reason)
            .await?;
        outcome.sync = Some(SyncChoice {
            kind: SyncKind::Full,
            reason,
        });
    }
    let result = full_run(deps, &app, run, &mut outcome).await;
    finish(deps, outcome, result, started).await
}

async fn full_run(
    deps: &Deps,
    app: &App,
    run: Option<RunId>,
    outcome: &mut RunOutcome,
) -> anyhow::Result<()> {
    let prepared = prepare(deps, app).await?;
    let result = read_plan_execute(deps, app, run, &prepared, outcome).await;
    // Kept whatever happened: a run that fails on a 429 is when the figures matter.
    outcome.okta_rate_limits = prepared.conns.okta.rate_limit_headroom();
    result
}

/// The full run's read, plan and execution. When it applies and succeeds, it sets
/// the app's incremental checkpoint (`engine::cycle`) at the moment it began
/// reading, less the margin.
pub(crate) async fn read_plan_execute(
    deps: &Deps,
    app: &App,
    run: Option<RunId>,
    prepared: &Prepared,
    outcome: &mut RunOutcome,
) -> anyhow::Result<()> {
    let Reads {
        mut desired,
        current,
        okta,
        target,
        covered,
    } = read_both(
        deps,
        app,
        prepared,
        deps.shared_reads.as_ref(),
        run.is_some(),
    )
    .await?;
    outcome.okta = Some(okta);
    outcome.target = Some(target);
    let mut links = deps.store.load_links(app.id).await?;
    if run.is_some() {
        super::record::forget_stale_mapped(&deps.store, app.id, &mut links, &current).await?;
    }
    let budget = budget::budget(deps, app).await?;
    let plan = confirm::plan_confirmed(
        prepared,
        &mut desired,
        &current,
        &links,
        PlanScope::Full,
        &budget,
    )
    .await;
    // Both snapshots are done with: free them before the (long) apply.
    drop((desired, current));
    let superseded = match run {
        Some(run) => budget::supersede(deps, app, run, &plan).await?,
        None => None,
    };
    let scope = PlanScope::Full;
    execute_plan(
        deps,
        app,
        run,
        plan,
        links,
        &prepared.conns,
        &scope,
        outcome,
    )
    .await?;
    outcome.reasons.extend(superseded);
    if run.is_some() && outcome.status == RunStatus::Succeeded {
        let mut state =
            CycleState::after_full(covered.read_at, deps.incremental_margin, app.updated_at);
        state.seen = covered.seen;
        save_state(deps, app, &state).await?;
    }
    Ok(())
}

/// Records the plan, applies what the guard allows, and sets the outcome's status.
#[allow(clippy::too_many_arguments)] // the run's context, passed once from three callers
pub(crate) async fn execute_plan(
    deps: &Deps,
    app: &App,
    run: Option<RunId>,
    plan: Plan,
    links: Links,
    conns: &Connections,
    scope: &PlanScope,
    outcome: &mut RunOutcome,
) -> anyhow::Result<()> {
    let Some(run) = run else {
        outcome.plan = Some(plan);
        let (status, reasons) = final_status(outcome);
        outcome.set(status, reasons);
        return Ok(());
    };
    record_plan(&deps.store, run, &plan, scope).await?;
    let held = plan.guard.is_held();
    let to_apply: Vec<Numbered<'_>> = number(&plan)
        .into_iter()
        .filter(|n| !held || !n.planned.op.is_destructive())
        .collect();
    let executor = Executor {
        target: conns.target.clone(),
        concurrency: deps.apply_lanes(),
        links,
        // A single-user run does not list the target's groups, so a group it
        // creates may have existed: only full runs own the groups they create.
        groups_created_are_owned: scope.is_full(),
        stop: deps.stop.clone(),
    };
    let journal = StoreJournal::new(&deps.store, app.id, run);
    let applied = executor
        .run(to_apply, &journal, deps.progress.as_ref())
        .await;
    let results = applied.results;
    if let Some(why) = journal.stopped() {
        outcome.results = results;
        outcome.plan = Some(plan);
        anyhow::bail!("the run {why}");
    }
    let waiting = plan.ops.iter().filter(|p| p.op.is_destructive()).count();
    outcome.results = results;
    outcome.plan = Some(plan);
    if applied.not_started > 0 {
        interrupted(outcome, applied.not_started);
        return Ok(());
    }
    let (status, mut reasons) = final_status(outcome);
    if status == RunStatus::Held {
        reasons.push(format!(
            "{waiting} destructive operations wait for an administrator to approve or reject run {run}"
        ));
    }
    outcome.set(status, reasons);
    Ok(())
}

/// Ends the run in the store (failed, with the error, when `result` is one).
pub(crate) async fn finish(
    deps: &Deps,
    mut outcome: RunOutcome,
    result: anyhow::Result<()>,
    started: Instant,
) -> Result<RunOutcome, EngineError> {
    if let Err(err) = result {
        if err.is::<Stopped>() {
            tracing::warn!(app = %outcome.app, "run interrupted: {err:#}");
            outcome.set(RunStatus::Interrupted, vec![format!("{err:#}")]);
        } else {
            tracing::error!(app = %outcome.app, "run failed: {err:#}");
            outcome.set(RunStatus::Failed, vec![format!("{err:#}")]);
        }
    }
    outcome.seconds = started.elapsed().as_secs_f64();
    deps.okta_headroom
        .record(&outcome.app, &outcome.okta_rate_limits);
    if let Some(run) = outcome.run_id
        && let Err(err) = record_finish(deps, run, &outcome).await
    {
        // The outcome still says what happened; the run's row stays `running`
        // until the next start marks it `interrupted`.
        tracing::error!(app = %outcome.app, %run, "could not record the end of the run: {err}");
        let mut reasons = std::mem::take(&mut outcome.reasons);
        reasons.push(format!("the end of the run could not be recorded: {err}"));
        outcome.set(RunStatus::Failed, reasons);
    }
    // After the final status is recorded; never changes the outcome.
    crate::notify::after_run(deps, &outcome).await;
    Ok(outcome)
}

async fn record_finish(
    deps: &Deps,
    run: RunId,
    outcome: &RunOutcome,
) -> Result<(), usersync_store::StoreError> {
    let reason = (!outcome.reasons.is_empty()).then(|| outcome.reasons.join("; "));
    deps.store
        .finish_run(run, outcome.status, reason.as_deref())
        .await
        .map(drop)
}

/// Why one user (by Okta login or id, or target username) is or is not in the
/// target, and what the next sync would change for them. Reads what a single-user
/// sync reads (the user, their groups, their target account: a handful of requests
/// whatever the org's size); records nothing.
///
/// # Errors
/// As [`run_sync_once`], plus any failure to connect or read (as `Refused`).
pub async fn explain_user(
    deps: &Deps,
    app_name: &str,
    login: &str,
) -> Result<Explanation, EngineError> {
    explain_user_sourced(deps, app_name, login)
        .await
        .map(|(x, _)| x)
}

/// [`explain_user`], with where each fact came from (when Okta was read, which target
/// account was looked up, the identity link), in words.
///
/// # Errors
/// As [`explain_user`].
pub async fn explain_user_sourced(
    deps: &Deps,
    app_name: &str,
    login: &str,
) -> Result<(Explanation, Vec<String>), EngineError> {
    let app = find_app(deps, app_name).await?;
    let work = async {
        let prepared = prepare(deps, &app).await?;
        let (okta_login, via) = okta_login_of(deps, &app, login).await?;
        let mut one = super::user::read_one_user(
            deps,
            &app,
            &prepared,
            super::user::Source::Okta(&okta_login),
        )
        .await?;
        one.sources.extend(via);
        let options = PlanOptions {
            scope: PlanScope::user(one.user.id.clone()),
            ..prepared.options()
        };
        let explanation = usersync_core::explain(
            login,
            &one.desired,
            &one.current,
            &one.links,
            &prepared.policy,
            &options,
        );
        one.sources.push(format!(
            "{} Okta request(s) in all; nothing was written",
            one.okta_requests
        ));
        anyhow::Ok((explanation, one.sources))
    };
    work.await
        .map_err(|e| EngineError::Refused(format!("{e:#}")))
}

/// What to ask Okta for: `login` itself, or, when it is no Okta login (no `@`) but a
/// target username an identity link holds, that link's Okta id.
async fn okta_login_of(
    deps: &Deps,
    app: &App,
    login: &str,
) -> anyhow::Result<(String, Option<String>)> {
    let Ok(username) = Username::parse(login) else {
        return Ok((login.to_owned(), None));
    };
    if login.contains('@') {
        return Ok((login.to_owned(), None));
    }
    // The query wants an Okta id too; this one matches no link.
    let nobody = usersync_core::OktaUserId::parse("-").context("an Okta id")?;
    let links = deps
        .store
        .user_links_touching(app.id, &nobody, std::slice::from_ref(&username), &[])
        .await?;
    Ok(match links.into_iter().find(|l| l.username == username) {
        Some(link) => (
            link.okta_id.as_str().to_owned(),
            Some(format!(
                "{login} is a target username: its identity link names Okta user {}",
                link.okta_id
            )),
        ),
        None => (login.to_owned(), None),
    })
}
