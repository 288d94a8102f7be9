//! The SCIM 2.0 client: usersync's [`Target`] over any SCIM service provider
//! (RFC 7643/7644), and over Atlassian Cloud's user provisioning API as a
//! [`ScimProfile`] of it.
//!
//! Discovery decides how it writes: `/ServiceProviderConfig` says whether PATCH
//! is supported (else a read-modify-PUT), whether filters are (else lookups page
//! the whole collection), whether ETags are (then writes send `If-Match` with the
//! version last read, and a 412 re-reads once), and the page maximum. The engine
//! speaks usernames; SCIM speaks ids, so the client remembers each `userName`'s
//! and group `displayName`'s id (from reads and writes) and looks an unknown one up
//! with `filter=userName eq "…"`. A user's `externalId` is the Okta user id.
//! SCIM error bodies become [`TargetError::Scim`] with their `scimType`. HTTP
//! (retries, 429, backoff) is [`crate::http`]'s.

mod errors;
mod read;
mod wire;
mod write;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use tokio::sync::OnceCell;
use usersync_core::{GroupName, TargetSnapshot, TargetUser, Username};

use crate::http::{AtlassianAuth, AtlassianHttp, Call, HttpSettings};
use crate::{
    Ability, Capabilities, NewUser, Target, TargetError, TargetKind, TargetResult, UserChanges,
};

/// SCIM's media type, sent as `Accept` and `Content-Type` (RFC 7644 §3.1).
const MEDIA_TYPE: &str = "application/scim+json";

/// Which SCIM service the client talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScimProfile {
    /// Any RFC 7644 service provider: what it advertises is what it gets.
    Generic,
    /// Atlassian Cloud (`https://api.atlassian.com/scim/directory/{directoryId}`):
    /// pages of at most 100, filters only on `userName`, `externalId` and group
    /// `displayName`, an unverified e-mail domain typed as [`TargetError::UnverifiedDomain`].
    AtlassianCloud,
}

impl ScimProfile {
    fn product(self) -> &'static str {
        match self {
            Self::Generic => "SCIM service",
            Self::AtlassianCloud => "Atlassian Cloud",
        }
    }

    fn kind(self) -> TargetKind {
        match self {
            Self::Generic => TargetKind::Scim,
            Self::AtlassianCloud => TargetKind::AtlassianCloud,
        }
    }
}

/// How to reach one SCIM service.
#[derive(Debug, Clone)]
pub struct ScimConfig {
    /// The SCIM base URL (the one `/Users` hangs off), e.g. `https://example.com/scim/v2`.
    pub base_url: String,
    /// The bearer token (Atlassian Cloud: the directory's API key).
    pub auth: AtlassianAuth,
    pub profile: ScimProfile,
    pub concurrency: usize,
    pub http: HttpSettings,
}

impl ScimConfig {
    #[must_use]
    pub fn new(base_url: impl Into<String>, auth: AtlassianAuth, profile: ScimProfile) -> Self {
        Self {
            base_url: base_url.into(),
            auth,
            profile,
            concurrency: 4,
            http: HttpSettings::default(),
        }
    }
}

/// What discovery found the service to support.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Features {
    pub patch: bool,
    pub filter: bool,
    pub etag: bool,
    /// Resources asked for per page.
    pub page_size: u64,
}

/// A resource's id and the version (ETag) last seen.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Known {
    id: String,
    version: Option<String>,
}

/// A SCIM service provider, as a [`Target`].
#[derive(Debug)]
pub struct ScimClient {
    http: AtlassianHttp,
    profile: ScimProfile,
    features: OnceCell<Features>,
    /// Lower-cased `userName` to the user's id (SCIM userNames are not case-exact).
    users: Mutex<HashMap<String, Known>>,
    /// Lower-cased `displayName` to the group's id.
    groups: Mutex<HashMap<String, Known>>,
    /// Lower-cased `displayName` to the group's turn for membership changes that
    /// depend on what was read (see `change_member`).
    member_turns: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// The name the engine knows a bearer token by: SCIM has no signed-in user, and
/// the whitespace keeps it from ever naming a synced user.
const TOKEN_IDENTITY: &str = "SCIM bearer token";

impl ScimClient {
    /// Builds the client; sends nothing.
    ///
    /// # Errors
    /// [`TargetError::Config`] for a bad base URL or settings.
    pub fn new(config: ScimConfig) -> TargetResult<Self> {
        let settings = HttpSettings {
            concurrency: config.concurrency,
            ..config.http
        };
        let http = AtlassianHttp::new(
            config.profile.product(),
            &config.base_url,
            config.auth,
            settings,
        )?;
        Ok(Self {
            http,
            profile: config.profile,
            features: OnceCell::new(),
            users: Mutex::new(HashMap::new()),
            groups: Mutex::new(HashMap::new()),
            member_turns: Mutex::new(HashMap::new()),
        })
    }

    /// What the service supports, discovered once.
    ///
    /// # Errors
    /// [`TargetError::NotTheProduct`] when `/ServiceProviderConfig` is missing or not SCIM's.
    pub async fn features(&self) -> TargetResult<Features> {
        self.features
            .get_or_try_init(|| self.discover())
            .await
            .copied()
    }

    fn product(&self) -> &'static str {
        self.profile.product()
    }

    fn call(&self, method: http::Method, path: &str, action: impl Into<String>) -> Call {
        Call::new(method, path.to_owned(), action).header(http::header::ACCEPT, MEDIA_TYPE)
    }

    fn remember_user(&self, name: &str, known: Known) {
        lock(&self.users).insert(name.to_lowercase(), known);
    }

    fn remember_group(&self, name: &str, known: Known) {
        lock(&self.groups).insert(name.to_lowercase(), known);
    }

    /// The turn of group `name`'s membership changes (one lock per group).
    fn member_turn(&self, name: &str) -> Arc<tokio::sync::Mutex<()>> {
        lock(&self.member_turns)
            .entry(name.to_lowercase())
            .or_default()
            .clone()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The operations carry the trait's names: each call below is to the client's own
/// method in `read.rs` or `write.rs`, which Rust picks over the trait method.
#[async_trait]
impl Target for ScimClient {
    fn kind(&self) -> TargetKind {
        self.profile.kind()
    }

    async fn capabilities(&self) -> TargetResult<Capabilities> {
        let features = self.features().await?;
        // Discovery may be anonymous (RFC 7644 §4): one listing proves the token.
        self.probe_token().await?;
        Ok(Capabilities {
            kind: self.profile.kind(),
            version: format!(
                "SCIM 2.0 (PATCH {}, filter {}, ETag {}, page {})",
                yes(features.patch),
                yes(features.filter),
                yes(features.etag),
                features.page_size
            ),
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

    async fn whoami(&self) -> TargetResult<Username> {
        Username::parse(TOKEN_IDENTITY).map_err(|e| TargetError::Config(e.to_string()))
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
        self.change_member(group, username, true).await
    }

    async fn remove_member(&self, group: &GroupName, username: &Username) -> TargetResult<()> {
        self.change_member(group, username, false).await
    }
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}
