//! Checkpoints per app: small named values that let later runs continue where earlier
//! ones stopped, such as the System Log `next` link or the time of the last full read.

use std::collections::BTreeMap;

use crate::Store;
use crate::app::AppId;
use crate::error::{DbContext as _, StoreError};
use crate::stamp::Ts;

/// The System Log `next` link to poll from.
pub const SYSTEM_LOG_NEXT: &str = "system_log.next";
/// When the last complete read of Okta finished (RFC 3339).
pub const LAST_FULL_READ: &str = "last_full_read_at";
/// Where incremental sync continues from (the engine's `changes::CycleState` as JSON):
/// written by a full reconcile that succeeded, moved on by each incremental cycle
/// that succeeded, and only ever with the changes it covered.
pub const INCREMENTAL_STATE: &str = "incremental.state";
/// The id Okta gave the app's event hook when usersync registered it, so registering
/// again updates that hook even after it was renamed in Okta.
pub const EVENT_HOOK_ID: &str = "okta.event_hook_id";

impl Store {
    /// The value of one checkpoint, if set.
    ///
    /// # Errors
    /// Database failures.
    pub async fn checkpoint(&self, app: AppId, key: &str) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar("SELECT value FROM checkpoints WHERE app_id = $1 AND key = $2")
            .bind(app.0)
            .bind(key)
            .fetch_optional(&self.db)
            .await
            .ctx("reading a checkpoint")
    }

    /// Every checkpoint of an app.
    ///
    /// # Errors
    /// Database failures.
    pub async fn checkpoints(&self, app: AppId) -> Result<BTreeMap<String, String>, StoreError> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT key, value FROM checkpoints WHERE app_id = $1")
                .bind(app.0)
                .fetch_all(&self.db)
                .await
                .ctx("reading checkpoints")?;
        Ok(rows.into_iter().collect())
    }

    /// Sets a checkpoint, replacing any earlier value.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the app does not exist.
    pub async fn set_checkpoint(
        &self,
        app: AppId,
        key: &str,
        value: &str,
    ) -> Result<(), StoreError> {
        let result = sqlx::query(
            "INSERT INTO checkpoints (app_id, key, value, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (app_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(app.0)
        .bind(key)
        .bind(value)
        .bind(Ts::now())
        .execute(&self.db)
        .await;
        match result {
            Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => {
                Err(StoreError::not_found(format!("app {app}")))
            }
            other => other.map(|_| ()).ctx("writing a checkpoint"),
        }
    }

    /// Removes a checkpoint (e.g. to force a full read).
    ///
    /// # Errors
    /// Database failures.
    pub async fn clear_checkpoint(&self, app: AppId, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM checkpoints WHERE app_id = $1 AND key = $2")
            .bind(app.0)
            .bind(key)
            .execute(&self.db)
            .await
            .ctx("clearing a checkpoint")?;
        Ok(())
    }
}
