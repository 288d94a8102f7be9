//! The queue between Okta's events and the engine. Hook deliveries and System Log polls
//! hand their events in; one dispatcher task dedupes them (delivery `eventId` and event
//! `uuid`, remembered in the store), turns them into work, and starts it:
//!
//! - single-user syncs, coalesced: events naming the same user within a short window
//!   become one sync; a user already waiting is not queued twice;
//! - full syncs (group changes), coalesced into at most one waiting per app; user syncs
//!   that would start before it are merged into it;
//! - at most one piece of work per app at a time, and a token bucket per app so an
//!   event storm cannot spend Okta's rate limit; too many users waiting at once turns
//!   into one full sync, which is cheaper than thousands of single reads.
//!
//! Single-user syncs wait for a running full sync of the app (the engine's per-app
//! lock); a full sync that finds a run in progress is retried once it can start.
//! Every single-user sync reads the user's current state in Okta, so the order in
//! which events arrive does not change where the target ends up.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::Utc;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use usersync_okta::LogEvent;
use usersync_store::{AppId, RunTrigger};

use super::bucket::Bucket;
use super::okta_event::{Action, action_for};
use crate::engine::{Deps, EngineError, Mode, run_sync_once, sync_user};

/// How the queue coalesces and paces work.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueConfig {
    /// Events naming the same user within this window lead to one sync.
    pub coalesce: Duration,
    /// Syncs started per app per minute at most (after the burst).
    pub per_minute: u32,
    /// Syncs that may start at once before pacing sets in.
    pub burst: u32,
    /// More users waiting than this for one app: one full sync instead.
    pub storm_threshold: usize,
    /// How long a full sync that found the app busy waits before trying again.
    pub follow_up_delay: Duration,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self {
            coalesce: Duration::from_millis(300),
            per_minute: 120,
            burst: 20,
            storm_threshold: 500,
            follow_up_delay: Duration::from_secs(2),
        }
    }
}

/// The app events are for, as the queue needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppRef {
    pub id: AppId,
    pub name: String,
    /// The event types switched on for the app.
    pub event_types: Vec<String>,
}

impl AppRef {
    #[must_use]
    pub fn of(app: &usersync_store::App) -> Self {
        Self {
            id: app.id,
            name: app.name.clone(),
            event_types: app.events.event_types.clone(),
        }
    }
}

/// What the queue has done so far (for tests, logs and metrics).
#[derive(Debug, Default)]
pub struct QueueCounters {
    pub events: AtomicU64,
    pub duplicates: AtomicU64,
    pub coalesced: AtomicU64,
    pub user_syncs: AtomicU64,
    pub full_syncs: AtomicU64,
}

/// A snapshot of [`QueueCounters`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueStats {
    /// New events received (duplicates not counted).
    pub events: u64,
    /// Deliveries and events ignored as already seen.
    pub duplicates: u64,
    /// Work requests merged into work already waiting.
    pub coalesced: u64,
    pub user_syncs: u64,
    pub full_syncs: u64,
}

/// The queue is full: the caller should answer so that the sender retries later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the event queue is full; try again shortly")]
pub struct QueueFull;

struct Ingest {
    app: AppRef,
    /// A hook delivery's `eventId`; `None` for polled events.
    delivery: Option<String>,
    events: Vec<LogEvent>,
    ack: Option<oneshot::Sender<usize>>,
}

/// The sending side; cheap to clone.
#[derive(Clone)]
pub struct EventQueue {
    tx: mpsc::Sender<Ingest>,
    counters: Arc<QueueCounters>,
}

impl std::fmt::Debug for EventQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventQueue")
            .field("stats", &self.stats())
            .finish()
    }
}

/// Deliveries and polls waiting to be deduplicated, at most.
const INBOX: usize = 1024;

impl EventQueue {
    /// Starts the dispatcher; it stops when `shutdown` is cancelled. Work it starts is
    /// tracked by `tasks`, so shutdown can wait for it.
    #[must_use]
    pub fn start(
        deps: Deps,
        config: QueueConfig,
        shutdown: CancellationToken,
        tasks: TaskTracker,
    ) -> Self {
        let (tx, rx) = mpsc::channel(INBOX);
        let counters = Arc::new(QueueCounters::default());
        let (done_tx, done_rx) = mpsc::unbounded_channel();
        let dispatcher = Dispatcher {
            deps,
            config,
            apps: HashMap::new(),
            counters: counters.clone(),
            done_tx,
            tasks: tasks.clone(),
        };
        tasks.spawn(dispatcher.run(rx, done_rx, shutdown));
        Self { tx, counters }
    }

    /// Hands over a hook delivery without waiting (a hook must answer within 3 s).
    ///
    /// # Errors
    /// [`QueueFull`] when the dispatcher is this far behind (or has stopped).
    pub fn offer(
        &self,
        app: AppRef,
        delivery_id: String,
        events: Vec<LogEvent>,
    ) -> Result<(), QueueFull> {
        self.tx
            .try_send(Ingest {
                app,
                delivery: Some(delivery_id),
                events,
                ack: None,
            })
            .map_err(|_| QueueFull)
    }

