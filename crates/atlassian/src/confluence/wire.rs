//! Confluence's JSON shapes as the client reads them (fact sheet section 2.3):
//! `Person`, `Group`, the paged envelope, long tasks, and the two version sources.
//! Private to the client; only [`super`] turns them into core types.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use usersync_core::{GroupName, TargetUser, TargetUserKey, Username};

use crate::{TargetError, TargetResult};

/// One page of a list endpoint: `{"results","start","limit","size","_links"}`.
#[derive(Debug, Deserialize)]
pub struct Page<T> {
    pub results: Vec<T>,
    pub limit: Option<usize>,
    #[serde(rename = "_links")]
    pub links: Option<Links>,
}

#[derive(Debug, Deserialize)]
pub struct Links {
    pub next: Option<String>,
}

impl<T> Page<T> {
    /// Whether another page follows: `_links.next` says so; without `_links`,
    /// a full page means there may be more (the fact sheet allows either signal).
    pub fn has_more(&self, asked: usize) -> bool {
        if self.results.is_empty() {
            return false;
        }
        match &self.links {
            Some(links) => links.next.is_some(),
            None => self.results.len() >= self.limit.unwrap_or(asked),
        }
    }
}

/// `Person` (known or anonymous).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Person {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub username: Option<String>,
    pub user_key: Option<String>,
    pub display_name: Option<String>,
    /// `Active` or `Deactivated`, present with `expand=status`.
    pub status: Option<String>,
}

impl Person {
    pub fn is_anonymous(&self) -> bool {
        self.kind.as_deref() == Some("anonymous") || self.username.is_none()
    }

    /// The core view of this person; every read asks for `expand=status`.
    pub fn into_user(self, decode: impl Fn(String) -> TargetError) -> TargetResult<TargetUser> {
        let name = self
            .username
            .ok_or_else(|| decode("a user without a username".into()))?;
        let username =
            Username::parse(name.clone()).map_err(|e| decode(format!("user {name:?}: {e}")))?;
        let key = self
            .user_key
            .map(TargetUserKey::parse)
            .transpose()
            .map_err(|e| decode(format!("user {name:?}: {e}")))?;
        let active = match self.status.as_deref() {
            Some("Active") => true,
            Some("Deactivated") => false,
            Some(other) => return Err(decode(format!("user {name:?} has status {other:?}"))),
            None => return Err(decode(format!("user {name:?} came without expand=status"))),
        };
        Ok(TargetUser {
            key,
            display_name: self.display_name.unwrap_or_else(|| name.clone()),
            username,
            // Confluence's Person carries no e-mail address (fact sheet 2.3).
            email: None,
            active,
            // REST does not say which directory a user is in; writes refused by a
            // read-only directory come back as `TargetError::ManagedElsewhere`.
            managed_elsewhere: false,
        })
    }
}

#[derive(Debug, Deserialize)]
pub struct Group {
    pub name: String,
}

impl Group {
    pub fn into_name(self, decode: impl Fn(String) -> TargetError) -> TargetResult<GroupName> {
        GroupName::parse(self.name.clone())
            .map_err(|e| decode(format!("group {:?}: {e}", self.name)))
    }
}

/// `/rest/api/server-information` (9.1+) and the applinks manifest share `version`;
/// only the manifest names the product (`typeId`, `name`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionInfo {
    pub version: String,
    #[serde(default)]
    pub type_id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

/// The licence resource's answer (`/rest/license/1.0/license/userCount`, `/maxUsers`).
#[derive(Debug, Deserialize)]
pub struct Count {
    pub count: i64,
}

/// One user of `admin/users/list/active?expand=lastLogin`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LicensedUser {
    pub username: Option<String>,
    /// Absent or null: never signed in.
    #[serde(default)]
    pub last_login: Option<serde_json::Value>,
}

/// A `lastLogin` value. The reference gives no example, so both forms Atlassian's
/// REST APIs use for instants are read: an ISO 8601 string (`2024-05-01T09:30:00.000Z`,
/// or `+0000` without a colon) and epoch milliseconds.
pub fn parse_instant(value: &serde_json::Value) -> Result<DateTime<Utc>, String> {
    match value {
        serde_json::Value::Number(n) => n
            .as_i64()
            .and_then(DateTime::from_timestamp_millis)
            .ok_or_else(|| format!("{n} is not a time in epoch milliseconds")),
        serde_json::Value::String(s) => DateTime::parse_from_rfc3339(s)
            .or_else(|_| DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z"))
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| format!("{s:?} is not an ISO 8601 time")),
        other => Err(format!("{other} is not a time")),
    }
}

/// `LongTaskSubmission`, the 202 body of `DELETE /admin/user/{u}`.
#[derive(Debug, Deserialize)]
pub struct TaskSubmission {
    pub id: serde_json::Value,
}

/// `LongTaskStatus`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskStatus {
    pub finished: Option<bool>,
    pub percentage_complete: Option<u32>,
    pub successful: Option<bool>,
    #[serde(default)]
    pub messages: Vec<serde_json::Value>,
}

impl TaskStatus {
    pub fn is_finished(&self) -> bool {
        self.finished.unwrap_or(false) || self.percentage_complete.is_some_and(|p| p >= 100)
    }
}

/// `major.minor.patch` from a version string such as `8.5.16` or `9.2.0-m01`.
pub fn parse_version(text: &str) -> Option<(u32, u32, u32)> {
    let mut parts = text.trim().split('.').map(|p| {
        let digits: String = p.chars().take_while(char::is_ascii_digit).collect();
        digits.parse::<u32>().ok()
    });
    let major = parts.next()??;
    let minor = parts.next()??;
    let patch = parts.next().flatten().unwrap_or(0);
    Some((major, minor, patch))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_with_suffixes_and_missing_patch_numbers() {
        assert_eq!(parse_version("8.5.16"), Some((8, 5, 16)));
        assert_eq!(parse_version("9.2.0-m01"), Some((9, 2, 0)));
        assert_eq!(parse_version("10.2"), Some((10, 2, 0)));
        assert_eq!(parse_version("banana"), None);
    }

    #[test]
    fn last_sign_ins_are_read_as_iso_8601_with_or_without_a_colon_or_as_epoch_milliseconds() {
        let at = |v: serde_json::Value| parse_instant(&v).map(|t| t.timestamp_millis());
        let expected = Ok(1_714_555_800_000);
        assert_eq!(at(serde_json::json!("2024-05-01T09:30:00.000Z")), expected);
        assert_eq!(
            at(serde_json::json!("2024-05-01T11:30:00.000+0200")),
            expected
        );
        assert_eq!(at(serde_json::json!(1_714_555_800_000_i64)), expected);
        let bad = at(serde_json::json!("yesterday")).unwrap_err();
        assert!(
            bad.contains("\"yesterday\" is not an ISO 8601 time"),
            "{bad}"
        );
        assert!(at(serde_json::json!(true)).is_err());
    }

    #[test]
    fn a_page_without_links_continues_only_when_full() {
        let page: Page<Group> =
            serde_json::from_str(r#"{"results":[{"name":"a"},{"name":"b"}],"limit":2}"#).unwrap();
        assert!(page.has_more(2));
        let page: Page<Group> =
            serde_json::from_str(r#"{"results":[{"name":"a"}],"limit":2}"#).unwrap();
        assert!(!page.has_more(2));
        let page: Page<Group> = serde_json::from_str(
            r#"{"results":[{"name":"a"}],"limit":2,"_links":{"next":"/x?start=1"}}"#,
        )
        .unwrap();
        assert!(page.has_more(2));
    }
}
