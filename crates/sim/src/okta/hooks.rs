//! The event hook registry (`/api/v1/eventHooks`): create, list, get, replace, delete
//! (INACTIVE hooks only), activate, deactivate and verify. Verification really calls the
//! hook's URI with `x-okta-verification-challenge` and expects the challenge echoed back
//! within 3 s (one retry). Delivering events is a later step; it will read
//! [`HookRegistry::deliverable`] and the System Log's broadcast stream.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::error::{ApiError, ApiResult};
use super::filter::format_time;
use super::ids::{self, Oid};
use super::logs::{Origin, admin};
use super::paging::{self, Base};
use super::server::App;
use super::users::body_object;

/// One registered hook (the auth secret is kept for delivery and never rendered).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventHook {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub active: bool,
    pub verified: bool,
    pub created: DateTime<Utc>,
    pub last_updated: DateTime<Utc>,
    pub event_types: Vec<String>,
    pub uri: String,
    pub headers: Vec<(String, String)>,
    /// `authScheme` key and value (the value is write-only in Okta's API).
    pub auth: Option<(String, String)>,
}

/// Every hook, by id.
#[derive(Debug, Default)]
pub struct HookRegistry {
    hooks: BTreeMap<Oid, EventHook>,
}

const MAX_ACTIVE_VERIFIED: usize = 25;
const MAX_EVENT_TYPES: usize = 300;

impl HookRegistry {
    pub fn all(&self) -> Vec<EventHook> {
        self.hooks.values().cloned().collect()
    }

    /// The hooks Okta would deliver to: ACTIVE and VERIFIED.
    pub fn deliverable(&self) -> Vec<EventHook> {
        self.hooks
            .values()
            .filter(|h| h.active && h.verified)
            .cloned()
            .collect()
    }

    fn get_mut(&mut self, id: &str) -> ApiResult<&mut EventHook> {
        Oid::parse(id)
            .and_then(|id| self.hooks.get_mut(&id))
            .ok_or_else(|| ApiError::not_found(id, "EventHook"))
    }
}

/// A hook as a client asked for it (create and replace bodies).
struct HookSpec {
    name: String,
    description: Option<String>,
    event_types: Vec<String>,
    uri: String,
    headers: Vec<(String, String)>,
    auth: Option<(String, String)>,
}

fn parse_hook(body: &Bytes) -> ApiResult<HookSpec> {
    let body = body_object(body)?;
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    let name = text(body.get("name"))
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| ApiError::validation("name", "name: The field cannot be left blank"))?;
    let events = body
        .get("events")
        .ok_or_else(|| ApiError::validation("events", "events: The field cannot be left blank"))?;
    if events.get("type").and_then(Value::as_str) != Some("EVENT_TYPE") {
        return Err(ApiError::validation(
            "events.type",
            "events.type: must be EVENT_TYPE",
        ));
    }
    let items: Vec<String> = events
        .get("items")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if items.is_empty() || items.len() > MAX_EVENT_TYPES {
        return Err(ApiError::validation(
            "events.items",
            format!("events.items: between 1 and {MAX_EVENT_TYPES} event types are required"),
        ));
    }
    let channel = body.get("channel").ok_or_else(|| {
        ApiError::validation("channel", "channel: The field cannot be left blank")
    })?;
    if channel.get("type").and_then(Value::as_str) != Some("HTTP")
        || channel.get("version").and_then(Value::as_str) != Some("1.0.0")
    {
        return Err(ApiError::validation(
            "channel",
            "channel: type must be HTTP and version 1.0.0",
        ));
    }
    let config = channel.get("config").cloned().unwrap_or(Value::Null);
    let uri = text(config.get("uri")).ok_or_else(|| {
        ApiError::validation(
            "channel.config.uri",
            "channel.config.uri: The field cannot be left blank",
        )
    })?;
    check_uri(&uri)?;
    let headers = config
        .get("headers")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|h| Some((text(h.get("key"))?, text(h.get("value"))?)))
                .collect()
        })
        .unwrap_or_default();
    let auth = config
        .get("authScheme")
        .and_then(|a| Some((text(a.get("key"))?, text(a.get("value"))?)));
    Ok(HookSpec {
        name,
        description: text(body.get("description")),
        event_types: items,
        uri,
        headers,
        auth,
    })
}

