//! The Jira Data Center emulator: a stateful stand-in for Jira's user-management
//! REST API (`/rest/api/2`: `serverInfo`, `myself`, `user`, `user/search`,
//! `user/list`, `group`, `group/member`, `group/user`, `groups/picker`).
//!
//! It follows `../shared/reference/atlassian-api.md` §1: the `ErrorCollection`
//! error bodies, the version differences (picked by [`JiraSimConfig::version`]),
//! an internal writable directory and an optional read-only "LDAP" one, a
//! protected admin account, Basic and bearer (PAT) auth with Seraph's
//! `X-Seraph-LoginReason` behaviour, optional rate limiting with Jira's headers,
//! [`Faults`] in front, and a request log tests can read. Where the fact sheet
//! marks an error text as unconfirmed, the text chosen says the same thing in
//! Jira's style (read-only directory errors all contain "read-only").
//! Tests start it with [`JiraSim::start`]; people run `usersync-sim jira`.

mod app;
mod auth;
mod cli;
mod groups;
mod helpers;
mod members;
mod roles;
mod state;
mod user_server;
mod users;
mod version;
mod wire;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::Context as _;

pub use app::RequestRecord;
pub use auth::{ADMIN_GROUP, RateLimit};
pub use cli::{ServeArgs, serve};
pub use state::{Directory, SimGroup, SimUser};
pub use user_server::UserServerApp;
pub use version::JiraVersion;

use crate::faults::{FaultConfig, Faults};
use crate::request_log::RequestLog;
pub use crate::request_log::RequestTotals;
use app::App;
use auth::Limiter;
use state::{JiraState, UserDraft};

/// The group every seeded user joins, as Jira's default application access group.
pub const USERS_GROUP: &str = "jira-software-users";

/// A user to seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedUser {
    pub name: String,
    pub display_name: String,
    pub email: String,
    pub active: bool,
}

impl SeedUser {
    /// An active user with a display name and e-mail derived from `name`.
    #[must_use]
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            display_name: format!("User {name}"),
            email: format!("{}@example.com", name.to_lowercase()),
            active: true,
        }
    }
}

/// How to start the emulator.
#[derive(Debug, Clone)]
pub struct JiraSimConfig {
    pub listen: SocketAddr,
    /// The emulated version, e.g. `8.2.0`, `9.12.0`, `10.3.0`.
    pub version: String,
    pub admin_username: String,
    pub admin_password: String,
    /// The admin's personal access token.
    pub pat: String,
    /// Users of the read-only LDAP directory (`ldap-users` group is created for them).
    pub ldap_users: Vec<SeedUser>,
    pub rate_limit: Option<RateLimit>,
    pub faults: FaultConfig,
    /// `jira.ajax.autocomplete.limit`: groups the picker returns when `maxResults` is absent.
    pub group_picker_limit: usize,
    /// How many of the most recent requests [`JiraSim::requests`] keeps; the
    /// totals ([`JiraSim::request_count`], [`JiraSim::request_totals`]) count all.
    pub request_log_capacity: usize,
    /// Serve HTTPS with this certificate and key instead of plain HTTP.
    pub tls: Option<crate::tls::TlsFiles>,
    /// An application configured under "Jira user server": Crowd's usermanagement API is
    /// served at `/rest/usermanagement/1` to it (from loopback).
    pub user_server_app: Option<UserServerApp>,
}

/// The default [`JiraSimConfig::request_log_capacity`], as Confluence's: far more
/// than any test sends; counting at scale reads the exact totals instead.
pub const DEFAULT_REQUEST_LOG_CAPACITY: usize = 100_000;

impl Default for JiraSimConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            version: "9.12.0".to_owned(),
            admin_username: "admin".to_owned(),
            admin_password: "admin".to_owned(),
            pat: "jira-sim-admin-pat".to_owned(),
            ldap_users: Vec::new(),
            rate_limit: None,
            faults: FaultConfig::default(),
            group_picker_limit: 20,
            request_log_capacity: DEFAULT_REQUEST_LOG_CAPACITY,
            tls: None,
            user_server_app: None,
        }
    }
}

/// A running Jira emulator.
pub struct JiraSim {
    base_url: String,
    app: App,
    faults: Faults,
    admin_password: String,
    server: crate::background::Serving,
}

impl std::fmt::Debug for JiraSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JiraSim")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

/// The group LDAP users belong to.
pub const LDAP_GROUP: &str = "ldap-users";

