//! `/api/v1/groups`: list (`q`, `filter`, `search`, `expand=stats`), get, create,
//! replace the profile, delete. Only OKTA_GROUPs can be changed through the API.
//!
//! Listings come in Okta's order: by name, ignoring case, then by id, as the recorded
//! `list-groups.har` shows (`aaaa`, `abcdefgh`, `Admin Users Group`, `agroup`, and two
//! groups named `alba01` in id order). The cursor is opaque: the last group's place in
//! that order, so a group renamed or deleted while a client pages moves or vanishes
//! without breaking the listing, as on a real org.

use std::borrow::Cow;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::Value;
use usersync_core::snapshot::OktaGroupType;

use super::error::{ApiError, ApiResult};
use super::filter::{self, Attributes, Dialect, Op, format_time};
use super::ids::Oid;
use super::logs::Origin;
use super::paging::{self, Base, Query};
use super::render;
use super::server::App;
use super::state::{GroupRec, OrgState};
use super::state_groups::require_okta_group;
use super::users::body_object;

impl Attributes for GroupRec {
    fn values(&self, attr: &str) -> Vec<Cow<'_, str>> {
        let one = match attr {
            "id" => Some(Cow::Borrowed(self.id.as_str())),
            "type" => Some(Cow::Borrowed(self.kind.as_str())),
            "created" => Some(Cow::Owned(format_time(self.created))),
            "lastUpdated" => Some(Cow::Owned(format_time(self.last_updated))),
            "lastMembershipUpdated" => Some(Cow::Owned(format_time(self.last_membership_updated))),
            "source.id" => self.source_app.as_deref().map(Cow::Borrowed),
            other => match other
                .strip_prefix("profile.")
                .and_then(|k| self.profile.get(k))
            {
                Some(Value::String(s)) => Some(Cow::Borrowed(s.as_str())),
                Some(Value::Null) | None => None,
                Some(v) => Some(Cow::Owned(v.to_string())),
            },
        };
        one.into_iter().collect()
    }
}

const GROUP_DATES: &[&str] = &["created", "lastUpdated", "lastMembershipUpdated"];

fn filter_allows(attr: &str, op: Op) -> Result<(), String> {
    match attr {
        "id" | "type" if op == Op::Eq => Ok(()),
        "lastUpdated" | "lastMembershipUpdated" if op == Op::Eq || op.is_ordering() => Ok(()),
        "id" | "type" | "lastUpdated" | "lastMembershipUpdated" => {
            Err(format!("the {op:?} operator is not supported on {attr}"))
        }
        _ => Err(format!(
            "{attr} cannot be used in a group filter (use id, type, lastUpdated or lastMembershipUpdated, or search)"
        )),
    }
}

fn search_allows(attr: &str, op: Op) -> Result<(), String> {
    let known = attr.starts_with("profile.")
        || matches!(
            attr,
            "id" | "created" | "lastMembershipUpdated" | "lastUpdated" | "type" | "source.id"
        );
    if !known {
        return Err(format!("{attr} cannot be searched"));
    }
    match op {
        Op::Ne | Op::Ew => Err(format!(
            "the {op:?} operator is not supported in group search"
        )),
        Op::Co if !matches!(attr, "profile.name" | "profile.description") => Err(format!(
            "co is only supported on profile.name and profile.description, not {attr}"
        )),
        _ => Ok(()),
    }
}

pub const GROUP_FILTER: Dialect = Dialect {
    param: "filter",
    allows: filter_allows,
    case_insensitive: false,
    dates: GROUP_DATES,
};
pub const GROUP_SEARCH: Dialect = Dialect {
    param: "search",
    allows: search_allows,
    case_insensitive: true,
    dates: GROUP_DATES,
};

fn wants_stats(query: &Query) -> bool {
    query
        .get("expand")
        .is_some_and(|e| e.split(',').any(|x| x.trim() == "stats"))
}

