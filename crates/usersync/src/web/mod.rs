//! The admin console and REST API: axum handlers rendering askama pages with a
//! little htmx, a JSON API under `/api/v1` with a generated OpenAPI document, health
//! and Prometheus metrics.
//!
//! Entry points: [`router`] (which [`crate::serve`] mounts, and in-process tests
//! call), [`create_admin`] and [`create_api_token`] for `usersync admin create` and
//! `usersync token create`. Everything the console does goes through
//! [`backend::Backend`], which holds the store and the engine's dependencies.

pub mod adapter;
pub mod api;
pub mod assets;
pub mod auth;
pub mod backend;
pub mod error;
pub mod metrics;
pub mod model;
pub mod pages;
pub mod state;

#[cfg(test)]
mod tests;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

pub use backend::{Backend, BackendError};
pub use state::AppState;

use error::ApiError;
use pages::{apps, runs, settings, test_connection};

/// Every route of the console and the API, under [`layered`]'s layers.
pub fn router(state: AppState) -> Router {
    layered(routes(state.clone()), &state)
}

/// The layers every answer of the server passes through, routes merged in by
/// [`crate::serve`] (the Okta hook) included: request metrics and the security headers.
pub fn layered(routes: Router, state: &AppState) -> Router {
    routes
        .layer(middleware::from_fn_with_state(
            state.metrics.clone(),
            metrics::track,
        ))
        .layer(middleware::map_response(security_headers))
}

/// Every route of the console and the API, without the layers.
pub fn routes(state: AppState) -> Router {
    let protected = Router::new()
        .route("/", get(apps::list))
        // Fixed pages live outside `/apps/`, so every path under it names an app
        // (an app may be called "new").
        .route("/new-app", get(settings::new_form).post(settings::create))
        .route("/regex-test", post(settings::regex_test))
        .route(
            "/apps/{name}",
            get(settings::edit_form).post(settings::save),
        )
        .route("/apps/{name}/delete", post(settings::delete))
        .route("/apps/{name}/check", post(test_connection::check))
        .route("/apps/{name}/explain", get(settings::explain))
        .route("/apps/{name}/preview", get(apps::preview))
        .route("/apps/{name}/preview.json", get(apps::preview_json))
        .route("/apps/{name}/preview.csv", get(apps::preview_csv))
        .route("/apps/{name}/sync", post(apps::start_sync))
        .route("/apps/{name}/live", get(apps::live))
        .route("/apps/{name}/live/events", get(apps::live_events))
        .route("/runs", get(runs::list))
        .route("/runs/{id}", get(runs::show))
        .route("/runs/{id}/approve", post(runs::approve))
        .route("/runs/{id}/reject", post(runs::reject))
        .route("/audit", get(runs::audit))
        .route("/metrics", get(metrics_text))
        .route("/signout", post(auth::pages::sign_out))
        .merge(api::routes())
        .route_layer(middleware::from_fn_with_state(state.clone(), auth::guard));
    let public = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route(
            "/signin",
            get(auth::pages::sign_in_form).post(auth::pages::sign_in),
        )
        .route(
            "/setup",
            get(auth::pages::setup_form).post(auth::pages::setup),
        )
        .route("/static/{*path}", get(assets::serve));
    Router::new()
        .merge(public)
        .merge(protected)
        .fallback(not_found)
        .with_state(state)
}

async fn not_found(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no API route {}", uri.path()),
        )
        .into_response()
    } else {
        (StatusCode::NOT_FOUND, "Not found").into_response()
    }
}

/// Headers that keep the console out of frames and scripts to its own origin.
async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'"),
    );
    response
}

async fn readyz(State(state): State<AppState>) -> Response {
    if state.backend.ready().await {
        (StatusCode::OK, "ready").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "the store cannot write").into_response()
    }
}

async fn metrics_text(State(state): State<AppState>) -> Response {
    for (app, buckets) in state.backend.okta_headroom() {
        state.metrics.set_okta_headroom(&app, &buckets);
    }
    match state.backend.stored_counts().await {
        Ok(counts) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            state.metrics.render(&counts),
        )
            .into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// `usersync admin create`: adds an administrator (password hashed with Argon2id).
///
/// # Errors
/// A refused username or password (naming which), or a store failure.
pub async fn create_admin(
    store: &usersync_store::Store,
    username: &str,
    password: secrecy::SecretString,
) -> anyhow::Result<()> {
    let backend = Backend::new(crate::engine::Deps::new(store.clone()));
    auth::create_admin_with(&backend, username, password)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
}

/// `usersync token create`: creates an API token and returns its value, shown
/// once (only its hash is stored).
///
/// # Errors
/// An empty or duplicate name, or a store failure.
pub async fn create_api_token(store: &usersync_store::Store, name: &str) -> anyhow::Result<String> {
    let backend = Backend::new(crate::engine::Deps::new(store.clone()));
    auth::create_api_token_with(&backend, name)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
}
