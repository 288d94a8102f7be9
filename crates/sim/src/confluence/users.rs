//! User endpoints: `/rest/api/user*`, `/rest/api/admin/user*`, long tasks, and the
//! two places a client learns the version (`/rest/api/server-information` from
//! 9.1, the applinks manifest everywhere).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Extension, Json, Router};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Value, json};

use super::app::{App, Caller, json_body, signed_in, sysadmin};
use super::state::{ApiError, ApiResult};
use super::version::Version;
use super::wire::{self, Paging};

pub fn routes(version: Version) -> Router<App> {
    let mut r = Router::new()
        .route("/rest/api/user", get(get_user))
        .route("/rest/api/user/current", get(current))
        .route("/rest/api/user/memberof", get(member_of))
        .route("/rest/api/longtask/{id}", get(long_task))
        .route("/rest/applinks/1.0/manifest", get(manifest));
    if version.has_server_information() {
        r = r.route("/rest/api/server-information", get(server_information));
    }
    if version.has_create_and_list() {
        r = r
            .route("/rest/api/user/list", get(list_users))
            .route("/rest/api/admin/user", post(create_user))
            .route(
                "/rest/api/admin/user/{username}/password",
                post(set_password),
            );
    }
    if version.has_disable_and_delete() {
        let mut one = axum::routing::delete(delete_user);
        if version.has_update_user() {
            one = one.put(update_user);
        }
        r = r
            .route("/rest/api/admin/user/{username}", one)
            .route("/rest/api/admin/user/{username}/disable", put(disable))
            .route("/rest/api/admin/user/{username}/enable", put(enable));
    }
    r
}

#[derive(Debug, Deserialize)]
struct Lookup {
    username: Option<String>,
    key: Option<String>,
    expand: Option<String>,
    start: Option<usize>,
    limit: Option<usize>,
}

/// Finds the user a `username=` or `key=` query names.
fn find(app: &App, q: &Lookup) -> ApiResult<super::state::User> {
    let store = app.store();
    let found = match (&q.username, &q.key) {
        (Some(u), _) => store.user(u),
        (None, Some(k)) => store.user_by_key(k),
        (None, None) => return Err(ApiError::new(400, "A username or key must be supplied")),
    };
    found.cloned().ok_or_else(|| {
        let which = q
            .username
            .as_deref()
            .or(q.key.as_deref())
            .unwrap_or_default();
        ApiError::new(404, format!("No user found with username or key : {which}"))
    })
}

async fn get_user(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Query(q): Query<Lookup>,
) -> ApiResult<Json<Value>> {
    signed_in(&c)?;
    let user = find(&app, &q)?;
    Ok(Json(wire::person(
        &app.base_url,
        &user,
        wire::expands_status(q.expand.as_deref()),
    )))
}

async fn current(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Query(q): Query<Lookup>,
) -> Json<Value> {
    let Caller::User(name) = c else {
        return Json(wire::anonymous());
    };
    let user = app.store().user(&name).cloned();
    Json(user.map_or_else(wire::anonymous, |u| {
        wire::person(&app.base_url, &u, wire::expands_status(q.expand.as_deref()))
    }))
}

async fn member_of(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Query(q): Query<Lookup>,
) -> ApiResult<Json<Value>> {
    signed_in(&c)?;
    let user = find(&app, &q)?;
    let store = app.store();
    let groups = store.groups_of(&user.username);
    let render = |g: &String| wire::group(&app.base_url, g);
    let extra = format!("username={}&", urlencoding::encode(&user.username));
    let paging = Paging {
        start: q.start,
        limit: q.limit,
    };
    Ok(app.page(
        "/rest/api/user/memberof",
        groups.into_iter(),
        render,
        paging,
        &extra,
    ))
}

async fn list_users(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Query(q): Query<Lookup>,
) -> ApiResult<Json<Value>> {
    signed_in(&c)?;
    let with_status = wire::expands_status(q.expand.as_deref());
    let store = app.store();
    let render = |u: &super::state::User| wire::person(&app.base_url, u, with_status);
    let extra = if with_status { "expand=status&" } else { "" };
    let paging = Paging {
        start: q.start,
        limit: q.limit,
    };
    Ok(app.page(
        "/rest/api/user/list",
        store.users.values(),
        render,
        paging,
        extra,
    ))
}

/// `UserDetailsForCreation`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Creation {
    user_name: Option<String>,
    full_name: Option<String>,
    email: Option<String>,
    password: Option<String>,
    notify_via_email: Option<bool>,
}

