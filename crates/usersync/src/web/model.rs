//! The console's own view of apps, runs and plans: the JSON shapes of the REST
//! API (with their OpenAPI schemas) and what the HTML pages render.
//!
//! An app itself is not here: the API reads the core's [`usersync_core::app::AppDraft`]
//! and answers with the stored [`usersync_core::app::App`] (secrets as their state
//! only); [`AppDraftSchema`] and [`AppSchema`] describe those shapes in the OpenAPI
//! document. Runs, plans and reports have console shapes of their own.

use serde::{Deserialize, Serialize};
use usersync_core::app::{NotifyOn, Schedule, TargetKind};
use utoipa::ToSchema;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::{KnownFormat, RefOr, SchemaFormat};

/// The OpenAPI schema of the app model's [`TargetKind`]: one of its names.
fn target_kind_schema() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some("The target product: Jira or Confluence Data Center, any SCIM 2.0 service, or Atlassian Cloud."))
        .enum_values(Some(TargetKind::ALL.map(TargetKind::as_str)))
}

fn text(description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
}

fn object(description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(description))
}

/// An [`Schedule`]: `"manual"`, `{ "every_minutes": n }` or `{ "cron": "..." }`.
fn schedule_schema() -> Schema {
    Schema::OneOf(
        OneOfBuilder::new()
            .description(Some("Scheduler Time Interval: \"manual\", { \"every_minutes\": 1..10080 } or { \"cron\": \"0 */2 * * *\" } (UTC)."))
            .item(text("Only on demand.").enum_values(Some(["manual"])))
            .item(object("Every this many minutes.").property("every_minutes", ObjectBuilder::new().schema_type(Type::Integer)).required("every_minutes"))
            .item(object("A cron expression in UTC.").property("cron", text("Five fields, or six with seconds first.")).required("cron"))
            .build(),
    )
}

/// How a secret appears: in a draft as text or null, in a stored app as its state.
fn secret_schema(stored: bool) -> ObjectBuilder {
    if stored {
        object("A write-only secret's state; never its value.")
            .property(
                "state",
                text("unset, stored or reference").enum_values(Some([
                    "unset",
                    "stored",
                    "reference",
                ])),
            )
            .property(
                "reference",
                text("The env:NAME or file:/path it is read from."),
            )
            .required("state")
    } else {
        ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
                Type::String,
                Type::Null,
            ]))
            .description(Some(
                "A value, env:NAME or file:/path; null or left out keeps the stored secret.",
            ))
    }
}

/// The credential objects of either side, tagged by `type`.
fn credential_schema(side: &str, kinds: &[&str], stored: bool) -> ObjectBuilder {
    let (names, secrets): (&[&str], &[&str]) = if side == "okta" {
        (&["client_id", "key_id"], &["token", "private_key"])
    } else {
        (&["username"], &["token", "password"])
    };
    let mut credential = object("How usersync signs in; the fields depend on `type`.")
        .property(
            "type",
            text("The kind of credential.").enum_values(Some(kinds.to_vec())),
        )
        .required("type");
    for name in names {
        credential = credential.property(*name, text(name));
    }
    for secret in secrets {
        credential = credential.property(*secret, secret_schema(stored));
    }
    credential
}

/// The `notify` object: when and where an app's people are told about runs.
fn notify_schema(stored: bool) -> ObjectBuilder {
    let kinds = NotifyOn::ALL.map(NotifyOn::as_str);
    let on = ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(kinds));
    let smtp = object("The SMTP server, per app.")
        .property("host", text("e.g. smtp.example.com"))
        .property(
            "port",
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .description(Some("587 by default.")),
        )
        .property("username", text("Sign in as; left out: no authentication."))
        .property("password", secret_schema(stored))
        .property(
            "starttls",
            ObjectBuilder::new()
                .schema_type(Type::Boolean)
                .description(Some("true by default; false only for a relay on loopback.")),
        )
        .required("host");
    let email = object("E-mail over SMTP with STARTTLS.")
        .property(
            "to",
            utoipa::openapi::schema::ArrayBuilder::new().items(text("an address")),
        )
        .property("from", text("The sender address."))
        .property("smtp", smtp)
        .required("to")
        .required("from")
        .required("smtp");
    object("Notifications when a run is held, fails, ends partial or a login-time sync is refused; left out of a draft: kept (new apps: none).")
        .property("on", utoipa::openapi::schema::ArrayBuilder::new().items(on).description(Some("Which endings are reported; all by default.")))
        .property("webhook", object("A JSON webhook (Slack-compatible text).").property("url", secret_schema(stored)))
        .property("email", email)
}

