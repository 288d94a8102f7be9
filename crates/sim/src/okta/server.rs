//! The router and the middleware stack every request goes through, outermost first:
//! request id, `Date` and the request log; rate limits (headers on every response);
//! the latency (`faults::delay`, so a request counts against the concurrency limit
//! for all of it); faults; authentication; then the resource handlers.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::{Deserialize, Serialize};

use super::auth::{self, OAuth};
use super::error::ApiError;
use super::ratelimit::{self, Bucket, Limiter};
use super::state::OrgState;
use super::{groups, hooks, lifecycle, logs, members, users};
use crate::faults::{self, Faults};

/// One request as the emulator saw it (no secrets: only the auth scheme is kept).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRecord {
    pub method: String,
    /// Path with query, as sent.
    pub path: String,
    pub status: u16,
    pub bucket: Bucket,
    pub request_id: String,
    /// `SSWS`, `Bearer`, or `None` when no Authorization header was sent.
    pub auth_scheme: Option<String>,
    /// The `X-Okta-Retry-For` / `X-Okta-Retry-Count` headers Okta's SDKs send on retries.
    pub retry_for: Option<String>,
    pub retry_count: Option<String>,
}

/// The request id middleware hands to handlers (used in System Log events).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Everything the handlers share.
pub struct Shared {
    pub org: Mutex<OrgState>,
    pub api_token: String,
    pub base_url: String,
    pub token_lifetime: Duration,
    pub limiter: Limiter,
    pub oauth: OAuth,
    pub faults: Faults,
    pub requests: Mutex<Vec<RequestRecord>>,
    pub deliveries: super::hooks_delivery::Deliveries,
}

pub type App = Arc<Shared>;

impl Shared {
    /// The org, locked (never held across an await).
    pub fn org(&self) -> MutexGuard<'_, OrgState> {
        self.org.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn requests(&self) -> MutexGuard<'_, Vec<RequestRecord>> {
        self.requests.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn header_text(request: &Request, name: &str) -> Option<String> {
    request
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Outermost middleware: request id, `Date`, and the request log.
async fn common(State(app): State<App>, mut request: Request, next: Next) -> Response {
    let request_id = uuid::Uuid::new_v4().simple().to_string()[..20].to_owned();
    request
        .extensions_mut()
        .insert(RequestId(request_id.clone()));
    let method = request.method().clone();
    let path = request
        .uri()
        .path_and_query()
        .map_or_else(|| request.uri().path().to_owned(), ToString::to_string);
    let bucket = Bucket::of(&method, request.uri().path());
    let auth_scheme = header_text(&request, "authorization").map(|h| {
        if h.starts_with("SSWS") {
            "SSWS".to_owned()
        } else {
            h.split(' ').next().unwrap_or_default().to_owned()
        }
    });
    let retry_for = header_text(&request, "x-okta-retry-for");
    let retry_count = header_text(&request, "x-okta-retry-count");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert("x-okta-request-id", value);
    }
    let date = chrono::Utc::now()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    if let Ok(value) = HeaderValue::from_str(&date) {
        headers.insert(header::DATE, value);
    }
    app.requests().push(RequestRecord {
        method: method.to_string(),
        path,
        status: response.status().as_u16(),
        bucket,
        request_id,
        auth_scheme,
        retry_for,
        retry_count,
    });
    response
}

async fn no_route() -> Response {
    ApiError::no_route().into_response()
}

async fn no_method() -> Response {
    ApiError::method_not_allowed().into_response()
}

/// The emulator's router with its middleware.
pub fn router(app: App) -> Router {
    let api = Router::new()
        .route("/api/v1/users", get(users::list).post(users::create))
        .route(
            "/api/v1/users/{id}",
            get(users::get_one)
                .post(users::update)
                .put(users::replace)
                .delete(users::delete),
        )
        .route("/api/v1/users/{id}/groups", get(users::groups_of))
        .route("/api/v1/users/{id}/lifecycle/{op}", post(lifecycle::run))
        .route("/api/v1/groups", get(groups::list).post(groups::create))
        .route(
            "/api/v1/groups/{id}",
            get(groups::get_one)
                .put(groups::replace)
                .delete(groups::delete),
        )
        .route("/api/v1/groups/{id}/users", get(members::list))
        .route(
            "/api/v1/groups/{gid}/users/{uid}",
            put(members::add).delete(members::remove),
        )
        .route("/api/v1/logs", get(logs::list))
        .route(
            "/api/v1/meta/schemas/user/{schema_id}",
            get(super::schema::user_schema),
        )
        .route("/api/v1/eventHooks", get(hooks::list).post(hooks::create))
        .route(
            "/api/v1/eventHooks/{id}",
            get(hooks::get_one)
                .put(hooks::replace)
                .delete(hooks::delete),
        )
        .route(
            "/api/v1/eventHooks/{id}/lifecycle/{op}",
            post(hooks::lifecycle),
        )
        .route("/oauth2/v1/token", post(auth::token))
        .fallback(no_route)
        .method_not_allowed_fallback(no_method);
    api.layer(middleware::from_fn_with_state(app.clone(), auth::layer))
        .layer(middleware::from_fn_with_state(
            app.faults.clone(),
            faults::layer,
        ))
        // Inside the rate limits: Okta counts a request against its concurrency limit
        // for as long as it is in flight, the whole latency.
        .layer(middleware::from_fn_with_state(
            app.faults.clone(),
            faults::delay,
        ))
        .layer(middleware::from_fn_with_state(
            app.clone(),
            ratelimit::layer,
        ))
        .layer(middleware::from_fn_with_state(app.clone(), common))
        .with_state(app)
}
