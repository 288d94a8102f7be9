//! What the console does, in its own types: [`Backend`] holds the store and the
//! engine's dependencies, and every page and API route acts through its methods.
//!
//! The store's reads and writes are here; the engine's actions (check, plan, sync,
//! explain, approve, reject) are in [`super::adapter::engine`]; the conversions
//! into the console's model are in [`super::adapter::convert`]. Handlers never
//! touch SQL or engine internals, and what the console can do is listed in one place.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use usersync_store::{
    App, AppDraft, AppId, AuditFilter, NewSession, RunFilter, RunId, Scopes, Store,
};

use super::adapter::convert::{self, store_error};
use super::model::{AppSummary, AuditView, OperationView, RunView};
use crate::engine::Deps;
use crate::web::metrics::StoredCounts;

/// Why a backend action did not happen, shaped for HTTP answers.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error("{0} was not found")]
    NotFound(String),
    /// Input refused; `field` names the offending field (e.g. `okta.url`).
    #[error("{field}: {message}")]
    Validation { field: String, message: String },
    /// Not allowed in the current state (duplicate name, run not held, ...).
    #[error("{0}")]
    Conflict(String),
    /// The app already has a run in progress.
    #[error("{0}")]
    Busy(String),
    /// Okta or the target could not be used (bad credential, unreachable, ...).
    #[error("{0}")]
    Upstream(String),
    #[error("{0:#}")]
    Internal(anyhow::Error),
}

pub type BackendResult<T> = Result<T, BackendError>;

/// A signed-in administrator's session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub username: String,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

/// Live progress of a run, for the Synchronize page.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProgressEvent {
    pub message: String,
    pub done: u64,
    pub total: u64,
}

/// Receives progress while a run goes on.
pub type ProgressSink = Arc<dyn Fn(ProgressEvent) + Send + Sync>;

/// How a run was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// The Synchronize button.
    Manual,
    /// The REST API.
    Api,
}

/// The console's backend: the store, and the engine's dependencies (sharing their
/// per-app locks with whatever else runs syncs in this process, such as the scheduler).
#[derive(Clone)]
pub struct Backend {
    pub store: Store,
    pub deps: Deps,
    /// The Okta reads Previews share: apps on one org and credential previewed
    /// within a minute read Okta once (`engine::shared_read`); syncs read for themselves.
    pub previews: crate::engine::SharedReads,
}

impl Backend {
    #[must_use]
    pub fn new(deps: Deps) -> Self {
        Self {
            store: deps.store.clone(),
            deps,
            previews: crate::engine::SharedReads::new(crate::engine::SharedReads::DEFAULT_TTL),
        }
    }

    pub(super) async fn app(&self, name: &str) -> BackendResult<App> {
        self.store.app_by_name(name).await.map_err(store_error)
    }

    async fn app_names(&self) -> BackendResult<HashMap<i64, String>> {
        let apps = self.store.list_apps().await.map_err(store_error)?;
        Ok(apps.into_iter().map(|a| (a.id.0, a.name)).collect())
    }

    pub(super) async fn run_view(&self, id: RunId) -> BackendResult<RunView> {
        let run = self.store.get_run(id).await.map_err(store_error)?;
        let app = self
            .store
            .get_app(run.app_id)
            .await
            .map(|a| a.name)
            .unwrap_or_else(|_| format!("app {}", run.app_id));
        Ok(convert::run_view(&run, &app))
    }

    pub async fn admin_count(&self) -> BackendResult<u64> {
        Ok(self.store.list_admins().await.map_err(store_error)?.len() as u64)
    }

    /// Creates the first administrator, atomically, when `code` is the setup code.
    pub async fn create_first_admin(
        &self,
        username: &str,
        password_phc: &str,
        code: &str,
    ) -> BackendResult<usersync_store::FirstAdmin> {
        self.store
            .create_first_admin(username, password_phc, code)
            .await
            .map_err(store_error)
    }

    pub async fn admin_password_hash(&self, username: &str) -> BackendResult<Option<String>> {
        Ok(self
            .store
            .admin_by_username(username)
            .await
            .map_err(store_error)?
            .map(|a| a.password_hash))
    }

    pub async fn create_session(
        &self,
        id_hash: &str,
        username: &str,
        csrf_token: &str,
        expires_at: DateTime<Utc>,
    ) -> BackendResult<()> {
        let admin = self
            .store
            .admin_by_username(username)
            .await
            .map_err(store_error)?
            .ok_or_else(|| BackendError::NotFound(format!("administrator {username:?}")))?;
        let session = NewSession {
            id_hash: id_hash.to_owned(),
            admin: admin.id,
            csrf_token: csrf_token.to_owned(),
            expires_at,
        };
        self.store
            .create_session(&session)
            .await
            .map_err(store_error)
    }

    pub async fn session(&self, id_hash: &str) -> BackendResult<Option<SessionRecord>> {
        let session = self
            .store
            .session(id_hash, Utc::now())
            .await
            .map_err(store_error)?;
        Ok(session.map(|s| SessionRecord {
            username: s.admin.username,
            csrf_token: s.csrf_token,
            expires_at: s.expires_at,
        }))
    }

    pub async fn delete_session(&self, id_hash: &str) -> BackendResult<()> {
        self.store
            .delete_session(id_hash)
            .await
            .map_err(store_error)
    }

