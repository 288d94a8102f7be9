//! `usersync serve` as one process: the admin console and API (`crate::web`), the Okta
//! event hook endpoint merged into the same listener, and the [`Triggers`] (scheduler,
//! System Log poller, event queue), all sharing one [`Deps`] and so one set of per-app
//! locks: a Synchronize press, a scheduled run and an event's sync never overlap.

use std::future::Future;
use std::net::SocketAddr;

use anyhow::Context as _;
use tokio::net::TcpListener;

use super::{Triggers, TriggersConfig};
use crate::engine::Deps;
use crate::web::{self, AppState, SHUTDOWN_GRACE, ServeArgs};

/// A bound, not yet running `usersync serve`.
pub struct Service {
    listener: TcpListener,
    state: AppState,
    deps: Deps,
    config: TriggersConfig,
    port: u16,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl Service {
    /// Binds `args.listen` (port 0 picks a free port).
    ///
    /// # Errors
    /// When the address cannot be bound.
    pub async fn bind(
        deps: Deps,
        args: &ServeArgs,
        config: TriggersConfig,
    ) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(args.listen).await.with_context(|| {
            format!(
                "could not listen on {}: is another server using it? choose another with --listen",
                args.listen
            )
        })?;
        Self::from_listener(deps, listener, args.secure_cookies, config)
    }

    /// Serves on an already bound listener.
    ///
    /// # Errors
    /// When the listener has no local address.
    pub fn from_listener(
        deps: Deps,
        listener: TcpListener,
        secure_cookies: bool,
        config: TriggersConfig,
    ) -> anyhow::Result<Self> {
        let port = listener
            .local_addr()
            .context("reading the bound address")?
            .port();
        let state = AppState::new(web::backend(deps.clone()), secure_cookies);
        Ok(Self {
            listener,
            state,
            deps,
            config,
            port,
        })
    }

    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Starts the triggers and serves until `shutdown` completes; then stops starting
    /// work and waits (up to [`SHUTDOWN_GRACE`]) for syncs in progress.
    ///
    /// # Errors
    /// When serving fails.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let triggers = Triggers::start(&self.deps, self.config);
        let console_tasks = self.state.tasks.clone();
        let router = web::router(self.state).merge(triggers.hook_router());
        let served = axum::serve(
            self.listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
        .context("the web server failed");
        console_tasks.close();
        let console = tokio::time::timeout(SHUTDOWN_GRACE, console_tasks.wait());
        let (waited, ()) = tokio::join!(console, triggers.stop(SHUTDOWN_GRACE));
        if waited.is_err() {
            tracing::warn!(
                "runs started from the console still going after {SHUTDOWN_GRACE:?}; they will be marked interrupted"
            );
        }
        served
    }
}

/// `usersync serve`: the console, the hook endpoint and the triggers until `shutdown`.
///
/// # Errors
/// When the address cannot be bound or serving fails.
pub async fn serve(
    deps: Deps,
    args: ServeArgs,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let store = deps.store.clone();
    let service = Service::bind(deps, &args, TriggersConfig::default()).await?;
    let url = format!("http://{}:{}", args.listen.ip(), service.port());
    crate::web::auth::announce_setup(&store, &url).await;
    tracing::info!(
        "usersync console listening on {url}; Okta event hooks go to {url}/hooks/okta/<app>"
    );
    service.run_until_stopped(shutdown).await
}
