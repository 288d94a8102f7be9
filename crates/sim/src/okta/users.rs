//! `/api/v1/users`: list (plain, `q`, `filter`, `search`), get by id or login, create,
//! partial (POST) and full (PUT) profile updates, two-phase DELETE, and a user's groups.
//! A plain list and `q` hide DEPROVISIONED users; `filter` and `search` include them.

use std::borrow::Cow;
use std::ops::Bound;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Map, Value};
use usersync_core::snapshot::OktaStatus;

use super::error::{ApiError, ApiResult};
use super::filter::{self, Attributes, Dialect, Expr, Op, format_time};
use super::ids::Oid;
use super::logs::Origin;
use super::paging::{self, Base, Query};
use super::render::{self, Form, USER_TYPE_ID};
use super::server::App;
use super::state::{OrgState, UserRec};

impl Attributes for UserRec {
    fn values(&self, attr: &str) -> Vec<Cow<'_, str>> {
        let time = |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| Cow::Owned(format_time(t)));
        let one = match attr {
            "id" => Some(Cow::Borrowed(self.id.as_str())),
            "status" => Some(Cow::Borrowed(self.status.as_str())),
            "created" => time(Some(self.created)),
            "activated" => time(self.activated),
            "statusChanged" => time(self.status_changed),
            "lastUpdated" => time(Some(self.last_updated)),
            "lastLogin" => time(self.last_login),
            "passwordChanged" => time(self.password_changed),
            "type.id" => Some(Cow::Borrowed(USER_TYPE_ID)),
            other => {
                let value = other
                    .strip_prefix("profile.")
                    .and_then(|k| self.profile.get(k));
                return match value {
                    Some(Value::Array(items)) => items.iter().filter_map(text).collect(),
                    Some(v) => text(v).into_iter().collect(),
                    None => Vec::new(),
                };
            }
        };
        one.into_iter().collect()
    }
}

fn text(value: &Value) -> Option<Cow<'_, str>> {
    match value {
        Value::String(s) => Some(Cow::Borrowed(s.as_str())),
        Value::Null => None,
        other => Some(Cow::Owned(other.to_string())),
    }
}

fn filter_allows(attr: &str, op: Op) -> Result<(), String> {
    const ATTRS: [&str; 7] = [
        "status",
        "lastUpdated",
        "id",
        "profile.login",
        "profile.email",
        "profile.firstName",
        "profile.lastName",
    ];
    if !ATTRS.contains(&attr) {
        return Err(format!(
            "{attr} cannot be used in a filter (use one of {}, or search)",
            ATTRS.join(", ")
        ));
    }
    if op == Op::Eq || (attr == "lastUpdated" && op.is_ordering()) {
        Ok(())
    } else {
        Err(format!(
            "the {op:?} operator is not supported on {attr} (filter supports eq, and gt/ge/lt/le on lastUpdated)"
        ))
    }
}

fn search_allows(attr: &str, op: Op) -> Result<(), String> {
    const TOP: [&str; 7] = [
        "id",
        "status",
        "created",
        "activated",
        "statusChanged",
        "lastUpdated",
        "type.id",
    ];
    if !attr.starts_with("profile.") && !TOP.contains(&attr) {
        return Err(format!(
            "{attr} cannot be searched (use profile.* or one of {})",
            TOP.join(", ")
        ));
    }
    match op {
        Op::Ne => {
            Err("ne is not supported; use (status lt \"STAGED\" or status gt \"STAGED\")".into())
        }
        Op::Ew => Err("ew is not supported in user search".into()),
        Op::Co
            if !matches!(
                attr,
                "profile.firstName" | "profile.lastName" | "profile.email" | "profile.login"
            ) =>
        {
            Err(format!(
                "co is only supported on profile.firstName, profile.lastName, profile.email and profile.login, not {attr}"
            ))
        }
        _ => Ok(()),
    }
}

const DATES: &[&str] = &[
    "created",
    "activated",
    "statusChanged",
    "lastUpdated",
    "lastLogin",
    "passwordChanged",
];

pub const USER_FILTER: Dialect = Dialect {
    param: "filter",
    allows: filter_allows,
    case_insensitive: false,
    dates: &["lastUpdated"],
};
pub const USER_SEARCH: Dialect = Dialect {
    param: "search",
    allows: search_allows,
    case_insensitive: true,
    dates: DATES,
};

