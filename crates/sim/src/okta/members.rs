//! `/api/v1/groups/{id}/users`: list members (default and maximum page 1000, cursor is the
//! user id) and add or remove one member (204, idempotent). Members are listed whatever
//! their status.

use std::ops::Bound;

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::error::{ApiError, ApiResult};
use super::ids::Oid;
use super::logs::Origin;
use super::paging::{self, Base, Query};
use super::render::{self, Form};
use super::server::App;
use super::state::OrgState;
use super::state_groups::require_okta_group;

/// `GET /api/v1/groups/{id}/users`.
pub async fn list(
    State(app): State<App>,
    base: Base,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let query = Query::parse(raw.as_deref());
    let limit = query.limit(1000, 1000)?;
    let after = query
        .get("after")
        .map(|a| {
            Oid::parse(a).ok_or_else(|| {
                ApiError::invalid_paging(format!("after: {a:?} is not a cursor this server issued"))
            })
        })
        .transpose()?;
    let org = app.org();
    let gid = org.group(&id)?.id;
    let members = org.members.get(&gid);
    let ids = members.into_iter().flat_map(|set| {
        set.range((
            after.map_or(Bound::Unbounded, Bound::Excluded),
            Bound::Unbounded,
        ))
    });
    let (page, next) = paging::page(ids.filter_map(|uid| org.users.get(uid)), limit, |u| {
        u.id.to_string()
    });
    let body = Value::Array(
        page.into_iter()
            .map(|u| render::user(&base.0, u, Form::Collection))
            .collect(),
    );
    drop(org);
    let path = format!("/api/v1/groups/{gid}/users");
    Ok(paging::json(
        &body,
        paging::link_headers(&base, &path, &query, limit, next.as_deref()),
    ))
}

fn ids(org: &OrgState, gid: &str, uid: &str) -> ApiResult<(Oid, Oid)> {
    let group = org.group(gid)?;
    require_okta_group(group)?;
    let user = Oid::parse(uid)
        .filter(|id| org.users.contains_key(id))
        .ok_or_else(|| ApiError::not_found(uid, "User"))?;
    Ok((group.id, user))
}

/// `PUT /api/v1/groups/{gid}/users/{uid}`.
pub async fn add(
    State(app): State<App>,
    origin: Origin,
    Path((gid, uid)): Path<(String, String)>,
) -> ApiResult<Response> {
    let mut org = app.org();
    let (gid, uid) = ids(&org, &gid, &uid)?;
    org.add_member(gid, uid, &origin)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `DELETE /api/v1/groups/{gid}/users/{uid}`.
pub async fn remove(
    State(app): State<App>,
    origin: Origin,
    Path((gid, uid)): Path<(String, String)>,
) -> ApiResult<Response> {
    let mut org = app.org();
    let (gid, uid) = ids(&org, &gid, &uid)?;
    org.remove_member(gid, uid, &origin)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
