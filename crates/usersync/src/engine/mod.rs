//! The sync engine: one run of one app, end to end.
//!
//! [`run_sync_once`] is the unit of work the command line, the server and the
//! scheduler all call: resolve the app's secrets and connect (`connect`), check
//! the target can do what the policy needs, read Okta and the target at the same
//! time, plan and then guard (`usersync_core::plan` and `usersync_core::guard`, two
//! steps called together only in `prepared::Prepared::plan_and_guard`), record the plan,
//! apply it (`apply`) unless it is held or a dry run, record each outcome and
//! identity link as it happens (`record`, the journal), and finish the run as
//! succeeded, partial, failed or held (`outcome::final_status`). [`sync_user`] does the same for one user with a handful of requests;
//! [`approve`] and [`reject`] decide on held runs; [`explain_user`] says why a
//! user is or is not in the target. [`AppLocks`] keeps runs of one app apart;
//! [`OktaHeadroom`] keeps the Okta rate-limit figures each app's last run saw.
//! [`sync_cycle`] is the scheduler's cycle: incremental (`incremental`, reading
//! only what changed since the checkpoint: `changes`) or a full reconcile, as
//! `cycle` decides.

mod accounts;
pub mod apply;
pub mod approve;
pub mod audit;
mod budget;
mod changes;
pub mod check;
pub mod check_draft;
mod check_schema;
mod confirm;
pub mod connect;
pub mod cycle;
pub mod headroom;
pub mod hook;
mod incremental;
pub mod live;
pub mod lock;
mod namesakes;
mod outcome;
mod prepared;
pub mod progress;
pub mod record;
pub mod report;
mod run;
pub mod shared_read;
mod user;

use std::sync::Arc;

use serde::Serialize;
use tokio_util::sync::CancellationToken;
use usersync_core::app::SecretRefAllowList;
use usersync_store::{RunId, Store, StoreError};

pub use apply::OpResult;
pub use approve::{approve, reject};
pub use check::{CheckLine, CheckReport, check};
pub use check_draft::{DraftCheckError, check_draft};
pub use cycle::{Want, sync_cycle};
pub use headroom::OktaHeadroom;
pub use lock::{AlreadyRunning, AppGuard, AppLocks};
pub use outcome::{RunOutcome, SyncChoice};
pub use progress::{LogLines, Phase, Progress, Silent};
pub use report::{AppReport, report};
pub use run::{explain_user, explain_user_sourced, run_sync_once};
pub use shared_read::SharedReads;
pub use user::{PushedUser, sync_pushed_user, sync_user};

/// Lanes per request slot of the target client. A lane spends part of each op
/// off the network: waiting for its identity link's commit (about 1 ms against
/// Jira's 2 ms a write at 100,000 users) and for its outcome batch's write. With
/// one lane per slot that time left the slot idle; with two, a lane that waits for
/// the store leaves its slot to another, and the client's semaphore still keeps
/// requests in flight to `apply_concurrency`.
const LANES_PER_SLOT: usize = 2;

/// What every run needs; cheap to clone, shared by the CLI, server and scheduler.
#[derive(Clone)]
pub struct Deps {
    pub store: Store,
    pub locks: AppLocks,
    pub progress: Arc<dyn Progress>,
    /// Requests in flight to the target at once: the target client's own limit
    /// (see `connect`). The executor runs [`Deps::apply_lanes`] lanes.
    pub apply_concurrency: usize,
    /// Where every run records the Okta rate-limit figures it ended with.
    pub okta_headroom: OktaHeadroom,
    /// The secret references the console and the API accept (`serve --allow-secret-refs`);
    /// none by default.
    pub secret_refs: SecretRefAllowList,
    /// Tells each app's people when one of its runs needs them (`notify`).
    pub notifier: crate::notify::Notifier,
    /// Cancelled to stop runs cleanly (the command line's Ctrl-C): a run reading
    /// stops at once, a run applying starts no further op, lets those in flight
    /// finish and records them, and every such run ends `interrupted`. Never
    /// cancelled by default.
    pub stop: CancellationToken,
    /// CA bundles every client trusts besides the built-in roots (`--ca-file`,
    /// `USERSYNC_CA_FILE`); an app's side adds its own `ca_file`.
    pub trust: usersync_tls::TrustRoots,
    /// How far before a cycle's start its incremental checkpoint is set (60 s by
    /// default): a clock ahead of Okta's, or a change Okta shows late, is still read.
    pub incremental_margin: chrono::Duration,
    /// Okta reads shared by the apps of one cycle (`sync --all`, the scheduler, the
    /// console's Preview; `shared_read`); `None` (the default): every run reads.
    pub shared_reads: Option<SharedReads>,
}

impl Deps {
    /// The executor's lanes at once (see [`LANES_PER_SLOT`]).
    #[must_use]
    pub fn apply_lanes(&self) -> usize {
        self.apply_concurrency.max(1) * LANES_PER_SLOT
    }

    /// Defaults: fresh locks, log-line progress, 8 requests in flight to the target.
    #[must_use]
    pub fn new(store: Store) -> Self {
        Self {
            store,
            locks: AppLocks::new(),
            progress: Arc::new(LogLines),
            apply_concurrency: 8,
            okta_headroom: OktaHeadroom::default(),
            secret_refs: SecretRefAllowList::default(),
            notifier: crate::notify::Notifier::default(),
            stop: CancellationToken::new(),
            trust: usersync_tls::TrustRoots::none(),
            incremental_margin: chrono::Duration::seconds(60),
            shared_reads: None,
        }
    }

