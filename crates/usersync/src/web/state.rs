//! What every handler shares: the backend (store and engine), metrics, sign-in throttle, cookie
//! settings, the live progress of runs started here, and the tracker that lets
//! graceful shutdown wait for them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;
use tokio_util::task::TaskTracker;

use super::auth::throttle::SignInThrottle;
use super::backend::{Backend, ProgressEvent};
use super::metrics::Metrics;
use super::model::RunView;

/// Shared state of the web server; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub backend: Backend,
    pub metrics: Arc<Metrics>,
    /// Sign-in throttling, counted in the store so every replica sees every failure.
    pub throttle: Arc<SignInThrottle>,
    /// Always mark cookies `Secure` (set when TLS terminates in front of usersync).
    pub secure_cookies: bool,
    /// Reverse proxies whose `X-Forwarded-For` names the client (sign-in throttling).
    pub trusted_proxies: Arc<[std::net::IpAddr]>,
    pub live: Arc<LiveRuns>,
    /// Previews computed lately, so paging a plan does not read Okta again.
    pub previews: Arc<super::pages::preview::PreviewCache>,
    /// `serve --public-url`: where Okta reaches usersync (the hook URL's base).
    pub public_url: Option<url::Url>,
    /// Runs started from the console; shutdown waits for them.
    pub tasks: TaskTracker,
    /// Whether this replica leads (`/readyz`, `usersync_leader`); set by `serve`.
    pub leadership: crate::leader::Leadership,
}

impl AppState {
    #[must_use]
    pub fn new(backend: Backend, secure_cookies: bool) -> Self {
        Self {
            throttle: Arc::new(SignInThrottle::new(backend.store.clone())),
            backend,
            metrics: Arc::new(Metrics::default()),
            secure_cookies,
            trusted_proxies: Arc::from([]),
            live: Arc::new(LiveRuns::default()),
            previews: Arc::default(),
            public_url: None,
            tasks: TaskTracker::new(),
            leadership: crate::leader::Leadership::default(),
        }
    }
}

/// Where a run started from the console is.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveState {
    Running(ProgressEvent),
    Finished(Box<RunView>),
    /// The run could not start or finish, and when that was said.
    Failed(String, chrono::DateTime<chrono::Utc>),
}

/// The latest live state of the run started from the console, per app.
#[derive(Debug, Default)]
pub struct LiveRuns {
    apps: Mutex<HashMap<String, watch::Sender<LiveState>>>,
}

impl LiveRuns {
    /// Registers a new run of `app` unless one is still running; returns its sender.
    pub fn begin(&self, app: &str) -> Option<watch::Sender<LiveState>> {
        let mut apps = self.apps.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(tx) = apps.get(app)
            && matches!(*tx.borrow(), LiveState::Running(_))
        {
            return None;
        }
        let (tx, _) = watch::channel(LiveState::Running(ProgressEvent {
            message: "starting".into(),
            done: 0,
            total: 0,
        }));
        apps.insert(app.to_owned(), tx.clone());
        Some(tx)
    }

    /// Follows the latest run of `app` started here, if any.
    #[must_use]
    pub fn watch(&self, app: &str) -> Option<watch::Receiver<LiveState>> {
        let apps = self.apps.lock().unwrap_or_else(|e| e.into_inner());
        apps.get(app).map(watch::Sender::subscribe)
    }
}
