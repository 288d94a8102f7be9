//! Atlassian targets: what the sync engine reads from and writes to.
//!
//! Every Atlassian product usersync can manage implements [`Target`]; the engine
//! knows nothing else about Jira, Confluence or Crowd. Each implementation reports what
//! its server version supports through [`Capabilities`], so a configuration that
//! needs a missing capability is refused before a run starts instead of failing
//! halfway through. Wire types stay private to each client module.

pub mod confluence;
pub mod crowd;
mod error;
pub mod http;
pub mod jira;
pub mod scim;
mod snapshot;

pub use error::{ScimType, TargetError, TargetResult};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use usersync_core::{Email, GroupName, TargetSnapshot, TargetUser, Username};

/// Which product a target is: the app model's one [`TargetKind`].
pub use usersync_core::app::TargetKind;

/// Which of a product's APIs an ability goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Api {
    /// The product's REST API.
    Rest,
    /// Confluence's legacy JSON-RPC service (`/rpc/json-rpc/confluenceservice-v2`),
    /// for what the server's REST API lacks.
    JsonRpc,
    /// Crowd's usermanagement API as Jira serves it when it acts as a user server
    /// (`{jira}/rest/usermanagement/1`), for deactivation before Jira 8.3.
    UserServer,
}

impl std::fmt::Display for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Rest => "REST",
            Self::JsonRpc => "JSON-RPC",
            Self::UserServer => "Jira's user-server API",
        })
    }
}

/// Whether a server can do one thing, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "support")]
pub enum Ability {
    /// It can, through this API.
    Via { api: Api },
    /// It cannot; `added_in` names the release that adds it (`None`: no release does).
    Missing { added_in: Option<String> },
}

impl Ability {
    /// Done through REST.
    pub const REST: Self = Self::Via { api: Api::Rest };
    /// Done through Confluence's JSON-RPC service.
    pub const JSON_RPC: Self = Self::Via { api: Api::JsonRpc };
    /// Done through Jira's user-server (Crowd usermanagement) API.
    pub const USER_SERVER: Self = Self::Via {
        api: Api::UserServer,
    };

    /// Missing until `release` (e.g. `Jira 8.3`).
    #[must_use]
    pub fn added_in(release: &str) -> Self {
        Self::Missing {
            added_in: Some(release.to_owned()),
        }
    }

    /// Missing from every release.
    pub const NEVER: Self = Self::Missing { added_in: None };

    /// The API it goes through, or `None` when the server cannot do it.
    #[must_use]
    pub fn api(&self) -> Option<Api> {
        match self {
            Self::Via { api } => Some(*api),
            Self::Missing { .. } => None,
        }
    }
}

/// What the connected server can do and through which API, detected from its version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    pub kind: TargetKind,
    /// The server's version as it reported it, e.g. `9.12.2`.
    pub version: String,
    pub list_users: Ability,
    pub create_user: Ability,
    pub update_user: Ability,
    pub set_active: Ability,
    pub rename_user: Ability,
    pub delete_user: Ability,
    pub create_group: Ability,
    pub delete_group: Ability,
    pub manage_membership: Ability,
}

/// One operation kind a configuration may need, for [`Capabilities::missing`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Capability {
    ListUsers,
    CreateUser,
    UpdateUser,
    SetActive,
    RenameUser,
    DeleteUser,
    CreateGroup,
    DeleteGroup,
    ManageMembership,
}

impl Capabilities {
    /// Whether and how the server does `capability`.
    #[must_use]
    pub fn ability(&self, capability: Capability) -> &Ability {
        match capability {
            Capability::ListUsers => &self.list_users,
            Capability::CreateUser => &self.create_user,
            Capability::UpdateUser => &self.update_user,
            Capability::SetActive => &self.set_active,
            Capability::RenameUser => &self.rename_user,
            Capability::DeleteUser => &self.delete_user,
            Capability::CreateGroup => &self.create_group,
            Capability::DeleteGroup => &self.delete_group,
            Capability::ManageMembership => &self.manage_membership,
        }
    }

