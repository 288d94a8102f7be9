//! `/group`, the group-centric membership resources `/group/user/direct` and
//! `/group/user/nested`, `/search` (the CQL subset usersync and common clients
//! send) and `/config/cookie`.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::app::App;
use super::search::Restriction;
use super::users::body;
use super::wire::{self, CrowdError, expands, paging, required};

type Params = Query<HashMap<String, String>>;
type Answer = Result<Response, CrowdError>;

pub async fn get_group(State(app): State<App>, Query(q): Params) -> Answer {
    let name = required(&q, "groupname")?;
    let state = app.state();
    let group = state.existing_group(name)?;
    Ok(Json(wire::group(&app.base, group, true)).into_response())
}

/// `POST /group` `{"name","type":"GROUP",..}`: 201; a group that exists is `INVALID_GROUP`.
pub async fn create_group(State(app): State<App>, bytes: Bytes) -> Answer {
    let value = body(&bytes)?;
    let name = value
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match value.get("type").and_then(Value::as_str) {
        Some("GROUP") => {}
        other => {
            return Err(CrowdError::illegal(format!(
                "a group's type must be \"GROUP\", not {other:?}"
            )));
        }
    }
    let description = value
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or_default();
    app.state().create_group(name, description)?;
    Ok(StatusCode::CREATED.into_response())
}

pub async fn delete_group(State(app): State<App>, Query(q): Params) -> Answer {
    let name = required(&q, "groupname")?;
    app.state().delete_group(name)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /group/user/direct` (and `nested`): names, or whole users with `expand=user`.
pub async fn members(State(app): State<App>, Query(q): Params) -> Answer {
    let group = required(&q, "groupname")?;
    let state = app.state();
    let members = state.members(group)?;
    let expand = expands(&q, "user");
    if let Some(wanted) = q.get("username") {
        let user = members
            .iter()
            .find(|u| u.name.to_lowercase() == wanted.to_lowercase())
            .ok_or_else(|| CrowdError::membership_not_found(wanted, group))?;
        return Ok(Json(wire::user(&app.base, user, expand)).into_response());
    }
    let page = wire::page(members.into_iter(), paging(&q)?);
    let list: Vec<Value> = page
        .iter()
        .map(|u| wire::user(&app.base, u, expand))
        .collect();
    Ok(Json(json!({"expand": "user", "users": list})).into_response())
}

/// `POST /group/user/direct?groupname=` `{"name": user}`: the user is the body's entity.
pub async fn add_member(State(app): State<App>, Query(q): Params, bytes: Bytes) -> Answer {
    let group = required(&q, "groupname")?;
    let user = body(&bytes)?
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    app.state().add_member(group, &user, true)?;
    Ok(StatusCode::CREATED.into_response())
}

pub async fn remove_member(State(app): State<App>, Query(q): Params) -> Answer {
    let group = required(&q, "groupname")?;
    let user = required(&q, "username")?;
    app.state().remove_member(group, user)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /search?entity-type=user|group&restriction=CQL`, paged, names unless expanded.
pub async fn search(State(app): State<App>, Query(q): Params) -> Answer {
    let restriction = Restriction::parse(q.get("restriction").map_or("", String::as_str))?;
    let paging = paging(&q)?;
    let state = app.state();
    match q.get("entity-type").map(String::as_str) {
        Some("user") => {
            let expand = expands(&q, "user");
            let found = state.users().filter(|u| restriction.matches_user(u));
            let list: Vec<Value> = wire::page(found, paging)
                .into_iter()
                .map(|u| wire::user(&app.base, u, expand))
                .collect();
            Ok(Json(json!({"expand": "user", "users": list})).into_response())
        }
        Some("group") => {
            let expand = expands(&q, "group");
            let found = state.groups().filter(|g| restriction.matches_group(g));
            let list: Vec<Value> = wire::page(found, paging)
                .into_iter()
                .map(|g| wire::group(&app.base, g, expand))
                .collect();
            Ok(Json(json!({"expand": "group", "groups": list})).into_response())
        }
        other => Err(CrowdError::illegal(format!(
            "entity-type must be user or group, not {other:?}"
        ))),
    }
}

/// `GET /config/cookie`: the SSO cookie settings every Crowd application may read.
pub async fn cookie_config() -> Response {
    Json(json!({"domain": null, "secure": false, "name": "crowd.token_key"})).into_response()
}
