//! Jira's wire formats: the `ErrorCollection` error body, and the JSON of users
//! and groups as `/rest/api/2` renders them (fact sheet §1.3).

use std::collections::BTreeMap;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::state::SimUser;

/// An error as Jira sends it: a status and `{"errorMessages":[..],"errors":{..}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JiraError {
    pub status: StatusCode,
    pub messages: Vec<String>,
    pub errors: BTreeMap<String, String>,
}

impl JiraError {
    #[must_use]
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            messages: vec![message.into()],
            errors: BTreeMap::new(),
        }
    }

    #[must_use]
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    #[must_use]
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    #[must_use]
    pub fn messages<const N: usize>(messages: [&str; N]) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            messages: messages.iter().map(|m| (*m).to_owned()).collect(),
            errors: BTreeMap::new(),
        }
    }

    /// A 400 with one field error.
    #[must_use]
    pub fn field(field: &str, message: &str) -> Self {
        Self::fields(BTreeMap::from([(field, message)]))
    }

    /// A 400 with field errors.
    #[must_use]
    pub fn fields(errors: BTreeMap<&str, &str>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            messages: Vec::new(),
            errors: errors
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        }
    }

    #[must_use]
    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "You are not authenticated. Authentication required to perform this operation.",
        )
    }

    #[must_use]
    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "You do not have permission to perform this operation: Jira administrator permission is required.",
        )
    }
}

impl IntoResponse for JiraError {
    fn into_response(self) -> Response {
        let body = json!({"errorMessages": self.messages, "errors": self.errors});
        (self.status, Json(body)).into_response()
    }
}

/// The error body the fault middleware sends.
pub fn fault_body(status: StatusCode) -> Response {
    let text = status.canonical_reason().unwrap_or("error");
    JiraError::new(status, format!("Injected fault: {text}")).into_response()
}

/// Reads a boolean the way Jira's JAX-RS layer does: `true`/`false` in any case.
#[must_use]
pub fn parse_bool(value: Option<&str>, default: bool) -> bool {
    match value {
        Some(v) if v.eq_ignore_ascii_case("true") => true,
        Some(v) if v.eq_ignore_ascii_case("false") => false,
        _ => default,
    }
}

/// A boolean JSON field that clients send as a bool or a string (`"false"`, `"True"`).
#[must_use]
pub fn json_bool(value: Option<&Value>) -> Option<bool> {
    match value? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => Some(s.eq_ignore_ascii_case("true")),
        _ => None,
    }
}

fn avatar_urls(base: &str, user: &SimUser) -> Value {
    let url = |size: &str| format!("{base}/secure/useravatar?size={size}&ownerId={}", user.key);
    json!({"48x48": url("large"), "24x24": url("small"), "16x16": url("xsmall"), "32x32": url("medium")})
}

/// `self` link of a user.
#[must_use]
pub fn user_self(base: &str, user: &SimUser) -> String {
    format!(
        "{base}/rest/api/2/user?username={}",
        urlencoding::encode(&user.name)
    )
}

/// `UserJson` (items of `/group/member`).
#[must_use]
pub fn user_json(base: &str, user: &SimUser) -> Value {
    json!({
        "self": user_self(base, user),
        "key": user.key,
        "name": user.name,
        "emailAddress": user.email,
        "avatarUrls": avatar_urls(base, user),
        "displayName": user.display_name,
        "active": user.active,
        "timeZone": "UTC",
    })
}

/// Full `User` (GET /user, search, list); `groups` filled only when expanded.
#[must_use]
pub fn user_full(base: &str, user: &SimUser, groups: Option<&[String]>) -> Value {
    let mut value = user_json(base, user);
    let group_items: Vec<Value> = groups
        .unwrap_or_default()
        .iter()
        .map(|g| group_ref(base, g))
        .collect();
    let roles: Vec<Value> = user
        .application_keys
        .iter()
        .map(|k| json!({"key": k, "name": application_name(k)}))
        .collect();
    let extra = json!({
        "deleted": false,
        "locale": "en_US",
        "groups": {"size": groups.map_or(0, <[String]>::len), "items": group_items},
        "applicationRoles": {"size": roles.len(), "items": if groups.is_some() { roles } else { vec![] }},
        "expand": "groups,applicationRoles",
    });
    if let (Value::Object(map), Value::Object(more)) = (&mut value, extra) {
        map.extend(more);
    }
    value
}

/// `{"name","self"}` of a group.
#[must_use]
pub fn group_ref(base: &str, name: &str) -> Value {
    json!({"name": name, "self": group_self(base, name)})
}

#[must_use]
pub fn group_self(base: &str, name: &str) -> String {
    format!(
        "{base}/rest/api/2/group?groupname={}",
        urlencoding::encode(name)
    )
}

/// The applications the emulator knows (`applicationKeys` values).
pub const APPLICATIONS: [(&str, &str); 3] = [
    ("jira-software", "Jira Software"),
    ("jira-core", "Jira Core"),
    ("jira-servicedesk", "Jira Service Management"),
];

#[must_use]
pub fn application_name(key: &str) -> &'static str {
    APPLICATIONS
        .iter()
        .find(|(k, _)| *k == key)
        .map_or("Unknown", |(_, n)| n)
}
