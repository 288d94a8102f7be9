//! Managing who may use the console: administrators (create, list, delete, new
//! password) and API tokens (create with scopes and an optional expiry, list, rotate,
//! revoke). The command line (`usersync admin|token ...`) and the console's Access
//! page both act through these functions, each naming its `actor` for the audit log.
//!
//! Passwords are hashed (Argon2id) and token values generated here; the store only
//! ever sees the PHC string and the token's SHA-256.

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use usersync_store::{Admin as StoredAdmin, ApiToken, NewApiToken, Scopes};

use super::{csrf, password, sha256_hex};
use crate::web::adapter::convert::store_error;
use crate::web::backend::{Backend, BackendError, BackendResult};

/// The longest expiry a token may be given (`--expires-in`).
const LONGEST_EXPIRY_DAYS: i64 = 3650;

/// What to make an API token with.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub name: String,
    pub scopes: Scopes,
    /// How long from now it works; `None` never expires.
    pub expires_in: Option<chrono::Duration>,
}

/// Parses an expiry such as `90d`, `12h` or `30m`.
///
/// # Errors
/// [`BackendError::Validation`] naming `expires_in`.
pub fn parse_expiry(text: &str) -> BackendResult<chrono::Duration> {
    let bad = || BackendError::Validation {
        field: "expires_in".into(),
        message: format!(
            "{text:?} is not a duration: give a number and a unit, e.g. 90d, 12h or 30m \
             (at most {LONGEST_EXPIRY_DAYS}d)"
        ),
    };
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (number, unit) = text.split_at(split);
    let number: i64 = number.parse().map_err(|_| bad())?;
    let duration = match unit {
        "d" => chrono::Duration::try_days(number),
        "h" => chrono::Duration::try_hours(number),
        "m" => chrono::Duration::try_minutes(number),
        _ => None,
    }
    .ok_or_else(bad)?;
    if number == 0 || duration > chrono::Duration::days(LONGEST_EXPIRY_DAYS) {
        return Err(bad());
    }
    Ok(duration)
}

fn new_token_value() -> String {
    format!("ust_{}", csrf::random_token(32))
}

fn expiry(expires_in: Option<chrono::Duration>) -> Option<DateTime<Utc>> {
    expires_in.map(|d| Utc::now() + d)
}

/// Creates an API token and returns its value, which is never stored (only its hash).
///
/// # Errors
/// [`BackendError::Validation`] for an empty name; [`BackendError::Conflict`] for a
/// name in use.
pub async fn create_api_token_with(
    backend: &Backend,
    request: &TokenRequest,
    actor: &str,
) -> BackendResult<String> {
    let name = request.name.trim();
    if name.is_empty() {
        return Err(BackendError::Validation {
            field: "name".into(),
            message: "an API token needs a name saying who uses it".into(),
        });
    }
    let value = new_token_value();
    let new = NewApiToken {
        name: name.to_owned(),
        token_hash: sha256_hex(&value),
        scopes: request.scopes.clone(),
        expires_at: expiry(request.expires_in),
    };
    backend
        .store
        .create_api_token(&new, actor)
        .await
        .map_err(store_error)?;
    Ok(value)
}

/// Gives the token `name` a new value (returned once); the old one stops working.
///
/// # Errors
/// [`BackendError::NotFound`].
pub async fn rotate_api_token_with(
    backend: &Backend,
    name: &str,
    expires_in: Option<chrono::Duration>,
    actor: &str,
) -> BackendResult<String> {
    let value = new_token_value();
    backend
        .store
        .rotate_api_token(name, &sha256_hex(&value), expiry(expires_in), actor)
        .await
        .map_err(store_error)?;
    Ok(value)
}

/// Revokes the token `name`.
///
/// # Errors
/// [`BackendError::NotFound`].
pub async fn revoke_api_token_with(
    backend: &Backend,
    name: &str,
    actor: &str,
) -> BackendResult<()> {
    backend
        .store
        .revoke_api_token(name, actor)
        .await
        .map_err(store_error)
}

