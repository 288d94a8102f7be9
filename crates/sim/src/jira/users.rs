//! `/rest/api/2` user endpoints: `serverInfo`, `myself`, `user` (get, create,
//! update incl. rename and `active`, delete), `user/search` and `user/list`.

use axum::Json;
use axum::extract::{Extension, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::app::App;
use super::auth::Caller;
use super::state::{Directory, JiraState, SimUser, UserDraft, UserPatch};
use super::wire::{self, JiraError, json_bool, parse_bool, user_full};

pub type Params = Query<Vec<(String, String)>>;
type Answer = Result<Response, JiraError>;

/// The first value of a query parameter.
pub fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A numeric query parameter; a malformed one is Jira's 400.
pub fn number(params: &[(String, String)], name: &str, default: usize) -> Result<usize, JiraError> {
    match param(params, name) {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|_| {
            JiraError::bad_request(format!(
                "The '{name}' parameter must be a non-negative number, got '{v}'."
            ))
        }),
    }
}

pub async fn server_info(State(app): State<App>) -> Json<Value> {
    let version = app.state().version;
    Json(json!({
        "baseUrl": &*app.base,
        "version": version.to_string(),
        "versionNumbers": [version.major, version.minor, version.patch],
        "deploymentType": "Server",
        "buildNumber": version.build_number(),
        "buildDate": "2024-01-01T00:00:00.000+0000",
        "serverTime": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string(),
        "scmInfo": "usersync-sim",
        "serverTitle": "Jira",
    }))
}

pub async fn myself(State(app): State<App>, Extension(caller): Extension<Caller>) -> Answer {
    let name = caller.require_user()?;
    let state = app.state();
    let user = state.user(name).ok_or_else(JiraError::unauthenticated)?;
    let groups = state.groups_of(user);
    Ok(Json(user_full(&app.base, user, Some(&groups))).into_response())
}

/// Finds the user named by `username` or `key` (exactly one must be given).
pub fn target_user<'s>(
    state: &'s JiraState,
    params: &[(String, String)],
) -> Result<&'s SimUser, JiraError> {
    match (param(params, "username"), param(params, "key")) {
        (Some(name), None) => state
            .user(name)
            .ok_or_else(|| JiraError::not_found(format!("The user named '{name}' does not exist"))),
        (None, Some(key)) => state.user_by_key(key).ok_or_else(|| {
            JiraError::not_found(format!("The user with the key '{key}' does not exist"))
        }),
        _ => Err(JiraError::bad_request(
            "Either the 'username' or the 'key' query parameters need to be provided",
        )),
    }
}

pub async fn get_user(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Query(params): Params,
) -> Answer {
    caller.require_user()?;
    let state = app.state();
    let user = target_user(&state, &params)?;
    let expand = param(&params, "expand").unwrap_or("");
    let groups = expand.contains("groups").then(|| state.groups_of(user));
    Ok(Json(user_full(&app.base, user, groups.as_deref())).into_response())
}

fn str_field(body: &Value, name: &str) -> Option<String> {
    body.get(name).and_then(Value::as_str).map(str::to_owned)
}

fn application_keys(body: &Value) -> Result<Vec<String>, JiraError> {
    let Some(keys) = body.get("applicationKeys") else {
        // Omitted: the application selected by default.
        return Ok(vec!["jira-software".to_owned()]);
    };
    let keys: Vec<String> = keys
        .as_array()
        .ok_or_else(|| {
            JiraError::bad_request("applicationKeys must be a list of application keys")
        })?
        .iter()
        .filter_map(|k| k.as_str().map(str::to_owned))
        .collect();
    if let Some(bad) = keys
        .iter()
        .find(|k| !wire::APPLICATIONS.iter().any(|(a, _)| a == k))
    {
        return Err(JiraError::field(
            "applicationKeys",
            &format!("Application key '{bad}' is not valid."),
        ));
    }
    Ok(keys)
}

pub async fn create_user(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Json(body): Json<Value>,
) -> Answer {
    caller.require_admin()?;
    let draft = UserDraft {
        name: str_field(&body, "name").unwrap_or_default(),
        display_name: str_field(&body, "displayName").unwrap_or_default(),
        email: str_field(&body, "emailAddress").unwrap_or_default(),
        password: str_field(&body, "password"),
        application_keys: application_keys(&body)?,
        active: true,
    };
    let notify = json_bool(body.get("notification")).unwrap_or(false);
    let mut state = app.state();
    let user = state.create_user(draft, Directory::Internal)?.clone();
    drop(state);
    if notify {
        app.notified
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(user.name.clone());
    }
    let location = wire::user_self(&app.base, &user);
    let body = user_full(&app.base, &user, None);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(body),
    )
        .into_response())
}

