//! Conversions between the store's types and the console's model, including the
//! translation of the store's validation field paths into the console's own.

use usersync_store as store;
use usersync_store::{
    App, AppDraft, OktaCredential, OktaDraft, Run, Schedule, SecretInput, TargetCredential,
    TargetDraft,
};

use crate::web::backend::BackendError;
use crate::web::model::{
    AppInput, AppSummary, AppView, AuditView, OktaAuthKind, OktaView, OpCounts, OperationView,
    RunView, ScheduleView, SecretState, TargetAuthKind, TargetView,
};

/// The store's error as the console's, with field paths in the console's spelling.
pub fn store_error(err: store::StoreError) -> BackendError {
    use store::StoreError as E;
    match err {
        E::NotFound { what } => BackendError::NotFound(what),
        E::DuplicateName { .. } => BackendError::Conflict(err.to_string()),
        E::Conflict(message) => BackendError::Conflict(message),
        E::Validation { field, message } => BackendError::Validation {
            field: console_field(&field),
            message,
        },
        E::SecretReference { .. } => BackendError::Upstream(err.to_string()),
        other => BackendError::Internal(anyhow::Error::new(other)),
    }
}

/// `okta.credential.token` -> `okta.api_token`, and so on; other paths pass through.
#[must_use]
pub fn console_field(store_field: &str) -> String {
    let mapped = match store_field {
        "okta.credential.token" => "okta.api_token",
        "okta.credential.private_key" => "okta.private_key",
        "okta.credential.client_id" => "okta.client_id",
        "okta.credential.key_id" => "okta.key_id",
        "target.credential.token" | "target.credential.password" => "target.credential",
        "target.credential.username" => "target.username",
        "schedule.every_minutes" => "schedule.interval_minutes",
        other => other,
    };
    mapped.to_owned()
}

fn secret_state(state: &store::SecretState) -> SecretState {
    match state {
        store::SecretState::Unset => SecretState::Unset,
        store::SecretState::Stored => SecretState::Set,
        store::SecretState::Reference(r) => SecretState::Reference {
            reference: r.clone(),
        },
    }
}

fn schedule(s: &Schedule) -> ScheduleView {
    match s {
        Schedule::Manual => ScheduleView::default(),
        Schedule::EveryMinutes(m) => ScheduleView {
            interval_minutes: Some(*m),
            cron: None,
        },
        Schedule::Cron(c) => ScheduleView {
            interval_minutes: None,
            cron: Some(c.clone()),
        },
    }
}

/// A stored app as the console shows it.
#[must_use]
pub fn app_view(app: &App) -> AppView {
    let okta = match &app.okta.credential {
        OktaCredential::ApiToken { token } => OktaView {
            url: app.okta.url.to_string(),
            auth: OktaAuthKind::ApiToken,
            api_token: secret_state(token),
            client_id: None,
            key_id: None,
            private_key: SecretState::Unset,
        },
        OktaCredential::OAuth {
            client_id,
            key_id,
            private_key,
        } => OktaView {
            url: app.okta.url.to_string(),
            auth: OktaAuthKind::Oauth,
            api_token: SecretState::Unset,
            client_id: Some(client_id.clone()),
            key_id: key_id.clone(),
            private_key: secret_state(private_key),
        },
    };
    let (auth, username, credential) = match &app.target.credential {
        TargetCredential::Pat { token } => (TargetAuthKind::Pat, None, secret_state(token)),
        TargetCredential::Basic { username, password } => (
            TargetAuthKind::Basic,
            Some(username.clone()),
            secret_state(password),
        ),
    };
    AppView {
        name: app.name.clone(),
        okta,
        target: TargetView {
            kind: app.target.kind,
            url: app.target.url.to_string(),
            auth,
            username,
            credential,
        },
        schedule: schedule(&app.schedule),
        policy: app.policy.clone(),
    }
}

/// A row of the apps list.
#[must_use]
pub fn app_summary(app: &App, last_run: Option<RunView>) -> AppSummary {
    AppSummary {
        name: app.name.clone(),
        target_kind: app.target.kind,
        target_url: app.target.url.to_string(),
        schedule: schedule(&app.schedule),
        last_run,
    }
}

fn secret_input(value: Option<String>) -> SecretInput {
    match value {
        Some(v) if !v.trim().is_empty() => SecretInput::from_text(v.trim()),
        _ => SecretInput::Keep,
    }
}

/// The draft the store validates; event settings (not edited here) come from `existing`.
#[must_use]
pub fn draft(input: AppInput, existing: Option<App>) -> AppDraft {
    let okta = match input.okta.auth {
        OktaAuthKind::ApiToken => OktaCredential::ApiToken {
            token: secret_input(input.okta.api_token),
        },
        OktaAuthKind::Oauth => OktaCredential::OAuth {
            client_id: input.okta.client_id.unwrap_or_default(),
            key_id: input.okta.key_id,
            private_key: secret_input(input.okta.private_key),
        },
    };
    let target = match input.target.auth {
        TargetAuthKind::Pat => TargetCredential::Pat {
            token: secret_input(input.target.credential),
        },
        TargetAuthKind::Basic => TargetCredential::Basic {
            username: input.target.username.unwrap_or_default(),
            password: secret_input(input.target.credential),
        },
    };
    let schedule = match (input.schedule.interval_minutes, input.schedule.cron) {
        (_, Some(cron)) => Schedule::Cron(cron),
        (Some(m), None) => Schedule::EveryMinutes(m),
        (None, None) => Schedule::Manual,
    };
    let events = existing
        .map(|app| app.events.with_secret(SecretInput::Keep))
        .unwrap_or_default();
    AppDraft {
        name: input.name,
        okta: OktaDraft {
            url: input.okta.url,
            credential: okta,
        },
        target: TargetDraft {
            kind: input.target.kind.as_str().into(),
            url: input.target.url,
            credential: target,
        },
        schedule,
        policy: input.policy,
        events,
    }
}

/// A run as the console shows it.
#[must_use]
pub fn run_view(run: &Run, app: &str) -> RunView {
    RunView {
        id: run.id.0,
        app: app.to_owned(),
        trigger: run.trigger.as_str().to_owned(),
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