/// The documented validation rules for `POST /admin/user`.
fn validate(c: &Creation) -> ApiResult<()> {
    let bad = |m: String| Err(ApiError::new(400, m));
    let name = c.user_name.as_deref().unwrap_or_default();
    if name.trim().is_empty() {
        return bad("userName should not be blank".into());
    }
    if name.chars().any(char::is_uppercase) {
        return bad(format!(
            "userName '{name}' should not contain upper-case letters"
        ));
    }
    if name
        .chars()
        .any(|ch| ch.is_whitespace() || "\\,+<>'\"".contains(ch))
    {
        return bad(format!(
            "userName '{name}' should not contain whitespace or any of \\ , + < > ' \""
        ));
    }
    if name == "anonymous" {
        return bad("userName should not be 'anonymous'".into());
    }
    let full = c.full_name.as_deref().unwrap_or_default();
    if full.trim().is_empty() || full.eq_ignore_ascii_case("anonymous") || full.contains(['<', '>'])
    {
        return bad(
            "fullName should not be blank or 'anonymous' and should not contain < or >".into(),
        );
    }
    let email = c.email.as_deref().unwrap_or_default();
    let valid_email = email.split_once('@').is_some_and(|(l, d)| {
        !l.is_empty() && d.contains('.') && !email.contains(char::is_whitespace)
    });
    if !valid_email {
        return bad(format!("email '{email}' is not a valid e-mail address"));
    }
    match (c.notify_via_email.unwrap_or(false), c.password.is_some()) {
        (false, false) => bad("password should be provided when notifyViaEmail is false".into()),
        (true, true) => bad("password should not be provided when notifyViaEmail is true".into()),
        _ => Ok(()),
    }
}

async fn create_user(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    body: Bytes,
) -> ApiResult<Response> {
    sysadmin(&app, &c)?;
    let creation: Creation = json_body(&body)?;
    validate(&creation)?;
    let user = app.store().create_user(
        creation.user_name.as_deref().unwrap_or_default(),
        creation.full_name.as_deref().unwrap_or_default(),
        creation.email.as_deref().unwrap_or_default(),
        creation.password.as_deref(),
    )?;
    Ok((StatusCode::CREATED, Json(json!({ "userKey": user.key }))).into_response())
}

/// `UserDetailsForUpdate`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Update {
    email: Option<String>,
    full_name: Option<String>,
}

async fn update_user(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path(username): Path<String>,
    body: Bytes,
) -> ApiResult<StatusCode> {
    sysadmin(&app, &c)?;
    let update: Update = json_body(&body)?;
    if update
        .full_name
        .as_deref()
        .is_some_and(|f| f.trim().is_empty())
    {
        return Err(ApiError::new(400, "fullName should not be blank"));
    }
    app.store().update_user(
        &username,
        update.email.as_deref(),
        update.full_name.as_deref(),
    )?;
    Ok(StatusCode::NO_CONTENT)
}

async fn disable(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path(username): Path<String>,
) -> ApiResult<StatusCode> {
    sysadmin(&app, &c)?;
    app.store().set_active(&username, false)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn enable(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path(username): Path<String>,
) -> ApiResult<StatusCode> {
    sysadmin(&app, &c)?;
    app.store().set_active(&username, true)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
struct NewPassword {
    password: Option<String>,
}

async fn set_password(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path(username): Path<String>,
    body: Bytes,
) -> ApiResult<StatusCode> {
    sysadmin(&app, &c)?;
    let p: NewPassword = json_body(&body)?;
    let password = p
        .password
        .filter(|p| !p.trim().is_empty())
        .ok_or_else(|| ApiError::new(400, "The new password should not be null or blank"))?;
    app.store().set_password(&username, &password)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn delete_user(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path(username): Path<String>,
) -> ApiResult<Response> {
    sysadmin(&app, &c)?;
    let id = app.store().start_delete(&username)?;
    Ok((StatusCode::ACCEPTED, Json(wire::task_submission(&id))).into_response())
}

async fn long_task(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    signed_in(&c)?;
    let task = app
        .store()
        .poll_task(&id)
        .ok_or_else(|| ApiError::new(404, format!("No long running task found with id : {id}")))?;
    Ok(Json(wire::task_status(&app.base_url, &id, &task)))
}

async fn server_information(State(app): State<App>) -> Json<Value> {
    Json(json!({
        "baseUrl": app.base_url,
        "version": app.version.to_string(),
        "buildNumber": app.version.build_number(),
        "marketplaceBuildNumber": app.version.build_number(),
        "buildDate": "2024-01-01T00:00:00.000Z",
    }))
}

async fn manifest(State(app): State<App>) -> Json<Value> {
    Json(json!({
        "id": "0b8a3c4e-5f1d-3a2b-9c8d-7e6f5a4b3c2d",
        "name": "Confluence",
        "typeId": "confluence",
        "version": app.version.to_string(),
        "buildNumber": app.version.build_number(),
        "applinksVersion": "9.0.0",
        "url": app.base_url,
        "publicSignup": false,
    }))
}
