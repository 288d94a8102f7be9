//! The secret rows of an app: sealing values, keeping references, reporting states,
//! and resolving a value for the engine.
//!
//! A row holds either a reference or a nonce and ciphertext. The associated data of each
//! ciphertext is `usersync:app:<id>:<slot>`, binding it to its place.

use std::collections::HashMap;

use chrono::Utc;
use secrecy::{ExposeSecret as _, SecretString};
use sqlx::SqliteConnection;

use crate::Store;
use crate::crypto::MasterKey;
use crate::error::{DbContext as _, StoreError};
use crate::secret::{SecretInput, SecretRef, SecretSlot, SecretState, resolve};
use usersync_core::app::{App, AppId};

/// One stored secret row.
pub(crate) struct SecretRow {
    reference: Option<String>,
    nonce: Option<Vec<u8>>,
    ciphertext: Option<Vec<u8>>,
}

impl SecretRow {
    pub(crate) fn state(&self) -> SecretState {
        match &self.reference {
            Some(reference) => SecretState::Reference(reference.clone()),
            None => SecretState::Stored,
        }
    }
}

type SecretColumns = (String, Option<String>, Option<Vec<u8>>, Option<Vec<u8>>);

fn aad(app: AppId, slot: SecretSlot) -> String {
    format!("usersync:app:{app}:{}", slot.field())
}

pub(crate) async fn load_rows(
    conn: &mut SqliteConnection,
    app: AppId,
) -> Result<HashMap<SecretSlot, SecretRow>, StoreError> {
    let rows: Vec<SecretColumns> = sqlx::query_as(
        "SELECT slot, reference, nonce, ciphertext FROM app_secrets WHERE app_id = $1",
    )
    .bind(app.0)
    .fetch_all(conn)
    .await
    .ctx("reading an app's secrets")?;
    Ok(rows
        .into_iter()
        .filter_map(|(slot, reference, nonce, ciphertext)| {
            let row = SecretRow {
                reference,
                nonce,
                ciphertext,
            };
            Some((SecretSlot::from_field(&slot)?, row))
        })
        .collect())
}

fn decrypt(
    key: &MasterKey,
    app: AppId,
    slot: SecretSlot,
    row: &SecretRow,
) -> Result<SecretString, StoreError> {
    let (Some(nonce), Some(sealed)) = (&row.nonce, &row.ciphertext) else {
        return Err(StoreError::Crypto(format!(
            "{} of app {app} has no stored value",
            slot.field()
        )));
    };
    let plain = key.open(&aad(app, slot), nonce, sealed)?;
    let text = String::from_utf8(plain)
        .map_err(|_| StoreError::Crypto(format!("{} of app {app} is not text", slot.field())))?;
    Ok(SecretString::from(text))
}

/// Makes the stored secret of `slot` match `desired`; returns true when something changed.
///
/// `desired` is `None` when the app's configuration no longer uses the slot. `required`
/// says whether keeping nothing is an error.
pub(crate) async fn reconcile(
    conn: &mut SqliteConnection,
    key: &MasterKey,
    app: AppId,
    slot: SecretSlot,
    desired: Option<&SecretInput>,
    current: Option<&SecretRow>,
    required: bool,
) -> Result<bool, StoreError> {
    match (desired, current) {
        (None | Some(SecretInput::Keep), None) if required => Err(StoreError::validation(
            slot.field(),
            "the secret is missing; give a value, env:NAME or file:/path",
        )),
        (None | Some(SecretInput::Keep), None) | (Some(SecretInput::Keep), Some(_)) => Ok(false),
        (None, Some(_)) => {
            sqlx::query("DELETE FROM app_secrets WHERE app_id = $1 AND slot = $2")
                .bind(app.0)
                .bind(slot.field())
                .execute(conn)
                .await
                .ctx("removing a secret")?;
            Ok(true)
        }
        (Some(SecretInput::Reference(reference)), current) => {
            if current.and_then(|row| row.reference.as_deref()) == Some(reference.as_str()) {
                return Ok(false);
            }
            write_row(conn, app, slot, Some(reference), None).await?;
            Ok(true)
        }
        (Some(SecretInput::Value(value)), current) => {
            let same = match current {
                Some(row) if row.reference.is_none() => {
                    decrypt(key, app, slot, row)?.expose_secret() == value.expose_secret()
                }
                _ => false,
            };
            if same {
                return Ok(false);
            }
            let sealed = key.seal(&aad(app, slot), value.expose_secret().as_bytes())?;
            write_row(conn, app, slot, None, Some(sealed)).await?;
            Ok(true)
        }
    }
}

async fn write_row(
    conn: &mut SqliteConnection,
    app: AppId,
    slot: SecretSlot,
    reference: Option<&str>,
    sealed: Option<(Vec<u8>, Vec<u8>)>,
) -> Result<(), StoreError> {
    let (nonce, ciphertext) = sealed.unzip();
    sqlx::query(
        "INSERT INTO app_secrets (app_id, slot, reference, nonce, ciphertext, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (app_id, slot) DO UPDATE SET reference = excluded.reference, \
         nonce = excluded.nonce, ciphertext = excluded.ciphertext, updated_at = excluded.updated_at",
    )
    .bind(app.0)
    .bind(slot.field())
    .bind(reference)
    .bind(nonce)
    .bind(ciphertext)
    .bind(Utc::now())
    .execute(conn)
    .await
    .ctx("storing a secret")?;
    Ok(())
}

impl Store {
    /// The value of one of an app's secrets: decrypted, or read from its reference now.
    /// The only way to a secret's value; meant for the engine, never for display.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the slot is unset, [`StoreError::SecretReference`] when a
    /// reference cannot be resolved, [`StoreError::Crypto`] when decryption fails.
    pub async fn resolve_secret(
        &self,
        app: &App,
        slot: SecretSlot,
    ) -> Result<SecretString, StoreError> {
        let mut conn = self.db.acquire().await.ctx("reading a secret")?;
        let rows = load_rows(&mut conn, app.id).await?;
        let Some(row) = rows.get(&slot) else {
            return Err(StoreError::not_found(format!(
                "secret {} of app {:?}",
                slot.field(),
                app.name
            )));
        };
        match &row.reference {
            Some(reference) => {
                resolve(&SecretRef::parse(reference, slot.field())?.ok_or_else(|| {
                    StoreError::Crypto(format!("{} holds an unreadable reference", slot.field()))
                })?)
            }
            None => decrypt(&self.key, app.id, slot, row),
        }
    }
}
