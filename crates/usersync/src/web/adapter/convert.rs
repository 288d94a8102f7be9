//! Conversions between the store's types and the console's model, and between a
//! stored [`App`] and the JSON of its draft (the shape of the TOML file, the API's
//! request body and the settings form's field paths).

use serde_json::{Map, Value};
use usersync_core::FieldProblem;
use usersync_core::app::{EventSettings, NotifySettings, SecretSlot, SecretState};
use usersync_core::policy::SyncPolicy;
use usersync_store as store;
use usersync_store::{App, AppDraft, Run};

use crate::web::backend::BackendError;
use crate::web::model::{AppSummary, AuditView, OpCounts, OperationView, RunView};

/// The store's error as the console's; field paths pass through unchanged.
pub fn store_error(err: store::StoreError) -> BackendError {
    use store::StoreError as E;
    match err {
        E::NotFound { what } => BackendError::NotFound(what),
        E::DuplicateName { .. } => BackendError::Conflict(err.to_string()),
        E::Conflict(message) => BackendError::Conflict(message),
        E::Claimed { .. } => BackendError::Busy(err.to_string()),
        E::Validation { field, message } => BackendError::Validation { field, message },
        E::SecretReference { .. } => BackendError::Upstream(err.to_string()),
        other => BackendError::Internal(anyhow::Error::new(other)),
    }
}

/// A validation problem as the console's error.
#[must_use]
pub fn problem_error(problem: FieldProblem) -> BackendError {
    BackendError::Validation {
        field: problem.field,
        message: problem.message,
    }
}

/// A row of the apps list.
#[must_use]
pub fn app_summary(app: &App, last_run: Option<RunView>, held_run: Option<RunView>) -> AppSummary {
    let held_run = held_run.filter(|held| last_run.as_ref().is_none_or(|last| last.id != held.id));
    AppSummary {
        name: app.name.clone(),
        target_kind: app.target.kind,
        target_url: app.target.url.to_string(),
        schedule: app.schedule.clone(),
        last_run,
        held_run,
    }
}

/// The draft JSON of a new app: the product's defaults, no secrets.
#[must_use]
pub fn new_draft_json() -> Value {
    let events = json_of(&EventSettings::<SecretState>::default());
    without_secrets(serde_json::json!({
        "name": "",
        "okta": { "url": "", "credential": { "type": "api_token" } },
        "target": { "kind": "jira", "url": "", "credential": { "type": "pat" } },
        "schedule": { "every_minutes": 60 },
        "policy": SyncPolicy::default(),
        "events": events,
        "notify": json_of(&NotifySettings::<SecretState>::default()),
    }))
}

/// A stored app as the draft that would leave it as it is: every setting, and no
/// secret (a secret left out keeps the stored one).
#[must_use]
pub fn draft_json(app: &App) -> Value {
    let mut value = json_of(app);
    if let Value::Object(fields) = &mut value {
        for stored_only in ["id", "created_at", "updated_at"] {
            fields.remove(stored_only);
        }
    }
    without_secrets(value)
}

fn json_of(value: &impl serde::Serialize) -> Value {
    // Serialising these plain data types to a JSON value cannot fail.
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// `value` without the fields that hold secrets (in a stored app: their states).
fn without_secrets(mut value: Value) -> Value {
    for slot in SecretSlot::ALL {
        remove_path(&mut value, slot.field());
    }
    value
}

/// Removes the field at a dotted path; says whether there was one.
pub fn remove_path(value: &mut Value, path: &str) -> bool {
    let (parent, last) = match path.rsplit_once('.') {
        Some((parent, last)) => (value.pointer_mut(&pointer(parent)), last),
        None => (Some(value), path),
    };
    parent
        .and_then(Value::as_object_mut)
        .is_some_and(|fields| fields.remove(last).is_some())
}

/// The JSON pointer of a dotted path: `okta.url` -> `/okta/url`.
#[must_use]
pub fn pointer(path: &str) -> String {
    path.split('.').fold(String::new(), |mut out, part| {
        out.push('/');
        out.push_str(&part.replace('~', "~0").replace('/', "~1"));
        out
    })
}

/// Sets the field at a dotted path, creating the objects on the way.
pub fn set_path(value: &mut Value, path: &str, field: Value) {
    let mut at = value;
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        if !at.is_object() {
            *at = Value::Object(Map::new());
        }
        let Value::Object(fields) = at else { return };
        if parts.peek().is_none() {
            fields.insert(part.to_owned(), field);
            return;
        }
        at = fields
            .entry(part)
            .or_insert_with(|| Value::Object(Map::new()));
    }
}

/// Reads a draft from JSON. Event and notification settings left out are the stored
/// app's (on a new app: the defaults), so a caller that does not manage them cannot
/// reset them.
///
/// # Errors
/// A [`FieldProblem`] at the path of the first field that does not fit the draft.
pub fn draft_from_json(mut value: Value, stored: Option<&App>) -> Result<AppDraft, FieldProblem> {
    if let (Value::Object(fields), Some(app)) = (&mut value, stored) {
        let kept = [
            ("events", json_of(&app.events)),
            ("notify", json_of(&app.notify)),
        ];
        for (name, settings) in kept {
            if !fields.contains_key(name) {
                let mut shape = without_secrets(serde_json::json!({ name: settings }));
                fields.insert(name.into(), shape[name].take());
            }
        }
    }
    serde_path_to_error::deserialize(&value).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { String::new() } else { path };
        FieldProblem::new(field, e.inner().to_string())
    })
}

/// A run as the console shows it.
#[must_use]
pub fn run_view(run: &Run, app: &str) -> RunView {
    RunView {
        id: run.id.0,
        app: app.to_owned(),
        trigger: run.trigger.as_str().to_owned(),
        sync_kind: run.sync_kind.map(|k| k.as_str().to_owned()),
        sync_kind_reason: run.sync_kind_reason.clone(),
        status: run.status.as_str().to_owned(),
        started_at: run.started_at,
        finished_at: run.finished_at,
        work_seconds: run.duration().map(|d| d.as_secs_f64()),
        counts: run
            .counts
            .iter()
            .map(|(k, c)| {
                (
                    k.clone(),
                    OpCounts {
                        planned: c.planned,
                        applied: c.applied,
                        failed: c.failed,
                        skipped: c.skipped,
                    },
                )
            })
            .collect(),
        reason: run.reason.clone(),
        decided_by: run.decided_by.clone(),
        decided_at: run.decided_at,
    }
}

/// One recorded operation; its description comes from the engine's payload when readable.
#[must_use]
pub fn operation_view(op: &store::Operation) -> OperationView {
    let description = crate::engine::record::parse_payload(&op.payload).map_or_else(
        |_| format!("{} {}", op.kind, op.subject),
        |p| p.op.to_string(),
    );
    OperationView {
        seq: i64::from(op.seq),
        kind: op.kind.clone(),
        subject: op.subject.clone(),
        rule: op.rule.clone(),
        description,
        outcome: op.outcome.as_str().to_owned(),
        error: op.error.clone(),
    }
}

#[must_use]
pub fn audit_view(entry: &store::AuditEntry) -> AuditView {
    AuditView {
        at: entry.at,
        actor: entry.actor.clone(),
        app: entry.app_name.clone(),
        action: entry.action.clone(),
        fields: entry.fields.clone(),
    }
}
