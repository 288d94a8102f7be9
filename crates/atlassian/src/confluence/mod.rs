//! The Confluence Data Center client: [`ConfluenceClient`] implements [`Target`]
//! over Confluence's REST API (`/rest/api`, fact sheet section 2).
//!
//! It detects the server version first and reports, through [`Capabilities`], only
//! what that version can do through REST: disable, enable and delete from 8.2;
//! create and list all users from 8.4; group create/delete and membership changes
//! from 9.0; e-mail and full-name updates from 10.2; renaming never. A configuration
//! needing more is refused before a run. The JSON-RPC fallback for older releases
//! is not implemented; those capabilities are reported missing. Usernames must be
//! lower-case to be created, 402 becomes [`TargetError::NoLicenceSeat`], deletes
//! are awaited by polling their long task, and repeats are idempotent.

mod read;
mod wire;
mod write;

use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::OnceCell;
use usersync_core::{GroupName, TargetSnapshot, TargetUser, Username};

use crate::http::{AtlassianAuth, AtlassianHttp, HttpSettings};
use crate::{
    Capabilities, Capability, NewUser, Target, TargetError, TargetKind, TargetResult, UserChanges,
};

const PRODUCT: &str = "Confluence";

/// How to reach one Confluence Data Center. `Debug` never shows the credential.
#[derive(Debug, Clone)]
pub struct ConfluenceConfig {
    /// The base URL, e.g. `https://wiki.example.com` or `https://example.com/confluence`.
    pub base_url: String,
    pub auth: AtlassianAuth,
    /// Most requests in flight at once.
    pub concurrency: usize,
    /// `limit` asked of every list endpoint (Confluence caps it; paging follows `_links.next`).
    pub page_size: usize,
    /// Create users with `notifyViaEmail: true` (Confluence mails a set-password link)
    /// instead of a random password nobody knows (single sign-on users never need one).
    pub notify_new_users: bool,
    /// Pause between reads of a delete task's status.
    pub delete_poll_interval: Duration,
    /// Status reads before a delete is reported as not finished.
    pub delete_poll_attempts: u32,
    /// Retries, backoff and timeouts; `concurrency` above overrides its own.
    pub http: HttpSettings,
}

impl ConfluenceConfig {
    /// Defaults for everything but where and who.
    #[must_use]
    pub fn new(base_url: impl Into<String>, auth: AtlassianAuth) -> Self {
        Self {
            base_url: base_url.into(),
            auth,
            concurrency: 4,
            page_size: 200,
            notify_new_users: false,
            delete_poll_interval: Duration::from_millis(500),
            delete_poll_attempts: 120,
            http: HttpSettings::default(),
        }
    }
}

/// A Confluence Data Center target.
#[derive(Debug)]
pub struct ConfluenceClient {
    http: AtlassianHttp,
    config: ConfluenceConfig,
    capabilities: OnceCell<Capabilities>,
}

impl ConfluenceClient {
    /// Checks the configuration; makes no request.
    ///
    /// # Errors
    /// [`TargetError::Config`] for a bad base URL or zero sizes.
    pub fn new(config: ConfluenceConfig) -> TargetResult<Self> {
        if config.page_size == 0 || config.delete_poll_attempts == 0 {
            return Err(TargetError::Config(
                "Confluence page_size and delete_poll_attempts must be at least 1".into(),
            ));
        }
        let settings = HttpSettings {
            concurrency: config.concurrency,
            ..config.http.clone()
        };
        let http = AtlassianHttp::new(PRODUCT, &config.base_url, config.auth.clone(), settings)?;
        Ok(Self {
            http,
            config,
            capabilities: OnceCell::new(),
        })
    }

    /// The capabilities, detected once.
    async fn caps(&self) -> TargetResult<&Capabilities> {
        self.capabilities.get_or_try_init(|| self.detect()).await
    }

    /// Fails with [`TargetError::Unsupported`] when the server lacks `capability`.
    async fn require(&self, capability: Capability, action: &str) -> TargetResult<()> {
        let caps = self.caps().await?;
        if caps.supports(capability) {
            return Ok(());
        }
        Err(TargetError::Unsupported {
            product: PRODUCT,
            version: caps.version.clone(),
            action: action.to_owned(),
            hint: hint(capability).to_owned(),
        })
    }

