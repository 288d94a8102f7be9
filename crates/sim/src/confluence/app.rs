//! The emulator's shared state, its router, and the middleware in front of it:
//! the latency (outermost: `faults::delay`), the request log (so it records what the
//! client finally saw, when the request was handled), fault
//! injection, Confluence's token-bucket rate limiter, and Seraph-style
//! authentication (Basic for any user with a password, Bearer for the PAT).

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use base64::Engine as _;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::Value;

use super::state::{ApiError, ApiResult, Store};
use super::version::Version;
use super::wire::Paging;
use super::{RateLimit, RecordedRequest, groups, rpc, users, wire};
use crate::faults::{self, Faults};
use crate::request_log::RequestLog;

/// Who is calling, decided by the auth middleware.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    Anonymous,
    User(String),
}

/// A token bucket (Confluence DC rate limiting, fact sheet 2.5).
#[derive(Debug)]
pub struct Bucket {
    pub config: RateLimit,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    pub fn new(config: RateLimit) -> Self {
        Self {
            tokens: f64::from(config.capacity),
            last: Instant::now(),
            config,
        }
    }

    /// Takes a token; `Err(seconds to wait)` when none is left.
    fn take(&mut self) -> Result<u32, u64> {
        let per_second =
            f64::from(self.config.fill_rate) / f64::from(self.config.interval_seconds.max(1));
        let now = Instant::now();
        self.tokens = (self.tokens + now.duration_since(self.last).as_secs_f64() * per_second)
            .min(f64::from(self.config.capacity));
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            // Truncation is intended: the header reports whole tokens.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            Ok(self.tokens as u32)
        } else {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let wait = ((1.0 - self.tokens) / per_second.max(0.001)).ceil() as u64;
            Err(wait.max(1))
        }
    }
}

/// Everything the handlers share.
pub struct Shared {
    pub store: Mutex<Store>,
    pub version: Version,
    pub base_url: String,
    pub pat: Mutex<Option<String>>,
    pub log: Mutex<RequestLog<RecordedRequest>>,
    pub bucket: Option<Mutex<Bucket>>,
    pub page_cap: usize,
    pub delete_after: Duration,
}

pub type App = Arc<Shared>;

pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    /// The store, with overdue delete tasks finished first.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        let mut store = lock(&self.store);
        store.finish_due_tasks(self.delete_after);
        store
    }

    /// One page of `items` (the whole list) in Confluence's envelope, at the
    /// request's `start` and `limit` within this server's page cap; `extra` is the
    /// query (ending in `&`) the `next`/`prev` links carry over. Only the page's
    /// items are rendered, so a page costs the same wherever it is in a long list.
    pub fn page<T>(
        &self,
        path: &str,
        items: impl ExactSizeIterator<Item = T>,
        render: impl FnMut(T) -> Value,
        paging: Paging,
        extra: &str,
    ) -> Json<Value> {
        let (start, limit) = paging.resolve(self.page_cap);
        let total = items.len();
        let results = items.skip(start).take(limit).map(render).collect();
        Json(wire::page(
            &self.base_url,
            path,
            (results, total),
            start,
            limit,
            extra,
        ))
    }
}

/// A JSON request body, or Confluence's 400 when it cannot be read.
pub fn json_body<T: for<'de> Deserialize<'de>>(body: &Bytes) -> ApiResult<T> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::new(400, format!("Could not read the request body: {e}")))
}

/// Any signed-in, active user.
pub fn signed_in(caller: &Caller) -> ApiResult<&str> {
    match caller {
        Caller::User(u) => Ok(u),
        Caller::Anonymous => Err(ApiError::new(401, "This request requires authentication")),
    }
}

/// A member of `confluence-administrators` ("User should be a System admin").
pub fn sysadmin(app: &Shared, caller: &Caller) -> ApiResult<()> {
    let user = signed_in(caller)?;
    if app.store().is_sysadmin(user) {
        Ok(())
    } else {
        Err(ApiError::new(403, "User should be a System admin"))
    }
}

pub fn router(app: App, faults: Faults) -> Router {
    let api = users::routes(app.version)
        .merge(groups::routes(app.version))
        .merge(super::licence::routes(app.version))
        .merge(rpc::routes())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(app.clone(), authenticate))
        .layer(middleware::from_fn_with_state(app.clone(), rate_limit))
        .layer(middleware::from_fn_with_state(
            faults.clone(),
            faults::layer,
        ))
        .layer(middleware::from_fn_with_state(app.clone(), record))
        .layer(middleware::from_fn_with_state(faults, faults::delay));
    api.with_state(app)
}