/// `GET /api/v1/groups`.
pub async fn list(
    State(app): State<App>,
    base: Base,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let query = Query::parse(raw.as_deref());
    let stats = wants_stats(&query);
    let org = app.org();
    let render = |g: &GroupRec| render::group(&base.0, g, stats.then(|| org.member_count(g.id)));
    if let Some(q) = query.get("q") {
        // A name prefix query is not paged ("You can't page a query") and has no Link header.
        let limit = query.limit(10, 10_000)?;
        let q = q.to_lowercase();
        let body: Vec<Value> = by_name(&org)
            .into_iter()
            .filter(|g| g.name().to_lowercase().starts_with(&q))
            .take(limit)
            .map(render)
            .collect();
        return Ok(paging::json(&Value::Array(body), HeaderMap::new()));
    }
    let (expr, dialect) = match (query.get("filter"), query.get("search")) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid_search(
                "filter and search cannot be used together; use one",
            ));
        }
        (Some(f), None) => (Some(filter::parse(f, &GROUP_FILTER)?), &GROUP_FILTER),
        (None, Some(s)) => (Some(filter::parse(s, &GROUP_SEARCH)?), &GROUP_SEARCH),
        (None, None) => (None, &GROUP_FILTER),
    };
    let limit = query.limit(10_000, 10_000)?;
    let after = query.get("after").map(NameCursor::parse).transpose()?;
    let matching = by_name(&org)
        .into_iter()
        .filter(|g| after.as_ref().is_none_or(|a| a.precedes(g)))
        .filter(|g| expr.as_ref().is_none_or(|e| e.matches(*g, dialect)));
    let (page, next) = paging::page(matching, limit, |g| NameCursor::of(g).encode());
    let body = Value::Array(page.into_iter().map(render).collect());
    drop(org);
    Ok(paging::json(
        &body,
        paging::link_headers(&base, "/api/v1/groups", &query, limit, next.as_deref()),
    ))
}

/// `GET /api/v1/groups/{id}`.
pub async fn get_one(
    State(app): State<App>,
    base: Base,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let query = Query::parse(raw.as_deref());
    let org = app.org();
    let group = org.group(&id)?;
    let stats = wants_stats(&query).then(|| org.member_count(group.id));
    Ok(paging::json(
        &render::group(&base.0, group, stats),
        HeaderMap::new(),
    ))
}

fn profile_of(body: &Bytes) -> ApiResult<serde_json::Map<String, Value>> {
    match body_object(body)?.remove("profile") {
        Some(Value::Object(p)) => Ok(p),
        _ => Err(ApiError::validation(
            "profile",
            "profile: The profile object with a name is required",
        )),
    }
}

/// `POST /api/v1/groups`: creates an OKTA_GROUP.
pub async fn create(
    State(app): State<App>,
    base: Base,
    origin: Origin,
    body: Bytes,
) -> ApiResult<Response> {
    let profile = profile_of(&body)?;
    let mut org = app.org();
    let id = org.create_group(OktaGroupType::OktaGroup, profile, &origin)?;
    Ok(paging::json(
        &render::group(&base.0, &org.groups[&id], None),
        HeaderMap::new(),
    ))
}

/// `PUT /api/v1/groups/{id}`: replaces the profile.
pub async fn replace(
    State(app): State<App>,
    base: Base,
    origin: Origin,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let profile = profile_of(&body)?;
    let mut org = app.org();
    let group = org.group(&id)?;
    require_okta_group(group)?;
    let gid = group.id;
    org.update_group(gid, profile, &origin)?;
    Ok(paging::json(
        &render::group(&base.0, &org.groups[&gid], None),
        HeaderMap::new(),
    ))
}

/// `DELETE /api/v1/groups/{id}`.
pub async fn delete(
    State(app): State<App>,
    origin: Origin,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let mut org = app.org();
    let group = org.group(&id)?;
    require_okta_group(group)?;
    let gid = group.id;
    org.delete_group(gid, &origin)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Every group in listing order: name without case, then id.
fn by_name(org: &OrgState) -> Vec<&GroupRec> {
    let mut groups: Vec<(String, &GroupRec)> = org
        .groups
        .values()
        .map(|g| (g.name().to_lowercase(), g))
        .collect();
    groups.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.id.cmp(&b.1.id)));
    groups.into_iter().map(|(_, g)| g).collect()
}

/// A place in the group listing's order, sent as an opaque `after`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct NameCursor {
    name: String,
    id: String,
}

impl NameCursor {
    fn of(group: &GroupRec) -> Self {
        Self {
            name: group.name().to_lowercase(),
            id: group.id.to_string(),
        }
    }

    fn encode(&self) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(format!("{}\n{}", self.id, self.name))
    }

    /// E0000054 for anything this server did not issue.
    fn parse(text: &str) -> ApiResult<Self> {
        use base64::Engine as _;
        let refuse = || {
            ApiError::invalid_paging(format!(
                "after: {text:?} is not a cursor this server issued"
            ))
        };
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| refuse())?;
        let decoded = String::from_utf8(bytes).map_err(|_| refuse())?;
        let (id, name) = decoded.split_once('\n').ok_or_else(refuse)?;
        if Oid::parse(id).is_none() {
            return Err(refuse());
        }
        Ok(Self {
            name: name.to_owned(),
            id: id.to_owned(),
        })
    }

    /// Whether `group` comes after this place in the listing.
    fn precedes(&self, group: &GroupRec) -> bool {
        let key = (group.name().to_lowercase(), group.id.as_str());
        (self.name.as_str(), self.id.as_str()) < (key.0.as_str(), key.1)
    }
}
