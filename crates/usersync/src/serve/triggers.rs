//! The background work of `usersync serve`: the event queue and the System Log poller
//! ([`crate::events`]) and the [`crate::scheduler`], started together on one
//! cancellation token and one task tracker so that shutdown stops them together.
//! `events` and `scheduler` are peers: neither starts the other; this module does.
//! The queue runs in every replica (hooks land on any); the poller and the scheduler
//! run only while this process leads ([`crate::leader`]).

use std::time::Duration;

use axum::Router;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::engine::Deps;
use crate::events::{EventQueue, PollerConfig, QueueConfig, hook, poller};
use crate::leader::{self, Leadership};
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
    leadership: Leadership,
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
    /// Starts the queue, and the leader loop that starts the poller and the scheduler
    /// while this process leads, on the current runtime. `deps` must be the ones the
    /// console uses, so that they share the per-app locks.
    #[must_use]
    pub fn start(deps: &Deps, config: TriggersConfig) -> Self {
        let shutdown = CancellationToken::new();
        let tasks = TaskTracker::new();
        let queue = EventQueue::start(deps.clone(), config.queue, shutdown.clone(), tasks.clone());
        let leadership = Leadership::default();
        let (d, q, t) = (deps.clone(), queue.clone(), tasks.clone());
        leader::spawn(
            deps.store.clone(),
            leadership.clone(),
            shutdown.clone(),
            &tasks,
            move |leading: CancellationToken| {
                poller::spawn(
                    d.clone(),
                    q.clone(),
                    config.poller.clone(),
                    leading.clone(),
                    &t,
                );
                scheduler::spawn(d.clone(), config.scheduler.clone(), leading, &t);
            },
        );
        Self {
            deps: deps.clone(),
            queue,
            leadership,
            shutdown,
            tasks,
        }
    }

    /// Whether this process leads (runs the scheduler and the poller) now.
    #[must_use]
    pub fn leadership(&self) -> &Leadership {
        &self.leadership
    }

    /// The event queue (hook deliveries and polls feed it).
    #[must_use]
    pub fn queue(&self) -> &EventQueue {
        &self.queue
    }

    /// `GET`/`POST /hooks/okta/{app}`, feeding this process's queue, to merge into
    /// the server's router.
    pub fn hook_router<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        hook::router(hook::HookState {
            store: self.deps.store.clone(),
            queue: self.queue.clone(),
            deps: self.deps.clone(),
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