pub async fn update_user(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Query(params): Params,
    Json(body): Json<Value>,
) -> Answer {
    caller.require_admin()?;
    let mut state = app.state();
    let key = target_user(&state, &params)?.key.clone();
    // Before 8.3 Jira does not know the field and ignores it (JRASERVER-37294).
    let active = if state.version.can_set_active() {
        json_bool(body.get("active"))
    } else {
        None
    };
    let patch = UserPatch {
        name: str_field(&body, "name"),
        display_name: str_field(&body, "displayName"),
        email: str_field(&body, "emailAddress"),
        active,
    };
    let user = state.update_user(&key, patch)?.clone();
    Ok(Json(user_full(&app.base, &user, None)).into_response())
}

pub async fn delete_user(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Query(params): Params,
) -> Answer {
    caller.require_admin()?;
    let mut state = app.state();
    let key = target_user(&state, &params)?.key.clone();
    state.delete_user(&key)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// True when `text` starts with the lower-case `prefix`, ignoring case.
fn starts_with_folded(text: &str, prefix: &str) -> bool {
    if text.is_ascii() && prefix.is_ascii() {
        text.len() >= prefix.len()
            && text.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
    } else {
        text.to_lowercase().starts_with(prefix)
    }
}

/// Jira's user matching: the query is a prefix of the username, the e-mail
/// address, or a word of the display name; `.` matches everyone.
fn matches(user: &SimUser, folded_query: &str) -> bool {
    if folded_query == "." || folded_query.is_empty() {
        return true;
    }
    starts_with_folded(&user.name, folded_query)
        || starts_with_folded(&user.email, folded_query)
        || user
            .display_name
            .split_whitespace()
            .any(|w| starts_with_folded(w, folded_query))
}

pub async fn search(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Query(params): Params,
) -> Answer {
    caller.require_user()?;
    let Some(query) = param(&params, "username") else {
        return Err(JiraError::bad_request(
            "The username query parameter was not provided",
        ));
    };
    let folded = query.to_lowercase();
    let start = number(&params, "startAt", 0)?;
    let mut state = app.state();
    let max = number(&params, "maxResults", 50)?.min(state.version.search_page_cap());
    let active = parse_bool(param(&params, "includeActive"), true);
    let inactive = parse_bool(param(&params, "includeInactive"), false);
    let reach = state.version.search_total_cap().unwrap_or(usize::MAX);
    state.index_names();
    // Users come in the order of their lower-cased names, the order Jira answers in.
    let page: Vec<Value> = if active && inactive && (folded == "." || folded.is_empty()) {
        // Everyone matches: the page starts at `start` itself.
        state
            .users_by_name(start.min(reach))
            .take(max.min(reach.saturating_sub(start)))
            .map(|u| user_full(&app.base, u, None))
            .collect()
    } else {
        state
            .users_by_name(0)
            .filter(|u| (u.active && active) || (!u.active && inactive))
            .filter(|u| matches(u, &folded))
            .take(reach)
            .skip(start)
            .take(max)
            .map(|u| user_full(&app.base, u, None))
            .collect()
    };
    Ok(Json(page).into_response())
}

pub async fn list(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Query(params): Params,
) -> Answer {
    caller.require_user()?;
    let state = app.state();
    if !state.version.has_user_list() {
        return Err(JiraError::not_found(format!(
            "null for uri: {}/rest/api/2/user/list",
            app.base
        )));
    }
    let max = number(&params, "maxResults", 2000)?.max(1);
    // The cursor is opaque to clients; here it is the id of the last user sent.
    // A bogus one gives an empty last page (the endpoint never 404s).
    let after = match param(&params, "cursor") {
        None => Some(0),
        Some(c) => c.trim().parse::<u64>().ok(),
    };
    let mut users: Vec<&SimUser> =
        after.map_or_else(Vec::new, |a| state.users_after(a).take(max + 1).collect());
    let is_last = users.len() <= max;
    users.truncate(max);
    let values: Vec<Value> = users
        .iter()
        .map(|u| user_full(&app.base, u, None))
        .collect();
    let mut body = json!({
        "self": format!("{}/rest/api/2/user/list?maxResults={max}", app.base),
        "maxResults": max,
        "isLast": is_last,
        "values": values,
    });
    if let (false, Some(last)) = (is_last, users.last()) {
        body["nextCursor"] = json!(last.id.to_string());
        body["nextPage"] = json!(format!(
            "{}/rest/api/2/user/list?cursor={}&maxResults={max}",
            app.base, last.id
        ));
    }
    Ok(Json(body).into_response())
}
