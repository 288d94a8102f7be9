//! The Crowd Data Center client: usersync's [`Target`] over Crowd's usermanagement
//! REST API (`/rest/usermanagement/1`, fact sheet §3).
//!
//! Crowd signs in *applications*, not users: the credential is an application's
//! name and password (HTTP basic), and Crowd also checks that the caller's address
//! is one of the application's remote addresses. Users, groups and direct
//! memberships are all read through the search API and the group member listing,
//! paged by `start-index`/`max-results` (no totals: a short page is the last).
//! Crowd's `PUT /user` replaces the whole user, so every change reads the user
//! first and sends it back whole. Errors are typed from Crowd's `reason` codes
//! ([`error`]). HTTP concerns (auth, retries, 429) live in [`crate::http`].
//!
//! A user created by usersync gets a random password nobody is told (48 characters
//! from the operating system's generator, never stored or logged): Crowd requires
//! one on create, and the people synced from Okta sign in through Okta, not with a
//! Crowd password. An administrator can still reset it in Crowd.

mod error;
mod read;
mod wire;
mod write;

use async_trait::async_trait;
use tokio::sync::OnceCell;
use usersync_core::{GroupName, TargetSnapshot, TargetUser, Username};

use crate::http::{AtlassianAuth, AtlassianHttp, Call, HttpSettings};
use crate::{
    Ability, Capabilities, NewUser, Target, TargetError, TargetKind, TargetResult, UserChanges,
};

pub use error::Reason;

const PRODUCT: &str = "Crowd";
/// Every path below the base URL starts here.
const API: &str = "rest/usermanagement/1";
/// The header Crowd names itself and its version in, e.g. `Crowd/5.1.0`.
const VERSION_HEADER: &str = "x-embedded-crowd-version";

/// How to reach and use one Crowd.
#[derive(Debug, Clone)]
pub struct CrowdConfig {
    /// e.g. `https://crowd.example.com/crowd`.
    pub base_url: String,
    /// The application's name and password, as [`AtlassianAuth::Basic`].
    pub auth: AtlassianAuth,
    /// Most requests in flight at once.
    pub concurrency: usize,
    /// `max-results` of each page (Crowd's default is 1000).
    pub page_size: usize,
    /// Retries, backoff and timeouts (its `concurrency` is replaced by the field above).
    pub http: HttpSettings,
}

impl CrowdConfig {
    /// A configuration with usersync's defaults.
    #[must_use]
    pub fn new(base_url: impl Into<String>, auth: AtlassianAuth) -> Self {
        Self {
            base_url: base_url.into(),
            auth,
            concurrency: 4,
            page_size: 1000,
            http: HttpSettings::default(),
        }
    }
}

/// A Crowd Data Center, as a [`Target`].
#[derive(Debug)]
pub struct CrowdClient {
    http: AtlassianHttp,
    config: CrowdConfig,
    application: String,
    version: OnceCell<String>,
}

impl CrowdClient {
    /// Builds a client; no request is made until the first call.
    ///
    /// # Errors
    /// [`TargetError::Config`] for a bad base URL, settings, or a credential that is
    /// not an application's name and password.
    pub fn new(config: CrowdConfig) -> TargetResult<Self> {
        let AtlassianAuth::Basic { username, .. } = &config.auth else {
            return Err(TargetError::Config(
                "Crowd signs in applications: give the application's name and password, not a token".into(),
            ));
        };
        if config.page_size == 0 {
            return Err(TargetError::Config(
                "Crowd page size must be at least 1".into(),
            ));
        }
        let application = username.clone();
        let settings = HttpSettings {
            concurrency: config.concurrency,
            ..config.http.clone()
        };
        let http = AtlassianHttp::new(PRODUCT, &config.base_url, config.auth.clone(), settings)?;
        Ok(Self {
            http,
            config,
            application,
            version: OnceCell::new(),
        })
    }