/// `GET /api/v1/users`.
pub async fn list(
    State(app): State<App>,
    base: Base,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let query = Query::parse(raw.as_deref());
    if let Some(q) = query.get("q") {
        return quick_search(&app, &base, &query, q);
    }
    let (expr, dialect) = match (query.get("filter"), query.get("search")) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid_search(
                "filter and search cannot be used together; use one",
            ));
        }
        (Some(f), None) => (Some(filter::parse(f, &USER_FILTER)?), &USER_FILTER),
        (None, Some(s)) => (Some(filter::parse(s, &USER_SEARCH)?), &USER_SEARCH),
        (None, None) => (None, &USER_FILTER),
    };
    let limit = query.limit(200, 200)?;
    let mut org = app.org();
    let (page, next) = match (query.get("sortBy"), &expr) {
        (Some(sort_by), Some(e)) if query.get("search").is_some() => {
            sorted_page(&org, &query, e, sort_by, limit)?
        }
        _ => status_order_page(&org, &query, expr.as_ref(), dialect, limit)?,
    };
    let body = Value::Array(
        page.iter()
            .map(|u| render::user(&base.0, u, Form::Collection))
            .collect(),
    );
    org.user_page_served();
    drop(org);
    Ok(paging::json(
        &body,
        paging::link_headers(&base, "/api/v1/users", &query, limit, next.as_deref()),
    ))
}

/// A page in Okta's listing order: by status (lifecycle order), then id, as the
/// recorded `list-users.har` shows for the plain list. Okta documents no order for
/// `filter` and `search` without `sortBy`; they are served the same way, the
/// conservative choice: a listing is not a snapshot, so a user whose status changes
/// while a client pages through it moves within it and can be skipped or seen twice.
/// The cursor is the last user's id (the docs' example); it resumes after that
/// user's current place.
fn status_order_page<'a>(
    org: &'a OrgState,
    query: &Query,
    expr: Option<&Expr>,
    dialect: &Dialect,
    limit: usize,
) -> ApiResult<(Vec<&'a UserRec>, Option<String>)> {
    let start = match cursor(query)? {
        None => Bound::Unbounded,
        Some(id) => match org.users.get(&id) {
            Some(u) => Bound::Excluded((u.status, id)),
            None => return Err(not_a_cursor(&id.to_string())),
        },
    };
    let matching = org
        .by_status
        .range((start, Bound::Unbounded))
        .filter_map(|(_, id)| org.users.get(id))
        .filter(|u| match expr {
            None => u.status != OktaStatus::Deprovisioned,
            Some(e) => e.matches(*u, dialect),
        });
    Ok(paging::page(matching, limit, |u| u.id.to_string()))
}

fn not_a_cursor(after: &str) -> ApiError {
    ApiError::invalid_paging(format!(
        "after: {after:?} is not a cursor this server issued"
    ))
}

fn cursor(query: &Query) -> ApiResult<Option<Oid>> {
    query
        .get("after")
        .map(|a| Oid::parse(a).ok_or_else(|| not_a_cursor(a)))
        .transpose()
}

/// `search` with `sortBy`: ordered by the attribute (ties by id); the cursor is an offset.
fn sorted_page<'a>(
    org: &'a OrgState,
    query: &Query,
    expr: &Expr,
    sort_by: &str,
    limit: usize,
) -> ApiResult<(Vec<&'a UserRec>, Option<String>)> {
    let descending = match query
        .get("sortOrder")
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(other) => {
            return Err(ApiError::invalid_search(format!(
                "sortOrder: {other:?} is not asc or desc"
            )));
        }
    };
    let mut all: Vec<(String, &UserRec)> = org
        .users
        .values()
        .filter(|u| expr.matches(*u, &USER_SEARCH))
        .map(|u| {
            (
                u.values(sort_by)
                    .first()
                    .map(|v| v.to_lowercase())
                    .unwrap_or_default(),
                u,
            )
        })
        .collect();
    all.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.id.cmp(&b.1.id)));
    if descending {
        all.reverse();
    }
    let offset = match query.get("after") {
        None => 0,
        Some(a) => a
            .strip_prefix("s")
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| {
                ApiError::invalid_paging(format!("after: {a:?} is not a cursor this server issued"))
            })?,
    };
    let page: Vec<&UserRec> = all
        .iter()
        .skip(offset)
        .take(limit)
        .map(|(_, u)| *u)
        .collect();
    let next =
        (offset + page.len() < all.len() && limit > 0).then(|| format!("s{}", offset + page.len()));
    Ok((page, next))
}

/// `q`: startsWith on firstName, lastName or email; no DEPROVISIONED; no paging.
fn quick_search(app: &App, base: &Base, query: &Query, q: &str) -> ApiResult<Response> {
    let limit = query.limit(10, 200)?;
    let q = q.to_lowercase();
    let org = app.org();
    let starts = |u: &UserRec, k: &str| {
        u.profile
            .get(k)
            .and_then(Value::as_str)
            .is_some_and(|v| v.to_lowercase().starts_with(&q))
    };
    let body: Vec<Value> = org
        .users
        .values()
        .filter(|u| u.status != OktaStatus::Deprovisioned)
        .filter(|u| starts(u, "firstName") || starts(u, "lastName") || starts(u, "email"))
        .take(limit)
        .map(|u| render::user(&base.0, u, Form::Collection))
        .collect();
    Ok(paging::json(&Value::Array(body), HeaderMap::new()))
}

