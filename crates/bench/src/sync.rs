//! The sync phases, through usersync's own engine (`run_sync_once`, `sync_user`) with
//! a real on-disk store: a first full sync into the empty Jira emulator, a no-op
//! sync right after it, and a single-user sync of one user whose groups changed.
//!
//! Bounds: a sync cannot write before both reads are done, so its floor is the
//! larger of the Okta read's bound (for the requests the engine's read scope needs)
//! and the target reads' latency rounds, plus the writes' latency rounds. Jira
//! publishes no concurrency limit; the write rounds use the engine's own apply
//! concurrency, stated in the settings.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};
use tempfile::TempDir;
use usersync::engine::{Deps, Mode, RunOutcome, Silent, run_sync_once, sync_user};
use usersync_store::{RunStatus, RunTrigger, Store, apps_from_toml};

use crate::bound::{self, Bound, ReadShape, bucket_time, chain};
use crate::emulators::Emulators;
use crate::protocol::{Command, Counts, Shape};
use crate::read::{USERSYNC_PAGES, okta_limits};
use crate::report::{Phase, Target};
use crate::settings::Args;
use crate::sys::Meter;

const APP: &str = "bench";

/// The engine with a store holding one app: the Okta emulator to the Jira emulator.
pub struct Engine {
    deps: Deps,
    _dir: TempDir,
}

impl Engine {
    /// Opens a fresh store in a temporary directory and adds the benchmark's app
    /// (default policy, username = the login's local part).
    ///
    /// # Errors
    /// When the store cannot open or refuses the app.
    pub async fn new(args: &Args, emulators: &Emulators) -> anyhow::Result<Self> {
        let dir = TempDir::new().context("creating the store's directory")?;
        let store = Store::open(dir.path()).await.context("opening the store")?;
        let r = &emulators.ready;
        let toml = format!(
            r#"
[[app]]
name = "{APP}"

[app.okta]
url = "{okta}"
credential = {{ type = "api_token", token = "{token}" }}

[app.target]
kind = "jira"
url = "{jira}"
credential = {{ type = "basic", username = "{user}", password = "{password}" }}

[app.policy.username]
regex = "(.*)@.*"
replacement = "$1"
"#,
            okta = r.okta_url,
            token = r.okta_token,
            jira = r.jira_url,
            user = r.jira_user,
            password = r.jira_password,
        );
        let drafts = apps_from_toml(&toml).context("the benchmark app's settings")?;
        store
            .apply_apps(drafts, "usersync-bench")
            .await
            .context("adding the benchmark app")?;
        let mut deps = Deps::new(store);
        deps.progress = Arc::new(Silent);
        deps.apply_concurrency = args.apply_concurrency;
        Ok(Self { deps, _dir: dir })
    }
}

/// The engine reads Okta-managed groups only and every one of them (no skipping).
fn engine_read(shape: &Shape) -> ReadShape {
    ReadShape::of(
        shape.users,
        shape.okta_group_member_counts.len() as u64,
        &shape.okta_group_member_counts,
        USERSYNC_PAGES,
    )
}

fn jira_rounds(args: &Args, requests: u64) -> Duration {
    bucket_time(
        requests,
        bound::Budget::UNLIMITED,
        Duration::from_millis(args.jira_latency_ms),
        args.apply_concurrency as u64,
    )
}

fn sync_bound(args: &Args, shape: &Shape, counts: &Counts) -> Bound {
    let limits = args.rate_limits();
    let okta = bound::full_read(&engine_read(shape), &okta_limits(args, Some(&limits)));
    let okta = Duration::from_secs_f64(okta.seconds);
    let reads = jira_rounds(args, counts.jira_reads);
    let writes = jira_rounds(args, counts.jira_writes);
    Bound::of(vec![
        ("Okta read, then the writes".into(), okta + writes),
        ("target reads, then the writes".into(), reads + writes),
    ])
}

fn describe(outcome: &RunOutcome) -> String {
    let applied = outcome.results.len();
    let failed = outcome.results.iter().filter(|r| r.error.is_some()).count();
    format!(
        "run {:?}: {applied} ops applied ({failed} failed){}",
        outcome.status,
        if outcome.reasons.is_empty() {
            String::new()
        } else {
            format!("; {}", outcome.reasons.join("; "))
        }
    )
}

