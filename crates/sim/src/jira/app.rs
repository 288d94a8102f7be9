//! The Jira emulator's shared handler state, its router, and the request log.
//!
//! Layers, outermost first: the latency (`faults::delay`), request log (sees every
//! status, faults included),
//! fault injection, authentication and rate limiting, then the `/rest/api/2`
//! handlers (`latest` is an alias of `2`, as in Jira).

use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use serde::{Deserialize, Serialize};

use super::auth::{self, Limiter};
use super::state::JiraState;
use super::{groups, user_server, users};
use crate::faults::{self, Faults};
use crate::request_log::RequestLog;

/// One request the emulator answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRecord {
    pub method: String,
    /// Path with query, as sent.
    pub path: String,
    pub status: u16,
}

/// A [`RequestRecord`] as the log keeps it (small: a million of them fit in ~100 MB).
#[derive(Debug, Clone)]
pub struct LogEntry {
    method: Method,
    path: Box<str>,
    status: u16,
}

impl From<&LogEntry> for RequestRecord {
    fn from(e: &LogEntry) -> Self {
        Self {
            method: e.method.as_str().to_owned(),
            path: e.path.to_string(),
            status: e.status,
        }
    }
}

/// What every handler shares.
#[derive(Clone)]
pub struct App {
    pub state: Arc<Mutex<JiraState>>,
    /// The public base URL, for `self` links.
    pub base: Arc<str>,
    pub admin_username: String,
    pub pat: Arc<String>,
    pub limiter: Arc<Mutex<Limiter>>,
    pub log: Arc<Mutex<RequestLog<LogEntry>>>,
    /// Usernames created with `notification` true (a welcome e-mail would have gone out).
    pub notified: Arc<Mutex<Vec<String>>>,
    /// `jira.ajax.autocomplete.limit`: the default size of a group-picker answer.
    pub group_picker_limit: usize,
}

impl App {
    pub fn state(&self) -> std::sync::MutexGuard<'_, JiraState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn api_routes() -> Router<App> {
    Router::new()
        .route("/serverInfo", get(users::server_info))
        .route("/myself", get(users::myself))
        .route(
            "/user",
            get(users::get_user)
                .post(users::create_user)
                .put(users::update_user)
                .delete(users::delete_user),
        )
        .route("/user/search", get(users::search))
        .route("/user/list", get(users::list))
        .route(
            "/group",
            get(groups::get_group)
                .post(groups::create_group)
                .delete(groups::delete_group),
        )
        .route("/group/member", get(groups::members))
        .route(
            "/group/user",
            axum::routing::post(groups::add_member).delete(groups::remove_member),
        )
        .route("/groups/picker", get(groups::picker))
        .route("/applicationrole", get(super::roles::list))
        .route("/applicationrole/{key}", get(super::roles::one))
}

/// The whole emulator as a router; with a user-server application, also Crowd's
/// usermanagement API, behind its own application check instead of Jira's sign-in.
pub fn router(app: App, faults: Faults, user_server: Option<user_server::Gate>) -> Router {
    let api = api_routes();
    let mut router = Router::new()
        .nest("/rest/api/2", api.clone())
        .nest("/rest/api/latest", api)
        .layer(middleware::from_fn_with_state(app.clone(), auth::layer));
    if let Some(gate) = user_server {
        router = router.nest("/rest/usermanagement/1", user_server::routes(gate));
    }
    router
        .layer(middleware::from_fn_with_state(
            faults.clone(),
            faults::layer,
        ))
        .layer(middleware::from_fn_with_state(app.clone(), record))
        .layer(middleware::from_fn_with_state(faults, faults::delay))
        .with_state(app)
}

async fn record(State(app): State<App>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path: Box<str> = request
        .uri()
        .path_and_query()
        .map_or_else(|| request.uri().path(), |p| p.as_str())
        .into();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let key = method.clone();
    let entry = LogEntry {
        method,
        path,
        status,
    };
    app.log
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(key.as_str(), status, entry);
    response
}
