//! Jira as a user server: Crowd's usermanagement API (`/rest/usermanagement/1`) served
//! by the Jira emulator over its own users, when an application is configured (Jira's
//! "Jira user server" page: a name, a password and allowed addresses).
//!
//! Only what a client needs to deactivate and reactivate is served: `config/cookie`
//! (the proof of the API every Crowd application may read), `GET /user` and `PUT /user`
//! (which replaces the user; Jira keeps its own key and directory). A change is made to
//! the same users Jira's REST API reads, so a deactivation shows there. Authentication,
//! the address check, the user entity and the error bodies are the Crowd emulator's
//! (`crate::crowd`), so both speak the same dialect.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::app::App;
use super::state::{SimUser, UserPatch};
use crate::crowd::app::application_refusal;
use crate::crowd::groups::cookie_config;
use crate::crowd::users::{body, user_from};
use crate::crowd::wire::{self, CrowdError, required};

/// The application configured under "Jira user server".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserServerApp {
    pub name: String,
    pub password: String,
}

/// The application and the addresses it may call from (loopback).
#[derive(Clone)]
pub struct Gate {
    app: Arc<UserServerApp>,
    allowed: Arc<HashSet<IpAddr>>,
}

impl Gate {
    pub fn new(app: UserServerApp) -> Self {
        Self {
            app: Arc::new(app),
            allowed: Arc::new(HashSet::from([
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(Ipv6Addr::LOCALHOST),
            ])),
        }
    }
}

type Params = Query<HashMap<String, String>>;
type Answer = Result<Response, CrowdError>;

/// The usermanagement routes behind the application check, to nest at its path.
pub fn routes(gate: Gate) -> Router<App> {
    Router::new()
        .route("/config/cookie", get(cookie_config))
        .route("/user", get(get_user).put(update_user))
        .fallback(|| async { StatusCode::NOT_FOUND })
        .layer(middleware::from_fn_with_state(gate, authenticate))
}

async fn authenticate(State(gate): State<Gate>, request: Request, next: Next) -> Response {
    match application_refusal(&request, &gate.app.name, &gate.app.password, &gate.allowed) {
        Some(refused) => refused,
        None => next.run(request).await,
    }
}

/// A Jira user as Crowd's entity: Jira keeps one display name, Crowd splits it.
fn as_crowd(user: &SimUser) -> crate::crowd::SimUser {
    let (first, last) = user
        .display_name
        .rsplit_once(' ')
        .unwrap_or((user.display_name.as_str(), ""));
    crate::crowd::SimUser {
        name: user.name.clone(),
        key: user.key.clone(),
        first_name: first.to_owned(),
        last_name: last.to_owned(),
        display_name: user.display_name.clone(),
        email: user.email.clone(),
        active: user.active,
        password: String::new(),
    }
}

/// `GET /user?username=`: the whole user (Crowd's `expand=attributes` is not needed).
async fn get_user(State(app): State<App>, Query(q): Params) -> Answer {
    let name = required(&q, "username")?;
    let state = app.state();
    let user = state
        .user(name)
        .ok_or_else(|| CrowdError::user_not_found(name))?;
    Ok(axum::Json(wire::user(&app.base, &as_crowd(user), true)).into_response())
}

/// `PUT /user?username=`: replaces the user's names, e-mail and active flag.
async fn update_user(State(app): State<App>, Query(q): Params, bytes: Bytes) -> Answer {
    let name = required(&q, "username")?;
    let with = user_from(&body(&bytes)?);
    if with.name.to_lowercase() != name.to_lowercase() {
        return Err(CrowdError::illegal(format!(
            "the user's name in the body ({:?}) is not the one in the URL ({name:?})",
            with.name
        )));
    }
    let mut state = app.state();
    let key = state
        .user(name)
        .map(|u| u.key.clone())
        .ok_or_else(|| CrowdError::user_not_found(name))?;
    let patch = UserPatch {
        name: None,
        display_name: Some(with.display_name),
        email: Some(with.email),
        active: Some(with.active),
    };
    state.update_user(&key, patch).map_err(|e| {
        // Jira's refusal (a read-only directory, a protected account) in Crowd's form.
        CrowdError::new(
            StatusCode::FORBIDDEN,
            "OPERATION_FAILED",
            e.messages
                .into_iter()
                .chain(e.errors.into_values())
                .collect::<Vec<_>>()
                .join(" "),
        )
    })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
