//! The audit log of configuration changes: who changed which fields of what, and when.
//!
//! Rows are written inside the transaction of the change they describe, so a change
//! and its audit row commit or vanish together. Only field names are recorded, never
//! values, so a secret's rotation shows as `okta.credential.token` and nothing more.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::AnyConnection;

use crate::Store;
use crate::app::AppId;
use crate::error::{DbContext as _, StoreError};
use crate::stamp::Ts;

/// One recorded change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// The administrator, API token or `cli:<user>` that made the change.
    pub actor: String,
    pub app_id: Option<AppId>,
    /// The app's name at the time of the change.
    pub app_name: Option<String>,
    /// What happened, e.g. `app.create`, `app.update`, `run.approve`, `admin.create`.
    pub action: String,
    /// The names of the fields that changed.
    pub fields: Vec<String>,
}

/// Which audit rows to read.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub app: Option<AppId>,
    pub actor: Option<String>,
}

/// The subject of a change: the app it concerns, if any.
pub(crate) struct Subject<'a> {
    pub app_id: Option<AppId>,
    pub app_name: Option<&'a str>,
}

impl Subject<'_> {
    pub(crate) const NONE: Subject<'static> = Subject {
        app_id: None,
        app_name: None,
    };
}

pub(crate) async fn write(
    conn: &mut AnyConnection,
    actor: &str,
    subject: Subject<'_>,
    action: &str,
    fields: &[String],
) -> Result<(), StoreError> {
    let fields = serde_json::to_string(fields).ctx("encoding audit fields")?;
    sqlx::query(
        "INSERT INTO audit_log (at, actor, app_id, app_name, action, fields_json) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(Ts::now())
    .bind(actor)
    .bind(subject.app_id.map(|id| id.0))
    .bind(subject.app_name)
    .bind(action)
    .bind(fields)
    .execute(conn)
    .await
    .ctx("writing the audit log")?;
    Ok(())
}

type AuditRow = (i64, Ts, String, Option<i64>, Option<String>, String, String);

impl Store {
    /// The newest audit entries first, at most `limit`.
    ///
    /// # Errors
    /// Database failures.
    pub async fn audit_log(
        &self,
        filter: &AuditFilter,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT id, at, actor, app_id, app_name, action, fields_json FROM audit_log \
             WHERE ($1 IS NULL OR app_id = $1) AND ($2 IS NULL OR actor = $2) \
             ORDER BY id DESC LIMIT $3",
        )
        .bind(filter.app.map(|id| id.0))
        .bind(filter.actor.as_deref())
        .bind(i64::from(limit))
        .fetch_all(&self.db)
        .await
        .ctx("reading the audit log")?;
        rows.into_iter()
            .map(|(id, at, actor, app_id, app_name, action, fields)| {
                Ok(AuditEntry {
                    id,
                    at: at.0,
                    actor,
                    app_id: app_id.map(AppId),
                    app_name,
                    action,
                    fields: serde_json::from_str(&fields).ctx("reading audit fields")?,
                })
            })
            .collect()
    }

    /// Records a configuration change made outside the store's own methods (which audit
    /// themselves), e.g. a server setting.
    ///
    /// # Errors
    /// Database failures.
    pub async fn record_audit(
        &self,
        actor: &str,
        app: Option<AppId>,
        action: &str,
        fields: &[String],
    ) -> Result<(), StoreError> {
        let mut conn = self.db.acquire().await.ctx("writing the audit log")?;
        // The app's name at the time, as the store's own entries keep it, so the log
        // still reads after the app is renamed or deleted.
        let name: Option<String> = match app {
            Some(id) => sqlx::query_scalar("SELECT name FROM apps WHERE id = $1")
                .bind(id.0)
                .fetch_optional(&mut *conn)
                .await
                .ctx("reading the app's name for the audit log")?,
            None => None,
        };
        let subject = Subject {
            app_id: app,
            app_name: name.as_deref(),
        };
        write(&mut conn, actor, subject, action, fields).await
    }
}