/// The shape shared by a draft and a stored app.
fn app_object(description: &str, stored: bool) -> ObjectBuilder {
    let url = |example: &str| text(&format!("Base URL, e.g. {example}."));
    let ca_file = || {
        text(
            "Optional: absolute path on the usersync host of a PEM bundle of extra CA \
             certificates trusted for this side, besides the operating system's store \
             (e.g. /etc/ssl/corp.pem). Left out or empty: none.",
        )
    };
    let okta = object("Okta")
        .property("url", url("https://example.okta.com"))
        .property(
            "credential",
            credential_schema("okta", &["api_token", "oauth"], stored),
        )
        .property("ca_file", ca_file())
        .required("url")
        .required("credential");
    let target = object("The Atlassian product")
        .property("kind", target_kind_schema())
        .property("url", url("https://jira.example.com"))
        .property(
            "credential",
            credential_schema("target", &["pat", "basic", "bearer"], stored),
        )
        .property("ca_file", ca_file())
        .property(
            "user_server",
            object(
                "Jira before 8.3 only: the application of Jira's \"Jira user server\" page, \
                 through which users are deactivated and reactivated; left out: none.",
            )
            .property("name", text("The application's name."))
            .property("password", secret_schema(stored))
            .required("name"),
        )
        .required("kind")
        .required("url")
        .required("credential");
    let events = object(
        "Okta event hooks and System Log polling; left out of a draft: kept (new apps: defaults).",
    )
    .property("hook_secret", secret_schema(stored));
    object(description)
        .property("name", text("App Name: unique, ignoring case."))
        .property("notify", notify_schema(stored))
        .property("okta", okta)
        .property("target", target)
        .property("schedule", schedule_schema())
        .property("policy", object("Engine settings: toggles, username regex and replacement, scope, mapping, default groups, protected accounts, safety limits."))
        .property("events", events)
        .required("name")
        .required("okta")
        .required("target")
}

/// The OpenAPI description of the app draft: the request body of create and update, in
/// the shape of the TOML file (`usersync app apply`).
pub struct AppDraftSchema;

impl utoipa::PartialSchema for AppDraftSchema {
    fn schema() -> RefOr<Schema> {
        app_object("An app to create or its new settings, as in the TOML file. Field paths in errors (e.g. policy.username.regex) are paths in this object.", false).build().into()
    }
}

impl ToSchema for AppDraftSchema {
    fn name() -> std::borrow::Cow<'static, str> {
        "AppDraft".into()
    }
}

/// The OpenAPI description of a stored app: the draft's shape, secrets as their state.
pub struct AppSchema;

impl utoipa::PartialSchema for AppSchema {
    fn schema() -> RefOr<Schema> {
        let time = || {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
        };
        app_object("A stored app; secrets appear only as their state.", true)
            .property("id", ObjectBuilder::new().schema_type(Type::Integer))
            .property("created_at", time())
            .property("updated_at", time())
            .required("id")
            .required("schedule")
            .required("policy")
            .required("events")
            .build()
            .into()
    }
}

impl ToSchema for AppSchema {
    fn name() -> std::borrow::Cow<'static, str> {
        "App".into()
    }
}

/// Words for a schedule, as the apps list shows it.
#[must_use]
pub fn describe_schedule(schedule: &Schedule) -> String {
    match schedule {
        Schedule::Cron(cron) => format!("cron {cron}"),
        Schedule::EveryMinutes(m) if *m % 60 == 0 && *m >= 60 => format!("every {} h", m / 60),
        Schedule::EveryMinutes(m) => format!("every {m} min"),
        Schedule::Manual => "manual only".into(),
    }
}

/// One row of the apps list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AppSummary {
    pub name: String,
    #[schema(schema_with = target_kind_schema)]
    pub target_kind: TargetKind,
    pub target_url: String,
    #[schema(schema_with = schedule_schema)]
    pub schedule: Schedule,
    pub last_run: Option<RunView>,
    /// The app's held run, waiting for approval, when it is not `last_run` (a later
    /// single-user run does not hide it).
    pub held_run: Option<RunView>,
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
    /// Who approved or rejected a held run, and when.
    #[serde(default)]
    pub decided_by: Option<String>,
    #[serde(default)]
    pub decided_at: Option<chrono::DateTime<chrono::Utc>>,
    /// For a sync of the whole app: `full` or `incremental` (null for single-user
    /// runs, approvals and runs from before incremental sync).
    #[serde(default)]
    pub sync_kind: Option<String>,
    /// Why the run was full or incremental.
    #[serde(default)]
    pub sync_kind_reason: Option<String>,
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
    /// Where each fact came from: when Okta was read, which target account was
    /// looked up, the identity link in the store.
    #[serde(default)]
    pub sources: Vec<String>,
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
    /// The schedule in words.
    #[must_use]
    pub fn schedule_text(&self) -> String {
        describe_schedule(&self.schedule)
    }

    /// The product's name for the apps list.
    #[must_use]
    pub fn kind_label(&self) -> &'static str {
        match self.target_kind {
            TargetKind::Jira => "Jira",
            TargetKind::Confluence => "Confluence",
            TargetKind::Scim => "SCIM 2.0",
            TargetKind::AtlassianCloud => "Atlassian Cloud",
            TargetKind::Crowd => "Crowd",
        }
    }
}

mod report;
pub use report::{
    InactiveInOktaView, NeverSignedInView, OrphanView, ReportView, SeatsView, UnmanagedMemberView,
};
