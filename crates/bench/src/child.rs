//! Each sync phase in a fresh process of its own.
//!
//! Issue 8 asks for the peak memory of a whole sync, which is what an administrator
//! sees when `usersync sync` runs from cron: the process starts, syncs and exits. Run
//! inside the benchmark process, a sync would inherit the memory the reads and the
//! planning phase left behind (the allocator keeps freed pages resident), so every
//! sync phase runs as `usersync-bench --sync-child ...`: the child opens the store the
//! parent prepared, runs the engine once, and prints one [`ChildReport`] line with its
//! own wall time, CPU time and peak resident memory (`VmHWM`, read just before exit).

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context as _, bail};
use clap::ValueEnum;
use serde::{Deserialize, Serialize};
use usersync::engine::{
    Deps, Mode, RunOutcome, Silent, Want, run_sync_once, sync_cycle, sync_user,
};
use usersync_store::{RunStatus, RunTrigger, Store};

use crate::settings::Args;
use crate::sys;

/// The app the benchmark's store holds.
pub const APP: &str = "bench";

/// What a child process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncJob {
    /// `run_sync_once` of the whole app (the first and the no-op sync).
    Full,
    /// `sync_user` of `--login`.
    User,
    /// `sync_cycle` of the whole app: incremental from the store's checkpoint.
    Cycle,
}

impl SyncJob {
    /// The spelling of `--sync-child`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::User => "user",
            Self::Cycle => "cycle",
        }
    }
}

/// What the child measured, printed as one JSON line on its stdout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChildReport {
    pub status: RunStatus,
    pub applied: usize,
    pub failed: usize,
    pub reasons: Vec<String>,
    pub wall_seconds: f64,
    /// CPU time of the whole child process, start-up included.
    pub cpu_seconds: Option<f64>,
    /// The child's peak resident memory over its whole life.
    pub peak_rss_bytes: Option<u64>,
}

impl ChildReport {
    fn of(outcome: &RunOutcome, wall_seconds: f64) -> Self {
        Self {
            status: outcome.status,
            applied: outcome.results.len(),
            failed: outcome.results.iter().filter(|r| r.error.is_some()).count(),
            reasons: outcome.reasons.clone(),
            wall_seconds,
            cpu_seconds: sys::process_cpu().map(|d| d.as_secs_f64()),
            peak_rss_bytes: sys::peak_rss_bytes(),
        }
    }

    /// One line for the report's notes.
    #[must_use]
    pub fn describe(&self) -> String {
        format!(
            "run {}: {} ops applied ({} failed){}",
            self.status,
            self.applied,
            self.failed,
            if self.reasons.is_empty() {
                String::new()
            } else {
                format!("; {}", self.reasons.join("; "))
            }
        )
    }
}

/// The child's side: one run of the engine against the store in `--store-dir`.
///
/// # Errors
/// A missing setting, a store that does not open, or a run that errors.
pub async fn serve(args: &Args, job: SyncJob) -> anyhow::Result<()> {
    // Off unless asked: `USERSYNC_LOG=sqlx::query=debug` times each store statement
    // of a cycle or single-user run (on stderr), which is how a slow phase is taken
    // apart; the parent leaves it out of full syncs (see `run`).
    if std::env::var_os("USERSYNC_LOG").is_some() {
        usersync::telemetry::init("warn");
    }
    let dir = args
        .store_dir
        .as_deref()
        .context("--sync-child needs --store-dir")?;
    let store = Store::open(dir)
        .await
        .with_context(|| format!("opening the store in {}", dir.display()))?;
    let mut deps = Deps::new(store);
    deps.progress = Arc::new(Silent);
    deps.apply_concurrency = args.apply_concurrency;
    let login = args.login.clone();
    if job == SyncJob::User && login.is_none() {
        bail!("--sync-child user needs --login");
    }
    let started = Instant::now();
    // On a runtime worker, as `usersync serve` runs every sync (the scheduler, hooks
    // and the console spawn them), not in the main thread's `block_on`.
    let outcome = tokio::spawn(async move {
        match job {
            SyncJob::Full => run_sync_once(&deps, APP, RunTrigger::Manual, Mode::Apply)
                .await
                .context("running a full sync"),
            SyncJob::Cycle => sync_cycle(&deps, APP, RunTrigger::Scheduled, Want::Auto)
                .await
                .context("running an incremental cycle"),
            SyncJob::User => {
                let login = login.unwrap_or_default();
                sync_user(&deps, APP, &login, RunTrigger::Login)
                    .await
                    .context("running a single-user sync")
            }
        }
    })
    .await
    .context("the sync's task")??;
    let report = ChildReport::of(&outcome, started.elapsed().as_secs_f64());
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}

