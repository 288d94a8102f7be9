//! The console's own view of apps, runs and plans: the JSON shapes of the REST
//! API (with their OpenAPI schemas) and what the HTML pages render.
//!
//! These are deliberately separate from the store's and engine's types so the
//! API stays stable while those evolve, and so no type here can hold a secret
//! value on the way out: secrets appear only as [`SecretState`].

use serde::{Deserialize, Serialize};
use usersync_core::app::TargetKind;
use usersync_core::policy::SyncPolicy;
use utoipa::ToSchema;

/// What the console may say about a write-only secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SecretState {
    /// No value.
    Unset,
    /// A value is stored (encrypted); it is never shown.
    Set,
    /// The value is read when used from this reference (`env:NAME` or `file:/path`).
    Reference { reference: String },
}

impl SecretState {
    /// Words for a form field.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Self::Unset => "not set".into(),
            Self::Set => "set".into(),
            Self::Reference { reference } => format!("read from {reference}"),
        }
    }

    #[must_use]
    pub fn is_set(&self) -> bool {
        !matches!(self, Self::Unset)
    }
}

/// How usersync signs in to Okta.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OktaAuthKind {
    /// An SSWS API token.
    ApiToken,
    /// An OAuth 2.0 service app (client id, private key, key id).
    Oauth,
}

/// How usersync signs in to the Atlassian product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TargetAuthKind {
    /// A personal access token.
    Pat,
    /// Username and password (HTTP basic).
    Basic,
}

/// The OpenAPI schema of the app model's [`TargetKind`]: one of its names.
fn target_kind_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .description(Some("The Atlassian product."))
        .enum_values(Some(TargetKind::ALL.map(TargetKind::as_str)))
        .build()
}

/// An app's settings as read back (secrets as states only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AppView {
    /// App Name (unique, case-insensitive).
    pub name: String,
    pub okta: OktaView,
    pub target: TargetView,
    pub schedule: ScheduleView,
    /// Engine settings: toggles, username regex and replacement, scope, mapping,
    /// default groups, protected accounts, safety limits.
    #[schema(value_type = Object)]
    pub policy: SyncPolicy,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OktaView {
    /// Okta Domain URL, e.g. `https://example.okta.com`.
    pub url: String,
    pub auth: OktaAuthKind,
    pub api_token: SecretState,
    pub client_id: Option<String>,
    pub key_id: Option<String>,
    pub private_key: SecretState,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TargetView {
    #[schema(schema_with = target_kind_schema)]
    pub kind: TargetKind,
    pub url: String,
    pub auth: TargetAuthKind,
    /// The account for basic authentication.
    pub username: Option<String>,
    /// The personal access token or password.
    pub credential: SecretState,
}

/// Scheduler Time Interval: every N minutes, or a cron expression, or neither (manual only).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
pub struct ScheduleView {
    pub interval_minutes: Option<u32>,
    pub cron: Option<String>,
}

impl ScheduleView {
    #[must_use]
    pub fn describe(&self) -> String {
        match (&self.interval_minutes, &self.cron) {
            (_, Some(cron)) => format!("cron {cron}"),
            (Some(m), None) if *m % 60 == 0 && *m >= 60 => format!("every {} h", m / 60),
            (Some(m), None) => format!("every {m} min"),
            (None, None) => "manual only".into(),
        }
    }
}

/// An app to create or the new settings of one. Secret fields are write-only:
/// absent or empty keeps the stored value; `env:NAME` or `file:/path` stores a reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AppInput {
    pub name: String,
    pub okta: OktaInput,
    pub target: TargetInput,
    #[serde(default)]
    pub schedule: ScheduleView,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub policy: SyncPolicy,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OktaInput {
    pub url: String,
    pub auth: OktaAuthKind,
    #[serde(default)]
    pub api_token: Option<String>,
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub key_id: Option<String>,
    #[serde(default)]
    pub private_key: Option<String>,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TargetInput {
    #[schema(schema_with = target_kind_schema)]
    pub kind: TargetKind,
    pub url: String,
    pub auth: TargetAuthKind,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub credential: Option<String>,
}

/// What Debug shows of a write-only secret field: whether one was given, never it.
fn redacted(value: Option<&String>) -> &'static str {
    match value {
        Some(v) if !v.is_empty() => "<redacted>",
        Some(_) => "<empty>",
        None => "<absent>",
    }
}

impl std::fmt::Debug for OktaInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OktaInput")
            .field("url", &self.url)
            .field("auth", &self.auth)
            .field("api_token", &redacted(self.api_token.as_ref()))
            .field("client_id", &self.client_id)
            .field("key_id", &self.key_id)
            .field("private_key", &redacted(self.private_key.as_ref()))
            .finish()
    }
}

