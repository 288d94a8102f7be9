//! An emulator of Confluence Data Center's user-management REST API and its legacy
//! JSON-RPC service (`rpc`).
//!
//! It keeps users, groups and memberships in memory and answers the endpoints the
//! fact sheet (atlassian-api.md section 2) documents, with their shapes, status
//! codes and version differences: a setting picks the emulated release (for
//! example `7.19.0`, `8.5.0`, `9.2.0`, `10.3.0`) and REST endpoints that release
//! lacks answer 404; JSON-RPC's user-management methods are there on every release. Usernames created through REST must be lower-case; creating an active user
//! with no licence seat left answers 402; deletes are asynchronous long tasks.
//! Users live in the internal writable directory or an optional read-only "LDAP"
//! directory; the administrator account is protected. Basic auth works for any
//! user with a password, Bearer for the configured personal access token. Rate
//! limiting, fault injection ([`crate::faults`]) and a request log are there for
//! tests.

mod app;
mod groups;
mod licence;
mod rpc;
mod state;
mod users;
mod version;
mod wire;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

pub use state::{ADMINS_GROUP, Directory, USERS_GROUP};
pub use version::Version;

use crate::faults::{FaultConfig, Faults};
use crate::request_log::RequestLog;
pub use crate::request_log::RequestTotals;
use app::{Bucket, Shared, lock};

/// Confluence's token-bucket rate limiting: `capacity` tokens, refilled by
/// `fill_rate` every `interval_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimit {
    pub capacity: u32,
    pub fill_rate: u32,
    pub interval_seconds: u32,
}

/// A user to put in the emulator before it starts (LDAP users come this way).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedUser {
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub active: bool,
    /// Groups the user belongs to (created when missing).
    pub groups: Vec<String>,
}

impl SeedUser {
    /// An active user with a display name and e-mail derived from the username.
    #[must_use]
    pub fn named(username: &str) -> Self {
        Self {
            username: username.to_owned(),
            display_name: format!("{username} (seeded)"),
            email: format!("{username}@example.com"),
            active: true,
            groups: Vec::new(),
        }
    }
}

/// How to start the emulator.
#[derive(Debug, Clone)]
pub struct ConfluenceSimConfig {
    pub listen: SocketAddr,
    /// The emulated release, e.g. `8.5.0`.
    pub version: String,
    pub admin_username: String,
    pub admin_password: String,
    /// The personal access token that authenticates as the administrator.
    pub pat: Option<String>,
    /// Users of the read-only LDAP directory.
    pub ldap_users: Vec<SeedUser>,
    /// Active users the licence allows; `None` is unlimited.
    pub licence_seats: Option<u32>,
    pub faults: FaultConfig,
    pub rate_limit: Option<RateLimit>,
    /// Status reads of a delete task before it finishes (0: finishes at once).
    pub delete_task_polls: u32,
    /// A delete task also finishes this long after it started, polled or not.
    pub delete_task_timeout: Duration,
    /// The largest `limit` a list endpoint honours.
    pub page_cap: usize,
    /// How many of the most recent requests [`ConfluenceSim::requests`] keeps
    /// (with their bodies); the totals count all.
    pub request_log_capacity: usize,
    /// Serve HTTPS with this certificate and key instead of plain HTTP.
    pub tls: Option<crate::tls::TlsFiles>,
}

/// The default [`ConfluenceSimConfig::request_log_capacity`].
pub const DEFAULT_REQUEST_LOG_CAPACITY: usize = 100_000;

impl Default for ConfluenceSimConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            version: "9.2.0".into(),
            admin_username: "admin".into(),
            admin_password: "admin".into(),
            pat: None,
            ldap_users: Vec::new(),
            licence_seats: None,
            faults: FaultConfig::default(),
            rate_limit: None,
            delete_task_polls: 2,
            delete_task_timeout: Duration::from_secs(5),
            page_cap: 200,
            request_log_capacity: DEFAULT_REQUEST_LOG_CAPACITY,
            tls: None,
        }
    }
}

/// One request the emulator answered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// The authorization scheme sent (`Basic`, `Bearer`), never the credential.
    pub authorization: Option<String>,
    /// The JSON body, with any `password` field blanked.
    pub body: Option<serde_json::Value>,
    pub status: u16,
}

impl RecordedRequest {
    /// Whether the request could change anything: every method but `GET`, except
    /// the JSON-RPC calls of methods that only read (`getUser`, `getActiveUsers`, ...).
    #[must_use]
    pub fn is_write(&self) -> bool {
        if self.path == rpc::PATH {
            let method = self.body.as_ref().and_then(|b| b.get("method")?.as_str());
            return !method.is_some_and(|m| rpc::READS.contains(&m));
        }
        self.method != "GET"
    }

