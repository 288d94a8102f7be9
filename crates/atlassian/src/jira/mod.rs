//! The Jira Data Center client: usersync's [`Target`] over Jira's `/rest/api/2`.
//!
//! It owns what is specific to Jira: detecting the version (`serverInfo`) and
//! choosing the read path from it (`/user/list` on 10.3+, `/user/search` paged
//! or walked by prefix where the version caps results), full paging of group
//! members including inactive ones, the write endpoints with Jira's "already
//! exists" answers treated as success, and users of read-only directories
//! reported as managed elsewhere. HTTP concerns (auth, retries, 429, Seraph)
//! live in [`crate::http`].
//!
//! Jira's REST API cannot deactivate users before 8.3. When Jira acts as a user
//! server (an application configured under "Jira user server"), it also serves
//! Crowd's usermanagement API at `{jira}/rest/usermanagement/1`; given that
//! application's credentials, the client deactivates and reactivates through a
//! [`CrowdClient`] on Jira's base URL, the one implementation of Crowd's user update.

mod read;
mod wire;
mod write;

use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;
use tokio::sync::OnceCell;
use usersync_core::{GroupName, TargetSnapshot, TargetUser, Username};

use crate::crowd::{CrowdClient, CrowdConfig};
use crate::http::{AtlassianAuth, AtlassianHttp, Call, HttpSettings};
use crate::{
    Ability, Capabilities, NewUser, Seats, Target, TargetError, TargetKind, TargetResult,
    UserChanges,
};

const PRODUCT: &str = "Jira";

/// How to reach and use one Jira.
#[derive(Debug, Clone)]
pub struct JiraConfig {
    /// e.g. `https://jira.example.com` or `https://example.com/jira`.
    pub base_url: String,
    pub auth: AtlassianAuth,
    /// Most requests in flight at once.
    pub concurrency: usize,
    /// Applications new users get access to (`applicationKeys`); `None` means
    /// Jira's default application.
    pub application_keys: Option<Vec<String>>,
    /// Send Jira's welcome e-mail to new users (off by default: Okta onboards them).
    pub notify_new_users: bool,
    /// Retries, backoff and timeouts (its `concurrency` is replaced by the field above).
    pub http: HttpSettings,
    /// The user-server application's name and password ([`AtlassianAuth::Basic`]), used
    /// to deactivate and reactivate before Jira 8.3.
    pub user_server: Option<AtlassianAuth>,
}

impl JiraConfig {
    /// A configuration with usersync's defaults.
    #[must_use]
    pub fn new(base_url: impl Into<String>, auth: AtlassianAuth) -> Self {
        Self {
            base_url: base_url.into(),
            auth,
            concurrency: 4,
            application_keys: None,
            notify_new_users: false,
            http: HttpSettings::default(),
            user_server: None,
        }
    }
}

/// The Jira version, as numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl Version {
    fn at_least(self, major: u32, minor: u32) -> bool {
        (self.major, self.minor) >= (major, minor)
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// A Jira Data Center, as a [`Target`].
#[derive(Debug)]
pub struct JiraClient {
    http: AtlassianHttp,
    config: JiraConfig,
    version: OnceCell<Version>,
    /// Users Jira refused to change because their directory is read-only.
    /// Jira's REST API does not say which directory a user is in, so this is
    /// learnt from refusals and reported by later reads.
    read_only: Mutex<HashSet<Username>>,
    /// Crowd's usermanagement API as this Jira serves it, when given the credentials.
    user_server: Option<CrowdClient>,
}

impl JiraClient {
    /// Builds a client; no request is made until the first call.
    ///
    /// # Errors
    /// [`TargetError::Config`] for a bad base URL or settings.
    pub fn new(config: JiraConfig) -> TargetResult<Self> {
        let settings = HttpSettings {
            concurrency: config.concurrency,
            ..config.http.clone()
        };
        let user_server = config
            .user_server
            .clone()
            .map(|auth| {
                CrowdClient::new(CrowdConfig {
                    concurrency: config.concurrency,
                    http: config.http.clone(),
                    ..CrowdConfig::new(config.base_url.clone(), auth)
                })
            })
            .transpose()?;
        let http = AtlassianHttp::new(PRODUCT, &config.base_url, config.auth.clone(), settings)?;
        Ok(Self {
            http,
            config,
            version: OnceCell::new(),
            read_only: Mutex::new(HashSet::new()),
            user_server,
        })
    }

    /// The server's version (asked once, then remembered).
    ///
    /// # Errors
    /// When `serverInfo` cannot be read, or the credential is dead.
    pub async fn version(&self) -> TargetResult<Version> {
        self.version
            .get_or_try_init(|| async {
                let call = Call::get("rest/api/2/serverInfo", "read the server version");
                let info: wire::ServerInfo = match self.http.json(&call).await {
                    Err(TargetError::NotFound { .. }) => {
                        return Err(self.not_jira("GET rest/api/2/serverInfo answered 404"));
                    }
                    Err(TargetError::Decode { message, .. }) => {
                        return Err(self.not_jira(&format!(
                            "its rest/api/2/serverInfo is not Jira's ({message})"
                        )));
                    }
                    other => other?,
                };
                let (major, minor, patch) = wire::version_numbers(&info);
                Ok(Version {
                    major,
                    minor,
                    patch,
                })
            })
            .await
            .copied()
    }

    fn not_jira(&self, answer: &str) -> TargetError {
        crate::http::not_the_product(PRODUCT, self.http.base_url(), answer)
    }

    fn is_read_only(&self, name: &Username) -> bool {
        self.read_only
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(name)
    }

    fn remember_read_only(&self, name: &Username) {
        self.read_only
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name.clone());
    }

    /// How users are deactivated on this version: REST from 8.3, else the user-server API
    /// when its credentials were given (proved by asking it), else not at all.
    async fn set_active_ability(&self, version: Version) -> TargetResult<Ability> {
        if version.at_least(8, 3) {
            return Ok(Ability::REST);
        }
        let Some(crowd) = &self.user_server else {
            return Ok(Ability::added_in("Jira 8.3"));
        };
        crowd.version().await.map_err(user_server_error)?;
        Ok(Ability::USER_SERVER)
    }

    /// The user-server client, when this Jira needs it (before 8.3) and it was given.
    fn user_server_for(&self, version: Version) -> Option<&CrowdClient> {
        self.user_server
            .as_ref()
            .filter(|_| !version.at_least(8, 3))
    }

    fn unsupported(&self, version: Version, action: &str, hint: &str) -> TargetError {
        TargetError::Unsupported {
            product: PRODUCT,
            version: version.to_string(),
            action: action.to_owned(),
            hint: hint.to_owned(),
        }
    }
}

