//! Creating, updating, applying and deleting apps, each in one transaction with its audit row.
//!
//! Saving compares the new configuration with the stored one field by field, so the
//! audit row names exactly what changed and re-applying an unchanged file changes nothing.

use std::collections::{BTreeSet, HashSet};

use sqlx::AnyConnection;

use usersync_core::app::{App, AppDraft, AppId, ValidApp};

use super::ApplyReport;
use super::read::{
    Columns, events_json, id_by_name, load, notify_json, okta_columns, target_columns, to_json,
};
use super::secrets::{Sealer, Wanted, load_rows, reconcile};
use crate::Store;
use crate::audit::{self, Subject};
use crate::error::{DbContext as _, StoreError, is_unique_violation};
use crate::secret::{SecretInput, SecretSlot};
use crate::stamp::Ts;

/// The non-secret columns of a validated app.
fn columns_of(app: &ValidApp) -> Columns {
    let (okta_auth, okta_client_id, okta_key_id) = okta_columns(&app.okta_credential);
    let (target_auth, target_username) = target_columns(&app.target_credential);
    Columns {
        name: app.name.clone(),
        okta_url: app.okta_url.to_string(),
        okta_auth,
        okta_client_id,
        okta_key_id,
        target_kind: app.target_kind.as_str(),
        target_url: app.target_url.to_string(),
        target_auth,
        target_username,
        okta_ca_file: app.okta_ca_file.clone(),
        target_ca_file: app.target_ca_file.clone(),
        target_user_server_name: app.target_user_server.as_ref().map(|u| u.name.clone()),
        schedule: to_json(&app.schedule),
        policy: to_json(&app.policy),
        events: events_json(&app.events),
        notify: notify_json(&app.notify),
    }
}

/// The input for each secret slot this configuration uses, and whether it is required.
fn secret_inputs_of(app: &ValidApp) -> Vec<(SecretSlot, &SecretInput, bool)> {
    let mut inputs: Vec<_> = app
        .okta_credential
        .secrets()
        .into_iter()
        .map(|(s, i)| (s, i, true))
        .collect();
    inputs.extend(
        app.target_credential
            .secrets()
            .into_iter()
            .map(|(s, i)| (s, i, true)),
    );
    if let Some(server) = &app.target_user_server {
        inputs.push((SecretSlot::UserServerPassword, &server.password, true));
    }
    inputs.push((
        SecretSlot::HookSecret,
        &app.events.hook_secret,
        app.events.hook_enabled,
    ));
    inputs.extend(app.notify.secrets());
    inputs
}

/// Names of the fields that differ; JSON settings are compared key by key.
fn changed_fields(old: Option<&Columns>, new: &Columns) -> Vec<String> {
    let mut fields = Vec::new();
    let mut scalar = |name: &str, differs: bool| {
        if differs {
            fields.push(name.to_owned());
        }
    };
    scalar("name", old.is_none_or(|o| o.name != new.name));
    scalar("okta.url", old.is_none_or(|o| o.okta_url != new.okta_url));
    scalar(
        "okta.credential.type",
        old.is_none_or(|o| o.okta_auth != new.okta_auth),
    );
    scalar(
        "okta.credential.client_id",
        old.is_some_and(|o| o.okta_client_id != new.okta_client_id),
    );
    scalar(
        "okta.credential.key_id",
        old.is_some_and(|o| o.okta_key_id != new.okta_key_id),
    );
    scalar(
        "target.kind",
        old.is_none_or(|o| o.target_kind != new.target_kind),
    );
    scalar(
        "target.url",
        old.is_none_or(|o| o.target_url != new.target_url),
    );
    scalar(
        "target.credential.type",
        old.is_none_or(|o| o.target_auth != new.target_auth),
    );
    scalar(
        "target.credential.username",
        old.is_some_and(|o| o.target_username != new.target_username),
    );
    scalar(
        "okta.ca_file",
        old.is_some_and(|o| o.okta_ca_file != new.okta_ca_file),
    );
    scalar(
        "target.ca_file",
        old.is_some_and(|o| o.target_ca_file != new.target_ca_file),
    );
    scalar(
        "target.user_server.name",
        old.is_some_and(|o| o.target_user_server_name != new.target_user_server_name),
    );
    scalar("schedule", old.is_none_or(|o| o.schedule != new.schedule));
    json_fields(&mut fields, "policy", old.map(|o| &o.policy), &new.policy);
    json_fields(&mut fields, "events", old.map(|o| &o.events), &new.events);
    json_fields(&mut fields, "notify", old.map(|o| &o.notify), &new.notify);
    fields
}

fn json_fields(
    out: &mut Vec<String>,
    prefix: &str,
    old: Option<&serde_json::Value>,
    new: &serde_json::Value,
) {
    let Some(old) = old else {
        out.push(prefix.to_owned());
        return;
    };
    let keys: BTreeSet<&String> = [old, new]
        .iter()
        .filter_map(|v| v.as_object())
        .flat_map(|o| o.keys())
        .collect();
    for key in keys {
        if old.get(key) != new.get(key) {
            out.push(format!("{prefix}.{key}"));
        }
    }
}