/// Okta requires HTTPS. The emulator also accepts plain HTTP to a loopback address, so
/// tests can register a local receiver.
fn check_uri(uri: &str) -> ApiResult<()> {
    let parsed = url::Url::parse(uri).map_err(|e| {
        ApiError::validation("channel.config.uri", format!("channel.config.uri: {e}"))
    })?;
    let loopback = matches!(parsed.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    if parsed.scheme() == "https" || (parsed.scheme() == "http" && loopback) {
        Ok(())
    } else {
        Err(ApiError::validation(
            "channel.config.uri",
            "channel.config.uri: The URI must use HTTPS",
        ))
    }
}

fn render(base: &str, h: &EventHook) -> Value {
    let href = format!("{base}/api/v1/eventHooks/{}", h.id);
    let mut config = json!({
        "uri": h.uri,
        "headers": h.headers.iter().map(|(k, v)| json!({"key": k, "value": v})).collect::<Vec<_>>(),
        "method": "POST",
    });
    if let Some((key, _)) = &h.auth {
        config["authScheme"] = json!({"type": "HEADER", "key": key});
    }
    let mut links = json!({
        "self": {"href": href, "hints": {"allow": ["GET", "PUT", "DELETE"]}},
        "verify": {"href": format!("{href}/lifecycle/verify"), "hints": {"allow": ["POST"]}},
    });
    let (rel, op) = if h.active {
        ("deactivate", "deactivate")
    } else {
        ("activate", "activate")
    };
    links[rel] = json!({"href": format!("{href}/lifecycle/{op}"), "hints": {"allow": ["POST"]}});
    let mut value = json!({
        "id": h.id,
        "status": if h.active { "ACTIVE" } else { "INACTIVE" },
        "verificationStatus": if h.verified { "VERIFIED" } else { "UNVERIFIED" },
        "name": h.name,
        "created": format_time(h.created),
        "createdBy": admin().id,
        "lastUpdated": format_time(h.last_updated),
        "events": {"type": "EVENT_TYPE", "items": h.event_types},
        "channel": {"type": "HTTP", "version": "1.0.0", "config": config},
        "_links": links,
    });
    if let Some(d) = &h.description {
        value["description"] = json!(d);
    }
    value
}

pub async fn list(State(app): State<App>, base: Base) -> Response {
    let hooks: Vec<Value> = app
        .org()
        .hooks
        .hooks
        .values()
        .map(|h| render(&base.0, h))
        .collect();
    paging::json(&Value::Array(hooks), HeaderMap::new())
}

pub async fn create(
    State(app): State<App>,
    base: Base,
    _origin: Origin,
    body: Bytes,
) -> ApiResult<Response> {
    let HookSpec {
        name,
        description,
        event_types,
        uri,
        headers,
        auth,
    } = parse_hook(&body)?;
    let mut org = app.org();
    let id = org.new_id(ids::HOOK);
    let now = super::state::now();
    let hook = EventHook {
        id: id.to_string(),
        name,
        description,
        active: true,
        verified: false,
        created: now,
        last_updated: now,
        event_types,
        uri,
        headers,
        auth,
    };
    let value = render(&base.0, &hook);
    org.hooks.hooks.insert(id, hook);
    Ok(paging::json(&value, HeaderMap::new()))
}

pub async fn get_one(
    State(app): State<App>,
    base: Base,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let mut org = app.org();
    let hook = org.hooks.get_mut(&id)?;
    Ok(paging::json(&render(&base.0, hook), HeaderMap::new()))
}

pub async fn replace(
    State(app): State<App>,
    base: Base,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let HookSpec {
        name,
        description,
        event_types,
        uri,
        headers,
        auth,
    } = parse_hook(&body)?;
    let mut org = app.org();
    let hook = org.hooks.get_mut(&id)?;
    let auth = auth.or_else(|| hook.auth.clone());
    *hook = EventHook {
        name,
        description,
        event_types,
        uri,
        headers,
        auth,
        last_updated: super::state::now(),
        ..hook.clone()
    };
    Ok(paging::json(&render(&base.0, hook), HeaderMap::new()))
}

pub async fn delete(State(app): State<App>, Path(id): Path<String>) -> ApiResult<Response> {
    let mut org = app.org();
    if org.hooks.get_mut(&id)?.active {
        return Err(ApiError::validation(
            "status",
            "Only an INACTIVE event hook can be deleted; deactivate it first",
        ));
    }
    org.hooks.hooks.retain(|k, _| k.as_str() != id);
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /api/v1/eventHooks/{id}/lifecycle/{activate|deactivate|verify}`.
pub async fn lifecycle(
    State(app): State<App>,
    base: Base,
    Path((id, op)): Path<(String, String)>,
) -> ApiResult<Response> {
    let hook = app.org().hooks.get_mut(&id)?.clone();
    match op.as_str() {
        "activate" => {
            let org = app.org();
            if org
                .hooks
                .hooks
                .values()
                .filter(|h| h.active && h.verified)
                .count()
                >= MAX_ACTIVE_VERIFIED
                && hook.verified
                && !hook.active
            {
                return Err(ApiError::validation(
                    "status",
                    format!(
                        "An org may have at most {MAX_ACTIVE_VERIFIED} active, verified event hooks"
                    ),
                ));
            }
        }
        "deactivate" => {}
        "verify" => verify(&hook).await?,
        _ => return Err(ApiError::no_route()),
    }
    let mut org = app.org();
    let stored = org.hooks.get_mut(&id)?;
    match op.as_str() {
        "activate" => stored.active = true,
        "deactivate" => stored.active = false,
        _ => stored.verified = true,
    }
    stored.last_updated = super::state::now();
    Ok(paging::json(&render(&base.0, stored), HeaderMap::new()))
}

/// Okta's one-time verification: GET with a challenge, expect it echoed, 3 s, one retry.
async fn verify(hook: &EventHook) -> ApiResult<()> {
    let challenge = uuid::Uuid::new_v4().simple().to_string();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .build()
        .map_err(|_| ApiError::internal())?;
    for _ in 0..2 {
        let mut request = client
            .get(&hook.uri)
            .header("x-okta-verification-challenge", &challenge);
        for (k, v) in &hook.headers {
            request = request.header(k, v);
        }
        if let Some((k, v)) = &hook.auth {
            request = request.header(k, v);
        }
        let Ok(response) = request.send().await else {
            continue;
        };
        if response.status().is_success() {
            let body: Value = response.json().await.unwrap_or(Value::Null);
            if body.get("verification").and_then(Value::as_str) == Some(challenge.as_str()) {
                return Ok(());
            }
        }
        break;
    }
    Err(ApiError::validation(
        "verification",
        format!(
            "Verification of the event hook at {} failed: it did not answer the challenge",
            hook.uri
        ),
    ))
}
