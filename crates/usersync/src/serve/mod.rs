//! `usersync serve`, composed in one place. This is the composition root: it opens
//! nothing itself but wires what the peers provide into one process — the admin
//! console and API ([`crate::web::router`] over a [`crate::web::Backend`]), the Okta
//! event hook routes and the event queue and System Log poller ([`crate::events`]),
//! and the [`crate::scheduler`] — all sharing one [`Deps`] and so one set of per-app
//! locks: a Synchronize press, a scheduled run and an event's sync never overlap.
//! `web`, `events` and `scheduler` never start one another; only this module (for
//! `usersync serve` and `usersync demo`) starts them.

mod listener;
mod tls;
mod triggers;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use axum::http::StatusCode;
use tokio::net::TcpListener;
use tower_http::timeout::TimeoutLayer;
use usersync_core::app::SecretRefAllowList;

pub use triggers::{Triggers, TriggersConfig};

use crate::engine::Deps;
use crate::web::{self, AppState, Backend};

/// How long shutdown waits for syncs in progress (started from the console, the
/// scheduler or an event) before leaving them for the store to mark interrupted.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(120);
/// How long shutdown waits for notifications still being delivered.
const NOTIFY_GRACE: Duration = Duration::from_secs(30);

/// `usersync serve` options.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", env = "USERSYNC_LISTEN")]
    pub listen: SocketAddr,
    /// Mark cookies Secure even without `X-Forwarded-Proto: https` (TLS terminated in front).
    #[arg(long, env = "USERSYNC_SECURE_COOKIES")]
    pub secure_cookies: bool,
    /// Seconds a client has to send a request's headers before its connection is closed.
    #[arg(long, default_value_t = 10, env = "USERSYNC_HEADER_TIMEOUT_SECS")]
    pub header_timeout_secs: u64,
    /// Seconds a request may take until its answer starts (408 after that). A sync
    /// started by a request that times out goes on to its end.
    #[arg(long, default_value_t = 300, env = "USERSYNC_REQUEST_TIMEOUT_SECS")]
    pub request_timeout_secs: u64,
    /// Connections open at once; more wait in the kernel's queue until one closes.
    #[arg(long, default_value_t = 512, env = "USERSYNC_MAX_CONNECTIONS")]
    pub max_connections: usize,
    /// Secret references the console and the API may save, as a comma-separated list of
    /// `file:/directory/` and `env:PREFIX` (e.g. `file:/run/secrets/,env:USERSYNC_`); none by
    /// default. `usersync app apply -f` accepts any reference outside the data directory.
    #[arg(long, env = "USERSYNC_ALLOW_SECRET_REFS", default_value = "")]
    pub allow_secret_refs: SecretRefAllowList,
    /// A reverse proxy in front of usersync (repeat, or comma-separate in the variable):
    /// only from these addresses is `X-Forwarded-For` believed when sign-ins are throttled
    /// per client address.
    #[arg(
        long = "trusted-proxy",
        value_name = "IP",
        env = "USERSYNC_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Serve HTTPS with this PEM certificate chain (with --tls-key); cookies are then
    /// always Secure. Reloaded on SIGHUP and when the file changes.
    #[arg(
        long,
        env = "USERSYNC_TLS_CERT",
        value_name = "PEM",
        requires = "tls_key"
    )]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(
        long,
        env = "USERSYNC_TLS_KEY",
        value_name = "PEM",
        requires = "tls_cert"
    )]
    pub tls_key: Option<PathBuf>,
    /// Seconds between checks of the certificate and key files for changes.
    #[arg(long, default_value_t = 5, env = "USERSYNC_TLS_RELOAD_SECS")]
    pub tls_reload_secs: u64,
    /// Seconds the leader lease and each run's claim last unless renewed (renewed every
    /// third of it). Several `usersync serve` on one database: one leads (runs the
    /// scheduler and the System Log pollers); when it dies, another leads within about
    /// this time and marks its unfinished run interrupted.
    #[arg(long, default_value_t = 15, env = "USERSYNC_LEASE_SECS",
          value_parser = clap::value_parser!(u64).range(3..=3600))]
    pub lease_secs: u64,
    /// The address Okta and browsers reach usersync at (e.g. https://usersync.example.com),
    /// used for the event hook URL the console shows and registers. Without it the
    /// console derives the address from each request and says so.
    /// Filled from the global `--public-url` (`cli::Global`), which other commands use too.
    #[arg(skip)]
    pub public_url: Option<url::Url>,
}

/// An absolute http(s) URL without query or fragment.
pub(crate) fn parse_public_url(text: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(text.trim())
        .map_err(|e| format!("{e}; give it like https://usersync.example.com"))?;
    if !matches!(url.scheme(), "https" | "http") || url.host().is_none() {
        return Err("must be an http(s) address, like https://usersync.example.com".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must not have a query or fragment".into());
    }
    Ok(url)
}

impl ServeArgs {
    fn limits(&self) -> listener::Limits {
        listener::Limits {
            header_timeout: Duration::from_secs(self.header_timeout_secs),
            max_connections: self.max_connections,
        }
    }
}

impl Default for ServeArgs {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            secure_cookies: false,
            header_timeout_secs: 10,
            request_timeout_secs: 300,
            max_connections: 512,
            allow_secret_refs: SecretRefAllowList::default(),
            trusted_proxies: Vec::new(),
            public_url: None,
            tls_cert: None,
            tls_key: None,
            tls_reload_secs: 5,
            lease_secs: usersync_store::DEFAULT_LEASE.as_secs(),
        }
    }
}

