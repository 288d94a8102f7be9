//! The admin console and REST API: axum handlers rendering askama pages with a
//! little htmx, a JSON API under `/api/v1` with a generated OpenAPI document, health
//! and Prometheus metrics.
//!
//! Entry points: [`router`] (which [`crate::serve`] mounts, and in-process tests
//! call) and [`route_table`] (the routes with who may call each); the command line's
//! `admin` and `token` commands use [`auth::accounts`]. Everything the console does goes through
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

pub use auth::access::{Access, RouteRule, Routes};
pub use backend::{Backend, BackendError};
pub use state::AppState;

use error::ApiError;
use pages::{
    access as access_page, apps, live, login_sync, preview, report, runs, settings, test_connection,
};
use usersync_store::Scope;

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
    let (router, _) = route_table(state);
    router
}

/// The console's and the API's routes, and the table of who may call each: every
/// route is added through [`Routes`], so none exists without an [`Access`] rule, and
/// the authorization matrix test walks this very table.
pub fn route_table(state: AppState) -> (Router, Vec<RouteRule>) {
    use Access::{Needs, Public};
    let (read, sync, approve, admin) = (
        Needs(Scope::Read),
        Needs(Scope::Sync),
        Needs(Scope::Approve),
        Needs(Scope::Admin),
    );
    let protected = Routes::new()
        .get("/", read, apps::list)
        // Fixed pages live outside `/apps/`, so every path under it names an app
        // (an app may be called "new").
        .get("/new-app", admin, settings::new_form)
        .post("/new-app", admin, settings::create)
        .post("/regex-test", read, settings::regex_test)
        .get("/apps/{name}", read, settings::edit_form)
        .post("/apps/{name}", admin, settings::save)
        .post("/apps/{name}/delete", admin, settings::delete)
        .post(
            "/apps/{name}/hook-secret",
            admin,
            login_sync::generate_secret,
        )
        .post("/apps/{name}/hook-register", admin, login_sync::register)
        .post(
            "/apps/{name}/scim-token",
            admin,
            login_sync::generate_scim_token,
        )
        .post("/apps/{name}/notify-test", admin, login_sync::notify_test)
        .post("/apps/{name}/check", read, test_connection::check)
        .get("/apps/{name}/explain", read, settings::explain)
        .get("/apps/{name}/preview", read, preview::preview)
        .get("/apps/{name}/preview.json", read, preview::preview_json)
        .get("/apps/{name}/preview.csv", read, preview::preview_csv)
        .get("/apps/{name}/report", read, report::page)
        .get("/apps/{name}/report.json", read, report::json)
        .get("/apps/{name}/report.csv", read, report::csv)
        .post("/apps/{name}/sync", sync, apps::start_sync)
        .get("/apps/{name}/live", read, live::live)
        .get("/apps/{name}/live/events", read, live::live_events)
        .get("/runs", read, runs::list)
        .get("/runs/{id}", read, runs::show)
        .get("/runs/{id}/operations.csv", read, runs::operations_csv)
        .post("/runs/{id}/approve", approve, runs::approve)
        .post("/runs/{id}/reject", approve, runs::reject)
        .get("/audit", read, runs::audit)
        .get("/metrics", read, metrics_text)
        .post("/signout", read, auth::pages::sign_out)
        .merge(access_page::routes())
        .merge(api::routes())
        .guarded(&state);
    let public = Routes::new()
        .get("/healthz", Public, || async { "ok" })
        .get("/readyz", Public, readyz)
        .get("/signin", Public, auth::pages::sign_in_form)
        .post("/signin", Public, auth::pages::sign_in)
        .get("/setup", Public, auth::pages::setup_form)
        .post("/setup", Public, auth::pages::setup)
        .get("/static/{*path}", Public, assets::serve);
    let (router, rules) = public
        .merge(protected)
        .merge(crate::scim::routes())
        .into_parts();
    (router.fallback(not_found).with_state(state), rules)
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
        // Every replica is ready to serve; `leader` says whether this one also runs
        // the scheduler and the System Log pollers.
        let leader = state.leadership.is_leader();
        axum::Json(serde_json::json!({"status": "ready", "leader": leader})).into_response()
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
            state.metrics.render(&counts, state.leadership.is_leader()),
        )
            .into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}
