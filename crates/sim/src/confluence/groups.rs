//! Group endpoints: `/rest/api/group*` (every version), and from 9.0 the admin
//! group CRUD and the idempotent user-group membership `PUT`/`DELETE`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Extension, Json, Router};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::Value;

use super::app::{App, Caller, json_body, signed_in, sysadmin};
use super::state::{ApiError, ApiResult};
use super::version::Version;
use super::wire::{self, Paging};

pub fn routes(version: Version) -> Router<App> {
    let mut r = Router::new()
        .route("/rest/api/group", get(list_groups))
        .route("/rest/api/group/{group}", get(get_group))
        .route("/rest/api/group/{group}/member", get(members));
    if version.has_group_management() {
        r = r
            .route("/rest/api/admin/group", post(create_group))
            .route("/rest/api/admin/group/{group}", delete(delete_group))
            .route(
                "/rest/api/user/{username}/group/{group}",
                put(add_member).delete(remove_member),
            );
    }
    r
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    start: Option<usize>,
    limit: Option<usize>,
    expand: Option<String>,
}

async fn list_groups(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    signed_in(&c)?;
    let paging = Paging {
        start: q.start,
        limit: q.limit,
    };
    let store = app.store();
    let render = |g: &String| wire::group(&app.base_url, g);
    Ok(app.page("/rest/api/group", store.groups.values(), render, paging, ""))
}

fn no_group(name: &str) -> ApiError {
    ApiError::new(404, format!("No group found with name : {name}"))
}

async fn get_group(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path(group): Path<String>,
) -> ApiResult<Json<Value>> {
    signed_in(&c)?;
    let name = app
        .store()
        .group(&group)
        .cloned()
        .ok_or_else(|| no_group(&group))?;
    Ok(Json(wire::group(&app.base_url, &name)))
}

async fn members(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path(group): Path<String>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    signed_in(&c)?;
    let with_status = wire::expands_status(q.expand.as_deref());
    let store = app.store();
    let people = store.members_of(&group)?;
    let render = |u: &super::state::User| wire::person(&app.base_url, u, with_status);
    let path = format!("/rest/api/group/{}/member", urlencoding::encode(&group));
    let extra = if with_status { "expand=status&" } else { "" };
    let paging = Paging {
        start: q.start,
        limit: q.limit,
    };
    Ok(app.page(&path, people.into_iter(), render, paging, extra))
}

#[derive(Debug, Deserialize)]
struct NewGroup {
    name: Option<String>,
}

async fn create_group(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    body: Bytes,
) -> ApiResult<Response> {
    sysadmin(&app, &c)?;
    let new: NewGroup = json_body(&body)?;
    let name = new
        .name
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| ApiError::new(400, "Group name should not be blank"))?;
    let name = app.store().create_group(&name)?;
    Ok((StatusCode::CREATED, Json(wire::group(&app.base_url, &name))).into_response())
}

async fn delete_group(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path(group): Path<String>,
) -> ApiResult<StatusCode> {
    sysadmin(&app, &c)?;
    app.store().delete_group(&group)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn add_member(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((username, group)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    sysadmin(&app, &c)?;
    app.store().set_membership(&username, &group, true)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn remove_member(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((username, group)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    sysadmin(&app, &c)?;
    app.store().set_membership(&username, &group, false)?;
    Ok(StatusCode::NO_CONTENT)
}