fn seed(config: &JiraSimConfig, version: JiraVersion) -> anyhow::Result<JiraState> {
    let mut state = JiraState::new(version);
    let admin = UserDraft {
        name: config.admin_username.clone(),
        display_name: "Administrator".to_owned(),
        email: format!("{}@example.com", config.admin_username.to_lowercase()),
        password: Some(config.admin_password.clone()),
        application_keys: vec!["jira-software".to_owned()],
        active: true,
    };
    let bad = |e: wire::JiraError| anyhow::anyhow!("seeding the Jira emulator: {:?}", e.messages);
    state.create_user(admin, Directory::Internal).map_err(bad)?;
    state.protect(&config.admin_username);
    for group in [ADMIN_GROUP, USERS_GROUP] {
        state
            .create_group(group, Directory::Internal)
            .map_err(bad)?;
        state
            .add_member(group, &config.admin_username)
            .map_err(bad)?;
    }
    if !config.ldap_users.is_empty() {
        state
            .create_group(LDAP_GROUP, Directory::Ldap)
            .map_err(bad)?;
    }
    for user in &config.ldap_users {
        state
            .create_user(draft(user), Directory::Ldap)
            .map_err(bad)?;
        state.seed_member(LDAP_GROUP, &user.name).map_err(bad)?;
    }
    Ok(state)
}

fn draft(user: &SeedUser) -> UserDraft {
    UserDraft {
        name: user.name.clone(),
        display_name: user.display_name.clone(),
        email: user.email.clone(),
        password: None,
        application_keys: vec!["jira-software".to_owned()],
        active: user.active,
    }
}

impl JiraSim {
    /// Binds `config.listen` and serves until [`JiraSim::shutdown`] or drop.
    ///
    /// # Errors
    /// A bad version string or an address that cannot be bound.
    pub async fn start(config: JiraSimConfig) -> anyhow::Result<Self> {
        let version: JiraVersion = config.version.parse().map_err(anyhow::Error::msg)?;
        let state = seed(&config, version)?;
        let tls = config.tls.as_ref().map(crate::tls::acceptor).transpose()?;
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding the Jira emulator to {}", config.listen))?;
        let addr = listener.local_addr()?;
        let base_url = format!("{}://{addr}", crate::tls::scheme(tls.as_ref()));
        let app = App {
            state: Arc::new(Mutex::new(state)),
            base: Arc::from(base_url.as_str()),
            admin_username: config.admin_username.clone(),
            pat: Arc::new(config.pat.clone()),
            limiter: Arc::new(Mutex::new(Limiter::new(config.rate_limit))),
            log: Arc::new(Mutex::new(RequestLog::new(config.request_log_capacity))),
            notified: Arc::new(Mutex::new(Vec::new())),
            group_picker_limit: config.group_picker_limit,
        };
        let faults = Faults::new(config.faults.clone(), wire::fault_body);
        let gate = config.user_server_app.clone().map(user_server::Gate::new);
        let router = app::router(app.clone(), faults.clone(), gate);
        let server = crate::background::spawn(listener, router, "Jira", tls);
        Ok(Self {
            base_url,
            app,
            faults,
            admin_password: config.admin_password,
            server,
        })
    }

    /// `http://127.0.0.1:<port>`, or `https://` when serving TLS (no trailing slash).
    #[must_use]
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    #[must_use]
    pub fn admin_username(&self) -> &str {
        &self.app.admin_username
    }

    #[must_use]
    pub fn admin_password(&self) -> &str {
        &self.admin_password
    }

    /// The admin's personal access token.
    #[must_use]
    pub fn pat(&self) -> &str {
        &self.app.pat
    }

    #[must_use]
    pub fn version(&self) -> JiraVersion {
        self.app.state().version
    }

    /// The most recent requests answered (all of them, oldest first, until
    /// [`JiraSimConfig::request_log_capacity`] is reached).
    #[must_use]
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.log().recent().map(RequestRecord::from).collect()
    }

    /// Every request answered since the start or the last clear.
    #[must_use]
    pub fn request_count(&self) -> usize {
        self.log().count()
    }

    /// Every request answered since the start or the last clear, by method and status.
    #[must_use]
    pub fn request_totals(&self) -> RequestTotals {
        self.log().totals()
    }

    pub fn clear_requests(&self) {
        self.log().clear();
    }

    fn log(&self) -> std::sync::MutexGuard<'_, RequestLog<app::LogEntry>> {
        self.app.log.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The live fault settings.
    #[must_use]
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Turns rate limiting on (`Some`) or off, with fresh buckets.
    pub fn set_rate_limit(&self, limit: Option<RateLimit>) {
        *self
            .app
            .limiter
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Limiter::new(limit);
    }

    /// Usernames created with `notification` set (a welcome e-mail would have been sent).
    #[must_use]
    pub fn notified(&self) -> Vec<String> {
        self.app
            .notified
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}