    /// Hands over polled events and waits until they are deduplicated and queued, so
    /// a poller may then move its checkpoint on. Returns how many were new.
    ///
    /// # Errors
    /// When the dispatcher has stopped.
    pub async fn ingest(&self, app: AppRef, events: Vec<LogEvent>) -> anyhow::Result<usize> {
        let (ack, done) = oneshot::channel();
        let ingest = Ingest {
            app,
            delivery: None,
            events,
            ack: Some(ack),
        };
        self.tx
            .send(ingest)
            .await
            .map_err(|_| anyhow::anyhow!("the event queue has stopped"))?;
        done.await
            .map_err(|_| anyhow::anyhow!("the event queue stopped before taking the events"))
    }

    #[must_use]
    pub fn stats(&self) -> QueueStats {
        let c = &self.counters;
        QueueStats {
            events: c.events.load(Ordering::Relaxed),
            duplicates: c.duplicates.load(Ordering::Relaxed),
            coalesced: c.coalesced.load(Ordering::Relaxed),
            user_syncs: c.user_syncs.load(Ordering::Relaxed),
            full_syncs: c.full_syncs.load(Ordering::Relaxed),
        }
    }
}

/// One app's waiting work.
struct AppQueue {
    name: String,
    users: BTreeMap<String, (Instant, RunTrigger)>,
    /// When a waiting full sync may start.
    full: Option<Instant>,
    busy: bool,
    bucket: Bucket,
}

impl AppQueue {
    fn next_due(&self) -> Option<Instant> {
        let user = self.users.values().map(|(due, _)| *due).min();
        match (self.full, user) {
            (Some(f), Some(u)) => Some(f.min(u)),
            (f, u) => f.or(u),
        }
    }
}

enum Done {
    Finished(AppId),
    /// A full sync found the app busy and should be tried again.
    RetryFull(AppId),
}

struct Dispatcher {
    deps: Deps,
    config: QueueConfig,
    apps: HashMap<AppId, AppQueue>,
    counters: Arc<QueueCounters>,
    done_tx: mpsc::UnboundedSender<Done>,
    tasks: TaskTracker,
}

/// How often remembered event ids older than [`SEEN_EVENTS_KEPT`] are forgotten.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// How long an event id is remembered (Okta redelivers within minutes; polls overlap less).
const SEEN_EVENTS_KEPT: chrono::Duration = chrono::Duration::days(7);

impl Dispatcher {
    async fn run(
        mut self,
        mut inbox: mpsc::Receiver<Ingest>,
        mut done: mpsc::UnboundedReceiver<Done>,
        shutdown: CancellationToken,
    ) {
        let mut prune = tokio::time::interval(PRUNE_EVERY);
        loop {
            let wake = self.next_wake();
            tokio::select! {
                biased;
                () = shutdown.cancelled() => break,
                Some(d) = done.recv() => self.finished(d),
                msg = inbox.recv() => match msg {
                    Some(m) => self.ingest(m).await,
                    None => break,
                },
                () = sleep_until(wake) => {}
                _ = prune.tick() => self.prune().await,
            }
            self.dispatch();
        }
    }

    fn finished(&mut self, done: Done) {
        let (Done::Finished(app) | Done::RetryFull(app)) = done;
        if let Some(q) = self.apps.get_mut(&app) {
            q.busy = false;
            if matches!(done, Done::RetryFull(_)) {
                let retry = Instant::now() + self.config.follow_up_delay;
                q.full = Some(q.full.map_or(retry, |f| f.min(retry)));
            }
        }
    }

    async fn prune(&self) {
        if let Err(e) = self
            .deps
            .store
            .prune_seen_events(Utc::now() - SEEN_EVENTS_KEPT)
            .await
        {
            tracing::warn!("could not forget old event ids: {e}");
        }
    }

    /// Remembers `key` for the app; false when it was seen before (or cannot be stored,
    /// in which case the event is still handled: a duplicate sync is harmless).
    async fn first_time(&self, app: &AppRef, key: &str) -> bool {
        match self
            .deps
            .store
            .remember_event(app.id, key, Utc::now())
            .await
        {
            Ok(new) => new,
            Err(e) => {
                tracing::warn!(app = %app.name, "could not remember event {key}: {e}");
                true
            }
        }
    }

