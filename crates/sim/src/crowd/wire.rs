//! Crowd's JSON on the wire: the user and group entities (fact sheet §3.3), the
//! error entity `{"reason","message"}` with the status Crowd gives each reason, and
//! `start-index`/`max-results` paging.

use std::collections::HashMap;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::state::{SimGroup, SimUser};

/// Crowd's default and the most one page may ask for here.
pub const DEFAULT_MAX_RESULTS: usize = 1000;

/// A refusal, as Crowd's `ErrorEntity`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrowdError {
    pub status: StatusCode,
    pub reason: &'static str,
    pub message: String,
}

impl CrowdError {
    pub fn new(status: StatusCode, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            reason,
            message: message.into(),
        }
    }

    pub fn user_not_found(name: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "USER_NOT_FOUND",
            format!("User <{name}> does not exist"),
        )
    }

    pub fn group_not_found(name: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "GROUP_NOT_FOUND",
            format!("Group <{name}> does not exist"),
        )
    }

    pub fn membership_not_found(user: &str, group: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "MEMBERSHIP_NOT_FOUND",
            format!("<{user}> is not a direct member of <{group}>"),
        )
    }

    pub fn membership_exists(user: &str, group: &str) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "MEMBERSHIP_ALREADY_EXISTS",
            format!("<{user}> is already a direct member of <{group}>"),
        )
    }

    pub fn invalid_user(message: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "INVALID_USER", message)
    }

    pub fn invalid_group(message: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "INVALID_GROUP", message)
    }

    pub fn illegal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "ILLEGAL_ARGUMENT", message)
    }

    /// The entity named in a request body is missing: Crowd says 400, not 404.
    #[must_use]
    pub fn in_body(mut self) -> Self {
        self.status = StatusCode::BAD_REQUEST;
        self
    }
}

impl IntoResponse for CrowdError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({"reason": self.reason, "message": self.message})),
        )
            .into_response()
    }
}

/// An injected fault, in Crowd's error shape.
pub fn fault_body(status: StatusCode) -> Response {
    let text = status.canonical_reason().unwrap_or("error");
    CrowdError::new(
        status,
        "OPERATION_FAILED",
        format!("Injected fault: {text}"),
    )
    .into_response()
}

fn link(base: &str, path: &str, query: &str, value: &str) -> Value {
    json!({
        "href": format!("{base}/rest/usermanagement/1/{path}?{query}={}", urlencoding::encode(value)),
        "rel": "self",
    })
}

/// A user entity; `expanded` adds every attribute (`expand=user` in lists).
pub fn user(base: &str, user: &SimUser, expanded: bool) -> Value {
    let mut value = json!({"name": user.name, "link": link(base, "user", "username", &user.name)});
    if expanded {
        let fields = json!({
            "key": user.key,
            "active": user.active,
            "first-name": user.first_name,
            "last-name": user.last_name,
            "display-name": user.display_name,
            "email": user.email,
            "password": {"link": link(base, "user/password", "username", &user.name)},
            "expand": "attributes",
        });
        if let (Value::Object(out), Value::Object(more)) = (&mut value, fields) {
            out.extend(more);
        }
    }
    value
}

/// A group entity; `expanded` adds its attributes.
pub fn group(base: &str, group: &SimGroup, expanded: bool) -> Value {
    let mut value =
        json!({"name": group.name, "link": link(base, "group", "groupname", &group.name)});
    if expanded {
        let fields = json!({
            "description": group.description,
            "type": "GROUP",
            "active": group.active,
            "expand": "attributes",
        });
        if let (Value::Object(out), Value::Object(more)) = (&mut value, fields) {
            out.extend(more);
        }
    }
    value
}

/// `start-index` and `max-results` from a query (Crowd's defaults 0 and 1000).
///
/// # Errors
/// `ILLEGAL_ARGUMENT` for a value that is not a number.
pub fn paging(query: &HashMap<String, String>) -> Result<(usize, usize), CrowdError> {
    let number = |name: &str, default: usize| match query.get(name) {
        None => Ok(default),
        Some(text) => text.trim().parse::<usize>().map_err(|_| {
            CrowdError::illegal(format!("{name} must be a whole number, not {text:?}"))
        }),
    };
    Ok((
        number("start-index", 0)?,
        number("max-results", DEFAULT_MAX_RESULTS)?,
    ))
}

/// One page of `items`.
pub fn page<T>(items: impl Iterator<Item = T>, (start, max): (usize, usize)) -> Vec<T> {
    items.skip(start).take(max).collect()
}

/// The query parameter `name`, or `ILLEGAL_ARGUMENT` naming it.
///
/// # Errors
/// When the parameter is absent or empty.
pub fn required<'a>(query: &'a HashMap<String, String>, name: &str) -> Result<&'a str, CrowdError> {
    query
        .get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| CrowdError::illegal(format!("the query parameter {name} is required")))
}

/// Whether `expand` asks for `what` (a comma-separated list).
pub fn expands(query: &HashMap<String, String>, what: &str) -> bool {
    query
        .get("expand")
        .is_some_and(|e| e.split(',').any(|p| p.trim() == what))
}
