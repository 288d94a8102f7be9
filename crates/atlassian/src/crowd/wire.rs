//! Crowd's JSON, as much of it as usersync reads (fact sheet §3.3), its error
//! entity `{"reason","message"}`, and the conversion into the domain's [`TargetUser`].

use serde::Deserialize;
use usersync_core::{Email, TargetUser, TargetUserKey, Username};

use crate::{TargetError, TargetResult};

/// A user as `GET /user` and `GET /search?expand=user` give it.
#[derive(Debug, Clone, Deserialize)]
pub struct User {
    pub name: String,
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default, rename = "display-name")]
    pub display_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

/// `{"users":[..]}`: a search page, or a group's direct members (names only).
#[derive(Debug, Deserialize)]
pub struct Users<T> {
    #[serde(default = "Vec::new")]
    pub users: Vec<T>,
}

/// `{"groups":[..]}`.
#[derive(Debug, Deserialize)]
pub struct Groups {
    #[serde(default)]
    pub groups: Vec<Named>,
}

/// Any entity by its name only (the unexpanded form of users and groups).
#[derive(Debug, Deserialize)]
pub struct Named {
    pub name: String,
}

/// `GET /config/cookie`: only Crowd (and products embedding its server) answers it.
#[derive(Debug, Deserialize)]
pub struct CookieConfig {
    pub name: String,
}

/// Crowd's `ErrorEntity`.
#[derive(Debug, Default, Deserialize)]
pub struct ErrorEntity {
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

impl User {
    /// Converts to the domain type.
    ///
    /// # Errors
    /// [`TargetError::Decode`] when the username or key is unusable.
    pub fn into_target(self) -> TargetResult<TargetUser> {
        let decode = |message: String| TargetError::Decode {
            product: super::PRODUCT,
            action: "read users".to_owned(),
            message,
        };
        let username = Username::parse(&self.name)
            .map_err(|e| decode(format!("user {:?}: {e}", self.name)))?;
        let key = match self.key.filter(|k| !k.is_empty()) {
            Some(k) => {
                Some(TargetUserKey::parse(k).map_err(|e| decode(format!("user {username}: {e}")))?)
            }
            None => None,
        };
        let email = self
            .email
            .filter(|e| !e.trim().is_empty())
            .and_then(|e| Email::parse(e).ok());
        Ok(TargetUser {
            key,
            username,
            display_name: self.display_name.unwrap_or_default(),
            email,
            active: self.active,
            managed_elsewhere: false,
        })
    }
}
