//! The HTTP side: one handler that checks the bearer token, routes by method and
//! path, renders resources with `meta` (and `ETag` where the profile offers them),
//! pages lists with 1-based `startIndex`/`count`, and logs every request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::error::ScimFault;
use super::state::{GROUP_SCHEMA, Kind, Resource, ScimState, USER_SCHEMA};
use super::{Features, MEDIA_TYPE, Profile, discovery};

/// One request the emulator answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimRequest {
    pub method: String,
    /// Path and query as sent.
    pub target: String,
    pub status: u16,
    /// The `If-Match` header, when one was sent.
    pub if_match: Option<String>,
}

#[derive(Clone)]
pub(crate) struct App {
    pub state: Arc<Mutex<ScimState>>,
    pub features: Features,
    pub token: Arc<str>,
    pub base: Arc<str>,
    pub log: Arc<Mutex<Vec<ScimRequest>>>,
}

pub(crate) fn router(app: App) -> axum::Router {
    axum::Router::new().fallback(handle).with_state(app)
}

async fn handle(
    State(app): State<App>,
    method: Method,
    uri: Uri,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let if_match = headers
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let response = match authorised(&app, &headers) {
        Ok(()) => match route(
            &app,
            &method,
            uri.path(),
            &query,
            if_match.as_deref(),
            &body,
        ) {
            Ok(answer) => project(answer, &query).await,
            Err(fault) => fault.into_response(),
        },
        Err(fault) => fault.into_response(),
    };
    app.log
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(ScimRequest {
            method: method.to_string(),
            target: uri
                .path_and_query()
                .map_or_else(|| uri.path().to_owned(), ToString::to_string),
            status: response.status().as_u16(),
            if_match,
        });
    response
}

fn authorised(app: &App, headers: &HeaderMap) -> Result<(), ScimFault> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match given.strip_prefix("Bearer ") {
        Some(token) if token == &*app.token => Ok(()),
        _ => Err(ScimFault::new(
            401,
            "",
            "UnauthorizedError: Invalid authentication",
        )),
    }
}

fn route(
    app: &App,
    method: &Method,
    path: &str,
    query: &HashMap<String, String>,
    if_match: Option<&str>,
    body: &[u8],
) -> Result<Response, ScimFault> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let kind = |name: &str| match name {
        "Users" => Some(Kind::User),
        "Groups" => Some(Kind::Group),
        _ => None,
    };
    match (method.as_str(), parts.as_slice()) {
        ("GET", ["ServiceProviderConfig"]) => {
            let profile = app
                .state
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .profile;
            Ok(ok(
                StatusCode::OK,
                &discovery::service_provider_config(&app.features, profile),
            ))
        }
        ("GET", ["ResourceTypes"]) => Ok(ok(StatusCode::OK, &discovery::resource_types())),
        ("GET", ["Schemas"]) => Ok(ok(StatusCode::OK, &discovery::schemas())),
        ("GET", ["ResourceTypes" | "Schemas", id]) => {
            let all = if parts[0] == "Schemas" {
                discovery::schemas()
            } else {
                discovery::resource_types()
            };
            let found = all["Resources"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|r| r["id"] == json!(id))
                .cloned();
            found
                .map(|r| ok(StatusCode::OK, &r))
                .ok_or_else(|| ScimFault::new(404, "", format!("{} {id} not found", parts[0])))
        }
        (_, ["ServiceProviderConfig" | "ResourceTypes" | "Schemas", ..]) => Err(ScimFault::new(
            405,
            "",
            format!("{method} is not allowed on /{}", parts[0]),
        )),
        (m, [name]) if kind(name).is_some() && m != "GET" && m != "POST" => Err(ScimFault::new(
            405,
            "",
            format!("{method} is not allowed on /{name}"),
        )),
        ("GET", [name]) if kind(name).is_some() => {
            list(app, kind(name).unwrap_or(Kind::User), query)
        }
        ("POST", [name]) if kind(name).is_some() => {
            let body = json_body(body)?;
            let mut state = app.state.lock().unwrap_or_else(PoisonError::into_inner);
            let created = state.create(kind(name).unwrap_or(Kind::User), body)?;
            Ok(render(
                app,
                &state,
                kind(name).unwrap_or(Kind::User),
                &created,
                StatusCode::CREATED,
            ))
        }
        (m, [name, id]) if kind(name).is_some() => {
            let kind = kind(name).unwrap_or(Kind::User);
            one(app, m, kind, id, if_match, body)
        }
        _ => Err(ScimFault::new(
            404,
            "",
            format!("no endpoint {method} {path}"),
        )),
    }
}

fn one(
    app: &App,
    method: &str,
    kind: Kind,
    id: &str,
    if_match: Option<&str>,
    body: &[u8],
) -> Result<Response, ScimFault> {
    let mut state = app.state.lock().unwrap_or_else(PoisonError::into_inner);
    if method != "GET" && app.features.etag {
        let current = state.get(kind, id)?.etag();
        if let Some(wanted) = if_match
            && wanted != "*"
            && !wanted.split(',').any(|w| w.trim() == current)
        {
            return Err(ScimFault::new(
                412,
                "",
                format!("If-Match {wanted} does not match {current}"),
            ));
        }
    }
    let changed = match method {
        "GET" => state.get(kind, id)?.clone(),
        "PUT" => state.replace(kind, id, json_body(body)?)?,
        "PATCH" if app.features.patch => state.patch(kind, id, &json_body(body)?)?,
        "PATCH" => {
            return Err(ScimFault::new(
                501,
                "",
                "PATCH is not supported by this service provider",
            ));
        }
        "DELETE" => {
            state.delete(kind, id)?;
            return Ok(StatusCode::NO_CONTENT.into_response());
        }
        other => {
            return Err(ScimFault::new(
                405,
                "",
                format!("{other} is not allowed here"),
            ));
        }
    };
    Ok(render(app, &state, kind, &changed, StatusCode::OK))
}