/// What saving one app did.
struct Saved {
    id: AppId,
    created: bool,
    changed: bool,
}

async fn write_columns(
    conn: &mut AnyConnection,
    id: Option<AppId>,
    c: &Columns,
) -> Result<AppId, StoreError> {
    let sql = match id {
        None => {
            "INSERT INTO apps (name, name_folded, okta_url, okta_auth, okta_client_id, okta_key_id, \
                 target_kind, target_url, target_auth, target_username, schedule_json, policy_json, \
                 events_json, created_at, updated_at, okta_ca_file, target_ca_file, notify_json, \
                 target_user_server_name) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, $15, $16, $17, $18) \
                 RETURNING id"
        }
        Some(_) => {
            "UPDATE apps SET name = $1, name_folded = $2, okta_url = $3, okta_auth = $4, \
                 okta_client_id = $5, okta_key_id = $6, target_kind = $7, target_url = $8, \
                 target_auth = $9, target_username = $10, schedule_json = $11, policy_json = $12, \
                 events_json = $13, updated_at = $14, okta_ca_file = $15, target_ca_file = $16, \
                 notify_json = $17, target_user_server_name = $18 WHERE id = $19 RETURNING id"
        }
    };
    let mut query = sqlx::query_scalar(sql)
        .bind(&c.name)
        .bind(c.name.to_lowercase())
        .bind(&c.okta_url)
        .bind(c.okta_auth)
        .bind(&c.okta_client_id)
        .bind(&c.okta_key_id)
        .bind(c.target_kind)
        .bind(&c.target_url)
        .bind(c.target_auth)
        .bind(&c.target_username)
        .bind(c.schedule.to_string())
        .bind(c.policy.to_string())
        .bind(c.events.to_string())
        .bind(Ts::now())
        .bind(&c.okta_ca_file)
        .bind(&c.target_ca_file)
        .bind(c.notify.to_string())
        .bind(&c.target_user_server_name);
    if let Some(id) = id {
        query = query.bind(id.0);
    }
    let result: Result<i64, sqlx::Error> = query.fetch_one(conn).await;
    match result {
        Ok(id) => Ok(AppId(id)),
        Err(e) if is_unique_violation(&e) => Err(StoreError::DuplicateName {
            name: c.name.clone(),
        }),
        Err(e) => Err(e).ctx("saving an app"),
    }
}

/// Writes `app` over `existing` (or as a new app), with its secrets and audit row.
async fn save(
    conn: &mut AnyConnection,
    sealer: &Sealer<'_>,
    existing: Option<&App>,
    app: &ValidApp,
    actor: &str,
) -> Result<Saved, StoreError> {
    let old = existing.map(Columns::of_app);
    let new = columns_of(app);
    let mut changed = changed_fields(old.as_ref(), &new);
    let id = match existing {
        Some(e) if changed.is_empty() => e.id,
        Some(e) => write_columns(conn, Some(e.id), &new).await?,
        None => write_columns(conn, None, &new).await?,
    };
    let current = load_rows(conn, id).await?;
    let inputs = secret_inputs_of(app);
    for slot in SecretSlot::ALL {
        let input = inputs.iter().find(|(s, ..)| *s == slot);
        let origin = app.origin_for(slot);
        let wanted = Wanted {
            desired: input.map(|(_, input, _)| *input),
            required: input.is_some_and(|(.., required)| *required),
            origin: &origin,
        };
        if reconcile(conn, sealer, id, slot, wanted, current.get(&slot)).await? {
            changed.push(slot.field().to_owned());
        }
    }
    if existing.is_some() && !changed.is_empty() {
        sqlx::query("UPDATE apps SET updated_at = $1 WHERE id = $2")
            .bind(Ts::now())
            .bind(id.0)
            .execute(&mut *conn)
            .await
            .ctx("saving an app")?;
    }
    if !changed.is_empty() {
        let action = if existing.is_some() {
            "app.update"
        } else {
            "app.create"
        };
        let subject = Subject {
            app_id: Some(id),
            app_name: Some(&app.name),
        };
        audit::write(conn, actor, subject, action, &changed).await?;
    }
    Ok(Saved {
        id,
        created: existing.is_none(),
        changed: !changed.is_empty(),
    })
}

