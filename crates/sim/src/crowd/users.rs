//! `/user`, `/user/rename`, `/user/password` and the user-centric membership
//! resources `/user/group/direct` and `/user/group/nested`.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::app::App;
use super::state::SimUser;
use super::wire::{self, CrowdError, expands, paging, required};

type Params = Query<HashMap<String, String>>;
type Answer = Result<Response, CrowdError>;

/// The JSON body of a request, or `ILLEGAL_ARGUMENT`.
pub(crate) fn body(bytes: &Bytes) -> Result<Value, CrowdError> {
    serde_json::from_slice(bytes)
        .map_err(|e| CrowdError::illegal(format!("the request body is not JSON: {e}")))
}

fn text(value: &Value, field: &str) -> String {
    value
        .get(field)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// A user entity from a request body; a missing display name is made from the
/// first and last names, as Crowd does.
pub(crate) fn user_from(value: &Value) -> SimUser {
    let (first, last) = (text(value, "first-name"), text(value, "last-name"));
    let mut display = text(value, "display-name");
    if display.trim().is_empty() {
        display = format!("{first} {last}").trim().to_owned();
    }
    SimUser {
        name: text(value, "name"),
        key: String::new(),
        first_name: first,
        last_name: last,
        display_name: display,
        email: text(value, "email"),
        active: value.get("active").and_then(Value::as_bool).unwrap_or(true),
        password: value
            .pointer("/password/value")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
    }
}

pub async fn get_user(State(app): State<App>, Query(q): Params) -> Answer {
    let name = required(&q, "username")?;
    let state = app.state();
    let user = state.existing_user(name)?;
    Ok(Json(wire::user(&app.base, user, true)).into_response())
}

/// `POST /user`: 201 with a `Location`; a password is required, as in Crowd.
pub async fn create_user(State(app): State<App>, bytes: Bytes) -> Answer {
    let value = body(&bytes)?;
    let user = user_from(&value);
    if user.password.is_empty() {
        return Err(CrowdError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_CREDENTIAL",
            "a new user needs password.value",
        ));
    }
    let mut state = app.state();
    let created = state.create_user(user)?;
    let location = format!(
        "{}/rest/usermanagement/1/user?username={}",
        app.base,
        urlencoding::encode(&created.name)
    );
    Ok((StatusCode::CREATED, [(header::LOCATION, location)]).into_response())
}

/// `PUT /user`: replaces the user; the body's name must be the query's, ignoring case.
pub async fn update_user(State(app): State<App>, Query(q): Params, bytes: Bytes) -> Answer {
    let name = required(&q, "username")?;
    let value = body(&bytes)?;
    let with = user_from(&value);
    if with.name.to_lowercase() != name.to_lowercase() {
        return Err(CrowdError::illegal(format!(
            "the user's name in the body ({:?}) is not the one in the URL ({name:?})",
            with.name
        )));
    }
    app.state().replace_user(name, with)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn delete_user(State(app): State<App>, Query(q): Params) -> Answer {
    let name = required(&q, "username")?;
    app.state().delete_user(name)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /user/rename` `{"new-name": ..}`: 200 with the renamed user.
pub async fn rename_user(State(app): State<App>, Query(q): Params, bytes: Bytes) -> Answer {
    let name = required(&q, "username")?;
    let new_name = text(&body(&bytes)?, "new-name");
    let mut state = app.state();
    let user = state.rename_user(name, &new_name)?;
    Ok(Json(wire::user(&app.base, user, true)).into_response())
}

pub async fn set_password(State(app): State<App>, Query(q): Params, bytes: Bytes) -> Answer {
    let name = required(&q, "username")?;
    let password = text(&body(&bytes)?, "value");
    if password.is_empty() {
        return Err(CrowdError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_CREDENTIAL",
            "the password is empty",
        ));
    }
    app.state().set_password(name, password)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /user/group/direct` (and `nested`: the emulator has no nested groups).
/// With `groupname`, that one membership or `MEMBERSHIP_NOT_FOUND`.
pub async fn groups_of(State(app): State<App>, Query(q): Params) -> Answer {
    let name = required(&q, "username")?;
    let state = app.state();
    let groups = state.groups_of(name)?;
    let expand = expands(&q, "group");
    if let Some(wanted) = q.get("groupname") {
        let group = groups
            .iter()
            .find(|g| g.name.to_lowercase() == wanted.to_lowercase())
            .ok_or_else(|| CrowdError::membership_not_found(name, wanted))?;
        return Ok(Json(wire::group(&app.base, group, expand)).into_response());
    }
    let page = wire::page(groups.into_iter(), paging(&q)?);
    let list: Vec<Value> = page
        .iter()
        .map(|g| wire::group(&app.base, g, expand))
        .collect();
    Ok(Json(json!({"expand": "group", "groups": list})).into_response())
}

/// `POST /user/group/direct?username=` `{"name": group}`: the group is the body's entity.
pub async fn add_to_group(State(app): State<App>, Query(q): Params, bytes: Bytes) -> Answer {
    let user = required(&q, "username")?;
    let group = text(&body(&bytes)?, "name");
    app.state().add_member(&group, user, false)?;
    Ok(StatusCode::CREATED.into_response())
}

pub async fn remove_from_group(State(app): State<App>, Query(q): Params) -> Answer {
    let user = required(&q, "username")?;
    let group = required(&q, "groupname")?;
    app.state().remove_member(group, user)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