/// Every API token (never their values), by name.
///
/// # Errors
/// Store failures.
pub async fn list_api_tokens(backend: &Backend) -> BackendResult<Vec<ApiToken>> {
    backend.store.list_api_tokens().await.map_err(store_error)
}

/// Every administrator, by username.
///
/// # Errors
/// Store failures.
pub async fn list_admins(backend: &Backend) -> BackendResult<Vec<StoredAdmin>> {
    backend.store.list_admins().await.map_err(store_error)
}

/// Creates an administrator after checking the username and password.
///
/// # Errors
/// [`BackendError::Validation`] naming `username` or `password`; a taken username.
pub async fn create_admin_with(
    backend: &Backend,
    username: &str,
    password: SecretString,
    actor: &str,
) -> BackendResult<()> {
    let (username, phc) = checked_and_hashed(username, password).await?;
    backend
        .store
        .create_admin(username, &phc, actor)
        .await
        .map_err(store_error)?;
    Ok(())
}

/// As [`create_admin_with`], for the first administrator: only with the setup code,
/// and only while none exists (decided atomically by the store).
///
/// # Errors
/// As [`create_admin_with`].
pub async fn create_first_admin_with(
    backend: &Backend,
    username: &str,
    password: SecretString,
    code: &str,
) -> BackendResult<usersync_store::FirstAdmin> {
    let (username, phc) = checked_and_hashed(username, password).await?;
    backend.create_first_admin(username, &phc, code).await
}

async fn admin_named(backend: &Backend, username: &str) -> BackendResult<StoredAdmin> {
    backend
        .store
        .admin_by_username(username)
        .await
        .map_err(store_error)?
        .ok_or_else(|| BackendError::NotFound(format!("administrator {:?}", username.trim())))
}

/// Sets a new password for `username` and ends their sessions.
///
/// # Errors
/// [`BackendError::NotFound`]; [`BackendError::Validation`] naming `password`.
pub async fn set_admin_password_with(
    backend: &Backend,
    username: &str,
    password: SecretString,
    actor: &str,
) -> BackendResult<()> {
    let admin = admin_named(backend, username).await?;
    let (_, phc) = checked_and_hashed(&admin.username, password).await?;
    backend
        .store
        .set_admin_password(admin.id, &phc, actor)
        .await
        .map_err(store_error)
}

/// Deletes the administrator `username` (never the last one).
///
/// # Errors
/// [`BackendError::NotFound`]; [`BackendError::Conflict`] for the last administrator.
pub async fn delete_admin_with(
    backend: &Backend,
    username: &str,
    actor: &str,
) -> BackendResult<()> {
    let admin = admin_named(backend, username).await?;
    backend
        .store
        .delete_admin(admin.id, actor)
        .await
        .map_err(store_error)
}

/// The username, trimmed and checked, and the password's Argon2id PHC string.
async fn checked_and_hashed(
    username: &str,
    password: SecretString,
) -> BackendResult<(&str, String)> {
    let username = username.trim();
    if username.is_empty() || username.chars().count() > 64 {
        return Err(BackendError::Validation {
            field: "username".into(),
            message: "must be between 1 and 64 characters".into(),
        });
    }
    if username
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(BackendError::Validation {
            field: "username".into(),
            message: "must not contain spaces or control characters".into(),
        });
    }
    let phc = tokio::task::spawn_blocking(move || password::hash_password(&password))
        .await
        .map_err(|e| BackendError::Internal(e.into()))?
        .map_err(|e| BackendError::Validation {
            field: "password".into(),
            message: e.to_string(),
        })?;
    Ok((username, phc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiries_read_days_hours_and_minutes_and_refuse_anything_else() {
        assert_eq!(parse_expiry("90d").unwrap(), chrono::Duration::days(90));
        assert_eq!(parse_expiry("12h").unwrap(), chrono::Duration::hours(12));
        assert_eq!(parse_expiry("30m").unwrap(), chrono::Duration::minutes(30));
        for bad in ["", "d", "90", "0d", "90w", "-1d", "99999d", "1.5d"] {
            let err = parse_expiry(bad).unwrap_err();
            assert!(err.to_string().starts_with("expires_in:"), "{bad}: {err}");
        }
    }
}
