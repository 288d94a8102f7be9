//! System Log polling, for targets Okta's event hooks cannot reach: every N seconds
//! (the app's `poll_interval_seconds`) each app with polling on reads the events after
//! its persisted `next` link (checkpoint `system_log.next`) and hands them to the
//! queue. The checkpoint moves on only after the queue has taken the events, so a
//! restart re-reads at most the last page (and the queue's dedupe by event `uuid`
//! drops those); nothing is missed.
//!
//! The first poll of an app starts one interval back, so an event from just before
//! polling was switched on is not lost. A checkpoint that points at another Okta org
//! (the app's Okta URL changed) is dropped and polling starts afresh.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context as _;
use chrono::Utc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use usersync_okta::LogCheckpoint;
use usersync_store::checkpoints::SYSTEM_LOG_NEXT;
use usersync_store::{App, AppId};

use super::queue::{AppRef, EventQueue};
use crate::engine::Deps;
use crate::engine::connect::connect;

/// The events a poll asks Okta for: every kind usersync can act on, whatever the
/// app's switches say (so switching one on later takes effect at once).
pub const LOG_FILTER: &str = r#"eventType sw "user." or eventType sw "group.""#;

/// How the poller paces itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollerConfig {
    /// How often the list of apps is looked at.
    pub tick: Duration,
    /// Overrides every app's `poll_interval_seconds` (demos and tests).
    pub interval_override: Option<Duration>,
}

impl Default for PollerConfig {
    fn default() -> Self {
        Self {
            tick: Duration::from_secs(1),
            interval_override: None,
        }
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct PollState {
    last: Option<Instant>,
    running: bool,
}

type States = Arc<Mutex<HashMap<AppId, PollState>>>;

/// Starts polling every app that has it switched on, until `shutdown`.
pub fn spawn(
    deps: Deps,
    queue: EventQueue,
    config: PollerConfig,
    shutdown: CancellationToken,
    tasks: &TaskTracker,
) {
    let inner = tasks.clone();
    tasks.spawn(async move {
        let states: States = Arc::default();
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(config.tick) => {}
            }
            let apps = match deps.store.list_apps().await {
                Ok(apps) => apps,
                Err(e) => {
                    tracing::warn!("the System Log poller cannot list apps: {e}");
                    continue;
                }
            };
            for app in apps.into_iter().filter(|a| a.events.poll_system_log) {
                let interval = config
                    .interval_override
                    .unwrap_or_else(|| Duration::from_secs(app.events.poll_interval_seconds.into()));
                if !claim(&states, app.id, interval) {
                    continue;
                }
                let (deps, queue, states) = (deps.clone(), queue.clone(), states.clone());
                inner.spawn(async move {
                    let id = app.id;
                    match poll_once(&deps, &queue, &app, interval).await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(app = %app.name, "{n} new System Log events"),
                        Err(e) => tracing::warn!(app = %app.name, "System Log poll failed (tried again next interval): {e:#}"),
                    }
                    release(&states, id);
                });
            }
        }
    });
}

/// Marks the app as polling when its interval has passed and no poll is running.
fn claim(states: &States, app: AppId, interval: Duration) -> bool {
    let mut states = states.lock().unwrap_or_else(PoisonError::into_inner);
    let state = states.entry(app).or_default();
    let due = state.last.is_none_or(|last| last.elapsed() >= interval);
    if state.running || !due {
        return false;
    }
    state.running = true;
    state.last = Some(Instant::now());
    true
}

fn release(states: &States, app: AppId) {
    let mut states = states.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(state) = states.get_mut(&app) {
        state.running = false;
    }
}

/// Where this app's polling continues: its stored `next` link, unless that belongs to
/// another org; else one interval back from now.
async fn checkpoint(deps: &Deps, app: &App, interval: Duration) -> anyhow::Result<LogCheckpoint> {
    let stored = deps
        .store
        .checkpoint(app.id, SYSTEM_LOG_NEXT)
        .await
        .context("reading the System Log checkpoint")?;
    let origin = app.okta.url.origin().ascii_serialization();
    if let Some(url) = stored {
        if url.starts_with(&origin) {
            return Ok(LogCheckpoint::Next { url });
        }
        tracing::warn!(app = %app.name, "the System Log checkpoint is for another Okta org; polling starts afresh");
    }
    let back = chrono::Duration::from_std(interval).unwrap_or(chrono::Duration::seconds(15));
    Ok(LogCheckpoint::Start {
        since: Utc::now() - back,
        filter: Some(LOG_FILTER.to_owned()),
    })
}

/// One poll of one app: read, hand over, then move the checkpoint. Returns how many
/// events were new.
///
/// # Errors
/// When Okta, the store or the queue fails; the checkpoint is then left where it was.
pub async fn poll_once(
    deps: &Deps,
    queue: &EventQueue,
    app: &App,
    interval: Duration,
) -> anyhow::Result<usize> {
    let from = checkpoint(deps, app, interval).await?;
    let conns = connect(deps, app).await?;
    let poll = conns
        .okta
        .poll_log_events(&from)
        .await
        .with_context(|| format!("polling the System Log of {}", conns.okta.org_host()))?;
    let new = queue.ingest(AppRef::of(app), poll.events).await?;
    if let LogCheckpoint::Next { url } = &poll.checkpoint {
        deps.store
            .set_checkpoint(app.id, SYSTEM_LOG_NEXT, url)
            .await
            .context("saving the System Log checkpoint")?;
    }
    Ok(new)
}
