//! The sync phases, through usersync's own engine (`run_sync_once`, `sync_user`) with
//! a real on-disk store: a first full sync into the empty Jira emulator, a no-op
//! sync right after it, the incremental cycles (`cycle`), and a single-user sync of
//! one user whose groups changed.
//! Each runs in a fresh child process (`child`), so its CPU time and peak memory are
//! those of a whole sync, as `usersync sync` would show them.
//!
//! Bounds: a sync cannot write before both reads are done, so its floor is the
//! larger of the Okta read's bound (for the requests the engine's read scope needs)
//! and the target reads' latency rounds, plus the writes' latency rounds. Jira
//! publishes no concurrency limit; the write rounds use the engine's own apply
//! concurrency, stated in the settings.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, ensure};
use tempfile::TempDir;
use usersync_store::{RunStatus, Store, apps_from_toml};
use usersync_testkit::AppToml;

use crate::bound::PageSizes;
use crate::bound::{self, Bound, ReadShape, bucket_time, chain};
use crate::child::{self, APP, ChildReport, SyncJob};
use crate::emulators::Emulators;
use crate::protocol::{Command, Counts, Shape};
use crate::read::{OKTA_MAX_PAGES, okta_limits};
use crate::report::{Phase, Target};
use crate::settings::Args;

/// A store on disk holding one app: the Okta emulator to the Jira emulator.
pub struct StoreDir {
    dir: TempDir,
}

impl StoreDir {
    /// Opens a fresh store in a temporary directory and adds the benchmark's app
    /// (default policy, username = the login's local part), then closes it for the
    /// sync children to open.
    ///
    /// # Errors
    /// When the store cannot open or refuses the app.
    pub async fn new(emulators: &Emulators) -> anyhow::Result<Self> {
        let dir = TempDir::new().context("creating the store's directory")?;
        let store = Store::open(dir.path()).await.context("opening the store")?;
        let r = &emulators.ready;
        let toml = AppToml::new(APP, &r.okta_url, &r.okta_token, &r.jira_url)
            .basic(&r.jira_user, &r.jira_password)
            .username("(.*)@.*", "$1")
            .to_string();
        let drafts = apps_from_toml(&toml).context("the benchmark app's settings")?;
        store
            .apply_apps(drafts, "usersync-bench")
            .await
            .context("adding the benchmark app")?;
        drop(store);
        Ok(Self { dir })
    }

