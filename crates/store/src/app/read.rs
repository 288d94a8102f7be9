//! Reading apps: the row layout, its conversion to [`App`], and the read methods.
//!
//! The non-secret parts of an app are flattened into [`Columns`], one value per column,
//! so the same shape serves writing a row and comparing old with new for the audit log.

use sqlx::AnyConnection;
use usersync_core::policy::SyncPolicy;

use super::secrets::{SecretRow, load_rows};
use crate::Store;
use crate::error::{DbContext as _, StoreError};
use crate::secret::{SecretSlot, SecretState};
use crate::stamp::Ts;
use usersync_core::app::{
    App, AppId, EventSettings, NotifySettings, OktaCredential, OktaSettings, Schedule,
    TargetCredential, TargetKind, TargetSettings, UserServer,
};

/// An app's non-secret configuration, as stored.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Columns {
    pub name: String,
    pub okta_url: String,
    pub okta_auth: &'static str,
    pub okta_client_id: Option<String>,
    pub okta_key_id: Option<String>,
    pub target_kind: &'static str,
    pub target_url: String,
    pub target_auth: &'static str,
    pub target_username: Option<String>,
    pub okta_ca_file: Option<String>,
    pub target_ca_file: Option<String>,
    pub target_user_server_name: Option<String>,
    pub schedule: serde_json::Value,
    pub policy: serde_json::Value,
    pub events: serde_json::Value,
    pub notify: serde_json::Value,
}

pub(crate) fn okta_columns<S>(
    c: &OktaCredential<S>,
) -> (&'static str, Option<String>, Option<String>) {
    match c {
        OktaCredential::ApiToken { .. } => ("api_token", None, None),
        OktaCredential::OAuth {
            client_id, key_id, ..
        } => ("oauth", Some(client_id.clone()), key_id.clone()),
    }
}

pub(crate) fn target_columns<S>(c: &TargetCredential<S>) -> (&'static str, Option<String>) {
    match c {
        TargetCredential::Pat { .. } => ("pat", None),
        TargetCredential::Basic { username, .. } => ("basic", Some(username.clone())),
        TargetCredential::Bearer { .. } => ("bearer", None),
        // The application's name lives where a basic credential's username does.
        TargetCredential::Application { name, .. } => ("application", Some(name.clone())),
    }
}

/// The event settings as stored: everything but the secret, which lives in `app_secrets`.
pub(crate) fn events_json<S>(events: &EventSettings<S>) -> serde_json::Value {
    serde_json::json!({
        "hook_enabled": events.hook_enabled,
        "event_types": events.event_types,
        "poll_system_log": events.poll_system_log,
        "poll_interval_seconds": events.poll_interval_seconds,
    })
}