impl Store {
    fn sealer(&self) -> Sealer<'_> {
        Sealer {
            key: &self.key,
            data_dir: self.data_dir(),
        }
    }

    /// Validates and stores a new app.
    ///
    /// # Errors
    /// [`StoreError::Validation`] naming the field, [`StoreError::DuplicateName`].
    pub async fn create_app(&self, draft: AppDraft, actor: &str) -> Result<App, StoreError> {
        let app = draft.validate().map_err(StoreError::from)?;
        check_ca_files(&app)?;
        let mut tx = self.gate.begin(&self.db).await?;
        if id_by_name(&mut tx, &app.name).await?.is_some() {
            return Err(StoreError::DuplicateName { name: app.name });
        }
        let saved = save(&mut tx, &self.sealer(), None, &app, actor).await?;
        tx.commit().await.ctx("saving an app")?;
        self.get_app(saved.id).await
    }

    /// Replaces app `id`'s configuration with `draft`; secrets given as
    /// [`SecretInput::Keep`] keep their stored value.
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::Validation`], [`StoreError::DuplicateName`] on a rename.
    pub async fn update_app(
        &self,
        id: AppId,
        draft: AppDraft,
        actor: &str,
    ) -> Result<App, StoreError> {
        let app = draft.validate().map_err(StoreError::from)?;
        check_ca_files(&app)?;
        let mut tx = self.gate.begin(&self.db).await?;
        let existing = load(&mut tx, id)
            .await?
            .ok_or_else(|| StoreError::not_found(format!("app {id}")))?;
        save(&mut tx, &self.sealer(), Some(&existing), &app, actor).await?;
        tx.commit().await.ctx("saving an app")?;
        self.get_app(id).await
    }

    /// Creates or updates each app by name, all in one transaction: if one draft is
    /// refused, nothing changes. Apps missing from `drafts` are left alone.
    ///
    /// # Errors
    /// [`StoreError::Validation`] with the field prefixed by `app[<index>].`.
    pub async fn apply_apps(
        &self,
        drafts: Vec<AppDraft>,
        actor: &str,
    ) -> Result<ApplyReport, StoreError> {
        let apps = validate_all(drafts)?;
        let mut tx = self.gate.begin(&self.db).await?;
        let mut report = ApplyReport::default();
        for (index, app) in apps.iter().enumerate() {
            let existing = match id_by_name(&mut tx, &app.name).await? {
                Some(id) => load(&mut tx, id).await?,
                None => None,
            };
            let saved = save(&mut tx, &self.sealer(), existing.as_ref(), app, actor)
                .await
                .map_err(|e| prefix_field(e, index))?;
            let list = match (saved.created, saved.changed) {
                (true, _) => &mut report.created,
                (false, true) => &mut report.updated,
                (false, false) => &mut report.unchanged,
            };
            list.push(app.name.clone());
        }
        tx.commit().await.ctx("applying apps")?;
        Ok(report)
    }

    /// Deletes an app with its links, runs, checkpoints and secrets; the audit log keeps its history.
    ///
    /// # Errors
    /// [`StoreError::NotFound`].
    pub async fn delete_app(&self, id: AppId, actor: &str) -> Result<(), StoreError> {
        let mut tx = self.gate.begin(&self.db).await?;
        let name: Option<String> =
            sqlx::query_scalar("DELETE FROM apps WHERE id = $1 RETURNING name")
                .bind(id.0)
                .fetch_optional(&mut *tx)
                .await
                .ctx("deleting an app")?;
        let name = name.ok_or_else(|| StoreError::not_found(format!("app {id}")))?;
        let subject = Subject {
            app_id: Some(id),
            app_name: Some(&name),
        };
        audit::write(&mut tx, actor, subject, "app.delete", &[]).await?;
        tx.commit().await.ctx("deleting an app")
    }
}

/// Prefixes a validation error's field with the draft's position in a batch.
fn prefix_field(error: StoreError, index: usize) -> StoreError {
    match error {
        StoreError::Validation { field, message } => StoreError::Validation {
            field: format!("app[{index}].{field}"),
            message,
        },
        other => other,
    }
}

fn validate_all(drafts: Vec<AppDraft>) -> Result<Vec<ValidApp>, StoreError> {
    let mut seen = HashSet::new();
    let mut apps = Vec::with_capacity(drafts.len());
    for (index, draft) in drafts.into_iter().enumerate() {
        let app = draft
            .validate()
            .map_err(|e| prefix_field(e.into(), index))?;
        check_ca_files(&app).map_err(|e| prefix_field(e, index))?;
        if !seen.insert(app.name.to_lowercase()) {
            return Err(StoreError::validation(
                format!("app[{index}].name"),
                format!(
                    "the name {:?} appears twice; app names must be unique",
                    app.name
                ),
            ));
        }
        apps.push(app);
    }
    Ok(apps)
}

/// Each side's CA file must be a readable PEM bundle with at least one certificate, read
/// with the clients' own loader, so a file saved here is one a run can use.
fn check_ca_files(app: &ValidApp) -> Result<(), StoreError> {
    let sides = [
        ("okta.ca_file", &app.okta_ca_file),
        ("target.ca_file", &app.target_ca_file),
    ];
    for (field, path) in sides {
        if let Some(path) = path {
            usersync_tls::CaBundle::load(std::path::Path::new(path))
                .map_err(|e| StoreError::validation(field, e.to_string()))?;
        }
    }
    Ok(())
}