/// A single user with its `ETag`.
pub fn single(base: &Base, user: &UserRec) -> Response {
    let mut headers = HeaderMap::new();
    if let Ok(etag) =
        HeaderValue::from_str(&format!("W/\"{}\"", user.last_updated.timestamp_millis()))
    {
        headers.insert(header::ETAG, etag);
    }
    paging::json(&render::user(&base.0, user, Form::Single), headers)
}

/// `GET /api/v1/users/{idOrLogin}`.
pub async fn get_one(
    State(app): State<App>,
    base: Base,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let org = app.org();
    Ok(single(&base, org.find_user(&id)?))
}

/// Parses a JSON object body (E0000003 when it is not one).
pub fn body_object(body: &Bytes) -> ApiResult<Map<String, Value>> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::malformed("the body must be a JSON object")),
        Err(e) => Err(ApiError::malformed(format!("the body is not JSON: {e}"))),
    }
}

fn profile_of(body: &Map<String, Value>) -> ApiResult<Map<String, Value>> {
    match body.get("profile") {
        Some(Value::Object(p)) => Ok(p.clone()),
        _ => Err(ApiError::validation(
            "profile",
            "profile: The profile object is required",
        )),
    }
}

/// `POST /api/v1/users?activate=true|false`.
pub async fn create(
    State(app): State<App>,
    base: Base,
    origin: Origin,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> ApiResult<Response> {
    let query = Query::parse(raw.as_deref());
    let activate = query.flag("activate", true)?;
    let body = body_object(&body)?;
    let profile = profile_of(&body)?;
    let has_password = body
        .get("credentials")
        .and_then(|c| c.get("password"))
        .and_then(|p| p.get("value"))
        .is_some();
    let group_ids: Vec<String> = body
        .get("groupIds")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let mut org = app.org();
    let groups = group_ids
        .iter()
        .map(|g| org.group(g).map(|g| g.id))
        .collect::<ApiResult<Vec<_>>>()?;
    let id = org.create_user(profile, has_password, activate, &origin)?;
    for gid in groups {
        org.add_member(gid, id, &origin)?;
    }
    Ok(single(&base, &org.users[&id]))
}

async fn write_profile(
    app: &App,
    base: &Base,
    origin: &Origin,
    id: &str,
    body: &Bytes,
    replace: bool,
) -> ApiResult<Response> {
    let body = body_object(body)?;
    let mut org = app.org();
    let uid = org.user_id(id)?;
    if let Some(profile) = body.get("profile") {
        let Value::Object(profile) = profile else {
            return Err(ApiError::validation(
                "profile",
                "profile: must be an object",
            ));
        };
        org.update_profile(uid, profile.clone(), replace, origin)?;
    } else if replace {
        return Err(ApiError::validation(
            "profile",
            "profile: The profile object is required",
        ));
    }
    Ok(single(base, &org.users[&uid]))
}

/// `POST /api/v1/users/{id}`: partial profile update.
pub async fn update(
    State(app): State<App>,
    base: Base,
    origin: Origin,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    write_profile(&app, &base, &origin, &id, &body, false).await
}

/// `PUT /api/v1/users/{id}`: replaces the profile.
pub async fn replace(
    State(app): State<App>,
    base: Base,
    origin: Origin,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    write_profile(&app, &base, &origin, &id, &body, true).await
}

/// `DELETE /api/v1/users/{id}`: deactivates first; deletes a DEPROVISIONED user.
pub async fn delete(
    State(app): State<App>,
    origin: Origin,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let mut org = app.org();
    let user = org.find_user(&id)?;
    let uid = user.id;
    if user.status == OktaStatus::Deprovisioned {
        org.delete_user(uid, &origin)?;
    } else {
        org.set_status(uid, OktaStatus::Deprovisioned, &origin)?;
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /api/v1/users/{id}/groups`: every group of the user (not paged).
pub async fn groups_of(
    State(app): State<App>,
    base: Base,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let org = app.org();
    let uid = org.user_id(&id)?;
    let groups: Vec<Value> = org
        .user_groups
        .get(&uid)
        .into_iter()
        .flatten()
        .filter_map(|g| org.groups.get(g))
        .map(|g| render::group(&base.0, g, None))
        .collect();
    let mut headers = HeaderMap::new();
    if let Ok(link) = HeaderValue::from_str(&format!(
        "<{}/api/v1/users/{uid}/groups>; rel=\"self\"",
        base.0
    )) {
        headers.insert(header::LINK, link);
    }
    Ok(paging::json(&Value::Array(groups), headers))
}
