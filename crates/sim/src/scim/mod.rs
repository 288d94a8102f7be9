//! The SCIM 2.0 emulator: a service provider after RFC 7643/7644 with Users and
//! Groups, one-`eq` filters, 1-based `startIndex`/`count` paging, PATCH and PUT,
//! ETags (`meta.version`, `ETag`, `If-Match` answered 412 when stale), SCIM error
//! bodies with `scimType`, and bearer-token auth.
//!
//! Two profiles: [`Profile::Generic`] (PATCH, ETags and the page maximum can be
//! turned off to look like a plainer server) and [`Profile::AtlassianCloud`], which
//! carries Atlassian's user provisioning API limits from
//! `../shared/reference/atlassian-api.md` §4: filters only on `userName`,
//! `externalId` (Users) and `displayName` (Groups); at most 100 per page; a
//! `startIndex` below 1 refused with `invalidSyntax`; groups cannot be renamed
//! (`mutability`); a user needs an e-mail on a verified domain (`invalidValue`);
//! deleting a user removes the SCIM record and deactivates the account.
//! Tests start it with [`ScimSim::start`]; people run `usersync-sim scim`.

mod cli;
mod discovery;
mod error;
mod patch;
mod routes;
mod state;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::Context as _;
use serde_json::{Value, json};
use tokio::sync::oneshot;

pub use cli::{ServeArgs, serve};
pub use error::ScimFault;
pub use routes::ScimRequest;
pub use state::{Kind, primary_email};

use routes::App;
use state::ScimState;

/// The media type SCIM answers with (RFC 7644 §3.1).
pub const MEDIA_TYPE: &str = "application/scim+json";

/// Which service the emulator imitates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Profile {
    /// A plain RFC 7643/7644 service provider.
    Generic,
    /// Atlassian Cloud's user provisioning API (`/scim/directory/{directoryId}`).
    AtlassianCloud,
}

impl Profile {
    /// Whether `attr` may be filtered on for `kind`.
    fn filterable(self, kind: Kind, attr: &str) -> bool {
        match self {
            Self::Generic => true,
            Self::AtlassianCloud => match kind {
                Kind::User => attr == "userName" || attr == "externalId",
                Kind::Group => attr == "displayName",
            },
        }
    }

    /// What the profile advertises: Atlassian documents PATCH; its ETag support is
    /// unconfirmed, so the Cloud profile offers none; its pages hold at most 100.
    #[must_use]
    pub fn features(self) -> Features {
        match self {
            Self::Generic => Features {
                patch: true,
                etag: true,
                max_results: 200,
            },
            Self::AtlassianCloud => Features {
                patch: true,
                etag: false,
                max_results: 100,
            },
        }
    }
}

/// What the service provider supports, as `/ServiceProviderConfig` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Features {
    pub patch: bool,
    pub etag: bool,
    /// The most resources one page (or filter) returns.
    pub max_results: usize,
}

/// How to start the emulator.
#[derive(Debug, Clone)]
pub struct ScimSimConfig {
    pub listen: SocketAddr,
    pub profile: Profile,
    /// The bearer token clients must send.
    pub token: String,
    /// `None`: the profile's [`Profile::features`].
    pub features: Option<Features>,
    /// Atlassian Cloud: the organisation's verified e-mail domains.
    pub verified_domains: Vec<String>,
}

impl Default for ScimSimConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            profile: Profile::Generic,
            token: "scim-sim-token".to_owned(),
            features: None,
            verified_domains: vec!["example.com".to_owned()],
        }
    }
}

/// A user as the emulator holds it, for tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimUser {
    pub id: String,
    pub user_name: String,
    pub external_id: Option<String>,
    pub display_name: String,
    pub email: Option<String>,
    pub active: bool,
}

/// A running SCIM emulator.
pub struct ScimSim {
    app: App,
    base_url: String,
    server: crate::background::Serving,
}