    async fn ingest(&mut self, m: Ingest) {
        let mut new = 0;
        let fresh_delivery = match &m.delivery {
            Some(id) => self.first_time(&m.app, &format!("delivery:{id}")).await,
            None => true,
        };
        if fresh_delivery {
            let mut events = m.events;
            // Deliveries may come out of order; within one, act in publication order.
            events.sort_by_key(|e| e.published);
            for event in events {
                if !self
                    .first_time(&m.app, &format!("uuid:{}", event.uuid))
                    .await
                {
                    self.counters.duplicates.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                new += 1;
                self.counters.events.fetch_add(1, Ordering::Relaxed);
                if let Some(action) = action_for(&event, &m.app.event_types) {
                    tracing::debug!(app = %m.app.name, event = %event.event_type, "queued {action:?}");
                    self.enqueue(&m.app, action);
                }
            }
        } else {
            self.counters.duplicates.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(ack) = m.ack {
            let _ = ack.send(new);
        }
    }

    fn enqueue(&mut self, app: &AppRef, action: Action) {
        let now = Instant::now();
        let config = &self.config;
        let q = self.apps.entry(app.id).or_insert_with(|| AppQueue {
            name: app.name.clone(),
            users: BTreeMap::new(),
            full: None,
            busy: false,
            bucket: Bucket::new(config.burst, config.per_minute, now),
        });
        app.name.clone_into(&mut q.name);
        let coalesced = &self.counters.coalesced;
        match action {
            Action::FullSync if q.full.is_some() => {
                coalesced.fetch_add(1, Ordering::Relaxed);
            }
            Action::FullSync => {
                // Users waiting now are covered by the full sync, which starts later.
                let merged = std::mem::take(&mut q.users).len() as u64;
                coalesced.fetch_add(merged, Ordering::Relaxed);
                q.full = Some(now + config.coalesce);
            }
            Action::SyncUsers { users, .. } if q.full.is_some() => {
                coalesced.fetch_add(users.len() as u64, Ordering::Relaxed);
            }
            Action::SyncUsers { users, trigger } => {
                for user in users {
                    match q.users.get_mut(&user) {
                        Some(waiting) => {
                            coalesced.fetch_add(1, Ordering::Relaxed);
                            if trigger == RunTrigger::Login {
                                waiting.1 = trigger;
                            }
                        }
                        None => {
                            q.users.insert(user, (now + config.coalesce, trigger));
                        }
                    }
                }
                if q.users.len() > config.storm_threshold {
                    tracing::info!(app = %q.name, "{} users wait for a sync; one full sync instead", q.users.len());
                    coalesced.fetch_add(q.users.len() as u64, Ordering::Relaxed);
                    q.users.clear();
                    q.full = Some(now);
                }
            }
        }
    }

    /// When the next piece of work may start (work due and a token there).
    fn next_wake(&self) -> Option<Instant> {
        let now = Instant::now();
        self.apps
            .values()
            .filter(|q| !q.busy)
            .filter_map(|q| Some(q.next_due()?.max(q.bucket.ready_at(now))))
            .min()
    }

    fn dispatch(&mut self) {
        let now = Instant::now();
        let ids: Vec<AppId> = self.apps.keys().copied().collect();
        for id in ids {
            let Some(q) = self.apps.get_mut(&id) else {
                continue;
            };
            if q.busy || q.next_due().is_none_or(|due| due > now) || !q.bucket.try_take(now) {
                continue;
            }
            let name = q.name.clone();
            if q.full.is_some_and(|due| due <= now) {
                q.full = None;
                let merged = std::mem::take(&mut q.users).len() as u64;
                self.counters.coalesced.fetch_add(merged, Ordering::Relaxed);
                q.busy = true;
                self.start_full(id, name);
            } else if let Some(user) = earliest_due(&q.users, now) {
                let (_, trigger) = q.users.remove(&user).unwrap_or((now, RunTrigger::Event));
                q.busy = true;
                self.start_user(id, name, user, trigger);
            }
        }
    }

    fn start_full(&self, id: AppId, name: String) {
        self.counters.full_syncs.fetch_add(1, Ordering::Relaxed);
        let deps = self.deps.clone();
        let done = self.done_tx.clone();
        self.tasks.spawn(async move {
            let result = run_sync_once(&deps, &name, RunTrigger::Event, Mode::Apply).await;
            let message = match result {
                Ok(outcome) => {
                    tracing::info!(app = %name, status = %outcome.status, "full sync after Okta events finished");
                    Done::Finished(id)
                }
                Err(EngineError::AlreadyRunning(_)) => {
                    tracing::info!(app = %name, "a sync is already running; the full sync Okta's events asked for follows it");
                    Done::RetryFull(id)
                }
                Err(e) => {
                    tracing::warn!(app = %name, "full sync after Okta events could not run: {e}");
                    Done::Finished(id)
                }
            };
            let _ = done.send(message);
        });
    }

    fn start_user(&self, id: AppId, name: String, user: String, trigger: RunTrigger) {
        self.counters.user_syncs.fetch_add(1, Ordering::Relaxed);
        let deps = self.deps.clone();
        let done = self.done_tx.clone();
        self.tasks.spawn(async move {
            match sync_user(&deps, &name, &user, trigger).await {
                Ok(outcome) => {
                    tracing::info!(app = %name, user = %user, status = %outcome.status, reasons = ?outcome.reasons, "single-user sync finished");
                }
                Err(e) => tracing::warn!(app = %name, user = %user, "single-user sync could not run: {e}"),
            }
            let _ = done.send(Done::Finished(id));
        });
    }
}

fn earliest_due(users: &BTreeMap<String, (Instant, RunTrigger)>, now: Instant) -> Option<String> {
    users
        .iter()
        .filter(|(_, (due, _))| *due <= now)
        .min_by_key(|(_, (due, _))| *due)
        .map(|(user, _)| user.clone())
}

async fn sleep_until(wake: Option<Instant>) {
    match wake {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
