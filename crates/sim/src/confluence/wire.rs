//! Confluence's JSON shapes: `Person`, `Group`, the paged envelope, long-task
//! bodies and the REST error object (atlassian-api.md section 2.3).
//!
//! The error object's exact shape is UNCONFIRMED in the fact sheet; this is the one
//! it records: `{"statusCode","data":{"authorized","valid","errors","successful"},
//! "message","reason"}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::state::{ApiError, DeleteTask, User};

/// The paging query every list endpoint takes.
#[derive(Debug, Clone, Copy, serde::Deserialize)]
pub struct Paging {
    pub start: Option<usize>,
    pub limit: Option<usize>,
}

impl Paging {
    /// Start and limit with the documented default (200) and the server cap.
    pub fn resolve(self, cap: usize) -> (usize, usize) {
        (
            self.start.unwrap_or(0),
            self.limit.unwrap_or(200).clamp(1, cap),
        )
    }
}

/// Whether `expand` asks for `status`.
pub fn expands_status(expand: Option<&str>) -> bool {
    expand.is_some_and(|e| e.split(',').any(|p| p.trim() == "status"))
}

/// A known user as `Person`.
pub fn person(base: &str, user: &User, with_status: bool) -> Value {
    let mut v = json!({
        "type": "known",
        "username": user.username,
        "userKey": user.key,
        "profilePicture": {
            "path": "/images/icons/profilepics/default.svg",
            "width": 48, "height": 48, "isDefault": true
        },
        "displayName": user.display_name,
        "_links": { "self": format!("{base}/rest/api/user?key={}", user.key) },
        "_expandable": { "operations": "", "details": "", "personalSpace": "" },
    });
    if with_status {
        v["status"] = json!(if user.active { "Active" } else { "Deactivated" });
    } else {
        v["_expandable"]["status"] = json!("");
    }
    v
}

/// The caller when no credential was sent.
pub fn anonymous() -> Value {
    json!({
        "type": "anonymous",
        "profilePicture": {
            "path": "/images/icons/profilepics/anonymous.svg",
            "width": 48, "height": 48, "isDefault": true
        },
        "displayName": "Anonymous",
        "_links": {},
        "_expandable": {}
    })
}

pub fn group(base: &str, name: &str) -> Value {
    json!({
        "type": "group",
        "name": name,
        "_links": { "self": format!("{base}/rest/api/group/{}", urlencoding::encode(name)) },
    })
}

/// One page of `items` (already the whole list) in Confluence's envelope.
pub fn page(
    base: &str,
    path: &str,
    (results, total): (Vec<Value>, usize),
    start: usize,
    limit: usize,
    extra: &str,
) -> Value {
    let size = results.len();
    let link = |s: usize| format!("{path}?{extra}limit={limit}&start={s}");
    let mut links =
        json!({ "base": base, "context": "", "self": format!("{base}{}", link(start)) });
    if start + size < total {
        links["next"] = json!(link(start + size));
    }
    if start > 0 {
        links["prev"] = json!(link(start.saturating_sub(limit)));
    }
    json!({ "results": results, "start": start, "limit": limit, "size": size, "_links": links })
}

/// `LongTaskSubmission`, the 202 body of an asynchronous delete.
pub fn task_submission(id: &str) -> Value {
    json!({ "id": id, "links": { "status": format!("/rest/api/longtask/{id}") } })
}

/// `LongTaskStatus`.
pub fn task_status(base: &str, id: &str, task: &DeleteTask) -> Value {
    let percent = if task.finished { 100 } else { 50 };
    json!({
        "id": id,
        "name": { "key": "com.atlassian.confluence.user.delete.task", "args": [task.username] },
        "elapsedTime": u64::try_from(task.started.elapsed().as_millis()).unwrap_or(u64::MAX),
        "percentageComplete": percent,
        "successful": true,
        "finished": task.finished,
        "messages": [],
        "_links": { "self": format!("{base}/rest/api/longtask/{id}") },
    })
}

fn reason(status: StatusCode) -> &'static str {
    status.canonical_reason().unwrap_or("Error")
}

/// The Confluence REST error object for a status and message.
pub fn error(status: StatusCode, message: &str) -> Response {
    let body = json!({
        "statusCode": status.as_u16(),
        "data": { "authorized": status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
                  "valid": true, "errors": [], "successful": false },
        "message": message,
        "reason": reason(status),
    });
    (status, Json(body)).into_response()
}

/// The body the fault middleware sends for an injected status.
pub fn fault_body(status: StatusCode) -> Response {
    error(status, &format!("injected fault: {}", reason(status)))
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        error(status, &self.message)
    }
}
