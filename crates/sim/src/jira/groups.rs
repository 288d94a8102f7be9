//! `/rest/api/2` group endpoints: `group` (get with legacy `expand=users[a:b]`,
//! create, delete), `group/member` (paged, 50 at most), `group/user` (add,
//! remove) and `groups/picker`.

use axum::Json;
use axum::extract::{Extension, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::app::App;
use super::auth::Caller;
use super::state::Directory;
use super::users::{Params, number, param};
use super::wire::{JiraError, group_self, parse_bool, user_json};

type Answer = Result<Response, JiraError>;

/// Jira's hard limit on a group-member page.
const MEMBER_PAGE_CAP: usize = 50;

fn group_name(params: &[(String, String)]) -> Result<&str, JiraError> {
    param(params, "groupname")
        .ok_or_else(|| JiraError::bad_request("The groupname query parameter was not provided"))
}

fn group_body(app: &App, name: &str, size: usize, items: Vec<Value>, start: usize) -> Value {
    let end = (start + items.len()).saturating_sub(1);
    json!({
        "name": name,
        "self": group_self(&app.base, name),
        "users": {"size": size, "items": items, "max-results": MEMBER_PAGE_CAP, "start-index": start, "end-index": end},
        "expand": "users",
    })
}

/// Parses `users[start:end]` out of an `expand` value.
fn expand_range(expand: &str) -> Option<(usize, usize)> {
    let inner = expand.split("users[").nth(1)?.split(']').next()?;
    let (a, b) = inner.split_once(':')?;
    Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
}

pub async fn get_group(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Query(params): Params,
) -> Answer {
    caller.require_admin()?;
    let name = group_name(&params)?;
    let mut state = app.state();
    let group = state.existing_group(name)?.name.clone();
    let expand = param(&params, "expand").unwrap_or("");
    // The legacy expansion only ever listed active members (JRASERVER-38898).
    let (start, take) = match expand_range(expand) {
        Some((a, b)) => (
            a,
            b.saturating_sub(a).saturating_add(1).min(MEMBER_PAGE_CAP),
        ),
        None => (0, 0),
    };
    let page = state.member_page(name, false, start, take);
    let items = page.users.iter().map(|u| user_json(&app.base, u)).collect();
    Ok(Json(group_body(&app, &group, page.total, items, start)).into_response())
}

pub async fn create_group(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Json(body): Json<Value>,
) -> Answer {
    caller.require_admin()?;
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let mut state = app.state();
    let group = state.create_group(&name, Directory::Internal)?.name.clone();
    Ok((
        StatusCode::CREATED,
        Json(group_body(&app, &group, 0, Vec::new(), 0)),
    )
        .into_response())
}

pub async fn delete_group(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Query(params): Params,
) -> Answer {
    caller.require_admin()?;
    let name = group_name(&params)?;
    let mut state = app.state();
    if let Some(swap) = param(&params, "swapGroup") {
        state.existing_group(swap)?;
    }
    state.delete_group(name)?;
    Ok(StatusCode::OK.into_response())
}

pub async fn members(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Query(params): Params,
) -> Answer {
    caller.require_admin()?;
    let name = group_name(&params)?;
    let start = number(&params, "startAt", 0)?;
    let max = number(&params, "maxResults", MEMBER_PAGE_CAP)?.clamp(1, MEMBER_PAGE_CAP);
    let inactive = parse_bool(param(&params, "includeInactiveUsers"), false);
    let mut state = app.state();
    let group = state.existing_group(name)?.name.clone();
    let page = state.member_page(name, inactive, start, max);
    let values: Vec<Value> = page.users.iter().map(|u| user_json(&app.base, u)).collect();
    let total = page.total;
    let is_last = start + values.len() >= total;
    let link = |at: usize| {
        format!(
            "{}/rest/api/2/group/member?groupname={}&includeInactiveUsers={inactive}&startAt={at}&maxResults={max}",
            app.base,
            urlencoding::encode(&group)
        )
    };
    let mut body = json!({
        "self": link(start),
        "maxResults": max,
        "startAt": start,
        "total": total,
        "isLast": is_last,
        "values": values,
    });
    if !is_last {
        body["nextPage"] = json!(link(start + max));
    }
    Ok(Json(body).into_response())
}

pub async fn add_member(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Query(params): Params,
    Json(body): Json<Value>,
) -> Answer {
    caller.require_admin()?;
    let group = group_name(&params)?;
    let Some(user) = body.get("name").and_then(Value::as_str) else {
        return Err(JiraError::field(
            "name",
            "You must specify the name of the user to add.",
        ));
    };
    let mut state = app.state();
    state.add_member(group, user)?;
    let name = state
        .group(group)
        .map(|g| g.name.clone())
        .unwrap_or_default();
    let size = state.active_member_count(group);
    Ok((
        StatusCode::CREATED,
        Json(group_body(&app, &name, size, Vec::new(), 0)),
    )
        .into_response())
}

pub async fn remove_member(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Query(params): Params,
) -> Answer {
    caller.require_admin()?;
    let group = group_name(&params)?;
    let Some(user) = param(&params, "username") else {
        return Err(JiraError::bad_request(
            "The username query parameter was not provided",
        ));
    };
    app.state().remove_member(group, user)?;
    Ok(StatusCode::OK.into_response())
}

/// Wraps the first case-insensitive match of `query` in `<b>`, as Jira's picker does.
fn highlight(name: &str, query: &str) -> String {
    let lower = name.to_lowercase();
    match lower.find(&query.to_lowercase()) {
        Some(at) if !query.is_empty() && lower.len() == name.len() => {
            let end = at + query.len();
            format!("{}<b>{}</b>{}", &name[..at], &name[at..end], &name[end..])
        }
        _ => name.to_owned(),
    }
}

pub async fn picker(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Query(params): Params,
) -> Answer {
    caller.require_user()?;
    let query = param(&params, "query").unwrap_or("").to_owned();
    let limit = match param(&params, "maxResults") {
        Some(_) => number(&params, "maxResults", 0)?,
        None => app.group_picker_limit,
    };
    let excluded: Vec<String> = params
        .iter()
        .filter(|(k, _)| k == "exclude")
        .map(|(_, v)| v.to_lowercase())
        .collect();
    let folded_query = query.to_lowercase();
    let state = app.state();
    // Groups come in the order of their lower-cased names, the order Jira answers in.
    let mut found: Vec<&str> = state
        .groups_folded()
        .filter(|(folded, _)| folded.contains(&folded_query))
        .filter(|(folded, _)| !excluded.iter().any(|e| e == folded))
        .map(|(_, g)| g.name.as_str())
        .collect();
    let total = found.len();
    found.truncate(limit);
    let groups: Vec<Value> = found
        .iter()
        .map(|n| json!({"name": n, "html": highlight(n, &query), "labels": []}))
        .collect();
    Ok(Json(json!({
        "header": format!("Showing {} of {total} matching groups", groups.len()),
        "total": total,
        "groups": groups,
    }))
    .into_response())
}