/// Names a program (with its arguments, split at spaces) that each child runs under,
/// e.g. `heaptrack -o /tmp/sync`: how a sync's memory is profiled in its own process.
/// A wrapped child's peak memory is the wrapper's too, so its figures are not the run's.
pub const WRAPPER_ENV: &str = "USERSYNC_BENCH_CHILD_WRAPPER";

/// The command that starts the child `exe`, under [`WRAPPER_ENV`]'s program when set.
fn wrapped(exe: std::path::PathBuf) -> tokio::process::Command {
    let wrapper = std::env::var(WRAPPER_ENV).unwrap_or_default();
    let mut words = wrapper.split_whitespace();
    let Some(program) = words.next() else {
        return tokio::process::Command::new(exe);
    };
    let mut command = tokio::process::Command::new(program);
    command.args(words).arg(exe);
    command
}

/// The parent's side: runs `job` in a child process and returns what it measured.
///
/// # Errors
/// When the child cannot start, fails, or prints no report.
pub async fn run(
    args: &Args,
    store_dir: &Path,
    job: SyncJob,
    login: Option<&str>,
) -> anyhow::Result<ChildReport> {
    let exe = std::env::current_exe().context("finding the benchmark's own executable")?;
    let mut command = wrapped(exe);
    command
        .args(["--size", args.size.label()])
        .args(["--apply-concurrency", &args.apply_concurrency.to_string()])
        .args(["--sync-child", job.as_str()])
        .arg("--store-dir")
        .arg(store_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .kill_on_drop(true);
    if let Some(login) = login {
        command.args(["--login", login]);
    }
    if job == SyncJob::Full {
        // A full sync's million statements would be held in memory by `output`.
        command.env_remove("USERSYNC_LOG");
    }
    let output = command
        .output()
        .await
        .context("running the sync's child process")?;
    // `output` captures stderr whatever was set: passed on here, so that a failing
    // child's reason (and its `USERSYNC_LOG` lines) reach the benchmark's stderr.
    eprint!("{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!("the sync's child process ended with {}", output.status);
    }
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .context("the sync's child process printed no report")?;
    serde_json::from_str(line).context("reading the sync's child report")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sync_job_is_spelled_the_way_its_flag_parses_it() {
        for job in SyncJob::value_variants() {
            assert_eq!(SyncJob::from_str(job.as_str(), false), Ok(*job));
        }
    }

    #[test]
    fn a_child_report_reads_back_from_its_json_line() {
        let report = ChildReport {
            status: RunStatus::Partial,
            applied: 3,
            failed: 1,
            reasons: vec!["1 operation failed".into()],
            wall_seconds: 1.5,
            cpu_seconds: Some(0.25),
            peak_rss_bytes: Some(64 << 20),
        };
        let line = serde_json::to_string(&report).unwrap();
        assert_eq!(serde_json::from_str::<ChildReport>(&line).unwrap(), report);
        assert_eq!(
            report.describe(),
            "run partial: 3 ops applied (1 failed); 1 operation failed"
        );
    }
}
