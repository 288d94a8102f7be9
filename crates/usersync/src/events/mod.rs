//! Hearing from Okta between scheduled runs, and the background work of `usersync serve`.
//!
//! Two ways in, one queue: the Okta Event Hook endpoint ([`hook`], push) and System Log
//! polling ([`poller`], pull) both hand `LogEvent`s to the [`queue`], which dedupes them,
//! decides what each asks for ([`okta_event`]), coalesces and paces the work, and calls
//! the engine's single-user or full sync.
//!
//! [`Triggers::start`] starts all of it, the [`crate::scheduler`] included, for one
//! process; [`Triggers::hook_router`] gives the hook routes to merge into the console's
//! router; [`Triggers::stop`] stops starting work and waits for work in progress.
//! [`Service`] and [`serve`] run all of it with the console as `usersync serve`.

pub mod bucket;
pub mod hook;
pub mod okta_event;
pub mod poller;
#[cfg(test)]
mod props;
pub mod queue;
pub mod service;

use std::time::Duration;

use axum::Router;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use okta_event::{Action, action_for};
pub use poller::PollerConfig;
pub use queue::{AppRef, EventQueue, QueueConfig, QueueStats};
pub use service::{Service, serve};
pub use usersync_core::app::events::{HANDLED_EVENTS, LOGIN_EVENTS};

use crate::engine::Deps;
use crate::scheduler::{self, SchedulerConfig};

/// Settings of everything [`Triggers::start`] starts.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TriggersConfig {
    pub queue: QueueConfig,
    pub poller: PollerConfig,
    pub scheduler: SchedulerConfig,
}

/// The scheduler, the System Log poller and the event queue of one process.
pub struct Triggers {
    deps: Deps,
    queue: EventQueue,
    shutdown: CancellationToken,
    tasks: TaskTracker,
}

impl std::fmt::Debug for Triggers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Triggers")
            .field("queue", &self.queue)
            .field("tasks", &self.tasks.len())
            .finish_non_exhaustive()
    }
}

impl Triggers {
    /// Starts the queue, the poller and the scheduler on the current runtime. `deps`
    /// must be the ones the console uses, so that they share the per-app locks.
    #[must_use]
    pub fn start(deps: &Deps, config: TriggersConfig) -> Self {
        let shutdown = CancellationToken::new();
        let tasks = TaskTracker::new();
        let queue = EventQueue::start(deps.clone(), config.queue, shutdown.clone(), tasks.clone());
        poller::spawn(
            deps.clone(),
            queue.clone(),
            config.poller,
            shutdown.clone(),
            &tasks,
        );
        scheduler::spawn(deps.clone(), config.scheduler, shutdown.clone(), &tasks);
        Self {
            deps: deps.clone(),
            queue,
            shutdown,
            tasks,
        }
    }

    /// The event queue (hook deliveries and polls feed it).
    #[must_use]
    pub fn queue(&self) -> &EventQueue {
        &self.queue
    }

    /// `GET`/`POST /hooks/okta/{app}`, to merge into the server's router.
    pub fn hook_router<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        hook::router(hook::HookState {
            store: self.deps.store.clone(),
            queue: self.queue.clone(),
        })
    }

    /// Stops starting work, then waits up to `grace` for syncs in progress; a sync still
    /// running after that is marked interrupted by the store at its next start.
    pub async fn stop(self, grace: Duration) {
        self.shutdown.cancel();
        self.tasks.close();
        if tokio::time::timeout(grace, self.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                "{} background syncs still running after {grace:?}",
                self.tasks.len()
            );
        }
    }
}