    /// Incremental checkpoints lie `margin` before each cycle's start.
    #[must_use]
    pub fn with_incremental_margin(mut self, margin: chrono::Duration) -> Self {
        self.incremental_margin = margin;
        self
    }

    /// Runs stop cleanly once `stop` is cancelled (see [`Deps::stop`]).
    #[must_use]
    pub fn with_stop(mut self, stop: CancellationToken) -> Self {
        self.stop = stop;
        self
    }

    /// Every client also trusts `trust` (the global `--ca-file`).
    #[must_use]
    pub fn with_trust(mut self, trust: usersync_tls::TrustRoots) -> Self {
        self.trust = trust;
        self
    }

    /// Full runs with these `Deps` share Okta reads through `shared` (see [`SharedReads`]).
    #[must_use]
    pub fn with_shared_reads(mut self, shared: SharedReads) -> Self {
        self.shared_reads = Some(shared);
        self
    }

    #[must_use]
    pub fn with_notifier(mut self, notifier: crate::notify::Notifier) -> Self {
        self.notifier = notifier;
        self
    }

    #[must_use]
    pub fn with_progress(mut self, progress: Arc<dyn Progress>) -> Self {
        self.progress = progress;
        self
    }
}

/// Whether a run changes the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Record the run, apply the plan (unless held), record outcomes.
    Apply,
    /// Read and plan only; nothing is written anywhere.
    DryRun,
}

/// How much a read saw.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ReadStats {
    pub users: usize,
    pub groups: usize,
    pub memberships: usize,
    /// Okta only: API requests sent (retries included).
    pub requests: Option<u64>,
    /// Okta only: whether every page of every listing was read.
    pub complete: Option<bool>,
    /// Okta only: the app whose run read Okta when this run used that read
    /// (`shared_read`; `requests` is then 0); absent when this run read itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_by: Option<String>,
}

/// Why the engine could not run (a run that starts and fails is a [`RunOutcome`]).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("there is no app named {0:?}; `usersync app list` shows the apps")]
    UnknownApp(String),
    #[error(transparent)]
    AlreadyRunning(#[from] AlreadyRunning),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The request is understood but refused now (e.g. approving a plan that no longer holds).
    #[error("{0}")]
    Refused(String),
}

/// A run was told to stop ([`Deps::stop`]) before it reached its apply step; it
/// ends `interrupted` having changed nothing.
#[derive(Debug, thiserror::Error)]
#[error("stopped on request while {0}, before anything was applied")]
pub struct Stopped(pub &'static str);

impl Stopped {
    /// `work` (a read: it changes nothing, so it is abandoned at once), unless
    /// `stop` is cancelled first; `what` names the work in the run's reason.
    ///
    /// The stop is looked at first on every poll: a read on loopback can be ready
    /// in its first poll, and a stop already given must not lose a coin toss to it.
    /// `work` is pinned where the caller made it (`std::pin::pin!`): a whole read's
    /// future moved by value into this one overflowed test threads' stacks in debug
    /// builds.
    pub(crate) async fn unless<F: std::future::Future + ?Sized>(
        stop: &CancellationToken,
        what: &'static str,
        work: std::pin::Pin<&mut F>,
    ) -> Result<F::Output, Stopped> {
        tokio::select! {
            biased;
            () = stop.cancelled() => Err(Stopped(what)),
            done = work => Ok(done),
        }
    }
}

/// Compile-time proof that every entry point's future can be spawned (`Send` and
/// `'static` once it owns its inputs), as the server and the scheduler do.
#[allow(dead_code)]
fn entry_points_can_be_spawned(deps: Deps) {
    fn spawnable<T: Send + 'static>(_: T) {}
    let d = deps.clone();
    spawnable(async move {
        run_sync_once(
            &d,
            "app",
            usersync_store::RunTrigger::Scheduled,
            Mode::Apply,
        )
        .await
    });
    let d = deps.clone();
    spawnable(
        async move { sync_user(&d, "app", "login", usersync_store::RunTrigger::Login).await },
    );
    let d = deps.clone();
    spawnable(async move { approve(&d, RunId(1), "admin").await });
    let d = deps.clone();
    spawnable(async move { reject(&d, RunId(1), "admin").await });
    let d = deps.clone();
    spawnable(async move { check(&d, "app").await });
    spawnable(async move { explain_user(&deps, "app", "login").await });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_stop_already_given_wins_over_a_read_that_is_ready_at_once() {
        // A read on a fast loopback can complete in its first poll (CI saw a whole
        // small-org read do so); a stop given before it must still end the run. Tried
        // many times: the race it guards against is a coin toss per try.
        let stop = CancellationToken::new();
        stop.cancel();
        for _ in 0..64 {
            let read =
                Stopped::unless(&stop, "reading", std::pin::pin!(std::future::ready(7))).await;
            assert_eq!(read.map_err(|s| s.0), Err("reading"));
        }
    }

    #[tokio::test]
    async fn a_read_without_a_stop_gives_its_result() {
        let stop = CancellationToken::new();
        let read = Stopped::unless(&stop, "reading", std::pin::pin!(std::future::ready(7))).await;
        assert_eq!(read.map_err(|s| s.0), Ok(7));
    }
}
