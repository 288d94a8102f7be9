//! What the admin console needs to remember: administrators, sessions, API tokens and
//! sign-in throttling counters, and the first start's setup code (`setup`).
//!
//! The store keeps only what it is given: password hashes arrive as Argon2id PHC strings,
//! session ids and API tokens as hashes, all computed by the server. Plain passwords and
//! token values never reach this module.

mod admins;
mod scope;
mod setup;
mod throttle;
mod tokens;

use std::fmt;

use chrono::{DateTime, Utc};
use serde::Serialize;

pub use admins::NewSession;
pub use scope::{Scope, Scopes};
pub use setup::FirstAdmin;
pub use throttle::SignInFailures;
pub use tokens::NewApiToken;

/// The store's id of an administrator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct AdminId(pub i64);

impl fmt::Display for AdminId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// An administrator of the console.
#[derive(Clone, Serialize)]
pub struct Admin {
    pub id: AdminId,
    pub username: String,
    /// The Argon2id PHC string; never serialised.
    #[serde(skip)]
    pub password_hash: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl fmt::Debug for Admin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Admin")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("password_hash", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// A signed-in console session.
#[derive(Clone)]
pub struct Session {
    pub id_hash: String,
    pub admin: Admin,
    /// The token forms must echo; compared by the server in constant time.
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("admin", &self.admin.username)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// The store's id of an API token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct ApiTokenId(pub i64);

impl fmt::Display for ApiTokenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// An API token, known by its hash; the value was shown once to whoever created it.
#[derive(Clone, Serialize)]
pub struct ApiToken {
    pub id: ApiTokenId,
    pub name: String,
    #[serde(skip)]
    pub token_hash: String,
    pub scopes: Scopes,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// After this the token is refused; `None` never expires.
    pub expires_at: Option<DateTime<Utc>>,
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiToken")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("scopes", &self.scopes)
            .field("expires_at", &self.expires_at)
            .field("last_used_at", &self.last_used_at)
            .finish_non_exhaustive()
    }
}

/// Checks a short human-given name (username, token name).
pub(crate) fn check_label(field: &str, value: &str) -> Result<String, crate::StoreError> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > 100 || value.chars().any(char::is_control) {
        return Err(crate::StoreError::validation(
            field,
            "must be 1 to 100 printable characters",
        ));
    }
    Ok(value.to_owned())
}
