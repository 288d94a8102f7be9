//! Config as code: apps to and from TOML (`usersync app apply -f apps.toml`, `app export`).
//!
//! A file is a list of `[[app]]` tables in the shape of [`AppDraft`]:
//!
//! ```toml
//! [[app]]
//! name = "Jira production"
//! schedule = { every_minutes = 60 }        # or { cron = "0 */2 * * *" }, or "manual"
//!
//! [app.okta]
//! url = "https://example.okta.com"
//! credential = { type = "api_token", token = "env:OKTA_API_TOKEN" }
//! # ca_file = "/etc/ssl/corp.pem"        # an extra CA trusted for this side (optional)
//! # or { type = "oauth", client_id = "0oa...", key_id = "kid", private_key = "file:/etc/usersync/okta.pem" }
//!
//! [app.target]
//! kind = "jira"                            # or "confluence"
//! url = "https://jira.example.com"
//! credential = { type = "pat", token = "file:/run/secrets/jira-pat" }
//! ca_file = "/etc/ssl/corp.pem"            # optional, per side: Jira behind a company CA
//! # or { type = "basic", username = "svc-usersync", password = "env:JIRA_PASSWORD" }
//! # user_server = { name = "usersync", password = "env:JIRA_APP_PASSWORD" }  # Jira < 8.3: deactivates
//!
//! [app.policy.toggles]
//! import_users = true
//! update_users = true
//! enable_disable_users = false
//!
//! [app.policy.username]
//! regex = '^([^@]+)@example\.com$'
//! replacement = "$1"
//!
//! [app.notify]                             # optional: who is told when a run needs attention
//! on = ["held", "failed", "partial", "login_refused"]   # the default
//! webhook = { url = "env:SLACK_WEBHOOK_URL" }
//!
//! [app.notify.email]
//! to = ["ops@example.com"]
//! from = "usersync@example.com"
//! smtp = { host = "smtp.example.com", port = 587, username = "usersync", password = "env:SMTP_PASSWORD" }
//! ```
//!
//! A secret is a string: `env:NAME` and `file:/path` are references, anything else is the
//! value itself; an omitted secret keeps what is stored. Exports write references as
//! references and never write stored values: the field is left out (with a comment), so
//! applying the export again keeps the stored secret.

use serde::{Deserialize, Serialize};

use super::model::{
    App, AppDraft, EventSettings, OktaCredential, Schedule, TargetCredential, UserServer,
};
use super::notify::NotifySettings;
use super::secret::{SecretSlot, SecretState};
use crate::mapping::FieldProblem;
use crate::policy::SyncPolicy;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportFile {
    #[serde(default)]
    app: Vec<AppDraft>,
}

/// Parses a TOML file of apps. Drafts are validated when applied.
///
/// # Errors
/// A [`FieldProblem`] with field `toml` and the parser's message (line, column, key).
pub fn apps_from_toml(text: &str) -> Result<Vec<AppDraft>, FieldProblem> {
    toml::from_str::<ImportFile>(text)
        .map(|file| file.app)
        .map_err(|e| FieldProblem::new("toml", e.to_string()))
}

#[derive(Serialize)]
struct ExportFile<'a> {
    app: [ExportApp<'a>; 1],
}

#[derive(Serialize)]
struct ExportApp<'a> {
    name: &'a str,
    schedule: &'a Schedule,
    okta: ExportOkta<'a>,
    target: ExportTarget<'a>,
    policy: &'a SyncPolicy,
    events: EventSettings<Option<String>>,
    notify: NotifySettings<Option<String>>,
}

#[derive(Serialize)]
struct ExportOkta<'a> {
    url: &'a str,
    credential: OktaCredential<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ca_file: Option<&'a str>,
}

#[derive(Serialize)]
struct ExportTarget<'a> {
    kind: &'a str,
    url: &'a str,
    credential: TargetCredential<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ca_file: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_server: Option<UserServer<Option<String>>>,
}

/// A secret as exported: the reference, or nothing.
fn exported(state: &SecretState) -> Option<String> {
    match state {
        SecretState::Reference(reference) => Some(reference.clone()),
        SecretState::Unset | SecretState::Stored => None,
    }
}

fn okta_shape(credential: &OktaCredential<SecretState>) -> OktaCredential<Option<String>> {
    match credential {
        OktaCredential::ApiToken { token } => OktaCredential::ApiToken {
            token: exported(token),
        },
        OktaCredential::OAuth {
            client_id,
            key_id,
            private_key,
        } => OktaCredential::OAuth {
            client_id: client_id.clone(),
            key_id: key_id.clone(),
            private_key: exported(private_key),
        },
    }
}

fn target_shape(credential: &TargetCredential<SecretState>) -> TargetCredential<Option<String>> {
    match credential {
        TargetCredential::Pat { token } => TargetCredential::Pat {
            token: exported(token),
        },
        TargetCredential::Basic { username, password } => TargetCredential::Basic {
            username: username.clone(),
            password: exported(password),
        },
        TargetCredential::Bearer { token } => TargetCredential::Bearer {
            token: exported(token),
        },
        TargetCredential::Application { name, password } => TargetCredential::Application {
            name: name.clone(),
            password: exported(password),
        },
    }
}

fn export_one(app: &App) -> Result<String, toml::ser::Error> {
    let events = EventSettings {
        hook_enabled: app.events.hook_enabled,
        event_types: app.events.event_types.clone(),
        hook_secret: exported(&app.events.hook_secret),
        poll_system_log: app.events.poll_system_log,
        poll_interval_seconds: app.events.poll_interval_seconds,
    };
    let file = ExportFile {
        app: [ExportApp {
            name: &app.name,
            schedule: &app.schedule,
            okta: ExportOkta {
                url: app.okta.url.as_str(),
                credential: okta_shape(&app.okta.credential),
                ca_file: app.okta.ca_file.as_deref(),
            },
            target: ExportTarget {
                kind: app.target.kind.as_str(),
                url: app.target.url.as_str(),
                credential: target_shape(&app.target.credential),
                ca_file: app.target.ca_file.as_deref(),
                user_server: app.target.user_server.as_ref().map(|u| UserServer {
                    name: u.name.clone(),
                    password: exported(&u.password),
                }),
            },
            policy: &app.policy,
            events,
            notify: app.notify.map_ref(|_, state| exported(state)),
        }],
    };
    toml::to_string(&file)
}

/// Writes apps as a TOML file that [`apps_from_toml`] reads back. Secret values are never
/// written; stored ones are noted in a comment and kept when the file is applied again.
#[must_use]
pub fn apps_to_toml(apps: &[App]) -> String {
    let mut out = String::from(
        "# usersync apps. Secrets: env:NAME and file:/path are references; stored values are\n\
         # never exported, and a secret left out keeps the stored value when applied.\n",
    );
    for app in apps {
        out.push('\n');
        let stored: Vec<&str> = app
            .secret_states()
            .into_iter()
            .filter(|(_, state)| **state == SecretState::Stored)
            .map(|(slot, _)| SecretSlot::field(slot))
            .collect();
        if !stored.is_empty() {
            out.push_str(&format!(
                "# {}: stored (not exported): {}\n",
                app.name,
                stored.join(", ")
            ));
        }
        match export_one(app) {
            Ok(text) => out.push_str(&text),
            // Plain data always serialises; if it ever does not, say so in the file instead of panicking.
            Err(e) => out.push_str(&format!(
                "# app {:?} could not be exported: {e}\n",
                app.name
            )),
        }
    }
    out
}