impl std::fmt::Debug for TargetInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TargetInput")
            .field("kind", &self.kind)
            .field("url", &self.url)
            .field("auth", &self.auth)
            .field("username", &self.username)
            .field("credential", &redacted(self.credential.as_ref()))
            .finish()
    }
}

/// One row of the apps list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AppSummary {
    pub name: String,
    #[schema(schema_with = target_kind_schema)]
    pub target_kind: TargetKind,
    pub target_url: String,
    pub schedule: ScheduleView,
    pub last_run: Option<RunView>,
}

/// One run: its status, trigger, counts and timing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RunView {
    pub id: i64,
    pub app: String,
    /// manual, scheduled, login, event or api.
    pub trigger: String,
    /// running, succeeded, partial, failed, held, interrupted, rejected or superseded.
    pub status: String,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Seconds the run worked, once finished: for an approved run, its planning
    /// and its approval's apply, not the wait for the approval.
    #[serde(default)]
    pub work_seconds: Option<f64>,
    /// Per operation kind: planned, applied, failed, skipped.
    pub counts: std::collections::BTreeMap<String, OpCounts>,
    /// Why the run was held, failed or partial.
    pub reason: Option<String>,
}

impl RunView {
    /// Seconds the run worked (start to finish when no work time was recorded),
    /// when finished.
    #[must_use]
    pub fn duration(&self) -> String {
        match self.finished_at {
            Some(end) => {
                let ms = match self.work_seconds {
                    #[allow(clippy::cast_possible_truncation)] // seconds of one run
                    Some(s) => (s * 1000.0) as i64,
                    None => (end - self.started_at).num_milliseconds(),
                }
                .max(0);
                if ms < 10_000 {
                    format!("{:.1} s", ms as f64 / 1000.0)
                } else {
                    format!("{} s", ms / 1000)
                }
            }
            None => "—".into(),
        }
    }

    #[must_use]
    pub fn total_ops(&self) -> u64 {
        self.counts.values().map(|c| c.planned).sum()
    }

    #[must_use]
    pub fn started(&self) -> String {
        self.started_at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
    }
}

/// Operations of one kind in a run, by outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
pub struct OpCounts {
    pub planned: u64,
    pub applied: u64,
    pub failed: u64,
    pub skipped: u64,
}

/// One planned operation of a run and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OperationView {
    pub seq: i64,
    pub kind: String,
    /// The user or group it touches.
    pub subject: String,
    /// The rule that caused it.
    pub rule: String,
    /// What it does, in words.
    pub description: String,
    /// pending, applied, failed or skipped.
    pub outcome: String,
    pub error: Option<String>,
}

/// One operation of a dry-run plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PlanRow {
    pub kind: String,
    pub subject: String,
    pub description: String,
    pub rule: String,
    pub destructive: bool,
    /// The operation in its stable JSON form.
    #[schema(value_type = Object)]
    pub op: serde_json::Value,
}

/// A dry-run plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PlanView {
    pub app: String,
    pub operations: Vec<PlanRow>,
    /// Okta users left alone on purpose, with why.
    pub skipped: Vec<SkippedView>,
    /// Empty when the Okta read was complete; otherwise what could not be read.
    pub incomplete: Vec<String>,
    /// Set when applying this plan would be held for approval.
    pub would_hold: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SkippedView {
    pub login: String,
    pub reason: String,
}

/// The result of the connection and permission checks (`usersync check`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CheckReport {
    pub ok: bool,
    pub items: Vec<CheckItem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CheckItem {
    pub name: String,
    pub ok: bool,
    pub detail: String,
}

/// Why usersync would or would not change one user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ExplainView {
    pub login: String,
    /// The user's state in Okta, in words (or why it was not found).
    pub okta: Vec<String>,
    /// The user's state in the target.
    pub target: Vec<String>,
    /// The mapped target username, when the mapping produced one.
    pub username: Option<String>,
    /// What a sync would do and why.
    pub decisions: Vec<String>,
}

/// One audit-log entry (field names only, never values of secrets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuditView {
    pub at: chrono::DateTime<chrono::Utc>,
    pub actor: String,
    pub app: Option<String>,
    pub action: String,
    pub fields: Vec<String>,
}

/// A request to sync one user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SyncUserRequest {
    /// The user's Okta login.
    pub login: String,
}

impl AppSummary {
    /// The product's name for the apps list.
    #[must_use]
    pub fn kind_label(&self) -> &'static str {
        match self.target_kind {
            TargetKind::Jira => "Jira",
            TargetKind::Confluence => "Confluence",
        }
    }
}
