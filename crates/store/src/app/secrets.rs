//! The secret rows of an app: sealing values, keeping references, reporting states,
//! and resolving a value for the engine.
//!
//! A row holds either a reference or a nonce and ciphertext, and the origin (scheme, host,
//! port) of the URL the secret was given for: the Okta URL for Okta's secrets and the hook
//! secret, the target URL for the target's. The associated data of each ciphertext is
//! `usersync:app:<id>:<slot>:<origin>`, binding it to its place and its origin. The SMTP
//! password of notifications is bound to its server (`smtp://host:port`); the webhook URL
//! is its own destination and is bound to the constant `webhook:self`. Saving an
//! app whose URL moved to another origin requires each of that side's secrets again, and
//! a secret is never resolved for an app whose URL is not at the origin it was saved for,
//! so a changed URL can never receive a kept secret.

use std::collections::HashMap;
use std::path::Path;

use secrecy::{ExposeSecret as _, SecretString};
use sqlx::AnyConnection;

use crate::Store;
use crate::crypto::MasterKey;
use crate::db::{Db, begin_write};
use crate::error::{DbContext as _, StoreError};
use crate::secret::{SecretInput, SecretRef, SecretSlot, SecretState, check_location, resolve};
use crate::stamp::Ts;
use usersync_core::app::{App, AppId};

/// One stored secret row.
pub(crate) struct SecretRow {
    reference: Option<String>,
    nonce: Option<Vec<u8>>,
    ciphertext: Option<Vec<u8>>,
    origin: String,
    /// False for values sealed before origins were bound (re-sealed at open).
    origin_in_aad: bool,
}

impl SecretRow {
    pub(crate) fn state(&self) -> SecretState {
        match &self.reference {
            Some(reference) => SecretState::Reference(reference.clone()),
            None => SecretState::Stored,
        }
    }

    fn aad(&self, app: AppId, slot: SecretSlot) -> String {
        aad(
            app,
            slot,
            self.origin_in_aad.then_some(self.origin.as_str()),
        )
    }
}

/// What saving needs besides the connection: the key and the data directory, whose files
/// no reference may name.
pub(crate) struct Sealer<'a> {
    pub key: &'a MasterKey,
    pub data_dir: Option<&'a Path>,
}

type SecretColumns = (
    String,
    Option<String>,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
    String,
    i64,
);

/// The associated data: `origin` is `None` only for values sealed before it was bound.
fn aad(app: AppId, slot: SecretSlot, origin: Option<&str>) -> String {
    match origin {
        Some(origin) => format!("usersync:app:{app}:{}:{origin}", slot.field()),
        None => format!("usersync:app:{app}:{}", slot.field()),
    }
}

pub(crate) async fn load_rows(
    conn: &mut AnyConnection,
    app: AppId,
) -> Result<HashMap<SecretSlot, SecretRow>, StoreError> {
    let rows: Vec<SecretColumns> = sqlx::query_as(
        "SELECT slot, reference, nonce, ciphertext, origin, origin_in_aad \
         FROM app_secrets WHERE app_id = $1",
    )
    .bind(app.0)
    .fetch_all(conn)
    .await
    .ctx("reading an app's secrets")?;
    Ok(rows
        .into_iter()
        .filter_map(
            |(slot, reference, nonce, ciphertext, origin, origin_in_aad)| {
                let row = SecretRow {
                    reference,
                    nonce,
                    ciphertext,
                    origin,
                    origin_in_aad: origin_in_aad != 0,
                };
                Some((SecretSlot::from_field(&slot)?, row))
            },
        )
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
    let plain = key.open(&row.aad(app, slot), nonce, sealed)?;
    let text = String::from_utf8(plain)
        .map_err(|_| StoreError::Crypto(format!("{} of app {app} is not text", slot.field())))?;
    Ok(SecretString::from(text))
}

/// The refusal of a kept secret whose URL moved to another origin.
fn origin_changed(slot: SecretSlot, from: &str, to: &str) -> StoreError {
    StoreError::validation(
        slot.field(),
        format!(
            "{} changed from {from} to {to}; enter the {} again",
            slot.side().url_name(),
            slot.noun()
        ),
    )
}

/// What a save wants of one slot.
pub(crate) struct Wanted<'a> {
    /// `None` when the app's configuration no longer uses the slot.
    pub desired: Option<&'a SecretInput>,
    /// Whether keeping nothing is an error.
    pub required: bool,
    /// The origin of the URL the secret belongs with, as the app is saved.
    pub origin: &'a str,
}