    /// The JSON-RPC method called, when this was a JSON-RPC call.
    #[must_use]
    pub fn rpc_method(&self) -> Option<&str> {
        (self.path == rpc::PATH).then_some(())?;
        self.body.as_ref()?.get("method")?.as_str()
    }
}

/// A user as the emulator holds it (without the password).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SimUser {
    pub key: String,
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub active: bool,
    pub directory: Directory,
}

impl From<&state::User> for SimUser {
    fn from(u: &state::User) -> Self {
        Self {
            key: u.key.clone(),
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            email: u.email.clone(),
            active: u.active,
            directory: u.directory,
        }
    }
}

/// A running emulator. Dropping it stops the server.
pub struct ConfluenceSim {
    app: app::App,
    addr: SocketAddr,
    faults: Faults,
    server: crate::background::Serving,
}

impl std::fmt::Debug for ConfluenceSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfluenceSim")
            .field("addr", &self.addr)
            .field("version", &self.app.version)
            .finish_non_exhaustive()
    }
}

impl ConfluenceSim {
    /// Binds, seeds and serves in the background.
    ///
    /// # Errors
    /// When the version does not parse or the address cannot be bound.
    pub async fn start(config: ConfluenceSimConfig) -> anyhow::Result<Self> {
        let version: Version = config.version.parse().map_err(anyhow::Error::msg)?;
        let tls = config.tls.as_ref().map(crate::tls::acceptor).transpose()?;
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding the Confluence emulator to {}", config.listen))?;
        let addr = listener.local_addr()?;
        let mut store = state::Store::new(
            &config.admin_username,
            &config.admin_password,
            config.licence_seats,
            config.delete_task_polls,
        );
        for seed in &config.ldap_users {
            seed_user(&mut store, seed, Directory::Ldap);
        }
        let app = Arc::new(Shared {
            store: Mutex::new(store),
            version,
            base_url: format!("{}://{addr}", crate::tls::scheme(tls.as_ref())),
            pat: Mutex::new(config.pat.clone()),
            log: Mutex::new(RequestLog::new(config.request_log_capacity)),
            bucket: config.rate_limit.map(|r| Mutex::new(Bucket::new(r))),
            page_cap: config.page_cap.max(1),
            delete_after: config.delete_task_timeout,
        });
        let faults = Faults::new(config.faults.clone(), wire::fault_body);
        let router = app::router(app.clone(), faults.clone());
        let server = crate::background::spawn(listener, router, "Confluence", tls);
        Ok(Self {
            app,
            addr,
            faults,
            server,
        })
    }

    /// `http://127.0.0.1:<port>`: Confluence's base URL (REST lives under `/rest/api`).
    #[must_use]
    pub fn base_url(&self) -> String {
        self.app.base_url.clone()
    }

    #[must_use]
    pub fn version(&self) -> Version {
        self.app.version
    }

    /// The most recent requests answered (all of them, oldest first, until
    /// [`ConfluenceSimConfig::request_log_capacity`] is reached).
    #[must_use]
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.app.log).recent().cloned().collect()
    }

    /// Every request answered since the start or the last clear.
    #[must_use]
    pub fn request_count(&self) -> usize {
        lock(&self.app.log).count()
    }

    /// Every request answered since the start or the last clear, by method and status.
    #[must_use]
    pub fn request_totals(&self) -> RequestTotals {
        lock(&self.app.log).totals()
    }

    pub fn clear_requests(&self) {
        lock(&self.app.log).clear();
    }

    /// The live fault settings.
    #[must_use]
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Adds an internal-directory user (with no password) to `confluence-users`.
    pub fn add_user(&self, username: &str, display_name: &str, email: &str) -> SimUser {
        let mut store = self.app.store();
        SimUser::from(&store.insert_user(username, display_name, email, Directory::Internal))
    }

    /// Adds a user of the read-only LDAP directory.
    pub fn add_ldap_user(&self, seed: &SeedUser) -> SimUser {
        seed_user(&mut self.app.store(), seed, Directory::Ldap)
    }

    /// Creates a group (no-op when it exists).
    pub fn add_group(&self, name: &str) {
        let mut store = self.app.store();
        if store.group(name).is_none() {
            let _ = store.create_group(name);
        }
    }

    /// Adds a membership directly, whatever directory the user is in.
    pub fn add_member(&self, group: &str, username: &str) {
        self.app.store().join(group, username);
    }

    /// Sets a user active or inactive directly.
    pub fn set_active(&self, username: &str, active: bool) {
        let mut store = self.app.store();
        if let Some(u) = store.users.get_mut(&username.to_lowercase()) {
            u.active = active;
        }
    }

    /// Sets a user's password, so it can sign in with Basic auth.
    pub fn set_password(&self, username: &str, password: &str) {
        let mut store = self.app.store();
        if let Some(u) = store.users.get_mut(&username.to_lowercase()) {
            u.password = Some(password.to_owned());
        }
    }

    /// Replaces (or with `None` revokes) the personal access token.
    pub fn set_pat(&self, pat: Option<&str>) {
        *lock(&self.app.pat) = pat.map(str::to_owned);
    }

    /// Records a successful sign-in of `username` now (what `expand=lastLogin` shows).
    pub fn sign_in(&self, username: &str) {
        let mut store = self.app.store();
        if let Some(u) = store.users.get_mut(&username.to_lowercase()) {
            u.last_login = Some(chrono::Utc::now());
        }
    }

    pub fn set_licence_seats(&self, seats: Option<u32>) {
        self.app.store().licence_seats = seats;
    }

    /// Every user, in username order.
    #[must_use]
    pub fn users(&self) -> Vec<SimUser> {
        self.app.store().users.values().map(SimUser::from).collect()
    }

    #[must_use]
    pub fn user(&self, username: &str) -> Option<SimUser> {
        self.app.store().user(username).map(SimUser::from)
    }

    /// Every group name.
    #[must_use]
    pub fn groups(&self) -> Vec<String> {
        self.app.store().groups.values().cloned().collect()
    }

    /// The usernames in a group (empty when there is no such group).
    #[must_use]
    pub fn members(&self, group: &str) -> Vec<String> {
        let store = self.app.store();
        store
            .members_of(group)
            .map(|m| m.into_iter().map(|u| u.username.clone()).collect())
            .unwrap_or_default()
    }

    /// Stops the server and waits for it.
    pub async fn shutdown(self) {
        self.server.stop().await;
    }
}

