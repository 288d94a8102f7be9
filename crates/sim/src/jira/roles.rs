//! Jira's application roles (`GET /rest/api/2/applicationrole`), read-only: the
//! licence figures of each application (reference §1.3 `ApplicationRole`). The
//! emulator grants access per user (`applicationKeys` at creation), so a role's
//! `userCount` is its active users holding the key and its `groups` are empty;
//! seats are unlimited unless a test sets them (`JiraSim::set_application_seats`).

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::app::App;
use super::state::JiraState;
use super::wire::{APPLICATIONS, JiraError};

fn role(state: &JiraState, key: &str, name: &str) -> Value {
    let seats = state.application_seats.get(key).copied();
    let users = state
        .users()
        .filter(|u| u.active && u.application_keys.iter().any(|k| k == key))
        .count();
    let (number, remaining) = match seats {
        Some(n) => (i64::from(n), i64::from(n) - users as i64),
        None => (-1, -1),
    };
    json!({
        "key": key,
        "name": name,
        "groups": [],
        "defaultGroups": [],
        "selectedByDefault": key == "jira-software",
        "defined": true,
        "numberOfSeats": number,
        "remainingSeats": remaining,
        "userCount": users,
        "userCountDescription": format!("{users} users"),
        "hasUnlimitedSeats": seats.is_none(),
        "platform": key == "jira-core",
    })
}

pub async fn list(State(app): State<App>) -> Json<Value> {
    let state = app.state();
    Json(Value::Array(
        APPLICATIONS
            .iter()
            .map(|(key, name)| role(&state, key, name))
            .collect(),
    ))
}

pub async fn one(State(app): State<App>, Path(key): Path<String>) -> Result<Response, JiraError> {
    let state = app.state();
    let (key, name) = APPLICATIONS
        .iter()
        .find(|(k, _)| *k == key)
        .ok_or_else(|| JiraError::not_found(format!("No application role with key '{key}'.")))?;
    Ok(Json(role(&state, key, name)).into_response())
}
