//! The narrow interface between the web layer and the rest of usersync: every
//! action a page or API route performs, in the console's own types.
//!
//! Handlers depend only on [`Backend`]; [`super::adapter`] implements it over the
//! store and the sync engine. Keeping the seam here means the HTTP layer never
//! touches SQL or engine internals, and what the console can do is listed in one place.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use usersync_okta::BucketHeadroom;

use super::model::{
    AppInput, AppSummary, AppView, AuditView, CheckReport, ExplainView, OperationView, PlanView,
    RunView,
};
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

/// Everything the console does.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    // Administrators, sessions and API tokens.
    async fn admin_count(&self) -> BackendResult<u64>;
    async fn create_admin(&self, username: &str, password_phc: &str) -> BackendResult<()>;
    /// Creates the first administrator, atomically, when `code` is the setup code.
    async fn create_first_admin(
        &self,
        username: &str,
        password_phc: &str,
        code: &str,
    ) -> BackendResult<usersync_store::FirstAdmin>;
    /// The stored PHC hash of an administrator, by username (case-insensitive).
    async fn admin_password_hash(&self, username: &str) -> BackendResult<Option<String>>;
    async fn create_session(
        &self,
        id_hash: &str,
        username: &str,
        csrf_token: &str,
        expires_at: DateTime<Utc>,
    ) -> BackendResult<()>;
    /// A live (unexpired) session by the hash of its id.
    async fn session(&self, id_hash: &str) -> BackendResult<Option<SessionRecord>>;
    async fn delete_session(&self, id_hash: &str) -> BackendResult<()>;
    async fn create_api_token(&self, name: &str, token_hash: &str) -> BackendResult<()>;
    /// The name of the API token with this hash (recording its use), if any.
    async fn api_token(&self, token_hash: &str) -> BackendResult<Option<String>>;

    // Apps.
    async fn list_apps(&self) -> BackendResult<Vec<AppSummary>>;
    async fn get_app(&self, name: &str) -> BackendResult<AppView>;
    async fn create_app(&self, input: AppInput, actor: &str) -> BackendResult<AppView>;
    async fn update_app(&self, name: &str, input: AppInput, actor: &str) -> BackendResult<AppView>;
    async fn delete_app(&self, name: &str, actor: &str) -> BackendResult<()>;

    // Runs and audit.
    async fn list_runs(&self, app: Option<&str>, limit: u32) -> BackendResult<Vec<RunView>>;
    async fn get_run(&self, id: i64) -> BackendResult<RunView>;
    async fn run_operations(&self, id: i64) -> BackendResult<Vec<OperationView>>;
    async fn list_audit(&self, limit: u32) -> BackendResult<Vec<AuditView>>;
    async fn stored_counts(&self) -> BackendResult<StoredCounts>;
    /// True when the store can write now (readiness).
    async fn ready(&self) -> bool;
    /// The Okta rate-limit figures each app's latest run in this process ended
    /// with (runs by the console, the API, the scheduler and event hooks alike).
    fn okta_headroom(&self) -> BTreeMap<String, Vec<BucketHeadroom>>;

    // The engine.
    async fn check(&self, app: &str) -> BackendResult<CheckReport>;
    async fn plan(&self, app: &str) -> BackendResult<PlanView>;
    /// Runs a full sync to its end (or until held) and returns the recorded run.
    async fn sync(
        &self,
        app: &str,
        trigger: Trigger,
        progress: ProgressSink,
    ) -> BackendResult<RunView>;
    async fn sync_user(&self, app: &str, login: &str) -> BackendResult<RunView>;
    async fn explain(&self, app: &str, login: &str) -> BackendResult<ExplainView>;
    /// Applies a held run's plan; returns the run as it ended.
    async fn approve_run(&self, id: i64, actor: &str) -> BackendResult<RunView>;
    async fn reject_run(&self, id: i64, actor: &str) -> BackendResult<RunView>;
}
