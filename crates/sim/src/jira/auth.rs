//! Who is calling the Jira emulator, and whether they may.
//!
//! Mirrors Jira's Seraph filter: a good Basic credential or personal access
//! token authenticates (`X-Seraph-LoginReason: OK`); a bad one does **not** get a
//! 401 by itself: the request continues as anonymous with
//! `X-Seraph-LoginReason: AUTHENTICATED_FAILED`, so anonymous-readable endpoints
//! (`serverInfo`) still answer 200 and only the others refuse with 401. Also
//! the optional per-user token-bucket rate limiter (Jira 8.6+), which counts
//! only authenticated REST requests, as Jira's does.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::app::App;
use super::wire::JiraError;

/// The group whose members are Jira administrators.
pub const ADMIN_GROUP: &str = "jira-administrators";

/// The authenticated (or anonymous) caller of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub username: Option<String>,
    pub admin: bool,
}

impl Caller {
    /// # Errors
    /// 401 for anonymous callers.
    pub fn require_user(&self) -> Result<&str, JiraError> {
        self.username
            .as_deref()
            .ok_or_else(JiraError::unauthenticated)
    }

    /// # Errors
    /// 401 for anonymous callers, 403 for non-administrators.
    pub fn require_admin(&self) -> Result<(), JiraError> {
        self.require_user()?;
        if self.admin {
            Ok(())
        } else {
            Err(JiraError::forbidden())
        }
    }
}

/// Token-bucket settings, as a Jira admin sets them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RateLimit {
    /// Bucket size ("max requests").
    pub capacity: u32,
    /// Tokens added per second ("requests allowed" per interval of one second).
    pub per_second: f64,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Live rate-limiter state, per username.
#[derive(Debug, Default)]
pub struct Limiter {
    pub config: Option<RateLimit>,
    buckets: HashMap<String, Bucket>,
}

/// What the limiter decided: remaining tokens, or seconds to wait.
enum Verdict {
    Allowed(u32),
    Limited(u64),
}

impl Limiter {
    #[must_use]
    pub fn new(config: Option<RateLimit>) -> Self {
        Self {
            config,
            buckets: HashMap::new(),
        }
    }

    fn take(&mut self, user: &str, config: RateLimit) -> Verdict {
        let now = Instant::now();
        let capacity = f64::from(config.capacity);
        let bucket = self.buckets.entry(user.to_lowercase()).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        let refill = now.duration_since(bucket.at).as_secs_f64() * config.per_second;
        bucket.tokens = (bucket.tokens + refill).min(capacity);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Verdict::Allowed(bucket.tokens.floor() as u32)
        } else {
            let wait = ((1.0 - bucket.tokens) / config.per_second.max(0.001)).ceil();
            Verdict::Limited(wait.max(1.0) as u64)
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Resolves the caller from the `Authorization` header; the second value is the Seraph reason.
fn identify(app: &App, header: Option<&str>) -> (Caller, Option<&'static str>) {
    let anonymous = Caller {
        username: None,
        admin: false,
    };
    let Some(header) = header else {
        return (anonymous, None);
    };
    let name = if let Some(token) = header.strip_prefix("Bearer ") {
        (token.trim() == app.pat.as_str()).then(|| app.admin_username.clone())
    } else if let Some(encoded) = header.strip_prefix("Basic ") {
        basic_user(app, encoded.trim())
    } else {
        None
    };
    let state = lock(&app.state);
    let found = name.and_then(|n| state.user(&n)).filter(|u| u.active);
    match found {
        Some(user) => {
            let admin = user.protected || state.is_member(ADMIN_GROUP, user.id);
            let caller = Caller {
                username: Some(user.name.clone()),
                admin,
            };
            (caller, Some("OK"))
        }
        None => (anonymous, Some("AUTHENTICATED_FAILED")),
    }
}

fn basic_user(app: &App, encoded: &str) -> Option<String> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let raw = String::from_utf8(raw).ok()?;
    let (user, password) = raw.split_once(':')?;
    let state = lock(&app.state);
    let stored = state.user(user)?;
    (stored.password.as_deref() == Some(password)).then(|| stored.name.clone())
}

/// Middleware: authenticates, rate-limits, and adds Jira's auth headers.
pub async fn layer(State(app): State<App>, mut request: Request, next: Next) -> Response {
    let header = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (caller, reason) = identify(&app, header.as_deref());
    let mut limit_headers = Vec::new();
    if let Some(user) = &caller.username {
        let mut limiter = lock(&app.limiter);
        if let Some(config) = limiter.config {
            let verdict = limiter.take(user, config);
            drop(limiter);
            match verdict {
                Verdict::Allowed(left) => limit_headers = rate_headers(config, left, 0),
                Verdict::Limited(wait) => {
                    let mut response = JiraError::new(
                        StatusCode::TOO_MANY_REQUESTS,
                        "Rate limit exceeded. Please wait before sending more requests.",
                    )
                    .into_response();
                    add_headers(&mut response, &rate_headers(config, 0, wait));
                    add_seraph(&mut response, reason, caller.username.as_deref());
                    return response;
                }
            }
        }
    }
    let username = caller.username.clone();
    request.extensions_mut().insert(caller);
    let mut response = next.run(request).await;
    add_headers(&mut response, &limit_headers);
    add_seraph(&mut response, reason, username.as_deref());
    response
}

fn rate_headers(
    config: RateLimit,
    remaining: u32,
    retry_after: u64,
) -> Vec<(&'static str, String)> {
    vec![
        ("x-ratelimit-limit", config.capacity.to_string()),
        ("x-ratelimit-remaining", remaining.to_string()),
        ("x-ratelimit-interval-seconds", "1".to_owned()),
        ("x-ratelimit-fillrate", format!("{}", config.per_second)),
        ("retry-after", retry_after.to_string()),
    ]
}

fn add_headers(response: &mut Response, headers: &[(&'static str, String)]) {
    for (name, value) in headers {
        if let Ok(v) = HeaderValue::from_str(value) {
            response.headers_mut().insert(*name, v);
        }
    }
}

fn add_seraph(response: &mut Response, reason: Option<&str>, username: Option<&str>) {
    if let Some(reason) = reason {
        response.headers_mut().insert(
            "x-seraph-loginreason",
            HeaderValue::from_static(static_reason(reason)),
        );
    }
    let who = username.unwrap_or("anonymous");
    if let Ok(v) = HeaderValue::from_str(who) {
        response.headers_mut().insert("x-ausername", v);
    }
}

fn static_reason(reason: &str) -> &'static str {
    if reason == "OK" {
        "OK"
    } else {
        "AUTHENTICATED_FAILED"
    }
}
