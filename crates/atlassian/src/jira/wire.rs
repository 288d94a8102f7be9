//! Jira's JSON, as much of it as usersync reads (fact sheet §1.3), and the
//! conversion into the domain's [`TargetUser`].

use serde::Deserialize;
use usersync_core::{Email, TargetUser, TargetUserKey, Username};

use crate::{TargetError, TargetResult};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerInfo {
    pub version: String,
    #[serde(default)]
    pub version_numbers: Vec<u32>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub key: Option<String>,
    pub name: String,
    #[serde(default)]
    pub email_address: Option<String>,
    #[serde(default)]
    pub display_name: String,
    #[serde(default = "yes")]
    pub active: bool,
    #[serde(default)]
    pub groups: Option<GroupList>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
pub struct GroupList {
    pub size: usize,
    #[serde(default)]
    pub items: Vec<GroupRef>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GroupRef {
    pub name: String,
}

/// `GET /user/list` (10.3+).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamPage {
    #[serde(default)]
    pub is_last: bool,
    pub next_cursor: Option<String>,
    #[serde(default)]
    pub values: Vec<User>,
}

/// `GET /group/member`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberPage {
    #[serde(default)]
    pub is_last: bool,
    pub total: Option<usize>,
    #[serde(default)]
    pub values: Vec<User>,
}

/// `GET /groups/picker`.
#[derive(Debug, Deserialize)]
pub struct Picker {
    pub total: usize,
    #[serde(default)]
    pub groups: Vec<GroupRef>,
}

/// The version as numbers, from `versionNumbers` or the `version` string.
#[must_use]
pub fn version_numbers(info: &ServerInfo) -> (u32, u32, u32) {
    let mut n: Vec<u32> = if info.version_numbers.is_empty() {
        info.version
            .split(['.', '-'])
            .map_while(|p| p.parse().ok())
            .collect()
    } else {
        info.version_numbers.clone()
    };
    n.resize(3, 0);
    (n[0], n[1], n[2])
}

fn decode(action: &str, message: String) -> TargetError {
    TargetError::Decode {
        product: "Jira",
        action: action.to_owned(),
        message,
    }
}

impl User {
    /// Converts to the domain type.
    ///
    /// # Errors
    /// [`TargetError::Decode`] when the username or key is unusable.
    pub fn into_target(self, managed_elsewhere: bool) -> TargetResult<TargetUser> {
        let action = "read users";
        let username = Username::parse(&self.name)
            .map_err(|e| decode(action, format!("user {:?}: {e}", self.name)))?;
        let key = match self.key.filter(|k| !k.is_empty()) {
            Some(k) => Some(
                TargetUserKey::parse(k)
                    .map_err(|e| decode(action, format!("user {username}: {e}")))?,
            ),
            None => None,
        };
        let email = self
            .email_address
            .filter(|e| !e.trim().is_empty())
            .and_then(|e| Email::parse(e).ok());
        Ok(TargetUser {
            key,
            username,
            display_name: self.display_name,
            email,
            active: self.active,
            managed_elsewhere,
        })
    }
}

/// One application role (`GET /applicationrole`): only the licence figures.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ApplicationRole {
    key: String,
    #[serde(default)]
    user_count: u64,
    #[serde(default)]
    number_of_seats: i64,
    #[serde(default)]
    has_unlimited_seats: bool,
}

impl ApplicationRole {
    pub(super) fn into_seats(self) -> crate::Seats {
        // Jira says -1 seats for an unlimited licence.
        let total = (!self.has_unlimited_seats)
            .then(|| u64::try_from(self.number_of_seats).ok())
            .flatten();
        crate::Seats {
            application: self.key,
            used: self.user_count,
            total,
        }
    }
}