    /// Proves the server is Crowd and the application may use it; returns the version
    /// it names (`unknown` when it does not send one). Asked once, then remembered.
    ///
    /// `config/cookie` is answered only by Crowd's usermanagement API, only to an
    /// application that signed in from an allowed address, and in Crowd's shape.
    ///
    /// # Errors
    /// `NotTheProduct` (404 or another shape), `Unauthenticated`, `Forbidden` (address).
    pub async fn version(&self) -> TargetResult<String> {
        self.version
            .get_or_try_init(|| async {
                let call = Call::get(
                    format!("{API}/config/cookie"),
                    "read Crowd's cookie configuration",
                );
                let reply = self.http.send(&call).await?;
                if reply.status == http::StatusCode::NOT_FOUND {
                    return Err(self.not_crowd(&format!("GET {API}/config/cookie answered 404")));
                }
                let header = reply
                    .headers
                    .get(VERSION_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                if !reply.is_success() {
                    return Err(error::Refusal::of(reply).into_error(call.action()));
                }
                match reply.json::<wire::CookieConfig>() {
                    Ok(cookie) if !cookie.name.is_empty() => {}
                    Ok(_) => {
                        return Err(
                            self.not_crowd(&format!("its {API}/config/cookie names no cookie"))
                        );
                    }
                    Err(e) => {
                        return Err(self
                            .not_crowd(&format!("its {API}/config/cookie is not Crowd's ({e})")));
                    }
                }
                Ok(version_from(header.as_deref()))
            })
            .await
            .cloned()
    }

    fn not_crowd(&self, answer: &str) -> TargetError {
        crate::http::not_the_product(PRODUCT, self.http.base_url(), answer)
    }

    fn path(tail: &str) -> String {
        format!("{API}/{tail}")
    }
}

/// `Crowd/5.1.0` (or a bare `5.1.0`) as `5.1.0`; `unknown` without the header.
fn version_from(header: Option<&str>) -> String {
    header
        .map(|h| h.rsplit('/').next().unwrap_or(h).trim().to_owned())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The operations carry the trait's names: each call below is to the client's own
/// (inherent) method of the same name in `read.rs` or `write.rs`, which Rust picks
/// over the trait method, so none recurses.
#[async_trait]
impl Target for CrowdClient {
    fn kind(&self) -> TargetKind {
        TargetKind::Crowd
    }

    async fn capabilities(&self) -> TargetResult<Capabilities> {
        let version = self.version().await?;
        Ok(Capabilities {
            kind: TargetKind::Crowd,
            version,
            list_users: Ability::REST,
            create_user: Ability::REST,
            update_user: Ability::REST,
            set_active: Ability::REST,
            rename_user: Ability::REST,
            delete_user: Ability::REST,
            create_group: Ability::REST,
            delete_group: Ability::REST,
            manage_membership: Ability::REST,
        })
    }

    /// The application's name: Crowd has no signed-in user, and a user of the same
    /// name is left alone like any credential's own account.
    async fn whoami(&self) -> TargetResult<Username> {
        self.version().await?;
        Username::parse(&self.application).map_err(|e| {
            TargetError::Config(format!(
                "Crowd application name {:?}: {e}",
                self.application
            ))
        })
    }

    async fn read_all(&self) -> TargetResult<TargetSnapshot> {
        self.read_all().await
    }

    async fn find_user(&self, username: &Username) -> TargetResult<Option<TargetUser>> {
        match self.raw_user(username).await? {
            Some(raw) => Ok(Some(
                serde_json::from_value::<wire::User>(raw)
                    .map_err(|e| self.decode("read a user", &e))?
                    .into_target()?,
            )),
            None => Ok(None),
        }
    }

    async fn user_groups(&self, username: &Username) -> TargetResult<Vec<GroupName>> {
        self.user_groups(username).await
    }

    async fn create_user(&self, user: &NewUser) -> TargetResult<TargetUser> {
        self.create_user(user).await
    }

    async fn update_user(&self, username: &Username, changes: &UserChanges) -> TargetResult<()> {
        self.update_user(username, changes).await
    }

    async fn set_active(&self, username: &Username, active: bool) -> TargetResult<()> {
        self.set_active(username, active).await
    }

    async fn rename_user(&self, username: &Username, new_username: &Username) -> TargetResult<()> {
        self.rename_user(username, new_username).await
    }

    async fn delete_user(&self, username: &Username) -> TargetResult<()> {
        self.delete_user(username).await
    }

    async fn create_group(&self, name: &GroupName) -> TargetResult<()> {
        self.create_group(name).await
    }

    async fn delete_group(&self, name: &GroupName) -> TargetResult<()> {
        self.delete_group(name).await
    }

    async fn add_member(&self, group: &GroupName, username: &Username) -> TargetResult<()> {
        self.add_member(group, username).await
    }

    async fn remove_member(&self, group: &GroupName, username: &Username) -> TargetResult<()> {
        self.remove_member(group, username).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_is_read_from_crowds_header() {
        assert_eq!(version_from(Some("Crowd/5.1.0")), "5.1.0");
        assert_eq!(version_from(Some("6.0.3")), "6.0.3");
        assert_eq!(version_from(None), "unknown");
    }
}