impl std::fmt::Debug for ScimSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScimSim")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl ScimSim {
    /// Binds `config.listen` and serves until [`ScimSim::shutdown`] or drop.
    ///
    /// # Errors
    /// An address that cannot be bound.
    pub async fn start(config: ScimSimConfig) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding the SCIM emulator to {}", config.listen))?;
        let addr = listener.local_addr()?;
        // Atlassian's base URL carries the directory; the generic one serves at the root.
        let base_url = match config.profile {
            Profile::Generic => format!("http://{addr}/scim/v2"),
            Profile::AtlassianCloud => {
                format!("http://{addr}/scim/directory/d1rec70ry-0000-4000-8000-000000000001")
            }
        };
        let prefix = url::Url::parse(&base_url)?.path().to_owned();
        let app = App {
            state: Arc::new(Mutex::new(ScimState::new(
                config.profile,
                config.verified_domains,
            ))),
            features: config.features.unwrap_or_else(|| config.profile.features()),
            token: Arc::from(config.token.as_str()),
            base: Arc::from(base_url.as_str()),
            log: Arc::new(Mutex::new(Vec::new())),
        };
        let router = axum::Router::new().nest(&prefix, routes::router(app.clone()));
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
            if let Err(e) = served {
                tracing::warn!(error = %e, "SCIM emulator stopped");
            }
        });
        Ok(Self {
            app,
            base_url,
            server: crate::background::Serving::new(stop, task),
        })
    }

    /// The base URL clients are configured with (no trailing slash).
    #[must_use]
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    #[must_use]
    pub fn token(&self) -> &str {
        &self.app.token
    }

    fn state(&self) -> std::sync::MutexGuard<'_, ScimState> {
        self.app
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a user as if another client had provisioned it.
    ///
    /// # Errors
    /// The SCIM error the service would answer (e.g. `uniqueness`).
    pub fn add_user(
        &self,
        user_name: &str,
        email: &str,
        active: bool,
    ) -> Result<String, ScimFault> {
        let body = json!({"userName": user_name, "displayName": user_name, "active": active,
                          "emails": [{"value": email, "type": "work", "primary": true}]});
        Ok(self.state().create(Kind::User, body)?.id)
    }

    /// Adds a group with the users (by `userName`) as members.
    ///
    /// # Errors
    /// The SCIM error the service would answer.
    pub fn add_group(&self, name: &str, members: &[&str]) -> Result<String, ScimFault> {
        let mut state = self.state();
        let ids: Vec<Value> = members
            .iter()
            .filter_map(|m| {
                state
                    .users
                    .values()
                    .find(|u| u.str("userName").eq_ignore_ascii_case(m))
            })
            .map(|u| json!({"value": u.id}))
            .collect();
        Ok(state
            .create(Kind::Group, json!({"displayName": name, "members": ids}))?
            .id)
    }

    /// Every user.
    #[must_use]
    pub fn users(&self) -> Vec<ScimUser> {
        self.state()
            .users
            .values()
            .map(|u| ScimUser {
                id: u.id.clone(),
                user_name: u.str("userName").to_owned(),
                external_id: u
                    .attrs
                    .get("externalId")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                display_name: u.str("displayName").to_owned(),
                email: primary_email(&u.attrs),
                active: u.attrs["active"] != Value::Bool(false),
            })
            .collect()
    }

    /// One user by `userName` (ignoring case).
    #[must_use]
    pub fn user(&self, user_name: &str) -> Option<ScimUser> {
        self.users()
            .into_iter()
            .find(|u| u.user_name.eq_ignore_ascii_case(user_name))
    }

    /// Every group's `displayName`.
    #[must_use]
    pub fn groups(&self) -> Vec<String> {
        self.state()
            .groups
            .values()
            .map(|g| g.str("displayName").to_owned())
            .collect()
    }

    /// The `userName`s of a group's members, sorted; `None` when there is no such group.
    #[must_use]
    pub fn members(&self, group: &str) -> Option<Vec<String>> {
        let state = self.state();
        let g = state
            .groups
            .values()
            .find(|g| g.str("displayName").eq_ignore_ascii_case(group))?;
        let mut names: Vec<String> = g.attrs["members"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m["value"].as_str())
            .filter_map(|id| state.users.get(id))
            .map(|u| u.str("userName").to_owned())
            .collect();
        names.sort();
        Some(names)
    }

    /// Atlassian Cloud: e-mails of accounts deactivated by deleting their SCIM record.
    #[must_use]
    pub fn deactivated_accounts(&self) -> Vec<String> {
        self.state().deactivated_accounts.clone()
    }

    /// Every request answered so far.
    #[must_use]
    pub fn requests(&self) -> Vec<ScimRequest> {
        self.app
            .log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn clear_requests(&self) {
        self.app
            .log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// Stops serving and waits for the server task.
    pub async fn shutdown(self) {
        self.server.stop().await;
    }
}