/// A refusal of the user-server API, said as such: Crowd's own wording would name Crowd.
fn user_server_error(error: TargetError) -> TargetError {
    let fix = match &error {
        TargetError::NotTheProduct { .. } | TargetError::NotFound { .. } => {
            "add an application for usersync under Jira user server in Jira's administration"
        }
        TargetError::Unauthenticated { .. } | TargetError::Forbidden { .. } => {
            "check target.user_server's name and password, and that the application's allowed addresses include usersync's host"
        }
        _ => "check target.user_server",
    };
    TargetError::Config(format!(
        "Jira's user-server API (rest/usermanagement/1, target.user_server) refused usersync: {error}; {fix}"
    ))
}

/// The operations carry the trait's names throughout: each call below is to the
/// client's own (inherent) method of the same name in `read.rs` or `write.rs`, which
/// Rust picks over the trait method, so none recurses.
#[async_trait]
impl Target for JiraClient {
    fn kind(&self) -> TargetKind {
        TargetKind::Jira
    }

    async fn capabilities(&self) -> TargetResult<Capabilities> {
        let version = self.version().await?;
        // serverInfo is readable anonymously: only `myself` proves the credential.
        self.whoami().await?;
        Ok(Capabilities {
            kind: TargetKind::Jira,
            version: version.to_string(),
            list_users: Ability::REST,
            create_user: Ability::REST,
            update_user: Ability::REST,
            set_active: self.set_active_ability(version).await?,
            rename_user: Ability::REST,
            delete_user: Ability::REST,
            create_group: Ability::REST,
            delete_group: Ability::REST,
            manage_membership: Ability::REST,
        })
    }

    async fn seats(&self) -> TargetResult<Option<Vec<Seats>>> {
        let roles: Vec<wire::ApplicationRole> = self
            .http
            .json(&Call::get(
                "rest/api/2/applicationrole",
                "read the application roles' licence seats",
            ))
            .await?;
        Ok(Some(
            roles
                .into_iter()
                .map(wire::ApplicationRole::into_seats)
                .collect(),
        ))
    }

    async fn whoami(&self) -> TargetResult<Username> {
        let me: wire::User = self
            .http
            .json(&Call::get("rest/api/2/myself", "read the signed-in user"))
            .await?;
        Ok(me.into_target(false)?.username)
    }

    async fn read_all(&self) -> TargetResult<TargetSnapshot> {
        self.read_all().await
    }

    async fn find_user(&self, username: &Username) -> TargetResult<Option<TargetUser>> {
        Ok(self.get_user(username, false).await?.map(|(user, _)| user))
    }

    async fn user_groups(&self, username: &Username) -> TargetResult<Vec<GroupName>> {
        match self.get_user(username, true).await? {
            Some((_, groups)) => Ok(groups),
            None => Err(TargetError::NotFound {
                what: format!("Jira user {username}"),
            }),
        }
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
