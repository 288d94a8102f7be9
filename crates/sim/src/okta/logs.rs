//! The System Log: every mutation appends a `LogEvent` (Okta's schema) in persistence
//! order, and `GET /api/v1/logs` serves it in Okta's two modes. Polling (ASCENDING with
//! no `until`) always returns a `next` link, even after an empty page, so a client can
//! keep the link as its checkpoint; bounded queries (`until` given, or DESCENDING) end.
//! New events are also broadcast, the seam event hook delivery will hang off.

use std::borrow::Cow;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, RawQuery, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::Response;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use tokio::sync::broadcast;

use super::auth::Principal;
use super::error::{ApiError, ApiResult};
use super::filter::{self, Attributes, Dialect, Op, format_time};
use super::paging::{self, Base, Query};
use super::server::{App, RequestId};
use super::state::now;

/// One actor or target of an event (`LogActor` / `LogTarget`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub id: String,
    pub kind: String,
    pub alternate_id: String,
    pub display_name: String,
}

impl Target {
    pub fn new(id: &str, kind: &str, alternate_id: &str, display_name: &str) -> Self {
        Self {
            id: id.to_owned(),
            kind: kind.to_owned(),
            alternate_id: alternate_id.to_owned(),
            display_name: display_name.to_owned(),
        }
    }

    fn to_json(&self) -> Value {
        // `detailEntry` is left out rather than null: the schema does not allow null there.
        json!({"id": self.id, "type": self.kind, "alternateId": self.alternate_id, "displayName": self.display_name})
    }
}

/// Who caused a change and through which request (fills actor, client and debugContext).
#[derive(Debug, Clone)]
pub struct Origin {
    pub actor: Target,
    pub request_id: String,
    pub request_uri: String,
    pub ip: String,
    pub user_agent: String,
}

impl Origin {
    /// The admin behind the API token, acting outside any HTTP request (state helpers).
    pub fn internal() -> Self {
        Self {
            actor: admin(),
            request_id: uuid::Uuid::new_v4().simple().to_string(),
            request_uri: String::new(),
            ip: "127.0.0.1".into(),
            user_agent: "usersync-sim".into(),
        }
    }

    /// The same request, with `actor` as the actor (a user signing in acts for themself).
    #[must_use]
    pub fn acting_as(mut self, actor: &Target) -> Self {
        self.actor = actor.clone();
        self
    }
}

/// The org admin who owns the emulator's API token (not a listed user of the org).
pub fn admin() -> Target {
    Target::new(
        "00u0admin00000000000",
        "User",
        "admin@example.com",
        "Okta Admin",
    )
}

impl<S: Send + Sync> FromRequestParts<S> for Origin {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let mut origin = Self::internal();
        if let Some(RequestId(id)) = parts.extensions.get::<RequestId>() {
            origin.request_id.clone_from(id);
        }
        if let Some(Principal::Client { client_id, .. }) = parts.extensions.get::<Principal>() {
            origin.actor = Target::new(client_id, "PublicClientApp", client_id, client_id);
        }
        if let Some(ConnectInfo(addr)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() {
            origin.ip = addr.ip().to_string();
        }
        origin.request_uri = parts.uri.path().to_owned();
        if let Some(agent) = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
        {
            agent.clone_into(&mut origin.user_agent);
        }
        Ok(origin)
    }
}

/// One stored event: its persistence sequence number, publish time and JSON.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub seq: u64,
    pub published: DateTime<Utc>,
    pub value: Value,
}

/// The System Log, in persistence order.
pub struct EventLog {
    events: Vec<StoredEvent>,
    sender: broadcast::Sender<Value>,
    /// A test fault: this many next events are never stored nor broadcast, as if a
    /// client had missed them (`OktaSim::lose_next_log_events`).
    to_lose: usize,
}

impl Default for EventLog {
    fn default() -> Self {
        Self {
            events: Vec::new(),
            sender: broadcast::channel(4096).0,
            to_lose: 0,
        }
    }
}

impl EventLog {
    /// The next `n` events are lost (a fault for tests of clients that must not
    /// depend on seeing every event).
    pub fn lose_next(&mut self, n: usize) {
        self.to_lose = n;
    }

    /// Appends one SUCCESS event and broadcasts it.
    pub fn record(
        &mut self,
        origin: &Origin,
        event_type: &str,
        message: &str,
        targets: Vec<Target>,
    ) {
        if self.to_lose > 0 {
            self.to_lose -= 1;
            return;
        }
        let published = now();
        let value = json!({
            "uuid": uuid::Uuid::new_v4().to_string(),
            "published": format_time(published),
            "eventType": event_type,
            "version": "0",
            "severity": "INFO",
            "displayMessage": message,
            "actor": origin.actor.to_json(),
            "client": {
                "userAgent": {"rawUserAgent": origin.user_agent, "os": "Unknown", "browser": "UNKNOWN"},
                "zone": "null",
                "device": "Unknown",
                "ipAddress": origin.ip,
            },
            "outcome": {"result": "SUCCESS"},
            "target": targets.iter().map(Target::to_json).collect::<Vec<_>>(),
            "transaction": {"type": "WEB", "id": origin.request_id, "detail": {}},
            "debugContext": {"debugData": {"requestId": origin.request_id, "requestUri": origin.request_uri}},
            "authenticationContext": {"authenticationStep": 0, "externalSessionId": "unknown"},
            "securityContext": {},
            "request": {"ipChain": [{"ip": origin.ip, "version": "V4"}]},
        });
        let seq = self.events.len() as u64 + 1;
        let _ = self.sender.send(value.clone());
        self.events.push(StoredEvent {
            seq,
            published,
            value,
        });
    }

