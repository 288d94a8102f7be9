//! One run per app at a time, within a process and across processes.
//!
//! Within a process the CLI, the server and the scheduler share one [`AppLocks`], so a
//! scheduled run and a button press never apply two plans to the same target at once.
//! Across processes (a command-line sync beside the service, or several `usersync serve`
//! replicas on one database) the run row is the claim: [`start_claimed`] takes the
//! in-process lock, then starts the run in the store, which refuses while another
//! process's run of the app holds a live claim (`usersync_store::lease`), and keeps
//! renewing the claim while the run works. A holder that dies stops renewing; once its
//! claim is no longer live the leader marks its run `interrupted` and the app is free.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};
use usersync_store::{App, RunId, RunTrigger, Store, StoreError};

use super::{Deps, EngineError};

/// Per-app locks, cheap to clone (all clones share the same locks).
#[derive(Debug, Clone, Default)]
pub struct AppLocks {
    apps: Arc<Mutex<HashMap<String, Arc<AsyncMutex<()>>>>>,
}

/// Held while a run of one app is in progress; dropping it releases the app.
#[derive(Debug)]
pub struct AppGuard {
    app: String,
    _guard: OwnedMutexGuard<()>,
}

impl AppGuard {
    #[must_use]
    pub fn app(&self) -> &str {
        &self.app
    }
}

/// Another run of the app is in progress.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a sync of app {app:?} is already running{}; wait for it to finish", place(*.elsewhere))]
pub struct AlreadyRunning {
    pub app: String,
    /// The run, when another usersync process holds it (else it is this process's).
    pub elsewhere: Option<i64>,
}

fn place(elsewhere: Option<i64>) -> String {
    elsewhere.map_or_else(
        || " in this process".to_owned(),
        |run| format!(" in another usersync process (run {run})"),
    )
}

impl AppLocks {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn mutex(&self, app: &str) -> Arc<AsyncMutex<()>> {
        let mut apps = self.apps.lock().unwrap_or_else(PoisonError::into_inner);
        apps.entry(app.to_owned()).or_default().clone()
    }

    /// Takes the app's lock, or says it is busy (for triggers that should not queue).
    ///
    /// # Errors
    /// [`AlreadyRunning`] when another run holds it.
    pub fn try_lock(&self, app: &str) -> Result<AppGuard, AlreadyRunning> {
        let guard = self
            .mutex(app)
            .try_lock_owned()
            .map_err(|_| AlreadyRunning {
                app: app.to_owned(),
                elsewhere: None,
            })?;
        Ok(AppGuard {
            app: app.to_owned(),
            _guard: guard,
        })
    }

    /// Waits for the app's lock (for triggers that queue, such as a login).
    pub async fn lock(&self, app: &str) -> AppGuard {
        let guard = self.mutex(app).lock_owned().await;
        AppGuard {
            app: app.to_owned(),
            _guard: guard,
        }
    }
}

/// Whether [`start_claimed`] waits for a run of another process to end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wait {
    /// Say the app is busy ([`AlreadyRunning`]): triggers that retry on their own.
    No,
    /// Wait (logins and events' single-user syncs queue rather than fail).
    Yes,
}

/// A started run, its app held in this process and claimed in the store, the claim
/// renewed until this is dropped.
#[derive(Debug)]
pub(crate) struct Claimed {
    pub run: RunId,
    _guard: AppGuard,
    _renewal: Renewal,
}

/// Renews a run's claim at a third of the store's lease until dropped.
#[derive(Debug)]
pub(crate) struct Renewal(tokio::task::JoinHandle<()>);

impl Drop for Renewal {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Keeps renewing `run`'s claim while the caller works on it.
pub(crate) fn renew(store: &Store, run: RunId) -> Renewal {
    let store = store.clone();
    let every = store.lease() / 3;
    Renewal(tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            match store.renew_run_claim(run).await {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => tracing::warn!(%run, "could not renew the run's claim: {e}"),
            }
        }
    }))
}

/// How often a waiting start asks again whether another process's run has ended.
const CLAIM_POLL: Duration = Duration::from_millis(500);

/// Takes the app's lock in this process, then starts a run of it claimed in the store
/// (see the module docs).
///
/// # Errors
/// [`EngineError::AlreadyRunning`] when the app is busy and `wait` is [`Wait::No`] (or
/// `deps.stop` is cancelled while waiting); store failures.
pub(crate) async fn start_claimed(
    deps: &Deps,
    app: &App,
    trigger: RunTrigger,
    wait: Wait,
) -> Result<Claimed, EngineError> {
    let guard = match wait {
        Wait::No => deps.locks.try_lock(&app.name)?,
        Wait::Yes => deps.locks.lock(&app.name).await,
    };
    loop {
        match deps.store.start_run(app.id, trigger).await {
            Ok(run) => {
                return Ok(Claimed {
                    run: run.id,
                    _renewal: renew(&deps.store, run.id),
                    _guard: guard,
                });
            }
            Err(StoreError::Claimed { run, .. })
                if wait == Wait::Yes && !deps.stop.is_cancelled() =>
            {
                tracing::debug!(app = %app.name, run, "waiting for another process's run of the app");
                tokio::select! {
                    () = tokio::time::sleep(CLAIM_POLL) => {}
                    () = deps.stop.cancelled() => {}
                }
            }
            Err(StoreError::Claimed { run, .. }) => {
                return Err(AlreadyRunning {
                    app: app.name.clone(),
                    elsewhere: Some(run),
                }
                .into());
            }
            Err(e) => return Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_second_run_of_the_same_app_is_refused_while_the_first_holds_the_lock() {
        let locks = AppLocks::new();
        let first = locks.try_lock("jira").unwrap();
        let err = locks.clone().try_lock("jira").unwrap_err();
        assert_eq!(err.app, "jira");
        assert!(
            locks.try_lock("confluence").is_ok(),
            "other apps are independent"
        );
        drop(first);
        assert!(locks.try_lock("jira").is_ok());
    }
}
