//! The in-process handle: [`OktaSim::start`] binds, seeds the org, serves; the methods
//! read and change state directly for tests (each change writes the System Log event the
//! API would) and expose the request log, rate limits and faults.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use serde_json::{Map, Value};
use tokio::sync::{broadcast, oneshot};
use usersync_core::ids::{OktaGroupId, OktaUserId};
use usersync_core::snapshot::{
    Completeness, OktaGroup, OktaGroupType, OktaSnapshot, OktaStatus, OktaUser,
};

use super::auth::OAuth;
use super::error::fault_body;
use super::generator::{self, OrgSpec};
use super::hooks::EventHook;
use super::ids::Oid;
use super::logs::Origin;
use super::ratelimit::{Limiter, RateLimits};
use super::server::{self, App, RequestRecord, Shared};
use super::state::{OrgState, UserRec};
use crate::faults::{FaultConfig, Faults};

/// How to start the emulator.
#[derive(Clone)]
pub struct OktaSimConfig {
    /// Default `127.0.0.1:0` (a free port).
    pub listen: SocketAddr,
    /// The org's API token (random by default).
    pub api_token: String,
    pub rate_limits: RateLimits,
    pub faults: FaultConfig,
    /// The org to generate; `None` starts an empty org.
    pub org: Option<OrgSpec>,
    /// Lifetime of OAuth access tokens (Okta: fixed at one hour).
    pub token_lifetime: Duration,
    /// Seeds the ids of objects created at run time.
    pub seed: u64,
    /// Serve HTTPS with this certificate and key instead of plain HTTP.
    pub tls: Option<crate::tls::TlsFiles>,
}

impl std::fmt::Debug for OktaSimConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OktaSimConfig")
            .field("listen", &self.listen)
            .field("api_token", &"<redacted>")
            .field("rate_limits", &self.rate_limits)
            .field("faults", &self.faults)
            .field("org", &self.org)
            .field("token_lifetime", &self.token_lifetime)
            .finish_non_exhaustive()
    }
}

impl Default for OktaSimConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            api_token: format!("00{}", uuid::Uuid::new_v4().simple()),
            rate_limits: RateLimits::default(),
            faults: FaultConfig::default(),
            org: None,
            token_lifetime: Duration::from_secs(3600),
            seed: 0,
            tls: None,
        }
    }
}

/// A user to add directly (see [`OktaSim::add_user`]).
#[derive(Debug, Clone, PartialEq)]
pub struct NewUser {
    pub login: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub status: OktaStatus,
    /// More profile attributes (`department`, custom ones...).
    pub profile: BTreeMap<String, Value>,
}

impl NewUser {
    /// An ACTIVE user whose e-mail is their login.
    pub fn new(login: &str, first_name: &str, last_name: &str) -> Self {
        Self {
            login: login.to_owned(),
            email: login.to_owned(),
            first_name: first_name.to_owned(),
            last_name: last_name.to_owned(),
            status: OktaStatus::Active,
            profile: BTreeMap::new(),
        }
    }

    #[must_use]
    pub fn status(mut self, status: OktaStatus) -> Self {
        self.status = status;
        self
    }

    #[must_use]
    pub fn attribute(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.profile.insert(name.to_owned(), value.into());
        self
    }
}

/// A running emulator.
pub struct OktaSim {
    app: App,
    base_url: String,
    server: crate::background::Serving,
}

impl std::fmt::Debug for OktaSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OktaSim")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

fn user_id(id: Oid) -> anyhow::Result<OktaUserId> {
    OktaUserId::parse(id.as_str()).map_err(|e| anyhow::anyhow!("{e}"))
}

fn group_id(id: Oid) -> anyhow::Result<OktaGroupId> {
    OktaGroupId::parse(id.as_str()).map_err(|e| anyhow::anyhow!("{e}"))
}