async fn not_found(request: Request) -> Response {
    wire::error(
        StatusCode::NOT_FOUND,
        &format!("null for uri: {}", request.uri()),
    )
}

fn seraph_refusal(reason: &'static str, message: &str) -> Response {
    let mut response = wire::error(StatusCode::UNAUTHORIZED, message);
    response
        .headers_mut()
        .insert("X-Seraph-LoginReason", HeaderValue::from_static(reason));
    response
}

/// A Seraph refusal: the `X-Seraph-LoginReason` value and the message.
type Refusal = (&'static str, &'static str);

fn caller_of(app: &Shared, headers: &HeaderMap) -> Result<Caller, Refusal> {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(Caller::Anonymous);
    };
    if let Some(token) = value.strip_prefix("Bearer ") {
        let pat = lock(&app.pat).clone();
        let admin = app.store().admin.clone();
        return match pat {
            Some(p) if p == token.trim() => Ok(Caller::User(admin)),
            _ => Err((
                "AUTHENTICATED_FAILED",
                "Authentication failed: the personal access token is not valid",
            )),
        };
    }
    let failed = || -> Refusal {
        (
            "AUTHENTICATED_FAILED",
            "Basic Authentication Failure - Reason : AUTHENTICATED_FAILED",
        )
    };
    let decoded = value
        .strip_prefix("Basic ")
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(failed)?;
    let (name, password) = decoded.split_once(':').ok_or_else(failed)?;
    let store = app.store();
    match store.user(name) {
        Some(u) if u.password.as_deref() == Some(password) && u.active => {
            Ok(Caller::User(u.username.clone()))
        }
        Some(u) if u.password.as_deref() == Some(password) => Err((
            "AUTHENTICATION_DENIED",
            "Basic Authentication Failure - Reason : AUTHENTICATION_DENIED",
        )),
        _ => Err(failed()),
    }
}

async fn authenticate(State(app): State<App>, mut request: Request, next: Next) -> Response {
    match caller_of(&app, request.headers()) {
        Ok(caller) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Err((reason, message)) => seraph_refusal(reason, message),
    }
}

async fn rate_limit(State(app): State<App>, request: Request, next: Next) -> Response {
    let Some(bucket) = &app.bucket else {
        return next.run(request).await;
    };
    let (config, taken) = {
        let mut bucket = lock(bucket);
        (bucket.config, bucket.take())
    };
    let (mut response, remaining, retry) = match taken {
        Ok(remaining) => (next.run(request).await, remaining, 0),
        Err(wait) => (
            wire::error(
                StatusCode::TOO_MANY_REQUESTS,
                "Rate limit exceeded: too many requests",
            ),
            0,
            wait,
        ),
    };
    let h = response.headers_mut();
    h.insert("X-RateLimit-Limit", HeaderValue::from(config.capacity));
    h.insert("X-RateLimit-Remaining", HeaderValue::from(remaining));
    h.insert(
        "X-RateLimit-Interval-Seconds",
        HeaderValue::from(config.interval_seconds),
    );
    h.insert("X-RateLimit-FillRate", HeaderValue::from(config.fill_rate));
    h.insert(header::RETRY_AFTER, HeaderValue::from(retry));
    response
}

/// Blanks every `password` field, and the password parameter of a JSON-RPC
/// `addUser` (its second), so the log never holds one.
fn redact(value: &mut serde_json::Value) {
    if value.get("method").and_then(|m| m.as_str()) == Some("addUser")
        && let Some(password) = value.pointer_mut("/params/1")
    {
        *password = serde_json::Value::String("<redacted>".into());
    }
    if let Some(map) = value.as_object_mut() {
        for (k, v) in map.iter_mut() {
            if k.eq_ignore_ascii_case("password") {
                *v = serde_json::Value::String("<redacted>".into());
            } else {
                redact(v);
            }
        }
    }
}

async fn record(State(app): State<App>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 4 << 20).await else {
        return wire::error(StatusCode::PAYLOAD_TOO_LARGE, "request body too large");
    };
    let mut json = serde_json::from_slice::<serde_json::Value>(&bytes).ok();
    if let Some(v) = json.as_mut() {
        redact(v);
    }
    let entry = RecordedRequest {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        authorization: parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_whitespace().next())
            .map(str::to_owned),
        body: json,
        status: 0,
    };
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let status = response.status().as_u16();
    let method = entry.method.clone();
    lock(&app.log).push(&method, status, RecordedRequest { status, ..entry });
    response.into_response()
}