    #[must_use]
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// The engine reads Okta-managed groups only (the default policy's scope) and every
/// one of them, empty ones too; `pages` are the page sizes of the count.
fn engine_read(shape: &Shape, pages: PageSizes) -> ReadShape {
    ReadShape::of(
        shape.users,
        shape.okta_group_member_counts.len() as u64,
        &shape.okta_group_member_counts,
        pages,
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
    let okta = bound::full_read(
        &engine_read(shape, OKTA_MAX_PAGES),
        &okta_limits(args, Some(&limits)),
    );
    let okta = Duration::from_secs_f64(okta.seconds);
    let reads = jira_rounds(args, counts.jira_reads);
    let writes = jira_rounds(args, counts.jira_writes);
    Bound::of(vec![
        ("Okta read, then the writes".into(), okta + writes),
        ("target reads, then the writes".into(), reads + writes),
    ])
}

/// A phase from what the child measured and what the emulators counted.
pub(crate) fn phase_of(name: &str, report: &ChildReport, counts: &Counts) -> Phase {
    let mut phase = Phase::new(name, report.wall_seconds);
    phase.cpu_seconds = report.cpu_seconds;
    phase.emulator_cpu_seconds = Some(counts.emulator_cpu_seconds);
    phase.peak_rss_mib = report.peak_rss_bytes.map(|b| b as f64 / 1024.0 / 1024.0);
    phase.okta_requests = Some(counts.okta_requests);
    phase.okta_429 = Some(counts.okta_429);
    phase.target_reads = Some(counts.jira_reads);
    phase.target_writes = Some(counts.jira_writes);
    phase.notes.push(report.describe());
    phase
}

async fn full_sync(
    args: &Args,
    emulators: &mut Emulators,
    store: &StoreDir,
    shape: &Shape,
    name: &str,
) -> anyhow::Result<(Phase, ChildReport)> {
    emulators.begin_phase(true).await?;
    let report = child::run(args, store.path(), SyncJob::Full, None).await?;
    let counts = emulators.counts().await?;
    ensure!(
        report.status == RunStatus::Succeeded,
        "the {name} did not succeed: {}",
        report.describe()
    );
    let mut phase = phase_of(name, &report, &counts);
    phase.bound = Some(sync_bound(args, shape, &counts));
    if counts.jira_errors > 0 {
        phase
            .notes
            .push(format!("{} Jira answers were errors", counts.jira_errors));
    }
    Ok((phase, report))
}

/// First sync, no-op sync and single-user sync, with their targets and the largest
/// peak memory of the three processes.
///
/// # Errors
/// When a run fails or the emulators are gone.
pub async fn run(
    args: &Args,
    emulators: &mut Emulators,
    shape: &Shape,
) -> anyhow::Result<(Vec<Phase>, Vec<Target>, Option<u64>)> {
    let store = StoreDir::new(emulators).await?;
    let (mut first, first_report) = full_sync(
        args,
        emulators,
        &store,
        shape,
        "first full sync (empty Jira)",
    )
    .await?;
    // Timed while the first sync's run is the newest, before the no-op sync adds one.
    let (console, console_target) =
        crate::console::first_pages(store.path(), first_report.applied).await?;
    let (mut noop, noop_report) = full_sync(args, emulators, &store, shape, "no-op sync").await?;
    // The engine's client runs with its default page sizes.
    let defaults = usersync_okta::PageSizes::default();
    let engine_pages = PageSizes {
        users: u64::from(defaults.users),
        groups: u64::from(defaults.groups),
        members: u64::from(defaults.group_members),
    };
    // Plus the two change reads (groups, System Log) a full sync makes before
    // reading, so that the next incremental cycle skips what the full read covered
    // (`engine::changes::seen_before`).
    let expected = engine_read(shape, engine_pages).requests() + 2;
    let writes = noop.target_writes.unwrap_or(u64::MAX);
    let okta = noop.okta_requests.unwrap_or(u64::MAX);
    let targets = vec![Target::new(
        format!(
            "no-op sync makes zero writes and no more Okta requests than a full read ({expected}): {writes} writes, {okta} Okta requests"
        ),
        writes == 0 && okta <= expected,
    )];
    noop.target = targets.last().cloned();
    let mut targets = targets;
    let ratio = first.ratio().unwrap_or(f64::INFINITY);
    let first_target = Target::new(
        format!("first full sync within 1.2x of its lower bound: {ratio:.2}x"),
        ratio <= 1.2,
    );
    first.target = Some(first_target.clone());
    targets.insert(0, first_target);
    targets.push(console_target);
    let mut phases = vec![first, console, noop];
    let (cycles, cycle_targets) = crate::cycle::run(args, emulators, &store).await?;
    phases.extend(cycles);
    targets.extend(cycle_targets);
    let (single, single_report, target) = single_user(args, emulators, &store).await?;
    phases.push(single);
    targets.push(target);
    let peak = [first_report, noop_report, single_report]
        .iter()
        .filter_map(|r| r.peak_rss_bytes)
        .max();
    Ok((phases, targets, peak))
}

async fn single_user(
    args: &Args,
    emulators: &mut Emulators,
    store: &StoreDir,
) -> anyhow::Result<(Phase, ChildReport, Target)> {
    let login: String = emulators.call(&Command::ChangeOneUser).await?;
    emulators.begin_phase(true).await?;
    let report = child::run(args, store.path(), SyncJob::User, Some(&login)).await?;
    let counts = emulators.counts().await?;
    ensure!(
        report.status == RunStatus::Succeeded,
        "the single-user sync did not succeed: {}",
        report.describe()
    );
    let wall = report.wall_seconds;
    let mut phase = phase_of("single-user sync (one new group)", &report, &counts);
    let jira = Duration::from_millis(args.jira_latency_ms);
    phase.bound = Some(Bound::of(vec![(
        "Okta requests in sequence, then one target read and one write round".into(),
        chain(counts.okta_requests, args.latency())
            + chain(
                u64::from(counts.jira_reads > 0) + u64::from(counts.jira_writes > 0),
                jira,
            ),
    )]));
    let target = Target::new(
        format!(
            "single-user sync in at most 3 Okta requests and under 150 ms: {} requests, {:.0} ms",
            counts.okta_requests,
            wall * 1000.0
        ),
        counts.okta_requests <= 3 && wall < 0.15,
    );
    phase.target = Some(target.clone());
    Ok((phase, report, target))
}
