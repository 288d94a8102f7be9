//! API tokens and sign-in throttling counters.

use chrono::{DateTime, Duration, Utc};

use super::{ApiToken, ApiTokenId, check_label};
use crate::Store;
use crate::audit::{self, Subject};
use crate::db::begin_write;
use crate::error::{DbContext as _, StoreError, is_unique_violation};

type TokenRow = (
    i64,
    String,
    String,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
);

const SELECT_TOKEN: &str =
    "SELECT id, name, token_hash, created_by, created_at, last_used_at FROM api_tokens";

fn token(row: TokenRow) -> ApiToken {
    let (id, name, token_hash, created_by, created_at, last_used_at) = row;
    ApiToken {
        id: ApiTokenId(id),
        name,
        token_hash,
        created_by,
        created_at,
        last_used_at,
    }
}

impl Store {
    /// Stores a new API token by its hash (the caller shows the value once).
    ///
    /// # Errors
    /// [`StoreError::Validation`] for a bad name, [`StoreError::Conflict`] when name or hash is taken.
    pub async fn create_api_token(
        &self,
        name: &str,
        token_hash: &str,
        actor: &str,
    ) -> Result<ApiToken, StoreError> {
        let name = check_label("name", name)?;
        let mut tx = begin_write(&self.db).await?;
        let row: Result<TokenRow, sqlx::Error> = sqlx::query_as(
            "INSERT INTO api_tokens (name, token_hash, created_by, created_at) VALUES ($1, $2, $3, $4) \
             RETURNING id, name, token_hash, created_by, created_at, last_used_at",
        )
        .bind(&name)
        .bind(token_hash)
        .bind(actor)
        .bind(Utc::now())
        .fetch_one(&mut *tx)
        .await;
        let created = match row {
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::Conflict(format!(
                    "an API token named {name:?} already exists"
                )));
            }
            other => token(other.ctx("creating an API token")?),
        };
        let fields = [format!("api token {name}")];
        audit::write(&mut tx, actor, Subject::NONE, "api_token.create", &fields).await?;
        tx.commit().await.ctx("creating an API token")?;
        Ok(created)
    }

    /// The token with this hash, if any.
    ///
    /// # Errors
    /// Database failures.
    pub async fn api_token_by_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<ApiToken>, StoreError> {
        let row: Option<TokenRow> =
            sqlx::query_as(&format!("{SELECT_TOKEN} WHERE token_hash = $1"))
                .bind(token_hash)
                .fetch_optional(&self.db)
                .await
                .ctx("reading an API token")?;
        Ok(row.map(token))
    }

    /// Every API token, by name.
    ///
    /// # Errors
    /// Database failures.
    pub async fn list_api_tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        let rows: Vec<TokenRow> = sqlx::query_as(&format!("{SELECT_TOKEN} ORDER BY name"))
            .fetch_all(&self.db)
            .await
            .ctx("listing API tokens")?;
        Ok(rows.into_iter().map(token).collect())
    }

    /// Records that a token was just used.
    ///
    /// # Errors
    /// Database failures.
    pub async fn touch_api_token(
        &self,
        id: ApiTokenId,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(at)
            .bind(id.0)
            .execute(&self.db)
            .await
            .ctx("recording API token use")?;
        Ok(())
    }

    /// Revokes (deletes) a token.
    ///
    /// # Errors
    /// [`StoreError::NotFound`].
    pub async fn revoke_api_token(&self, id: ApiTokenId, actor: &str) -> Result<(), StoreError> {
        let mut tx = begin_write(&self.db).await?;
        let name: Option<String> =
            sqlx::query_scalar("DELETE FROM api_tokens WHERE id = $1 RETURNING name")
                .bind(id.0)
                .fetch_optional(&mut *tx)
                .await
                .ctx("revoking an API token")?;
        let name = name.ok_or_else(|| StoreError::not_found(format!("API token {id}")))?;
        let fields = [format!("api token {name}")];
        audit::write(&mut tx, actor, Subject::NONE, "api_token.revoke", &fields).await?;
        tx.commit().await.ctx("revoking an API token")
    }

    /// Counts a failed sign-in for `key` (e.g. a username or client address) and returns
    /// the failures within the current `window`; a window older than `window` starts over.
    ///
    /// # Errors
    /// Database failures.
    pub async fn record_sign_in_failure(
        &self,
        key: &str,
        now: DateTime<Utc>,
        window: Duration,
    ) -> Result<u32, StoreError> {
        let window_start = now - window;
        let failures: i64 = sqlx::query_scalar(
            "INSERT INTO sign_in_failures (key, failures, window_started_at) VALUES ($1, 1, $2) \
             ON CONFLICT (key) DO UPDATE SET \
             failures = CASE WHEN sign_in_failures.window_started_at < $3 THEN 1 ELSE sign_in_failures.failures + 1 END, \
             window_started_at = CASE WHEN sign_in_failures.window_started_at < $3 THEN $2 \
             ELSE sign_in_failures.window_started_at END \
             RETURNING failures",
        )
        .bind(key)
        .bind(now)
        .bind(window_start)
        .fetch_one(&self.db)
        .await
        .ctx("counting a failed sign-in")?;
        Ok(u32::try_from(failures).unwrap_or(u32::MAX))
    }

    /// Failed sign-ins for `key` within the `window` ending `now`.
    ///
    /// # Errors
    /// Database failures.
    pub async fn sign_in_failures(
        &self,
        key: &str,
        now: DateTime<Utc>,
        window: Duration,
    ) -> Result<u32, StoreError> {
        let failures: Option<i64> = sqlx::query_scalar(
            "SELECT failures FROM sign_in_failures WHERE key = $1 AND window_started_at >= $2",
        )
        .bind(key)
        .bind(now - window)
        .fetch_optional(&self.db)
        .await
        .ctx("reading failed sign-ins")?;
        Ok(failures.map_or(0, |f| u32::try_from(f).unwrap_or(u32::MAX)))
    }

    /// Forgets the failures of `key` (after a successful sign-in).
    ///
    /// # Errors
    /// Database failures.
    pub async fn clear_sign_in_failures(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sign_in_failures WHERE key = $1")
            .bind(key)
            .execute(&self.db)
            .await
            .ctx("clearing failed sign-ins")?;
        Ok(())
    }
}
