//! The admin console and REST API (`usersync serve`): an axum server rendering
//! askama pages with a little htmx, a JSON API under `/api/v1` with a generated
//! OpenAPI document, health and Prometheus metrics.
//!
//! Entry points: [`ServeArgs`] and [`serve`] for the command line,
//! [`Application`] to bind (port 0 in tests) and run, [`router`] for in-process
//! tests, [`create_admin`] and [`create_api_token`] for `usersync admin create` and
//! `usersync token create`. Everything the console does goes through the
//! [`backend::Backend`] trait, implemented over the store and engine in [`adapter`].

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

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

pub use backend::{Backend, BackendError};
pub use state::AppState;

use error::ApiError;
use pages::{apps, runs, settings};

/// How long shutdown waits for runs started from the console to finish.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(120);

/// `usersync serve` options.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", env = "USERSYNC_LISTEN")]
    pub listen: SocketAddr,
    /// Mark cookies Secure even without `X-Forwarded-Proto: https` (TLS terminated in front).
    #[arg(long, env = "USERSYNC_SECURE_COOKIES")]
    pub secure_cookies: bool,
    /// Secret references the console and the API may save, as a comma-separated list of
    /// `file:/directory/` and `env:PREFIX` (e.g. `file:/run/secrets/,env:USERSYNC_`); none by
    /// default. `usersync app apply -f` accepts any reference outside the data directory.
    #[arg(long, env = "USERSYNC_ALLOW_SECRET_REFS", default_value = "")]
    pub allow_secret_refs: usersync_core::app::SecretRefAllowList,
}

impl Default for ServeArgs {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            secure_cookies: false,
            allow_secret_refs: usersync_core::app::SecretRefAllowList::default(),
        }
    }
}

/// Every route of the console and the API.
pub fn router(state: AppState) -> Router {
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
        .route("/apps/{name}/check", post(settings::check))
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
        .layer(middleware::from_fn_with_state(
            state.metrics.clone(),
            metrics::track,
        ))
        .layer(middleware::map_response(security_headers))
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

/// A bound, not yet running server.
pub struct Application {
    listener: tokio::net::TcpListener,
    state: AppState,
    port: u16,
}

impl Application {
    /// Binds `args.listen` (port 0 picks a free port).
    ///
    /// # Errors
    /// When the address cannot be bound.
    pub async fn build(backend: Arc<dyn Backend>, args: &ServeArgs) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("could not listen on {}: is another server using it? choose another with --listen", args.listen))?;
        let port = listener.local_addr()?.port();
        Ok(Self {
            listener,
            state: AppState::new(backend, args.secure_cookies),
            port,
        })
    }

    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    #[must_use]
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then waits (up to [`SHUTDOWN_GRACE`]) for
    /// runs started from the console; a run still going after that is left for the
    /// store to mark interrupted when it is next opened.
    ///
    /// # Errors
    /// When serving fails.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let tasks = self.state.tasks.clone();
        let app = router(self.state).into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(self.listener, app)
            .with_graceful_shutdown(shutdown)
            .await
            .context("the web server failed")?;
        tasks.close();
        if !tasks.is_empty() {
            tracing::info!(
                "waiting for {} run(s) started from the console to finish",
                tasks.len()
            );
        }
        if tokio::time::timeout(SHUTDOWN_GRACE, tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                "runs still going after {SHUTDOWN_GRACE:?}; they will be marked interrupted"
            );
        }
        Ok(())
    }
}

/// The console's backend over the store and the engine (sharing `deps.locks`
/// with whatever else runs syncs in this process, such as the scheduler).
#[must_use]
pub fn backend(deps: crate::engine::Deps) -> Arc<dyn Backend> {
    let store = deps.store.clone();
    let secret_refs = deps.secret_refs.clone();
    Arc::new(
        adapter::StoreBackend::new(store, Arc::new(adapter::engine::Engine::new(deps)))
            .with_secret_refs(secret_refs),
    )
}

/// `usersync serve`: serves the console and API until `shutdown` completes.
///
/// # Errors
/// When the address cannot be bound or serving fails.
pub async fn serve(
    store: usersync_store::Store,
    args: ServeArgs,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    serve_with(crate::engine::Deps::new(store), args, shutdown).await
}

/// As [`serve`], with the engine dependencies given (to share locks with a scheduler).
///
/// # Errors
/// As [`serve`].
pub async fn serve_with(
    deps: crate::engine::Deps,
    args: ServeArgs,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let store = deps.store.clone();
    let backend = backend(deps);
    let app = Application::build(backend.clone(), &args).await?;
    let url = format!("http://{}:{}", args.listen.ip(), app.port());
    auth::announce_setup(&store, &url).await;
    tracing::info!("usersync console listening on {url}");
    app.run_until_stopped(shutdown).await
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
    let backend = backend(crate::engine::Deps::new(store.clone()));
    auth::create_admin_with(backend.as_ref(), username, password)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
}

/// `usersync token create`: creates an API token and returns its value, shown
/// once (only its hash is stored).
///
/// # Errors
/// An empty or duplicate name, or a store failure.
pub async fn create_api_token(store: &usersync_store::Store, name: &str) -> anyhow::Result<String> {
    let backend = backend(crate::engine::Deps::new(store.clone()));
    auth::create_api_token_with(backend.as_ref(), name)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
}