/// A bound, not yet running `usersync serve`.
pub struct Server {
    listener: TcpListener,
    state: AppState,
    deps: Deps,
    config: TriggersConfig,
    args: ServeArgs,
    port: u16,
    https: Option<tls::Https>,
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
        Self::from_listener(deps, listener, args, config)
    }

    /// Serves on an already bound listener (`args.listen` is not used).
    ///
    /// # Errors
    /// When the listener has no local address.
    pub fn from_listener(
        mut deps: Deps,
        listener: TcpListener,
        args: &ServeArgs,
        config: TriggersConfig,
    ) -> anyhow::Result<Self> {
        let port = listener
            .local_addr()
            .context("reading the bound address")?
            .port();
        deps.secret_refs = args.allow_secret_refs.clone();
        deps.store = deps
            .store
            .clone()
            .with_lease(Duration::from_secs(args.lease_secs));
        let https = match (&args.tls_cert, &args.tls_key) {
            (Some(cert), Some(key)) => Some(tls::Https::load(cert, key)?),
            (None, None) => None,
            _ => anyhow::bail!("--tls-cert and --tls-key go together; give both or neither"),
        };
        // Served over TLS, every cookie is Secure, whatever the headers say.
        let secure = args.secure_cookies || https.is_some();
        let mut state = AppState::new(Backend::new(deps.clone()), secure);
        state.trusted_proxies = args.trusted_proxies.clone().into();
        state.public_url = args.public_url.clone();
        Ok(Self {
            listener,
            state,
            deps,
            config,
            args: args.clone(),
            port,
            https,
        })
    }

    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `https` when serving TLS itself, else `http`.
    #[must_use]
    pub fn scheme(&self) -> &'static str {
        if self.https.is_some() {
            "https"
        } else {
            "http"
        }
    }

    /// Starts the triggers and serves until `shutdown` completes; then stops starting
    /// work and waits (up to [`SHUTDOWN_GRACE`]) for syncs in progress.
    ///
    /// The console's routes and the hook routes are one router under the same layers
    /// (security headers, metrics, the request timeout).
    ///
    /// # Errors
    /// When serving fails.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let triggers = Triggers::start(&self.deps, self.config);
        let console_tasks = self.state.tasks.clone();
        let mut state = self.state.clone();
        state.leadership = triggers.leadership().clone();
        let routes = web::routes(state.clone()).merge(triggers.hook_router());
        let router = web::layered(routes, &state).layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(self.args.request_timeout_secs),
        ));
        let reloads = tokio_util::sync::CancellationToken::new();
        let acceptor = self.https.map(|https| {
            let every = Duration::from_secs(self.args.tls_reload_secs);
            tls::watch(https.cert, every, reloads.clone());
            https.acceptor
        });
        let limits = self.args.limits();
        listener::serve(self.listener, router, limits, acceptor, shutdown).await;
        reloads.cancel();
        console_tasks.close();
        let console = tokio::time::timeout(SHUTDOWN_GRACE, console_tasks.wait());
        let (waited, ()) = tokio::join!(console, triggers.stop(SHUTDOWN_GRACE));
        if waited.is_err() {
            tracing::warn!(
                "runs started from the console still going after {SHUTDOWN_GRACE:?}; they will be marked interrupted"
            );
        }
        // Notifications of the runs that just ended, within their own timeouts.
        self.deps.notifier.wait(NOTIFY_GRACE).await;
        Ok(())
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
    raise_open_files_limit();
    let store = deps.store.clone();
    let server = Server::bind(deps, &args, TriggersConfig::default()).await?;
    let url = format!(
        "{}://{}:{}",
        server.scheme(),
        args.listen.ip(),
        server.port()
    );
    crate::web::auth::announce_setup(&store, &url).await;
    let public = args.public_url.as_ref().map_or_else(
        || url.clone(),
        |u| u.as_str().trim_end_matches('/').to_owned(),
    );
    tracing::info!(
        "usersync console listening on {url}; Okta event hooks go to {public}/hooks/okta/<app> \
         (Okta delivers event hooks only to https:// URLs)"
    );
    server.run_until_stopped(shutdown).await
}

/// Raises the soft limit on open files to the hard one. Hosts start services with a
/// soft limit of 1,024 while the hard one is far higher; every console client, hook
/// delivery and outbound connection is a descriptor, and running out means
/// `/healthz` stops answering (the listener also caps connections, see `listener`).
fn raise_open_files_limit() {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => tracing::debug!("open files limit: {limit}"),
        Err(err) => tracing::warn!("could not raise the open files limit: {err}"),
    }
}