    pub fn events(&self) -> &[StoredEvent] {
        &self.events
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Value> {
        self.sender.subscribe()
    }
}

struct Event<'a>(&'a Value);

impl Attributes for Event<'_> {
    fn values(&self, attr: &str) -> Vec<Cow<'_, str>> {
        let mut current = vec![self.0];
        for part in attr.split('.') {
            current = current
                .into_iter()
                .flat_map(|v| match v {
                    Value::Array(items) => {
                        items.iter().filter_map(|i| i.get(part)).collect::<Vec<_>>()
                    }
                    other => other.get(part).into_iter().collect(),
                })
                .collect();
        }
        current
            .into_iter()
            .filter_map(|v| match v {
                Value::String(s) => Some(Cow::Borrowed(s.as_str())),
                Value::Null => None,
                other => Some(Cow::Owned(other.to_string())),
            })
            .collect()
    }
}

fn log_allows(attr: &str, op: Op) -> Result<(), String> {
    if attr == "published" {
        return Err("published cannot be used in a filter; use since and until".into());
    }
    if op == Op::Co
        && matches!(
            attr,
            "debugContext.debugData.url" | "debugContext.debugData.requestUri"
        )
    {
        return Err(format!("the co operator is not supported on {attr}"));
    }
    Ok(())
}

const LOG_FILTER: Dialect = Dialect {
    param: "filter",
    allows: log_allows,
    case_insensitive: true,
    dates: &[],
};

fn parse_time(query: &Query, name: &str) -> ApiResult<Option<DateTime<Utc>>> {
    query
        .get(name)
        .map(|text| {
            DateTime::parse_from_rfc3339(text)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| {
                    ApiError::invalid_date(format!("{name}: {text:?} is not an ISO 8601 date"))
                })
        })
        .transpose()
}

/// Okta's log cursors look like `{published millis}_{sequence}`; only the sequence matters here.
fn parse_cursor(after: &str) -> ApiResult<u64> {
    after
        .rsplit('_')
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| {
            ApiError::invalid_paging(format!(
                "after: {after:?} is not a cursor this server issued"
            ))
        })
}

fn cursor_of(event: &StoredEvent) -> String {
    format!("{}_{}", event.published.timestamp_millis(), event.seq)
}

/// `GET /api/v1/logs`.
pub async fn list(
    State(app): State<App>,
    base: Base,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let query = Query::parse(raw.as_deref());
    let limit = query.limit(100, 1000)?;
    let descending = match query.get("sortOrder") {
        None | Some("ASCENDING") => false,
        Some("DESCENDING") => true,
        Some(other) => {
            return Err(ApiError::invalid_filter(format!(
                "sortOrder: {other:?} is not ASCENDING or DESCENDING"
            )));
        }
    };
    let until = parse_time(&query, "until")?;
    let since = parse_time(&query, "since")?;
    let current = now();
    if since.is_some_and(|s| s < current - Duration::days(180)) {
        return Err(ApiError::invalid_filter(
            "since: the since parameter is over 180 days prior to the current day",
        ));
    }
    let expr = query
        .get("filter")
        .map(|f| filter::parse(f, &LOG_FILTER))
        .transpose()?;
    let keywords: Vec<String> = query
        .get("q")
        .map(|q| q.split_whitespace().map(str::to_lowercase).collect())
        .unwrap_or_default();
    let polling = !descending && until.is_none();
    let after = query.get("after").map(parse_cursor).transpose()?;
    // Okta keeps 90 days; with neither `since` nor `after`, a query starts 7 days before `until`.
    let floor = since
        .unwrap_or_else(|| until.unwrap_or(current) - Duration::days(7))
        .max(current - Duration::days(90));
    let until = until.unwrap_or(current);

    let org = app.org();
    let events = org.log.events();
    let seen = after.map(|seq| usize::try_from(seq).unwrap_or(usize::MAX).min(events.len()));
    let wanted = |e: &&StoredEvent| {
        (after.is_some() || e.published >= floor)
            && (polling || e.published < until)
            && expr
                .as_ref()
                .is_none_or(|x| x.matches(&Event(&e.value), &LOG_FILTER))
            && (keywords.is_empty() || {
                let text = e.value.to_string().to_lowercase();
                keywords.iter().all(|k| text.contains(k))
            })
    };
    // Sequence numbers start at 1, so "after sequence n" is index n going forward and
    // everything before index n - 1 going backward.
    let (page, next) = if descending {
        let end = seen.map_or(events.len(), |n| n.saturating_sub(1));
        paging::page(events[..end].iter().rev().filter(wanted), limit, |e| {
            cursor_of(e)
        })
    } else {
        paging::page(
            events[seen.unwrap_or(0)..].iter().filter(wanted),
            limit,
            |e| cursor_of(e),
        )
    };
    let next = if polling && next.is_none() {
        // A polling query never ends: the next page starts after everything looked at so far.
        Some(format!("{}_{}", current.timestamp_millis(), events.len()))
    } else {
        next
    };
    let body = Value::Array(page.iter().map(|e| e.value.clone()).collect());
    drop(org);
    let headers = paging::link_headers(&base, "/api/v1/logs", &query, limit, next.as_deref());
    Ok(paging::json(&body, headers))
}