/// Makes the stored secret of `slot` match `wanted`; returns true when something changed.
///
/// A kept secret saved for another origin is refused when required and dropped otherwise:
/// it was never meant for the new origin.
pub(crate) async fn reconcile(
    conn: &mut AnyConnection,
    sealer: &Sealer<'_>,
    app: AppId,
    slot: SecretSlot,
    wanted: Wanted<'_>,
    current: Option<&SecretRow>,
) -> Result<bool, StoreError> {
    let Wanted {
        desired,
        required,
        origin,
    } = wanted;
    match (desired, current) {
        (None | Some(SecretInput::Keep), None) if required => Err(StoreError::validation(
            slot.field(),
            if slot == SecretSlot::HookSecret {
                "the secret is missing; press Generate secret in the console's Login-time sync section, or give a value, env:NAME or file:/path"
            } else {
                "the secret is missing; give a value, env:NAME or file:/path"
            },
        )),
        (None | Some(SecretInput::Keep), None) => Ok(false),
        (Some(SecretInput::Keep), Some(row)) if row.origin == origin => Ok(false),
        (Some(SecretInput::Keep), Some(row)) if required => {
            Err(origin_changed(slot, &row.origin, origin))
        }
        (None | Some(SecretInput::Keep), Some(_)) => {
            sqlx::query("DELETE FROM app_secrets WHERE app_id = $1 AND slot = $2")
                .bind(app.0)
                .bind(slot.field())
                .execute(conn)
                .await
                .ctx("removing a secret")?;
            Ok(true)
        }
        (Some(SecretInput::Reference(reference)), current) => {
            if let Some(parsed) = SecretRef::parse(reference, slot.field())? {
                check_location(&parsed, sealer.data_dir, slot.field())?;
            }
            let unchanged = current.is_some_and(|row| {
                row.reference.as_deref() == Some(reference.as_str()) && row.origin == origin
            });
            if unchanged {
                return Ok(false);
            }
            write_row(conn, app, slot, origin, Some(reference), None).await?;
            Ok(true)
        }
        (Some(SecretInput::Value(value)), current) => {
            let same = match current {
                Some(row) if row.reference.is_none() && row.origin == origin => {
                    decrypt(sealer.key, app, slot, row)?.expose_secret() == value.expose_secret()
                }
                _ => false,
            };
            if same {
                return Ok(false);
            }
            let aad = aad(app, slot, Some(origin));
            let sealed = sealer.key.seal(&aad, value.expose_secret().as_bytes())?;
            write_row(conn, app, slot, origin, None, Some(sealed)).await?;
            Ok(true)
        }
    }
}

async fn write_row(
    conn: &mut AnyConnection,
    app: AppId,
    slot: SecretSlot,
    origin: &str,
    reference: Option<&str>,
    sealed: Option<(Vec<u8>, Vec<u8>)>,
) -> Result<(), StoreError> {
    let (nonce, ciphertext) = sealed.unzip();
    sqlx::query(
        "INSERT INTO app_secrets \
         (app_id, slot, reference, nonce, ciphertext, origin, origin_in_aad, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 1, $7) \
         ON CONFLICT (app_id, slot) DO UPDATE SET reference = excluded.reference, \
         nonce = excluded.nonce, ciphertext = excluded.ciphertext, origin = excluded.origin, \
         origin_in_aad = 1, updated_at = excluded.updated_at",
    )
    .bind(app.0)
    .bind(slot.field())
    .bind(reference)
    .bind(nonce)
    .bind(ciphertext)
    .bind(origin)
    .bind(Ts::now())
    .execute(conn)
    .await
    .ctx("storing a secret")?;
    Ok(())
}

/// Re-seals values stored before origins were bound with the origin in their associated
/// data (the migration bound them to their app's origins at the time). A value the key
/// cannot open is left as it is: it fails when used, as it would have before.
pub(crate) async fn seal_legacy_with_origins(db: &Db, key: &MasterKey) -> Result<(), StoreError> {
    let mut tx = begin_write(db).await?;
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT app_id, slot FROM app_secrets WHERE origin_in_aad = 0 AND ciphertext IS NOT NULL",
    )
    .fetch_all(&mut *tx)
    .await
    .ctx("reading secrets to re-seal")?;
    for (app, slot) in rows {
        let (app, Some(slot)) = (AppId(app), SecretSlot::from_field(&slot)) else {
            continue;
        };
        let Some(row) = load_rows(&mut tx, app).await?.remove(&slot) else {
            continue;
        };
        let Ok(value) = decrypt(key, app, slot, &row) else {
            tracing::warn!(app = %app, slot = %slot, "a stored secret could not be re-sealed");
            continue;
        };
        let sealed = key.seal(
            &aad(app, slot, Some(&row.origin)),
            value.expose_secret().as_bytes(),
        )?;
        write_row(&mut tx, app, slot, &row.origin, None, Some(sealed)).await?;
    }
    tx.commit().await.ctx("re-sealing secrets")
}

impl Store {
    /// The value of one of an app's secrets: decrypted, or read from its reference now.
    /// The only way to a secret's value; meant for the engine, never for display.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the slot is unset, [`StoreError::Validation`] when the
    /// app's URL is no longer at the origin the secret was saved for,
    /// [`StoreError::SecretReference`] when a reference cannot be resolved,
    /// [`StoreError::Crypto`] when decryption fails.
    pub async fn resolve_secret(
        &self,
        app: &App,
        slot: SecretSlot,
    ) -> Result<SecretString, StoreError> {
        let mut conn = self.db.acquire().await.ctx("reading a secret")?;
        let rows = load_rows(&mut conn, app.id).await?;
        drop(conn);
        let Some(row) = rows.get(&slot) else {
            return Err(StoreError::not_found(format!(
                "secret {} of app {:?}",
                slot.field(),
                app.name
            )));
        };
        let origin = app.origin_for(slot);
        if row.origin != origin {
            return Err(origin_changed(slot, &row.origin, &origin));
        }
        match &row.reference {
            Some(reference) => resolve(
                &SecretRef::parse(reference, slot.field())?.ok_or_else(|| {
                    StoreError::Crypto(format!("{} holds an unreadable reference", slot.field()))
                })?,
                self.data_dir(),
            ),
            None => decrypt(&self.key, app.id, slot, row),
        }
    }
}

#[cfg(test)]
#[path = "secrets_tests.rs"]
mod tests;
