//! One run per app at a time within a process. The CLI, the server and the
//! scheduler share one [`AppLocks`], so a scheduled run and a button press never
//! apply two plans to the same target at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

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
#[error("a sync of app {app:?} is already running in this process; wait for it to finish")]
pub struct AlreadyRunning {
    pub app: String,
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