    /// The name and scopes of the unexpired API token with this hash.
    pub async fn api_token(&self, token_hash: &str) -> BackendResult<Option<(String, Scopes)>> {
        let Some(token) = self
            .store
            .api_token_by_hash(token_hash, Utc::now())
            .await
            .map_err(store_error)?
        else {
            return Ok(None);
        };
        // Recording the use is bookkeeping: a failure must not refuse the request.
        if let Err(e) = self.store.touch_api_token(token.id, Utc::now()).await {
            tracing::warn!("could not record the use of API token {}: {e}", token.name);
        }
        Ok(Some((token.name, token.scopes)))
    }

    pub async fn list_apps(&self) -> BackendResult<Vec<AppSummary>> {
        let apps = self.store.list_apps().await.map_err(store_error)?;
        let mut out = Vec::with_capacity(apps.len());
        for app in &apps {
            let filter = RunFilter {
                app: Some(app.id),
                ..RunFilter::default()
            };
            let last = self
                .store
                .list_runs(&filter, 1)
                .await
                .map_err(store_error)?;
            let held = self.store.held_run(app.id).await.map_err(store_error)?;
            out.push(convert::app_summary(
                app,
                last.first().map(|r| convert::run_view(r, &app.name)),
                held.as_ref().map(|r| convert::run_view(r, &app.name)),
            ));
        }
        Ok(out)
    }

    /// The stored app of this name (secrets as their state only).
    pub async fn get_app(&self, name: &str) -> BackendResult<App> {
        self.app(name).await
    }

    /// Refuses a draft from the console or the API that names a secret reference the
    /// server does not allow (`serve --allow-secret-refs`): references read the server's
    /// own files and environment.
    fn check_remote_draft(&self, draft: &AppDraft) -> BackendResult<()> {
        self.deps
            .secret_refs
            .check(draft)
            .map_err(|problem| store_error(problem.into()))
    }

    pub async fn create_app(&self, draft: AppDraft, actor: &str) -> BackendResult<App> {
        self.check_remote_draft(&draft)?;
        self.store
            .create_app(draft, actor)
            .await
            .map_err(store_error)
    }

    /// Replaces the settings of the app `id`; secrets the draft keeps stay as stored.
    pub async fn update_app(&self, id: AppId, draft: AppDraft, actor: &str) -> BackendResult<App> {
        self.check_remote_draft(&draft)?;
        self.store
            .update_app(id, draft, actor)
            .await
            .map_err(store_error)
    }

    pub async fn delete_app(&self, name: &str, actor: &str) -> BackendResult<()> {
        let app = self.app(name).await?;
        self.store
            .delete_app(app.id, actor)
            .await
            .map_err(store_error)
    }

    pub async fn list_runs(&self, app: Option<&str>, limit: u32) -> BackendResult<Vec<RunView>> {
        let filter = match app {
            Some(name) => RunFilter {
                app: Some(self.app(name).await?.id),
                ..RunFilter::default()
            },
            None => RunFilter::default(),
        };
        let runs = self
            .store
            .list_runs(&filter, limit)
            .await
            .map_err(store_error)?;
        let names = self.app_names().await?;
        Ok(runs
            .iter()
            .map(|r| {
                convert::run_view(
                    r,
                    names
                        .get(&r.app_id.0)
                        .map_or("(deleted app)", String::as_str),
                )
            })
            .collect())
    }

    pub async fn get_run(&self, id: i64) -> BackendResult<RunView> {
        self.run_view(RunId(id)).await
    }

    pub async fn run_operations(&self, id: i64) -> BackendResult<Vec<OperationView>> {
        self.store.get_run(RunId(id)).await.map_err(store_error)?;
        let ops = self
            .store
            .run_operations(RunId(id))
            .await
            .map_err(store_error)?;
        Ok(ops.iter().map(convert::operation_view).collect())
    }

    pub async fn list_audit(&self, limit: u32) -> BackendResult<Vec<AuditView>> {
        let entries = self
            .store
            .audit_log(&AuditFilter::default(), limit)
            .await
            .map_err(store_error)?;
        Ok(entries.iter().map(convert::audit_view).collect())
    }

    pub async fn stored_counts(&self) -> BackendResult<StoredCounts> {
        let runs = self
            .store
            .list_runs(&RunFilter::default(), 100_000)
            .await
            .map_err(store_error)?;
        let mut counts = StoredCounts::default();
        for run in &runs {
            *counts
                .runs_by_status
                .entry(run.status.as_str().to_owned())
                .or_default() += 1;
            for (kind, c) in &run.counts {
                let pending = c.planned.saturating_sub(c.applied + c.failed + c.skipped);
                for (outcome, n) in [
                    ("applied", c.applied),
                    ("failed", c.failed),
                    ("skipped", c.skipped),
                    ("pending", pending),
                ] {
                    *counts
                        .operations
                        .entry((kind.clone(), outcome.to_owned()))
                        .or_default() += n;
                }
            }
        }
        Ok(counts)
    }

    /// True when the store can write now (readiness): a write, not a read, since a
    /// full disk still answers reads.
    pub async fn ready(&self) -> bool {
        self.store
            .prove_writable()
            .await
            .inspect_err(|err| tracing::warn!("not ready: the store cannot write: {err}"))
            .is_ok()
    }
}