impl OktaSim {
    /// Builds the org, binds `config.listen` and serves in the background.
    ///
    /// # Errors
    /// When the address cannot be bound.
    pub async fn start(config: OktaSimConfig) -> anyhow::Result<Self> {
        let seed = config.seed;
        let spec = config.org.clone();
        let org = tokio::task::spawn_blocking(move || {
            let mut org = OrgState::new(seed);
            if let Some(spec) = spec {
                generator::generate(&spec, &mut org);
            }
            org
        })
        .await
        .context("generating the org")?;
        let tls = config.tls.as_ref().map(crate::tls::acceptor).transpose()?;
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding the Okta emulator to {}", config.listen))?;
        let addr = listener.local_addr().context("reading the bound address")?;
        let host = if addr.ip().is_unspecified() {
            "127.0.0.1".to_owned()
        } else {
            addr.ip().to_string()
        };
        let scheme = crate::tls::scheme(tls.as_ref());
        let base_url = format!("{scheme}://{host}:{}", addr.port());
        let app: App = Arc::new(Shared {
            org: Mutex::new(org),
            api_token: config.api_token,
            base_url: base_url.clone(),
            token_lifetime: config.token_lifetime,
            limiter: Limiter::new(config.rate_limits),
            oauth: OAuth::default(),
            faults: Faults::new(config.faults, fault_body),
            requests: Mutex::new(Vec::new()),
            deliveries: super::hooks_delivery::Deliveries::default(),
        });
        let router = server::router(app.clone());
        let delivery = super::hooks_delivery::spawn(app.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            if let Some(acceptor) = tls {
                let stopped = async {
                    let _ = stopped.await;
                };
                crate::tls::serve(listener, acceptor, router, stopped).await;
                delivery.abort();
                return;
            }
            let service = router.into_make_service_with_connect_info::<SocketAddr>();
            let result = axum::serve(listener, service)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
            if let Err(e) = result {
                tracing::error!("the Okta emulator stopped: {e}");
            }
            delivery.abort();
        });
        Ok(Self {
            app,
            base_url,
            server: crate::background::Serving::new(stop, task),
        })
    }

    /// The state the handlers share (for sibling modules such as hook delivery).
    pub(super) fn shared(&self) -> &App {
        &self.app
    }

    /// `http://127.0.0.1:PORT` (`https://` when serving TLS), no trailing slash.
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    pub fn api_token(&self) -> &str {
        &self.app.api_token
    }

    /// Live fault settings (latency, error rates, 503 bursts, drops, truncation, path rules).
    pub fn faults(&self) -> &crate::faults::Faults {
        &self.app.faults
    }

    pub fn rate_limits(&self) -> RateLimits {
        self.app.limiter.config()
    }

    /// Replaces the rate-limit settings and starts fresh windows.
    pub fn set_rate_limits(&self, limits: RateLimits) {
        self.app.limiter.set(limits);
    }

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.app.requests().clone()
    }

    pub fn request_count(&self) -> usize {
        self.app.requests().len()
    }

    pub fn clear_requests(&self) {
        self.app.requests().clear();
    }

    /// Registers an OAuth service app: its RSA public key (PEM) and granted scopes.
    ///
    /// # Errors
    /// When the PEM is not an RSA public key.
    pub fn register_oauth_client(
        &self,
        client_id: &str,
        public_key_pem: &str,
        scopes: &[&str],
    ) -> anyhow::Result<()> {
        self.app.oauth.register(client_id, public_key_pem, scopes)
    }

    fn with_org<T>(
        &self,
        f: impl FnOnce(&mut OrgState, &Origin) -> Result<T, super::ApiError>,
    ) -> anyhow::Result<T> {
        let mut org = self.app.org();
        f(&mut org, &Origin::internal()).map_err(anyhow::Error::from)
    }

    /// Adds a user (created, then moved to `user.status`, logging each step).
    ///
    /// # Errors
    /// When the login is taken or the profile breaks Okta's rules.
    pub fn add_user(&self, user: NewUser) -> anyhow::Result<OktaUserId> {
        let mut profile: Map<String, Value> = user.profile.into_iter().collect();
        profile.insert("login".into(), user.login.into());
        profile.insert("email".into(), user.email.into());
        profile.insert("firstName".into(), user.first_name.into());
        profile.insert("lastName".into(), user.last_name.into());
        let id = self.with_org(|org, origin| {
            let id = org.create_user(profile, true, false, origin)?;
            if user.status != OktaStatus::Staged {
                org.set_status(id, user.status, origin)?;
            }
            Ok(id)
        })?;
        user_id(id)
    }

    /// Moves a user (id or login) to `status` directly, logging the matching event.
    ///
    /// # Errors
    /// When there is no such user.
    pub fn set_status(&self, user: &str, status: OktaStatus) -> anyhow::Result<()> {
        self.with_org(|org, origin| {
            let id = org.user_id(user)?;
            org.set_status(id, status, origin)
        })
    }

    /// The "changes while paging" knob: once the user listing (any `GET /api/v1/users`
    /// page) has served `after_pages` more pages, `user` (id or login) moves to `status`,
    /// as if an administrator acted while a client paged. The listing is ordered by
    /// status, so the user moves within it: a page read before misses them, or a page
    /// read after shows them again.
    ///
    /// # Errors
    /// When there is no such user.
    pub fn change_status_while_listing(
        &self,
        user: &str,
        status: OktaStatus,
        after_pages: usize,
    ) -> anyhow::Result<()> {
        self.with_org(|org, _| {
            let id = org.user_id(user)?;
            org.listing_changes.push(super::state::ListingChange {
                user: id,
                status,
                after_pages: after_pages.max(1),
            });
            Ok(())
        })
    }

    /// Merges attributes into a user's profile (`user.account.update_profile`).
    ///
    /// # Errors
    /// When there is no such user or the result breaks Okta's profile rules.
    pub fn update_profile(
        &self,
        user: &str,
        changes: BTreeMap<String, Value>,
    ) -> anyhow::Result<()> {
        self.with_org(|org, origin| {
            let id = org.user_id(user)?;
            org.update_profile(id, changes.into_iter().collect(), false, origin)
        })
    }

    /// Deletes a user for good, deactivating first as Okta's two-phase DELETE does.
    ///
    /// # Errors
    /// When there is no such user.
    pub fn delete_user(&self, user: &str) -> anyhow::Result<()> {
        self.with_org(|org, origin| {
            let u = org.find_user(user)?;
            let id = u.id;
            if u.status != OktaStatus::Deprovisioned {
                org.set_status(id, OktaStatus::Deprovisioned, origin)?;
            }
            org.delete_user(id, origin)
        })
    }

    /// Adds a group of any type (`group.lifecycle.create`).
    ///
    /// # Errors
    /// When the name is blank.
    pub fn add_group(
        &self,
        name: &str,
        description: Option<&str>,
        kind: OktaGroupType,
    ) -> anyhow::Result<OktaGroupId> {
        let mut profile = Map::new();
        profile.insert("name".into(), name.into());
        profile.insert(
            "description".into(),
            description.map_or(Value::Null, Value::from),
        );
        group_id(self.with_org(|org, origin| org.create_group(kind, profile, origin))?)
    }

    /// Renames a group, keeping its description (`group.profile.update`).
    ///
    /// # Errors
    /// When there is no such group or the name is blank.
    pub fn rename_group(&self, group: &str, name: &str) -> anyhow::Result<()> {
        self.with_org(|org, origin| {
            let found = org.group(group)?;
            let (id, mut profile) = (found.id, found.profile.clone());
            profile.insert("name".into(), name.into());
            org.update_group(id, profile, origin)
        })
    }

    /// A fault for tests: the System Log loses the next `n` events (the changes
    /// happen; no event says so), as a client that misses events would see it.
    pub fn lose_next_log_events(&self, n: usize) {
        self.app.org().log.lose_next(n);
    }

    /// Deletes a group (`group.lifecycle.delete`).
    ///
    /// # Errors
    /// When there is no such group.
    pub fn delete_group(&self, group: &str) -> anyhow::Result<()> {
        self.with_org(|org, origin| {
            let id = org.group(group)?.id;
            org.delete_group(id, origin)
        })
    }

    /// Adds a user (id or login) to a group (`group.user_membership.add`).
    ///
    /// # Errors
    /// When the user or group does not exist.
    pub fn add_member(&self, group: &str, user: &str) -> anyhow::Result<()> {
        self.with_org(|org, origin| {
            let (gid, uid) = (org.group(group)?.id, org.user_id(user)?);
            org.add_member(gid, uid, origin)
        })
    }

    /// Removes a user from a group (`group.user_membership.remove`).
    ///
    /// # Errors
    /// When the user or group does not exist.
    pub fn remove_member(&self, group: &str, user: &str) -> anyhow::Result<()> {
        self.with_org(|org, origin| {
            let (gid, uid) = (org.group(group)?.id, org.user_id(user)?);
            org.remove_member(gid, uid, origin)
        })
    }

    /// Signs a user in: writes `user.session.start` and `user.authentication.sso`.
    ///
    /// # Errors
    /// When there is no such user.
    pub fn login(&self, login_or_id: &str) -> anyhow::Result<()> {
        self.with_org(|org, origin| {
            let id = org.user_id(login_or_id)?;
            org.login(id, origin)
        })
    }

    /// Users of every status, DEPROVISIONED included.
    pub fn user_count(&self) -> usize {
        self.app.org().users.len()
    }

    pub fn group_count(&self) -> usize {
        self.app.org().groups.len()
    }

    /// Memberships summed over all groups.
    pub fn membership_count(&self) -> usize {
        self.app.org().members.values().map(BTreeSet::len).sum()
    }

    /// The ids of a group's members, in id order (empty for an unknown group).
    pub fn members_of(&self, group: &str) -> Vec<OktaUserId> {
        let org = self.app.org();
        let Ok(g) = org.group(group) else {
            return Vec::new();
        };
        org.members
            .get(&g.id)
            .into_iter()
            .flatten()
            .filter_map(|u| user_id(*u).ok())
            .collect()
    }

    /// The ids of a user's groups (empty for an unknown user).
    pub fn groups_of(&self, user: &str) -> Vec<OktaGroupId> {
        let org = self.app.org();
        let Ok(id) = org.user_id(user) else {
            return Vec::new();
        };
        org.user_groups
            .get(&id)
            .into_iter()
            .flatten()
            .filter_map(|g| group_id(*g).ok())
            .collect()
    }

    /// The org as a complete [`OktaSnapshot`]: every user (all statuses) and group in id
    /// order, and an entry in `memberships` for every group (empty when it has no members).
    /// Profiles keep string attributes, other values as JSON text, nulls left out.
    pub fn snapshot(&self) -> OktaSnapshot {
        let org = self.app.org();
        let users = org.users.values().filter_map(snapshot_user).collect();
        let groups = org
            .groups
            .values()
            .filter_map(|g| {
                Some(OktaGroup {
                    id: group_id(g.id).ok()?,
                    name: g.name().to_owned(),
                    description: g
                        .profile
                        .get("description")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    kind: g.kind,
                })
            })
            .collect();
        let memberships = org
            .groups
            .keys()
            .filter_map(|gid| {
                let members: Vec<OktaUserId> = org
                    .members
                    .get(gid)
                    .into_iter()
                    .flatten()
                    .filter_map(|u| user_id(*u).ok())
                    .collect();
                Some((group_id(*gid).ok()?, members))
            })
            .collect();
        OktaSnapshot {
            users,
            groups,
            memberships,
            completeness: Completeness::Complete,
        }
    }

    /// Every System Log event so far (Okta's `LogEvent` JSON), in persistence order.
    pub fn log_events(&self) -> Vec<Value> {
        self.app
            .org()
            .log
            .events()
            .iter()
            .map(|e| e.value.clone())
            .collect()
    }

    /// New System Log events as they are written (the seam for event hook delivery).
    pub fn subscribe_events(&self) -> broadcast::Receiver<Value> {
        self.app.org().log.subscribe()
    }

    /// Registered event hooks.
    pub fn event_hooks(&self) -> Vec<EventHook> {
        self.app.org().hooks.all()
    }

    /// The hooks Okta would deliver to (ACTIVE and VERIFIED).
    pub fn deliverable_event_hooks(&self) -> Vec<EventHook> {
        self.app.org().hooks.deliverable()
    }

    /// Stops serving and waits for the server task to end.
    pub async fn shutdown(self) {
        self.server.stop().await;
    }
}

fn snapshot_user(u: &UserRec) -> Option<OktaUser> {
    let profile = u
        .profile
        .iter()
        .filter_map(|(k, v)| match v {
            Value::Null => None,
            Value::String(s) => Some((k.clone(), s.clone())),
            other => Some((k.clone(), other.to_string())),
        })
        .collect();
    Some(OktaUser {
        id: user_id(u.id).ok()?,
        status: u.status,
        login: u.login().to_owned(),
        profile,
    })
}