/// The notification settings as stored: everything but the secrets.
pub(crate) fn notify_json<S>(notify: &NotifySettings<S>) -> serde_json::Value {
    to_json(&notify.map_ref(|_, _| ()))
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    // These types are plain data with string keys; serialising them cannot fail.
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

impl Columns {
    pub(crate) fn of_app(app: &App) -> Self {
        let (okta_auth, okta_client_id, okta_key_id) = okta_columns(&app.okta.credential);
        let (target_auth, target_username) = target_columns(&app.target.credential);
        Self {
            name: app.name.clone(),
            okta_url: app.okta.url.to_string(),
            okta_auth,
            okta_client_id,
            okta_key_id,
            target_kind: app.target.kind.as_str(),
            target_url: app.target.url.to_string(),
            target_auth,
            target_username,
            okta_ca_file: app.okta.ca_file.clone(),
            target_ca_file: app.target.ca_file.clone(),
            target_user_server_name: app.target.user_server.as_ref().map(|u| u.name.clone()),
            schedule: to_json(&app.schedule),
            policy: to_json(&app.policy),
            events: events_json(&app.events),
            notify: notify_json(&app.notify),
        }
    }
}

#[derive(sqlx::FromRow)]
struct AppRow {
    id: i64,
    name: String,
    okta_url: String,
    okta_auth: String,
    okta_client_id: Option<String>,
    okta_key_id: Option<String>,
    target_kind: String,
    target_url: String,
    target_auth: String,
    target_username: Option<String>,
    okta_ca_file: Option<String>,
    target_ca_file: Option<String>,
    target_user_server_name: Option<String>,
    schedule_json: String,
    policy_json: String,
    events_json: String,
    notify_json: String,
    created_at: Ts,
    updated_at: Ts,
}

const SELECT_APP: &str = "SELECT id, name, okta_url, okta_auth, okta_client_id, okta_key_id, \
     target_kind, target_url, target_auth, target_username, okta_ca_file, target_ca_file, \
     target_user_server_name, schedule_json, policy_json, events_json, notify_json, created_at, \
     updated_at FROM apps";

fn unreadable(what: &str, id: i64) -> StoreError {
    StoreError::Database {
        context: format!("reading app {id}"),
        message: format!("the stored {what} is not understood by this version"),
    }
}

fn state(
    secrets: &std::collections::HashMap<SecretSlot, SecretRow>,
    slot: SecretSlot,
) -> SecretState {
    secrets.get(&slot).map(SecretRow::state).unwrap_or_default()
}

fn build(
    row: AppRow,
    secrets: &std::collections::HashMap<SecretSlot, SecretRow>,
) -> Result<App, StoreError> {
    let id = row.id;
    let okta_credential = match row.okta_auth.as_str() {
        "api_token" => OktaCredential::ApiToken { token: () },
        "oauth" => OktaCredential::OAuth {
            client_id: row.okta_client_id.unwrap_or_default(),
            key_id: row.okta_key_id,
            private_key: (),
        },
        _ => return Err(unreadable("Okta credential type", id)),
    };
    let target_credential = match row.target_auth.as_str() {
        "pat" => TargetCredential::Pat { token: () },
        "bearer" => TargetCredential::Bearer { token: () },
        "basic" => TargetCredential::Basic {
            username: row.target_username.unwrap_or_default(),
            password: (),
        },
        "application" => TargetCredential::Application {
            name: row.target_username.unwrap_or_default(),
            password: (),
        },
        _ => return Err(unreadable("target credential type", id)),
    };
    let kind = TargetKind::parse(&row.target_kind).ok_or_else(|| unreadable("target kind", id))?;
    let context = format!("reading app {id}");
    let schedule: Schedule = serde_json::from_str(&row.schedule_json).ctx(&context)?;
    let policy: SyncPolicy = serde_json::from_str(&row.policy_json).ctx(&context)?;
    let events: EventSettings<SecretState> =
        serde_json::from_str(&row.events_json).ctx(&context)?;
    let notify: NotifySettings<()> = serde_json::from_str(&row.notify_json).ctx(&context)?;
    let parse_url = |text: &str| url::Url::parse(text).map_err(|_| unreadable("URL", id));
    Ok(App {
        id: AppId(id),
        name: row.name,
        okta: OktaSettings {
            url: parse_url(&row.okta_url)?,
            credential: okta_credential.map(|slot, ()| state(secrets, slot)),
            ca_file: row.okta_ca_file,
        },
        target: TargetSettings {
            kind,
            url: parse_url(&row.target_url)?,
            credential: target_credential.map(|slot, ()| state(secrets, slot)),
            ca_file: row.target_ca_file,
            user_server: row.target_user_server_name.map(|name| UserServer {
                name,
                password: state(secrets, SecretSlot::UserServerPassword),
            }),
        },
        schedule,
        policy,
        events: events.with_secret(state(secrets, SecretSlot::HookSecret)),
        notify: notify.map_ref(|slot, ()| state(secrets, slot)),
        created_at: row.created_at.0,
        updated_at: row.updated_at.0,
    })
}

/// Loads one app with its secret states, or `None`.
pub(crate) async fn load(conn: &mut AnyConnection, id: AppId) -> Result<Option<App>, StoreError> {
    let row: Option<AppRow> = sqlx::query_as(&format!("{SELECT_APP} WHERE id = $1"))
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await
        .ctx("reading an app")?;
    let Some(row) = row else { return Ok(None) };
    let secrets = load_rows(conn, id).await?;
    build(row, &secrets).map(Some)
}

/// The id of the app with this name (ignoring case), if any.
pub(crate) async fn id_by_name(
    conn: &mut AnyConnection,
    name: &str,
) -> Result<Option<AppId>, StoreError> {
    let id: Option<i64> = sqlx::query_scalar("SELECT id FROM apps WHERE name_folded = $1")
        .bind(name.trim().to_lowercase())
        .fetch_optional(conn)
        .await
        .ctx("looking up an app by name")?;
    Ok(id.map(AppId))
}

impl Store {
    /// The app with this id.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when there is none.
    pub async fn get_app(&self, id: AppId) -> Result<App, StoreError> {
        let mut conn = self.db.acquire().await.ctx("reading an app")?;
        load(&mut conn, id)
            .await?
            .ok_or_else(|| StoreError::not_found(format!("app {id}")))
    }

    /// The app with this name (ignoring case), if any.
    ///
    /// # Errors
    /// Database failures.
    pub async fn find_app(&self, name: &str) -> Result<Option<App>, StoreError> {
        let mut conn = self.db.acquire().await.ctx("reading an app")?;
        match id_by_name(&mut conn, name).await? {
            Some(id) => load(&mut conn, id).await,
            None => Ok(None),
        }
    }

    /// The app with this name (ignoring case).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] naming the app when there is none.
    pub async fn app_by_name(&self, name: &str) -> Result<App, StoreError> {
        self.find_app(name)
            .await?
            .ok_or_else(|| StoreError::not_found(format!("app {name:?}")))
    }

    /// Every app, by name.
    ///
    /// # Errors
    /// Database failures.
    pub async fn list_apps(&self) -> Result<Vec<App>, StoreError> {
        let mut conn = self.db.acquire().await.ctx("listing apps")?;
        let rows: Vec<AppRow> = sqlx::query_as(&format!("{SELECT_APP} ORDER BY name_folded"))
            .fetch_all(&mut *conn)
            .await
            .ctx("listing apps")?;
        let mut apps = Vec::with_capacity(rows.len());
        for row in rows {
            let secrets = load_rows(&mut conn, AppId(row.id)).await?;
            apps.push(build(row, &secrets)?);
        }
        Ok(apps)
    }
}