fn list(app: &App, kind: Kind, query: &HashMap<String, String>) -> Result<Response, ScimFault> {
    let state = app.state.lock().unwrap_or_else(PoisonError::into_inner);
    let number = |name: &str| -> Result<Option<i64>, ScimFault> {
        query
            .get(name)
            .map(|v| {
                v.trim().parse::<i64>().map_err(|_| {
                    ScimFault::bad(
                        "invalidValue",
                        format!("{name} must be an integer, not {v:?}"),
                    )
                })
            })
            .transpose()
    };
    let start = number("startIndex")?.unwrap_or(1);
    if start < 1 && state.profile == Profile::AtlassianCloud {
        return Err(ScimFault::bad(
            "invalidSyntax",
            "body.startIndex should be >= 1",
        ));
    }
    // RFC 7644 §3.4.2.4: a startIndex below 1 is 1; a count above the maximum is the maximum.
    let start = usize::try_from(start.max(1)).unwrap_or(1);
    let max = app.features.max_results;
    let count = number("count")?.map_or(max, |c| usize::try_from(c.max(0)).unwrap_or(0).min(max));
    let all = state.list(kind, query.get("filter").map(String::as_str))?;
    let page: Vec<Value> = all
        .iter()
        .skip(start - 1)
        .take(count)
        .map(|r| resource_json(app, &state, kind, r))
        .collect();
    Ok(ok(
        StatusCode::OK,
        &json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": all.len(),
            "startIndex": start,
            "itemsPerPage": page.len(),
            "Resources": page
        }),
    ))
}

/// Applies `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5, top-level names)
/// to a resource or to each resource of a list; `id`, `schemas` and `meta` always stay.
async fn project(response: Response, query: &HashMap<String, String>) -> Response {
    let names = |key: &str| -> Vec<String> {
        query
            .get(key)
            .map(|v| {
                v.split(',')
                    .map(|n| {
                        n.trim()
                            .rsplit(':')
                            .next()
                            .unwrap_or("")
                            .to_ascii_lowercase()
                    })
                    .filter(|n| !n.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    };
    let (only, except) = (names("attributes"), names("excludedAttributes"));
    if only.is_empty() && except.is_empty() {
        return response;
    }
    let top = |n: &str| n.split('.').next().unwrap_or("").to_owned();
    let keep = |r: &mut Value| {
        if let Some(o) = r.as_object_mut() {
            o.retain(|k, _| {
                let k = k.to_ascii_lowercase();
                let fixed = k == "id" || k == "schemas" || k == "meta";
                let wanted = only.is_empty() || only.iter().any(|n| top(n) == k);
                let dropped = except.contains(&k);
                fixed || (wanted && !dropped)
            });
        }
    };
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let Ok(mut value) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, axum::body::Body::from(bytes));
    };
    if let Some(list) = value.get_mut("Resources").and_then(Value::as_array_mut) {
        list.iter_mut().for_each(keep);
    } else if value.get("id").is_some() {
        keep(&mut value);
    }
    let mut response = Response::from_parts(parts, axum::body::Body::from(value.to_string()));
    response.headers_mut().remove(header::CONTENT_LENGTH);
    response
}

fn json_body(body: &[u8]) -> Result<Value, ScimFault> {
    serde_json::from_slice(body)
        .map_err(|e| ScimFault::bad("invalidSyntax", format!("the body is not JSON: {e}")))
}

/// A resource as the service returns it: attributes, `id`, `schemas`, `meta`, and a
/// user's `groups` (read-only, derived from group membership).
fn resource_json(app: &App, state: &ScimState, kind: Kind, r: &Resource) -> Value {
    let mut body = r.attrs.clone();
    body["id"] = json!(r.id);
    body["schemas"] = json!([match kind {
        Kind::User => USER_SCHEMA,
        Kind::Group => GROUP_SCHEMA,
    }]);
    let mut meta = json!({
        "resourceType": match kind { Kind::User => "User", Kind::Group => "Group" },
        "location": format!("{}/{}/{}", app.base, kind.endpoint(), r.id),
    });
    if app.features.etag {
        meta["version"] = json!(r.etag());
    }
    body["meta"] = meta;
    if kind == Kind::User {
        let groups: Vec<Value> = state
            .groups
            .values()
            .filter(|g| {
                g.attrs["members"]
                    .as_array()
                    .is_some_and(|m| m.iter().any(|m| m["value"] == json!(r.id)))
            })
            .map(|g| json!({"value": g.id, "display": g.str("displayName"), "type": "direct"}))
            .collect();
        body["groups"] = json!(groups);
    }
    body
}

fn render(app: &App, state: &ScimState, kind: Kind, r: &Resource, status: StatusCode) -> Response {
    let mut response = ok(status, &resource_json(app, state, kind, r));
    if app.features.etag
        && let Ok(v) = r.etag().parse()
    {
        response.headers_mut().insert(header::ETAG, v);
    }
    response
}

fn ok(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, MEDIA_TYPE)],
        body.to_string(),
    )
        .into_response()
}
