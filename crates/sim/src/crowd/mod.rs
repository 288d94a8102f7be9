//! The Crowd Data Center emulator: a stateful stand-in for Crowd's usermanagement
//! REST API (`/rest/usermanagement/1`: `user`, `user/rename`, `user/password`,
//! `user/group/direct|nested`, `group`, `group/user/direct|nested`, `search`,
//! `config/cookie`), JSON only.
//!
//! It follows `../shared/reference/atlassian-api.md` §3: application authentication
//! (HTTP basic with the application's name and password; 401 otherwise) and the
//! application's remote addresses (any other caller gets 403), Crowd's error entity
//! `{"reason","message"}` with the status each reason has (a membership POST's
//! missing body entity is 400, its missing path entity 404; an existing membership
//! 409 `MEMBERSHIP_ALREADY_EXISTS`; an existing user or group 400 `INVALID_USER` /
//! `INVALID_GROUP`), `PUT /user` replacing the whole user, `start-index` /
//! `max-results` paging (default 1000, no totals), a CQL subset in `search`, and the
//! `X-Embedded-Crowd-Version` header. Names compare ignoring case. One writable
//! directory; no nested groups (`nested` answers as `direct`). Where the fact sheet
//! marks a text as unconfirmed, the text says the same thing in Crowd's style.
//! Tests start it with [`CrowdSim::start`]; people run `usersync-sim crowd`.

pub(crate) mod app;
mod cli;
pub(crate) mod groups;
mod search;
mod state;
pub(crate) mod users;
pub(crate) mod wire;

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::Context as _;
use axum::http::HeaderValue;

pub use cli::{ServeArgs, serve};
pub use state::{SimGroup, SimUser};
pub use wire::CrowdError;

use crate::faults::{FaultConfig, Faults};
use crate::jira::RequestRecord;
use crate::request_log::RequestLog;
use app::App;
use state::CrowdState;

/// How to start the emulator.
#[derive(Debug, Clone)]
pub struct CrowdSimConfig {
    pub listen: SocketAddr,
    /// The version the `X-Embedded-Crowd-Version` header names.
    pub version: String,
    /// The application usersync signs in as.
    pub application: String,
    pub application_password: String,
    /// The application's remote addresses (loopback by default).
    pub allowed_addresses: Vec<IpAddr>,
    pub faults: FaultConfig,
    /// How many of the most recent requests [`CrowdSim::requests`] keeps.
    pub request_log_capacity: usize,
}

impl Default for CrowdSimConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            version: "6.0.3".to_owned(),
            application: "usersync".to_owned(),
            application_password: "crowd-sim-app-password".to_owned(),
            allowed_addresses: vec![
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(Ipv6Addr::LOCALHOST),
            ],
            faults: FaultConfig::default(),
            request_log_capacity: crate::jira::DEFAULT_REQUEST_LOG_CAPACITY,
        }
    }
}

/// A running Crowd emulator.
pub struct CrowdSim {
    base_url: String,
    app: App,
    faults: Faults,
    server: crate::background::Serving,
}

impl std::fmt::Debug for CrowdSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CrowdSim")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl CrowdSim {
    /// Binds `config.listen` and serves until [`CrowdSim::shutdown`] or drop.
    ///
    /// # Errors
    /// An address that cannot be bound, or a version that cannot be a header.
    pub async fn start(config: CrowdSimConfig) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding the Crowd emulator to {}", config.listen))?;
        let addr = listener.local_addr()?;
        let base_url = format!("http://{addr}");
        let version_header = HeaderValue::from_str(&format!("Crowd/{}", config.version))
            .with_context(|| format!("Crowd version {:?}", config.version))?;
        let app = App {
            state: Arc::new(Mutex::new(CrowdState::default())),
            base: Arc::from(base_url.as_str()),
            application: Arc::from(config.application.as_str()),
            password: Arc::from(config.application_password.as_str()),
            allowed: Arc::new(Mutex::new(
                config.allowed_addresses.iter().copied().collect(),
            )),
            version_header,
            log: Arc::new(Mutex::new(RequestLog::new(config.request_log_capacity))),
        };
        let faults = Faults::new(config.faults.clone(), wire::fault_body);
        let router = app::router(app.clone(), faults.clone());
        let server = crate::background::spawn(listener, router, "Crowd", None);
        Ok(Self {
            base_url,
            app,
            faults,
            server,
        })
    }

    /// `http://127.0.0.1:<port>` (no trailing slash): the Crowd base URL.
    #[must_use]
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    #[must_use]
    pub fn application(&self) -> &str {
        &self.app.application
    }

    #[must_use]
    pub fn application_password(&self) -> &str {
        &self.app.password
    }

    /// Replaces the application's remote addresses.
    pub fn set_allowed_addresses(&self, addresses: &[IpAddr]) {
        let set: HashSet<IpAddr> = addresses.iter().copied().collect();
        *self
            .app
            .allowed
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = set;
    }

    /// Creates a user directly (test set-up), with `password`.
    ///
    /// # Errors
    /// Crowd's refusal, e.g. a user that exists.
    pub fn add_user(
        &self,
        name: &str,
        display_name: &str,
        email: &str,
        active: bool,
    ) -> Result<(), CrowdError> {
        let (first, last) = display_name.rsplit_once(' ').unwrap_or(("", display_name));
        self.app
            .state()
            .create_user(SimUser {
                name: name.to_owned(),
                key: String::new(),
                first_name: first.to_owned(),
                last_name: last.to_owned(),
                display_name: display_name.to_owned(),
                email: email.to_owned(),
                active,
                password: "seeded-password".to_owned(),
            })
            .map(|_| ())
    }

    /// Creates a group directly (test set-up).
    ///
    /// # Errors
    /// Crowd's refusal, e.g. a group that exists.
    pub fn add_group(&self, name: &str) -> Result<(), CrowdError> {
        self.app.state().create_group(name, "")
    }

    /// Adds a direct member directly (test set-up).
    ///
    /// # Errors
    /// Crowd's refusal, e.g. a missing user.
    pub fn add_member(&self, group: &str, user: &str) -> Result<(), CrowdError> {
        self.app.state().add_member(group, user, true)
    }

    /// Every user, in name order.
    #[must_use]
    pub fn users(&self) -> Vec<SimUser> {
        self.app.state().users().cloned().collect()
    }

    #[must_use]
    pub fn user(&self, name: &str) -> Option<SimUser> {
        self.app.state().user(name).cloned()
    }

    #[must_use]
    pub fn groups(&self) -> Vec<String> {
        self.app.state().groups().map(|g| g.name.clone()).collect()
    }

    /// The usernames of a group's direct members, in name order (empty for no group).
    #[must_use]
    pub fn members(&self, group: &str) -> Vec<String> {
        self.app
            .state()
            .members(group)
            .map(|m| m.into_iter().map(|u| u.name.clone()).collect())
            .unwrap_or_default()
    }

    /// The most recent requests answered, oldest first.
    #[must_use]
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.app
            .log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .recent()
            .cloned()
            .collect()
    }

    pub fn clear_requests(&self) {
        self.app
            .log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// The live fault settings.
    #[must_use]
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Stops serving and waits for the server task to end.
    pub async fn shutdown(self) {
        self.server.stop().await;
    }
}