    /// The API `capability` goes through, or `None` when the server cannot do it.
    #[must_use]
    pub fn via(&self, capability: Capability) -> Option<Api> {
        self.ability(capability).api()
    }

    #[must_use]
    pub fn supports(&self, capability: Capability) -> bool {
        self.via(capability).is_some()
    }

    /// The capabilities in `needed` that this server lacks.
    #[must_use]
    pub fn missing(&self, needed: &[Capability]) -> Vec<Capability> {
        needed
            .iter()
            .copied()
            .filter(|c| !self.supports(*c))
            .collect()
    }
}

/// A user to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub username: Username,
    pub display_name: String,
    pub email: Email,
    /// Create the user inactive (a target that cannot do so creates it active and deactivates it).
    pub active: bool,
    /// The Okta user id, kept by targets that store one (SCIM's `externalId`).
    pub external_id: Option<String>,
}

/// Attributes to change on an existing user; `None` leaves a field alone.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserChanges {
    pub display_name: Option<String>,
    pub email: Option<Email>,
}

/// Licence seats of one application as the product reports them (Jira's
/// application roles); read by `usersync report`, never by a sync.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Seats {
    /// The application, e.g. `jira-software`.
    pub application: String,
    /// Seats in use, as the product counts them.
    pub used: u64,
    /// Seats the licence has; `None` when unlimited.
    pub total: Option<u64>,
}

/// When one user counting towards the licence last signed in, as the product
/// reports it; read by `usersync report` to list users who never sign in.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SignIn {
    pub username: Username,
    /// `None`: the product says the user never signed in.
    pub last: Option<chrono::DateTime<chrono::Utc>>,
}

/// What a target says about its users' sign-ins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignIns {
    /// Every active user counting towards the licence, with their last sign-in.
    Reported(Vec<SignIn>),
    /// The product (or this version of it) does not say; the text says why, in words.
    NotExposed(String),
}

/// One Atlassian product's user management, as the sync engine uses it.
///
/// Writes are idempotent where the product allows: creating a user or group
/// that exists, or adding a member who is already one, is success.
#[async_trait]
pub trait Target: Send + Sync {
    fn kind(&self) -> TargetKind;

    /// Detects the server version and what it supports; also proves the credential works.
    async fn capabilities(&self) -> TargetResult<Capabilities>;

    /// The username of the account the credential belongs to (never changed by a sync).
    async fn whoami(&self) -> TargetResult<Username>;

    /// Every user (active and inactive), every group and every membership.
    async fn read_all(&self) -> TargetResult<TargetSnapshot>;

    /// One user by username, or `None`.
    async fn find_user(&self, username: &Username) -> TargetResult<Option<TargetUser>>;

    /// The groups one user belongs to.
    async fn user_groups(&self, username: &Username) -> TargetResult<Vec<GroupName>>;

    async fn create_user(&self, user: &NewUser) -> TargetResult<TargetUser>;
    async fn update_user(&self, username: &Username, changes: &UserChanges) -> TargetResult<()>;
    async fn set_active(&self, username: &Username, active: bool) -> TargetResult<()>;
    async fn rename_user(&self, username: &Username, new_username: &Username) -> TargetResult<()>;
    async fn delete_user(&self, username: &Username) -> TargetResult<()>;
    async fn create_group(&self, name: &GroupName) -> TargetResult<()>;
    async fn delete_group(&self, name: &GroupName) -> TargetResult<()>;
    async fn add_member(&self, group: &GroupName, username: &Username) -> TargetResult<()>;
    async fn remove_member(&self, group: &GroupName, username: &Username) -> TargetResult<()>;

    /// Licence seats per application where the product reports them (Jira's
    /// application roles); `None` where it does not (or usersync does not read it).
    async fn seats(&self) -> TargetResult<Option<Vec<Seats>>> {
        Ok(None)
    }

    /// The last sign-in of every active user counting towards the licence, where
    /// the product reports it (Confluence from 10.2).
    async fn sign_ins(&self) -> TargetResult<SignIns> {
        Ok(SignIns::NotExposed(format!(
            "not exposed: {} reports no last sign-in through the API usersync uses",
            self.kind()
        )))
    }
}
