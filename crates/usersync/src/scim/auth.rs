//! The per-app SCIM bearer token: generated here (32 random bytes, shown once),
//! stored only as its SHA-256 (`store::scim_server`, as API tokens are), compared in
//! constant time. Generating again rotates it: the old token stops working at once.
//! A missing, malformed or wrong token, an unknown app and an app without a token
//! are all answered the same 401, so the endpoint tells a stranger nothing.

use axum::http::{HeaderMap, header};
use base64::Engine as _;
use rand::RngCore as _;
use subtle::ConstantTimeEq as _;
use usersync_store::{App, Store, StoreError};

use super::error::ScimError;
use crate::web::auth::sha256_hex;

/// The prefix every SCIM token carries, so a leaked one is recognisable.
const PREFIX: &str = "usc_";

/// Generates the app's new SCIM token, stores its hash (rotating any earlier one)
/// and returns the value, which is never shown again.
///
/// # Errors
/// Store failures ([`StoreError::NotFound`] for an unknown app).
pub async fn generate(store: &Store, app: &App, actor: &str) -> Result<String, StoreError> {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let value = format!(
        "{PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    store
        .set_scim_token(app.id, &sha256_hex(&value), actor)
        .await?;
    Ok(value)
}

/// The app named `name` when the request carries its SCIM token.
///
/// # Errors
/// 401 for every refusal; 503 when the store fails.
pub async fn authorize(store: &Store, name: &str, headers: &HeaderMap) -> Result<App, ScimError> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .filter(|t| !t.is_empty())
        .ok_or_else(ScimError::unauthorized)?;
    let app = store.find_app(name).await.map_err(ScimError::store)?;
    let Some(app) = app else {
        return Err(ScimError::unauthorized());
    };
    let Some(stored) = store
        .scim_token_hash(app.id)
        .await
        .map_err(ScimError::store)?
    else {
        return Err(ScimError::unauthorized());
    };
    let given = sha256_hex(given);
    if bool::from(given.as_bytes().ct_eq(stored.as_bytes())) {
        Ok(app)
    } else {
        Err(ScimError::unauthorized())
    }
}