async fn full_sync(
    args: &Args,
    emulators: &mut Emulators,
    engine: &Engine,
    shape: &Shape,
    name: &str,
) -> anyhow::Result<Phase> {
    emulators.begin_phase(true).await?;
    let meter = Meter::start();
    let started = Instant::now();
    let outcome = run_sync_once(&engine.deps, APP, RunTrigger::Manual, Mode::Apply)
        .await
        .context("running a full sync")?;
    let wall = started.elapsed().as_secs_f64();
    let counts = emulators.counts().await?;
    ensure!(
        outcome.status == RunStatus::Succeeded,
        "the {name} did not succeed: {}",
        describe(&outcome)
    );
    let mut phase = Phase::new(name, wall).metered(&meter, Some(counts.emulator_cpu_seconds));
    phase.okta_requests = Some(counts.okta_requests);
    phase.okta_429 = Some(counts.okta_429);
    phase.target_reads = Some(counts.jira_reads);
    phase.target_writes = Some(counts.jira_writes);
    phase.bound = Some(sync_bound(args, shape, &counts));
    phase.notes.push(describe(&outcome));
    if counts.jira_errors > 0 {
        phase
            .notes
            .push(format!("{} Jira answers were errors", counts.jira_errors));
    }
    Ok(phase)
}

/// First sync, no-op sync and single-user sync, with their targets.
///
/// # Errors
/// When a run fails or the emulators are gone.
pub async fn run(
    args: &Args,
    emulators: &mut Emulators,
    shape: &Shape,
) -> anyhow::Result<(Vec<Phase>, Vec<Target>)> {
    let engine = Engine::new(args, emulators).await?;
    let first = full_sync(
        args,
        emulators,
        &engine,
        shape,
        "first full sync (empty Jira)",
    )
    .await?;
    let mut noop = full_sync(args, emulators, &engine, shape, "no-op sync").await?;
    let expected = engine_read(shape).requests();
    let writes = noop.target_writes.unwrap_or(u64::MAX);
    let okta = noop.okta_requests.unwrap_or(u64::MAX);
    let targets = vec![Target::new(
        format!(
            "no-op sync makes zero writes and no more Okta requests than a full read ({expected}): {writes} writes, {okta} Okta requests"
        ),
        writes == 0 && okta <= expected,
    )];
    noop.target = targets.last().cloned();
    let mut phases = vec![first, noop];
    let (single, target) = single_user(args, emulators, &engine).await?;
    phases.push(single);
    let mut targets = targets;
    targets.push(target);
    Ok((phases, targets))
}

async fn single_user(
    args: &Args,
    emulators: &mut Emulators,
    engine: &Engine,
) -> anyhow::Result<(Phase, Target)> {
    let login: String = emulators.call(&Command::ChangeOneUser).await?;
    emulators.begin_phase(true).await?;
    let meter = Meter::start();
    let started = Instant::now();
    let outcome = sync_user(&engine.deps, APP, &login, RunTrigger::Login)
        .await
        .context("running a single-user sync")?;
    let wall = started.elapsed().as_secs_f64();
    let counts = emulators.counts().await?;
    ensure!(
        outcome.status == RunStatus::Succeeded,
        "the single-user sync did not succeed: {}",
        describe(&outcome)
    );
    let mut phase = Phase::new("single-user sync (one new group)", wall)
        .metered(&meter, Some(counts.emulator_cpu_seconds));
    phase.okta_requests = Some(counts.okta_requests);
    phase.okta_429 = Some(counts.okta_429);
    phase.target_reads = Some(counts.jira_reads);
    phase.target_writes = Some(counts.jira_writes);
    let jira = Duration::from_millis(args.jira_latency_ms);
    phase.bound = Some(Bound::of(vec![(
        "Okta requests in sequence, then one target read and one write round".into(),
        chain(counts.okta_requests, args.latency())
            + chain(
                u64::from(counts.jira_reads > 0) + u64::from(counts.jira_writes > 0),
                jira,
            ),
    )]));
    phase.notes.push(describe(&outcome));
    let target = Target::new(
        format!(
            "single-user sync in at most 3 Okta requests and under 300 ms: {} requests, {:.0} ms",
            counts.okta_requests,
            wall * 1000.0
        ),
        counts.okta_requests <= 3 && wall < 0.3,
    );
    phase.target = Some(target.clone());
    Ok((phase, target))
}