    fn decode_error(&self, action: &str) -> impl Fn(String) -> TargetError + use<> {
        let action = action.to_owned();
        move |message| TargetError::Decode {
            product: PRODUCT,
            action: action.clone(),
            message,
        }
    }
}

/// What to do when a version lacks a capability.
fn hint(capability: Capability) -> &'static str {
    match capability {
        Capability::SetActive | Capability::DeleteUser => {
            "disable, enable and delete arrived in Confluence 8.2; upgrade, or manage users in the administration console"
        }
        Capability::ListUsers | Capability::CreateUser => {
            "listing all users and creating users arrived in Confluence 8.4; upgrade to read or create users through REST"
        }
        Capability::CreateGroup | Capability::DeleteGroup | Capability::ManageMembership => {
            "group and membership changes are documented from Confluence 9.0; upgrade, or leave group sync off for this target"
        }
        Capability::UpdateUser => {
            "e-mail and full-name updates are documented from Confluence 10.2; turn attribute updates off for this target"
        }
        Capability::RenameUser => {
            "Confluence has no REST endpoint to rename a user; rename it in the administration console"
        }
    }
}

/// What a Confluence version can do through REST.
fn capabilities_for(version: &str) -> TargetResult<Capabilities> {
    let (major, minor, _) = wire::parse_version(version).ok_or_else(|| TargetError::Decode {
        product: PRODUCT,
        action: "detect the server version".into(),
        message: format!("{version:?} is not a version number"),
    })?;
    let at_least = |a: u32, b: u32| (major, minor) >= (a, b);
    Ok(Capabilities {
        kind: TargetKind::Confluence,
        version: version.to_owned(),
        list_users: at_least(8, 4),
        create_user: at_least(8, 4),
        update_user: at_least(10, 2),
        set_active: at_least(8, 2),
        rename_user: false,
        delete_user: at_least(8, 2),
        create_group: at_least(9, 0),
        delete_group: at_least(9, 0),
        manage_membership: at_least(9, 0),
    })
}

/// The operations carry the trait's names throughout: each call below is to the
/// client's own (inherent) method of the same name in `read.rs` or `write.rs`, which
/// Rust picks over the trait method, so none recurses.
#[async_trait]
impl Target for ConfluenceClient {
    fn kind(&self) -> TargetKind {
        TargetKind::Confluence
    }

    async fn capabilities(&self) -> TargetResult<Capabilities> {
        let caps = self.caps().await?.clone();
        // The version endpoints may be readable anonymously: prove the credential too.
        self.whoami().await?;
        Ok(caps)
    }

    async fn whoami(&self) -> TargetResult<Username> {
        self.whoami().await
    }

    async fn read_all(&self) -> TargetResult<TargetSnapshot> {
        self.require(Capability::ListUsers, "list every user")
            .await?;
        self.read_all().await
    }

    async fn find_user(&self, username: &Username) -> TargetResult<Option<TargetUser>> {
        self.find_user(username).await
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

    async fn rename_user(&self, username: &Username, _new_username: &Username) -> TargetResult<()> {
        self.require(Capability::RenameUser, &format!("rename {username}"))
            .await
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
        self.membership(group, username, true).await
    }

    async fn remove_member(&self, group: &GroupName, username: &Username) -> TargetResult<()> {
        self.membership(group, username, false).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_follow_the_documented_releases() {
        let c = capabilities_for("7.19.0").unwrap();
        assert!(!c.set_active && !c.list_users && !c.manage_membership);
        let c = capabilities_for("8.5.0").unwrap();
        assert!(c.set_active && c.list_users && c.create_user && !c.manage_membership);
        let c = capabilities_for("9.2.0").unwrap();
        assert!(c.manage_membership && c.create_group && !c.update_user && !c.rename_user);
        assert!(capabilities_for("10.2.1").unwrap().update_user);
        assert!(capabilities_for("x").is_err());
    }

    #[test]
    fn debug_output_hides_the_credential() {
        let config = ConfluenceConfig::new(
            "https://wiki.example.com",
            AtlassianAuth::Bearer("s3cret-token".to_owned().into()),
        );
        let client = ConfluenceClient::new(config).unwrap();
        let text = format!("{client:?}");
        assert!(!text.contains("s3cret-token"), "{text}");
    }
}
