//! `usersync serve`, composed in one place. This is the composition root: it opens
//! nothing itself but wires what the peers provide into one process — the admin
//! console and API ([`crate::web::router`] over a [`crate::web::Backend`]), the Okta
//! event hook routes and the event queue and System Log poller ([`crate::events`]),
//! and the [`crate::scheduler`] — all sharing one [`Deps`] and so one set of per-app
//! locks: a Synchronize press, a scheduled run and an event's sync never overlap.
//! `web`, `events` and `scheduler` never start one another; only this module (for
//! `usersync serve` and `usersync demo`) starts them.

mod triggers;

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use tokio::net::TcpListener;

pub use triggers::{Triggers, TriggersConfig};

use crate::engine::Deps;
use crate::web::{self, AppState, Backend};

/// How long shutdown waits for syncs in progress (started from the console, the
/// scheduler or an event) before leaving them for the store to mark interrupted.
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
}

impl Default for ServeArgs {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            secure_cookies: false,
        }
    }
}

/// A bound, not yet running `usersync serve`.
pub struct Server {
    listener: TcpListener,
    state: AppState,
    deps: Deps,
    config: TriggersConfig,
    port: u16,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl Server {
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
        let state = AppState::new(Backend::new(deps.clone()), secure_cookies);
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
    let server = Server::bind(deps, &args, TriggersConfig::default()).await?;
    let url = format!("http://{}:{}", args.listen.ip(), server.port());
    if store
        .list_admins()
        .await
        .map(|a| a.is_empty())
        .unwrap_or(false)
    {
        tracing::info!(
            "no administrator exists yet: open {url}/setup to create one, or run `usersync admin create`"
        );
    }
    tracing::info!(
        "usersync console listening on {url}; Okta event hooks go to {url}/hooks/okta/<app>"
    );
    server.run_until_stopped(shutdown).await
}