fn seed_user(store: &mut state::Store, seed: &SeedUser, dir: Directory) -> SimUser {
    let mut user = store.insert_user(&seed.username, &seed.display_name, &seed.email, dir);
    for g in &seed.groups {
        store.join(g, &seed.username);
    }
    if let Some(stored) = store.users.get_mut(&seed.username.to_lowercase()) {
        stored.active = seed.active;
    }
    user.active = seed.active;
    SimUser::from(&user)
}

/// Command-line settings for `usersync-sim confluence`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: String,
    /// The Confluence release to emulate, e.g. 7.19.0, 8.5.0, 9.2.0, 10.3.0.
    #[arg(long = "confluence-version", default_value = "9.2.0")]
    pub confluence_version: String,
    #[arg(long, default_value = "admin")]
    pub admin_username: String,
    /// The administrator's password.
    #[arg(
        long,
        env = "CONFLUENCE_SIM_ADMIN_PASSWORD",
        default_value = "admin",
        hide_env_values = true
    )]
    pub admin_password: String,
    /// A personal access token that signs in as the administrator.
    #[arg(long, env = "CONFLUENCE_SIM_PAT", hide_env_values = true)]
    pub pat: Option<String>,
    /// Seed this many internal users (user0001, user0002, ...).
    #[arg(long, default_value_t = 0)]
    pub users: u32,
    /// Seed this many read-only LDAP users (ldap0001, ...).
    #[arg(long, default_value_t = 0)]
    pub ldap_users: u32,
    /// Active users the licence allows (unlimited when absent).
    #[arg(long)]
    pub licence_seats: Option<u32>,
    /// Enable rate limiting with this bucket size (refilled at the same rate per second).
    #[arg(long)]
    pub rate_limit: Option<u32>,
    #[command(flatten)]
    pub faults: crate::fault_args::FaultArgs,
    #[command(flatten)]
    pub tls: crate::tls::TlsArgs,
}

/// Runs the emulator until interrupted.
///
/// # Errors
/// When the address cannot be bound or a setting is invalid.
pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let listen: SocketAddr = args.listen.parse().with_context(|| {
        format!(
            "--listen {:?} is not an address like 127.0.0.1:8090",
            args.listen
        )
    })?;
    let config = ConfluenceSimConfig {
        listen,
        version: args.confluence_version,
        admin_username: args.admin_username,
        admin_password: args.admin_password,
        pat: args.pat,
        ldap_users: (1..=args.ldap_users)
            .map(|i| SeedUser::named(&format!("ldap{i:04}")))
            .collect(),
        licence_seats: args.licence_seats,
        rate_limit: args.rate_limit.map(|n| RateLimit {
            capacity: n,
            fill_rate: n,
            interval_seconds: 1,
        }),
        // Nobody reads the log of a command-line emulator: keep it small, however long it runs.
        request_log_capacity: 10_000,
        faults: args.faults.config(),
        tls: args.tls.files(),
        ..ConfluenceSimConfig::default()
    };
    let sim = ConfluenceSim::start(config).await?;
    for i in 1..=args.users {
        let name = format!("user{i:04}");
        sim.add_user(
            &name,
            &format!("User {i:04}"),
            &format!("{name}@example.com"),
        );
    }
    println!(
        "Confluence {} emulator listening on {}",
        sim.version(),
        sim.base_url()
    );
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    sim.shutdown().await;
    Ok(())
}
