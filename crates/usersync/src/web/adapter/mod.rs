//! [`Backend`] over the real store and sync engine: [`StoreBackend`].
//!
//! Store reads and writes happen here directly; the sync actions go through
//! [`EngineActions`], implemented over `crate::engine` in [`engine`].

pub mod convert;
pub mod engine;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use usersync_core::app::SecretRefAllowList;
use usersync_okta::BucketHeadroom;
use usersync_store::{App, AppDraft, AuditFilter, NewSession, RunFilter, RunId, RunTrigger, Store};

use crate::web::backend::{
    Backend, BackendError, BackendResult, ProgressSink, SessionRecord, Trigger,
};
use crate::web::metrics::StoredCounts;
use crate::web::model::{
    AppInput, AppSummary, AppView, AuditView, CheckReport, ExplainView, OperationView, PlanView,
    RunView,
};
use convert::store_error;

/// The engine's actions on one stored app, as the console needs them.
#[async_trait]
pub trait EngineActions: Send + Sync + 'static {
    async fn check(&self, app: &App) -> BackendResult<CheckReport>;
    async fn plan(&self, app: &App) -> BackendResult<PlanView>;
    /// Runs a sync to its end; returns the recorded run's id.
    async fn sync(
        &self,
        app: &App,
        trigger: RunTrigger,
        progress: ProgressSink,
    ) -> BackendResult<RunId>;
    async fn sync_user(&self, app: &App, login: &str) -> BackendResult<RunId>;
    async fn explain(&self, app: &App, login: &str) -> BackendResult<ExplainView>;
    /// The Okta rate-limit figures of each app's latest run.
    fn okta_headroom(&self) -> BTreeMap<String, Vec<BucketHeadroom>>;
    /// Applies a held run's stored plan after approval.
    async fn approve(&self, app: &App, run: RunId, actor: &str) -> BackendResult<RunId>;
    /// Rejects a held run: nothing more of it is applied.
    async fn reject(&self, run: RunId, actor: &str) -> BackendResult<RunId>;
}

/// The console's backend: the store plus the engine.
#[derive(Clone)]
pub struct StoreBackend {
    pub store: Store,
    pub engine: Arc<dyn EngineActions>,
    /// The secret references apps saved here may name; none unless the server allows some.
    pub secret_refs: SecretRefAllowList,
}

impl StoreBackend {
    #[must_use]
    pub fn new(store: Store, engine: Arc<dyn EngineActions>) -> Self {
        Self {
            store,
            engine,
            secret_refs: SecretRefAllowList::default(),
        }
    }

    /// Accepts the references `allowed` permits (`serve --allow-secret-refs`).
    #[must_use]
    pub fn with_secret_refs(mut self, allowed: SecretRefAllowList) -> Self {
        self.secret_refs = allowed;
        self
    }

    /// A draft from the console or the API, refused when it names a reference the
    /// server does not allow: references read the server's files and environment.
    fn remote_draft(&self, input: AppInput, existing: Option<App>) -> BackendResult<AppDraft> {
        let draft = convert::draft(input, existing);
        self.secret_refs
            .check(&draft)
            .map_err(|problem| store_error(problem.into()))?;
        Ok(draft)
    }

    async fn app(&self, name: &str) -> BackendResult<App> {
        self.store.app_by_name(name).await.map_err(store_error)
    }

    async fn app_names(&self) -> BackendResult<HashMap<i64, String>> {
        let apps = self.store.list_apps().await.map_err(store_error)?;
        Ok(apps.into_iter().map(|a| (a.id.0, a.name)).collect())
    }

    async fn run_view(&self, id: RunId) -> BackendResult<RunView> {
        let run = self.store.get_run(id).await.map_err(store_error)?;
        let app = self
            .store
            .get_app(run.app_id)
            .await
            .map(|a| a.name)
            .unwrap_or_else(|_| format!("app {}", run.app_id));
        Ok(convert::run_view(&run, &app))
    }
}

#[async_trait]
impl Backend for StoreBackend {
    async fn admin_count(&self) -> BackendResult<u64> {
        Ok(self.store.list_admins().await.map_err(store_error)?.len() as u64)
    }

