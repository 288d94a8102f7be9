//! The Confluence Data Center client: [`ConfluenceClient`] implements [`Target`]
//! over Confluence's REST API (`/rest/api`, fact sheet section 2).
//!
//! It detects the server version first and reports, through [`Capabilities`], which
//! API each ability goes through: REST where that version has it (disable, enable
//! and delete from 8.2; create and list all users from 8.4; group create/delete and
//! membership changes from 9.0; e-mail and full-name updates from 10.2), the legacy
//! JSON-RPC service (`rpc`) otherwise, and a REST endpoint that answers 404 or 405
//! all the same falls back to JSON-RPC for that call. Renaming is possible through
//! neither. Refusals of either API are typed by one mapping (`refusal`). Usernames
//! must be lower-case to be created, deletes are awaited by polling their long task,
//! and repeats are idempotent. `licence` reads the licence figures `usersync report`
//! shows.

mod licence;
mod read;
mod refusal;
mod rpc;
mod wire;
mod write;

use std::collections::HashSet;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::OnceCell;
use usersync_core::{GroupName, TargetSnapshot, TargetUser, Username};

use crate::http::{AtlassianAuth, AtlassianHttp, HttpSettings};
use crate::{
    Ability, Api, Capabilities, Capability, NewUser, Seats, SignIns, Target, TargetError,
    TargetKind, TargetResult, UserChanges,
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
    /// Abilities whose REST endpoint answered 404/405 while JSON-RPC did the job:
    /// this release lacks the endpoint whatever its version says, so later calls
    /// go straight to JSON-RPC.
    rest_missing: Mutex<HashSet<Capability>>,
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
            rest_missing: Mutex::new(HashSet::new()),
        })
    }

    /// The capabilities, detected once.
    async fn caps(&self) -> TargetResult<&Capabilities> {
        self.capabilities.get_or_try_init(|| self.detect()).await
    }

    /// The API `capability` goes through on this server, or
    /// [`TargetError::Unsupported`] when it has none.
    async fn route(&self, capability: Capability, action: &str) -> TargetResult<Api> {
        let caps = self.caps().await?;
        if let Some(api) = caps.via(capability) {
            if api == Api::Rest && self.rest_missing().contains(&capability) {
                return Ok(Api::JsonRpc);
            }
            return Ok(api);
        }
        Err(TargetError::Unsupported {
            product: PRODUCT,
            version: caps.version.clone(),
            action: action.to_owned(),
            hint: hint(capability).to_owned(),
        })
    }

    fn rest_missing(&self) -> MutexGuard<'_, HashSet<Capability>> {
        self.rest_missing
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
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

/// What to do when a version lacks a capability: only renaming is missing from
/// every release (JSON-RPC covers what older REST APIs lack).
fn hint(capability: Capability) -> &'static str {
    match capability {
        Capability::RenameUser => {
            "neither Confluence's REST API nor its JSON-RPC service renames a user; rename it in the administration console"
        }
        _ => "this Confluence offers it through neither REST nor JSON-RPC",
    }
}

/// Which API each ability goes through on a Confluence version: REST from the
/// release that documents the endpoint (fact sheet 2.2), JSON-RPC before it.
fn capabilities_for(version: &str) -> TargetResult<Capabilities> {
    let (major, minor, _) = wire::parse_version(version).ok_or_else(|| TargetError::Decode {
        product: PRODUCT,
        action: "detect the server version".into(),
        message: format!("{version:?} is not a version number"),
    })?;
    let rest_from = |a: u32, b: u32| {
        if (major, minor) >= (a, b) {
            Ability::REST
        } else {
            Ability::JSON_RPC
        }
    };
    Ok(Capabilities {
        kind: TargetKind::Confluence,
        version: version.to_owned(),
        list_users: rest_from(8, 4),
        create_user: rest_from(8, 4),
        update_user: rest_from(10, 2),
        set_active: rest_from(8, 2),
        rename_user: Ability::NEVER,
        delete_user: rest_from(8, 2),
        create_group: rest_from(9, 0),
        delete_group: rest_from(9, 0),
        manage_membership: rest_from(9, 0),
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
        self.route(Capability::RenameUser, &format!("rename {username}"))
            .await
            .map(drop)
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

    async fn seats(&self) -> TargetResult<Option<Vec<Seats>>> {
        self.licence_seats().await
    }

    async fn sign_ins(&self) -> TargetResult<SignIns> {
        self.licensed_sign_ins().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_ability_uses_rest_from_its_documented_release_and_json_rpc_before() {
        let rpc = Some(Api::JsonRpc);
        let rest = Some(Api::Rest);
        let c = capabilities_for("7.19.0").unwrap();
        assert_eq!((c.list_users.api(), c.set_active.api()), (rpc, rpc));
        assert_eq!(c.manage_membership.api(), rpc);
        let c = capabilities_for("8.5.0").unwrap();
        assert_eq!(
            (c.set_active.api(), c.list_users.api(), c.create_user.api()),
            (rest, rest, rest)
        );
        assert_eq!((c.manage_membership.api(), c.update_user.api()), (rpc, rpc));
        let c = capabilities_for("9.2.0").unwrap();
        assert_eq!(
            (c.manage_membership.api(), c.create_group.api()),
            (rest, rest)
        );
        assert_eq!(c.update_user.api(), rpc);
        assert_eq!(capabilities_for("10.2.1").unwrap().update_user.api(), rest);
        assert_eq!(c.rename_user, Ability::NEVER);
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
