//! The Crowd emulator's shared handler state, router and request log.
//!
//! Layers, outermost first: the latency (`faults::delay`), request log (sees every
//! status, faults included),
//! fault injection, Crowd's version header, then application authentication: HTTP
//! basic with the application's name and password (401 otherwise), and the
//! caller's address among the application's remote addresses (403 otherwise, with
//! reason `APPLICATION_ACCESS_DENIED`), before any resource, an unknown one (404)
//! included, as `python-crowd`'s `auth_ping` relies on.

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use base64::Engine as _;

use super::state::CrowdState;
use super::wire::CrowdError;
use super::{groups, users};
use crate::faults::{self, Faults};
use crate::jira::RequestRecord;
use crate::request_log::RequestLog;

/// What every handler shares.
#[derive(Clone)]
pub struct App {
    pub state: Arc<Mutex<CrowdState>>,
    /// The public base URL, for links.
    pub base: Arc<str>,
    pub application: Arc<str>,
    pub password: Arc<str>,
    /// The application's remote addresses: callers from elsewhere get 403.
    pub allowed: Arc<Mutex<HashSet<IpAddr>>>,
    /// `Crowd/<version>`, sent on every answer.
    pub version_header: HeaderValue,
    pub log: Arc<Mutex<RequestLog<RequestRecord>>>,
}

impl App {
    pub fn state(&self) -> MutexGuard<'_, CrowdState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn api_routes() -> Router<App> {
    Router::new()
        .route(
            "/user",
            get(users::get_user)
                .post(users::create_user)
                .put(users::update_user)
                .delete(users::delete_user),
        )
        .route("/user/rename", post(users::rename_user))
        .route("/user/password", put(users::set_password))
        .route(
            "/user/group/direct",
            get(users::groups_of)
                .post(users::add_to_group)
                .delete(users::remove_from_group),
        )
        .route("/user/group/nested", get(users::groups_of))
        .route(
            "/group",
            get(groups::get_group)
                .post(groups::create_group)
                .delete(groups::delete_group),
        )
        .route(
            "/group/user/direct",
            get(groups::members)
                .post(groups::add_member)
                .delete(groups::remove_member),
        )
        .route("/group/user/nested", get(groups::members))
        .route("/search", get(groups::search))
        .route("/config/cookie", get(groups::cookie_config))
}

/// The whole emulator as a router (`latest` is an alias of `1`, as in Crowd).
pub fn router(app: App, faults: Faults) -> Router {
    let api = api_routes();
    Router::new()
        .nest("/rest/usermanagement/1", api.clone())
        .nest("/rest/usermanagement/latest", api)
        .fallback(|| async { StatusCode::NOT_FOUND })
        .layer(middleware::from_fn_with_state(app.clone(), authenticate))
        .layer(middleware::from_fn_with_state(app.clone(), version_header))
        .layer(middleware::from_fn_with_state(
            faults.clone(),
            faults::layer,
        ))
        .layer(middleware::from_fn_with_state(app.clone(), record))
        .layer(middleware::from_fn_with_state(faults, faults::delay))
        .with_state(app)
}

async fn version_header(State(app): State<App>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    response
        .headers_mut()
        .insert("x-embedded-crowd-version", app.version_header.clone());
    response
}

/// The application's name and password from `Authorization: Basic`.
fn basic(request: &Request) -> Option<(String, String)> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let (name, password) = String::from_utf8(raw)
        .ok()?
        .split_once(':')
        .map(|(n, p)| (n.to_owned(), p.to_owned()))?;
    Some((name, password))
}

async fn authenticate(State(app): State<App>, request: Request, next: Next) -> Response {
    let refused = {
        let allowed = app.allowed.lock().unwrap_or_else(PoisonError::into_inner);
        application_refusal(&request, &app.application, &app.password, &allowed)
    };
    match refused {
        Some(response) => response,
        None => next.run(request).await,
    }
}

/// Crowd's application check, shared with Jira's user-server API: basic auth with the
/// application's name and password (401 otherwise), then the caller's address among the
/// application's remote addresses (403 `APPLICATION_ACCESS_DENIED` otherwise).
pub(crate) fn application_refusal(
    request: &Request,
    application: &str,
    password: &str,
    allowed: &HashSet<IpAddr>,
) -> Option<Response> {
    let signed_in =
        basic(request).is_some_and(|(name, given)| name == application && given == password);
    if !signed_in {
        return Some(
            (
                StatusCode::UNAUTHORIZED,
                [(
                    header::WWW_AUTHENTICATE,
                    "BASIC realm=\"Crowd REST Service\"",
                )],
                "Application failed to authenticate",
            )
                .into_response(),
        );
    }
    let address = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if address.is_some_and(|a| allowed.contains(&a)) {
        return None;
    }
    let shown = address.map_or_else(|| "unknown".to_owned(), |a| a.to_string());
    Some(
        CrowdError::new(
            StatusCode::FORBIDDEN,
            "APPLICATION_ACCESS_DENIED",
            format!(
                "Client with address \"{shown}\" is forbidden from making requests to the application, {application}."
            ),
        )
        .into_response(),
    )
}

async fn record(State(app): State<App>, request: Request, next: Next) -> Response {
    let method = request.method().as_str().to_owned();
    let path = request.uri().path_and_query().map_or_else(
        || request.uri().path().to_owned(),
        |p| p.as_str().to_owned(),
    );
    let response = next.run(request).await;
    let status = response.status().as_u16();
    app.log.lock().unwrap_or_else(PoisonError::into_inner).push(
        &method,
        status,
        RequestRecord {
            method: method.clone(),
            path,
            status,
        },
    );
    response
}