    async fn create_admin(&self, username: &str, password_phc: &str) -> BackendResult<()> {
        self.store
            .create_admin(username, password_phc, &format!("admin:{username}"))
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn create_first_admin(
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

    async fn admin_password_hash(&self, username: &str) -> BackendResult<Option<String>> {
        Ok(self
            .store
            .admin_by_username(username)
            .await
            .map_err(store_error)?
            .map(|a| a.password_hash))
    }

    async fn create_session(
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

    async fn session(&self, id_hash: &str) -> BackendResult<Option<SessionRecord>> {
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

    async fn delete_session(&self, id_hash: &str) -> BackendResult<()> {
        self.store
            .delete_session(id_hash)
            .await
            .map_err(store_error)
    }

    async fn create_api_token(&self, name: &str, token_hash: &str) -> BackendResult<()> {
        self.store
            .create_api_token(name, token_hash, "console")
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn api_token(&self, token_hash: &str) -> BackendResult<Option<String>> {
        let Some(token) = self
            .store
            .api_token_by_hash(token_hash)
            .await
            .map_err(store_error)?
        else {
            return Ok(None);
        };
        // Recording the use is bookkeeping: a failure must not refuse the request.
        if let Err(e) = self.store.touch_api_token(token.id, Utc::now()).await {
            tracing::warn!("could not record the use of API token {}: {e}", token.name);
        }
        Ok(Some(token.name))
    }

    async fn list_apps(&self) -> BackendResult<Vec<AppSummary>> {
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
            out.push(convert::app_summary(
                app,
                last.first().map(|r| convert::run_view(r, &app.name)),
            ));
        }
        Ok(out)
    }

    async fn get_app(&self, name: &str) -> BackendResult<AppView> {
        Ok(convert::app_view(&self.app(name).await?))
    }

    async fn create_app(&self, input: AppInput, actor: &str) -> BackendResult<AppView> {
        let app = self
            .store
            .create_app(self.remote_draft(input, None)?, actor)
            .await
            .map_err(store_error)?;
        Ok(convert::app_view(&app))
    }

    async fn update_app(&self, name: &str, input: AppInput, actor: &str) -> BackendResult<AppView> {
        let existing = self.app(name).await?;
        let id = existing.id;
        let app = self
            .store
            .update_app(id, self.remote_draft(input, Some(existing))?, actor)
            .await
            .map_err(store_error)?;
        Ok(convert::app_view(&app))
    }

    async fn delete_app(&self, name: &str, actor: &str) -> BackendResult<()> {
        let app = self.app(name).await?;
        self.store
            .delete_app(app.id, actor)
            .await
            .map_err(store_error)
    }

    async fn list_runs(&self, app: Option<&str>, limit: u32) -> BackendResult<Vec<RunView>> {
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

    async fn get_run(&self, id: i64) -> BackendResult<RunView> {
        self.run_view(RunId(id)).await
    }

    async fn run_operations(&self, id: i64) -> BackendResult<Vec<OperationView>> {
        self.store.get_run(RunId(id)).await.map_err(store_error)?;
        let ops = self
            .store
            .run_operations(RunId(id))
            .await
            .map_err(store_error)?;
        Ok(ops.iter().map(convert::operation_view).collect())
    }

    async fn list_audit(&self, limit: u32) -> BackendResult<Vec<AuditView>> {
        let entries = self
            .store
            .audit_log(&AuditFilter::default(), limit)
            .await
            .map_err(store_error)?;
        Ok(entries.iter().map(convert::audit_view).collect())
    }

    async fn stored_counts(&self) -> BackendResult<StoredCounts> {
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

    async fn ready(&self) -> bool {
        // A write, not a read: a full disk still answers reads.
        self.store
            .prove_writable()
            .await
            .inspect_err(|err| tracing::warn!("not ready: the store cannot write: {err}"))
            .is_ok()
    }

    fn okta_headroom(&self) -> BTreeMap<String, Vec<BucketHeadroom>> {
        self.engine.okta_headroom()
    }

    async fn check(&self, app: &str) -> BackendResult<CheckReport> {
        self.engine.check(&self.app(app).await?).await
    }

    async fn plan(&self, app: &str) -> BackendResult<PlanView> {
        self.engine.plan(&self.app(app).await?).await
    }

    async fn sync(
        &self,
        app: &str,
        trigger: Trigger,
        progress: ProgressSink,
    ) -> BackendResult<RunView> {
        let app = self.app(app).await?;
        let trigger = match trigger {
            Trigger::Manual => RunTrigger::Manual,
            Trigger::Api => RunTrigger::Api,
        };
        let id = self.engine.sync(&app, trigger, progress).await?;
        self.run_view(id).await
    }

    async fn sync_user(&self, app: &str, login: &str) -> BackendResult<RunView> {
        let id = self.engine.sync_user(&self.app(app).await?, login).await?;
        self.run_view(id).await
    }

    async fn explain(&self, app: &str, login: &str) -> BackendResult<ExplainView> {
        self.engine.explain(&self.app(app).await?, login).await
    }

    async fn approve_run(&self, id: i64, actor: &str) -> BackendResult<RunView> {
        let run = self.store.get_run(RunId(id)).await.map_err(store_error)?;
        let app = self.store.get_app(run.app_id).await.map_err(store_error)?;
        let id = self.engine.approve(&app, RunId(id), actor).await?;
        self.run_view(id).await
    }

    async fn reject_run(&self, id: i64, actor: &str) -> BackendResult<RunView> {
        let id = self.engine.reject(RunId(id), actor).await?;
        self.run_view(id).await
    }
}
