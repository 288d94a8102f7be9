//! API tokens.

use chrono::{DateTime, Utc};

use sqlx::AnyConnection;

use super::{ApiToken, ApiTokenId, Scopes, check_label};
use crate::Store;
use crate::audit::{self, Subject};
use crate::error::{DbContext as _, StoreError, is_unique_violation};
use crate::stamp::Ts;

type TokenRow = (
    i64,
    String,
    String,
    String,
    String,
    Ts,
    Option<Ts>,
    Option<Ts>,
);

const SELECT_TOKEN: &str = "SELECT id, name, token_hash, scopes, created_by, created_at, \
     last_used_at, expires_at FROM api_tokens";

fn token(row: TokenRow) -> Result<ApiToken, StoreError> {
    let (id, name, token_hash, scopes, created_by, created_at, last_used_at, expires_at) = row;
    let scopes = Scopes::parse(&scopes).map_err(|message| StoreError::Database {
        context: format!("reading the scopes of API token {name:?}"),
        message,
    })?;
    Ok(ApiToken {
        id: ApiTokenId(id),
        name,
        token_hash,
        scopes,
        created_by,
        created_at: created_at.0,
        last_used_at: last_used_at.map(|t| t.0),
        expires_at: expires_at.map(|t| t.0),
    })
}

/// An API token to create, as the server computed it (the value itself is never stored).
#[derive(Clone)]
pub struct NewApiToken {
    pub name: String,
    pub token_hash: String,
    pub scopes: Scopes,
    pub expires_at: Option<DateTime<Utc>>,
}

impl Store {
    /// Stores a new API token by its hash (the caller shows the value once).
    ///
    /// # Errors
    /// [`StoreError::Validation`] for a bad name, [`StoreError::Conflict`] when name or hash is taken.
    pub async fn create_api_token(
        &self,
        new: &NewApiToken,
        actor: &str,
    ) -> Result<ApiToken, StoreError> {
        let name = check_label("name", &new.name)?;
        let mut tx = self.gate.begin(&self.db).await?;
        let inserted = sqlx::query(
            "INSERT INTO api_tokens (name, token_hash, scopes, created_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&name)
        .bind(&new.token_hash)
        .bind(new.scopes.to_string())
        .bind(actor)
        .bind(Ts::now())
        .bind(new.expires_at.map(Ts))
        .execute(&mut *tx)
        .await;
        match inserted {
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::Conflict(format!(
                    "an API token named {name:?} already exists: rotate it \
                     (`usersync token rotate`) or revoke it first"
                )));
            }
            other => other.ctx("creating an API token")?,
        };
        let fields = [
            format!("api token {name}"),
            format!("scopes {}", new.scopes),
        ];
        audit::write(&mut tx, actor, Subject::NONE, "api_token.create", &fields).await?;
        let created = named(&mut tx, &name).await?;
        tx.commit().await.ctx("creating an API token")?;
        Ok(created)
    }

    /// The token with this hash, unless it has expired by `now`.
    ///
    /// # Errors
    /// Database failures.
    pub async fn api_token_by_hash(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ApiToken>, StoreError> {
        let row: Option<TokenRow> = sqlx::query_as(&format!(
            "{SELECT_TOKEN} WHERE token_hash = $1 AND (expires_at IS NULL OR expires_at > $2)"
        ))
        .bind(token_hash)
        .bind(Ts(now))
        .fetch_optional(&self.db)
        .await
        .ctx("reading an API token")?;
        row.map(token).transpose()
    }

    /// Every API token (expired ones included), by name.
    ///
    /// # Errors
    /// Database failures.
    pub async fn list_api_tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        let rows: Vec<TokenRow> = sqlx::query_as(&format!("{SELECT_TOKEN} ORDER BY name"))
            .fetch_all(&self.db)
            .await
            .ctx("listing API tokens")?;
        rows.into_iter().map(token).collect()
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
            .bind(Ts(at))
            .bind(id.0)
            .execute(&self.db)
            .await
            .ctx("recording API token use")?;
        Ok(())
    }

    /// Gives the token `name` a new value (by its hash) and, when given, a new expiry;
    /// the old value stops working at once. Its scopes stay.
    ///
    /// # Errors
    /// [`StoreError::NotFound`].
    pub async fn rotate_api_token(
        &self,
        name: &str,
        token_hash: &str,
        expires_at: Option<DateTime<Utc>>,
        actor: &str,
    ) -> Result<ApiToken, StoreError> {
        let mut tx = self.gate.begin(&self.db).await?;
        let existing = named(&mut tx, name).await?;
        sqlx::query(
            "UPDATE api_tokens SET token_hash = $1, expires_at = COALESCE($2, expires_at), \
             last_used_at = NULL WHERE id = $3",
        )
        .bind(token_hash)
        .bind(expires_at.map(Ts))
        .bind(existing.id.0)
        .execute(&mut *tx)
        .await
        .ctx("rotating an API token")?;
        let fields = [format!("api token {}", existing.name)];
        audit::write(&mut tx, actor, Subject::NONE, "api_token.rotate", &fields).await?;
        let rotated = named(&mut tx, &existing.name).await?;
        tx.commit().await.ctx("rotating an API token")?;
        Ok(rotated)
    }

    /// Revokes (deletes) the token `name`.
    ///
    /// # Errors
    /// [`StoreError::NotFound`].
    pub async fn revoke_api_token(&self, name: &str, actor: &str) -> Result<(), StoreError> {
        let mut tx = self.gate.begin(&self.db).await?;
        let existing = named(&mut tx, name).await?;
        sqlx::query("DELETE FROM api_tokens WHERE id = $1")
            .bind(existing.id.0)
            .execute(&mut *tx)
            .await
            .ctx("revoking an API token")?;
        let fields = [format!("api token {}", existing.name)];
        audit::write(&mut tx, actor, Subject::NONE, "api_token.revoke", &fields).await?;
        tx.commit().await.ctx("revoking an API token")
    }
}

/// The token called `name` (exactly as stored; names are unique).
async fn named(conn: &mut AnyConnection, name: &str) -> Result<ApiToken, StoreError> {
    let row: Option<TokenRow> = sqlx::query_as(&format!("{SELECT_TOKEN} WHERE name = $1"))
        .bind(name.trim())
        .fetch_optional(conn)
        .await
        .ctx("reading an API token")?;
    row.map(token)
        .transpose()?
        .ok_or_else(|| StoreError::not_found(format!("API token {:?}", name.trim())))
}
