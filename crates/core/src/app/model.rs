//! The domain types of an app: what a caller drafts and what the store hands back.
//!
//! Credentials are generic over how their secrets appear: [`SecretInput`] in an
//! [`AppDraft`], [`SecretState`] in a stored [`App`]. One shape, two views, and the
//! stored view cannot hold a value by construction.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use url::Url;

use super::events::default_event_types;
use super::notify::NotifySettings;
use super::secret::{SecretInput, SecretSide, SecretSlot, SecretState, origin_of};
use crate::policy::SyncPolicy;

/// The store's id of an app. Stable across renames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AppId(pub i64);

impl fmt::Display for AppId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Which product an app writes to (and a target client talks to).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    Jira,
    Confluence,
    /// Any SCIM 2.0 service provider (RFC 7643/7644), discovered from its
    /// `/ServiceProviderConfig`.
    Scim,
    /// Atlassian Cloud's user provisioning API: SCIM with Atlassian's documented limits.
    #[serde(rename = "atlassian-cloud")]
    AtlassianCloud,
    /// Crowd Data Center's usermanagement API, signed in to as an application.
    Crowd,
}

impl TargetKind {
    /// Every kind, in the order settings pages list them.
    pub const ALL: [TargetKind; 5] = [
        Self::Jira,
        Self::Confluence,
        Self::Crowd,
        Self::Scim,
        Self::AtlassianCloud,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Jira => "jira",
            Self::Confluence => "confluence",
            Self::Crowd => "crowd",
            Self::Scim => "scim",
            Self::AtlassianCloud => "atlassian-cloud",
        }
    }

    /// One of the names [`TargetKind::as_str`] gives, ignoring case.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim().to_ascii_lowercase();
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// The credential `type`s this kind signs in with, and how to say so.
    #[must_use]
    pub fn credential_types(self) -> (&'static [&'static str], &'static str) {
        match self {
            Self::Jira | Self::Confluence => (
                &["pat", "basic"],
                "a personal access token or a username and password (type = \"pat\" or \"basic\")",
            ),
            Self::Crowd => (
                &["application"],
                "an application's name and password (type = \"application\"; Crowd signs in applications, not users)",
            ),
            Self::Scim | Self::AtlassianCloud => {
                (&["bearer"], "a bearer token (type = \"bearer\")")
            }
        }
    }

    /// True for the kinds spoken over SCIM 2.0, which sign in with a bearer token.
    #[must_use]
    pub fn is_scim(self) -> bool {
        matches!(self, Self::Scim | Self::AtlassianCloud)
    }
}

impl fmt::Display for TargetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How usersync signs in to Okta.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum OktaCredential<S> {
    /// An SSWS API token.
    ApiToken {
        #[serde(default)]
        token: S,
    },
    /// An OAuth 2.0 service app authenticating with a private key (`private_key_jwt`).
    #[serde(rename = "oauth")]
    OAuth {
        client_id: String,
        /// The `kid` of the key registered with the service app, when it has one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key_id: Option<String>,
        #[serde(default)]
        private_key: S,
    },
}

impl<S> OktaCredential<S> {
    /// The credential's secrets with the slot each one lives in.
    pub fn secrets(&self) -> Vec<(SecretSlot, &S)> {
        match self {
            Self::ApiToken { token } => vec![(SecretSlot::OktaApiToken, token)],
            Self::OAuth { private_key, .. } => vec![(SecretSlot::OktaPrivateKey, private_key)],
        }
    }

    /// The same credential with each secret replaced by `f(slot, secret)`.
    pub fn map<T>(self, mut f: impl FnMut(SecretSlot, S) -> T) -> OktaCredential<T> {
        match self {
            Self::ApiToken { token } => OktaCredential::ApiToken {
                token: f(SecretSlot::OktaApiToken, token),
            },
            Self::OAuth {
                client_id,
                key_id,
                private_key,
            } => OktaCredential::OAuth {
                client_id,
                key_id,
                private_key: f(SecretSlot::OktaPrivateKey, private_key),
            },
        }
    }
}

/// How usersync signs in to the target.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum TargetCredential<S> {
    /// A personal access token (Jira/Confluence Data Center 8.14+/7.9+).
    Pat {
        #[serde(default)]
        token: S,
    },
    /// HTTP basic authentication with an administrator's username and password.
    Basic {
        username: String,
        #[serde(default)]
        password: S,
    },
    /// A SCIM bearer token (for Atlassian Cloud, the identity provider directory's API key).
    Bearer {
        #[serde(default)]
        token: S,
    },
    /// A Crowd application's name and password (Crowd signs in applications, not
    /// users; the application's remote addresses must include usersync's host).
    Application {
        name: String,
        #[serde(default)]
        password: S,
    },
}

impl<S> TargetCredential<S> {
    /// The credential's secrets with the slot each one lives in.
    pub fn secrets(&self) -> Vec<(SecretSlot, &S)> {
        match self {
            Self::Pat { token } => vec![(SecretSlot::TargetToken, token)],
            Self::Basic { password, .. } | Self::Application { password, .. } => {
                vec![(SecretSlot::TargetPassword, password)]
            }
            Self::Bearer { token } => vec![(SecretSlot::TargetToken, token)],
        }
    }

    /// The credential's `type` as written in TOML and the form.
    #[must_use]
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Pat { .. } => "pat",
            Self::Basic { .. } => "basic",
            Self::Bearer { .. } => "bearer",
            Self::Application { .. } => "application",
        }
    }

    /// The same credential with each secret replaced by `f(slot, secret)`.
    pub fn map<T>(self, mut f: impl FnMut(SecretSlot, S) -> T) -> TargetCredential<T> {
        match self {
            Self::Pat { token } => TargetCredential::Pat {
                token: f(SecretSlot::TargetToken, token),
            },
            Self::Basic { username, password } => TargetCredential::Basic {
                username,
                password: f(SecretSlot::TargetPassword, password),
            },
            Self::Bearer { token } => TargetCredential::Bearer {
                token: f(SecretSlot::TargetToken, token),
            },
            Self::Application { name, password } => TargetCredential::Application {
                name,
                password: f(SecretSlot::TargetPassword, password),
            },
        }
    }
}

/// Jira acting as a user server: an application (name, password, allowed addresses)
/// configured in Jira's "Jira user server" page. Jira then serves Crowd's usermanagement
/// API, which can deactivate users where Jira's own REST API cannot (before 8.3).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserServer<S> {
    /// The application's name as configured in Jira.
    pub name: String,
    #[serde(default)]
    pub password: S,
}

impl<S> UserServer<S> {
    /// The same application with its password replaced by `f(slot, password)`.
    pub fn map<T>(self, f: impl FnOnce(SecretSlot, S) -> T) -> UserServer<T> {
        UserServer {
            name: self.name,
            password: f(SecretSlot::UserServerPassword, self.password),
        }
    }
}

/// When the scheduler runs an app ("Scheduler Time Interval").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Schedule {
    /// Only on demand (manual, login, event and API triggers still work).
    #[default]
    Manual,
    /// Every this many minutes (1 to 10080, one week).
    EveryMinutes(u32),
    /// A cron expression in UTC: five fields (`m h dom mon dow`) or six with seconds first.
    Cron(String),
}

impl Schedule {
    /// The first time after `after` at which this schedule fires; `None` for manual.
    #[must_use]
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Self::Manual => None,
            Self::EveryMinutes(minutes) => {
                Some(after + chrono::Duration::minutes(i64::from(*minutes)))
            }
            Self::Cron(expression) => parse_cron(expression).ok()?.after(&after).next(),
        }
    }
}

/// Parses a cron expression, accepting the common five-field form by adding a seconds field.
pub(crate) fn parse_cron(expression: &str) -> Result<cron::Schedule, String> {
    let fields = expression.split_whitespace().count();
    let full = if fields == 5 {
        format!("0 {expression}")
    } else {
        expression.to_owned()
    };
    full.parse::<cron::Schedule>().map_err(|e| e.to_string())
}

/// How an app hears about changes between scheduled runs: Okta event hooks and System Log polling.
#[derive(Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EventSettings<S> {
    /// Accept Okta event hook calls for this app.
    pub hook_enabled: bool,
    /// The Okta event types that trigger a sync of the user concerned.
    pub event_types: Vec<String>,
    /// The secret Okta sends in the hook's authorization header.
    pub hook_secret: S,
    /// Poll the Okta System Log for the same events.
    pub poll_system_log: bool,
    /// Seconds between System Log polls (10 to 86400; 15 by default).
    pub poll_interval_seconds: u32,
}

impl<S: Default> Default for EventSettings<S> {
    fn default() -> Self {
        Self {
            hook_enabled: false,
            event_types: default_event_types(),
            hook_secret: S::default(),
            poll_system_log: false,
            poll_interval_seconds: 15,
        }
    }
}

impl<S> EventSettings<S> {
    /// The same settings with the secret replaced.
    pub fn with_secret<T>(self, hook_secret: T) -> EventSettings<T> {
        EventSettings {
            hook_enabled: self.hook_enabled,
            event_types: self.event_types,
            hook_secret,
            poll_system_log: self.poll_system_log,
            poll_interval_seconds: self.poll_interval_seconds,
        }
    }
}

/// The Okta side of a draft.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OktaDraft {
    /// "Okta Domain URL", e.g. `https://example.okta.com`.
    pub url: String,
    pub credential: OktaCredential<SecretInput>,
    /// An extra CA bundle (absolute path to a PEM file) trusted for this side, besides the
    /// operating system's store; empty or left out for none.
    #[serde(default)]
    pub ca_file: Option<String>,
}

/// The target side of a draft.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetDraft {
    /// `jira`, `confluence` or `crowd`.
    pub kind: String,
    /// The base URL, e.g. `https://jira.example.com` or `https://wiki.example.com/confluence`.
    pub url: String,
    pub credential: TargetCredential<SecretInput>,
    /// An extra CA bundle trusted for this side, as for [`OktaDraft::ca_file`].
    #[serde(default)]
    pub ca_file: Option<String>,
    /// Jira only: the user-server application through which a Jira before 8.3 deactivates.
    #[serde(default)]
    pub user_server: Option<UserServer<SecretInput>>,
}

/// An app as a caller writes it: unvalidated, secrets as inputs. Becomes an [`App`] once stored.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppDraft {
    /// "App Name": unique, ignoring case.
    pub name: String,
    pub okta: OktaDraft,
    pub target: TargetDraft,
    #[serde(default)]
    pub schedule: Schedule,
    /// The engine settings, including the product page's toggles and username regex.
    #[serde(default)]
    pub policy: SyncPolicy,
    #[serde(default)]
    pub events: EventSettings<SecretInput>,
    /// Who is told when a run is held, fails, ends partial or refuses a login-time sync.
    #[serde(default)]
    pub notify: NotifySettings<SecretInput>,
}

/// Okta settings of a stored app.
#[derive(Debug, Serialize)]
pub struct OktaSettings {
    pub url: Url,
    pub credential: OktaCredential<SecretState>,
    /// The extra CA bundle trusted for Okta, when one is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
}

/// Target settings of a stored app.
#[derive(Debug, Serialize)]
pub struct TargetSettings {
    pub kind: TargetKind,
    pub url: Url,
    pub credential: TargetCredential<SecretState>,
    /// The extra CA bundle trusted for the target, when one is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
    /// Jira's user-server application, when one is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_server: Option<UserServer<SecretState>>,
}

/// A validated, stored app. Holds no secret values, only their [`SecretState`].
#[derive(Debug, Serialize)]
pub struct App {
    pub id: AppId,
    pub name: String,
    pub okta: OktaSettings,
    pub target: TargetSettings,
    pub schedule: Schedule,
    pub policy: SyncPolicy,
    pub events: EventSettings<SecretState>,
    pub notify: NotifySettings<SecretState>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl AppDraft {
    /// Every secret slot this draft's configuration uses, with its input.
    #[must_use]
    pub fn secret_inputs(&self) -> Vec<(SecretSlot, &SecretInput)> {
        let mut all = every_secret(
            &self.okta.credential,
            &self.target.credential,
            self.target.user_server.as_ref(),
            &self.events,
        );
        all.extend(self.notify.secrets().into_iter().map(|(s, i, _)| (s, i)));
        all
    }
}

impl App {
    /// Every secret slot this app's configuration uses, with its state.
    #[must_use]
    pub fn secret_states(&self) -> Vec<(SecretSlot, &SecretState)> {
        let mut all = every_secret(
            &self.okta.credential,
            &self.target.credential,
            self.target.user_server.as_ref(),
            &self.events,
        );
        all.extend(self.notify.secrets().into_iter().map(|(s, i, _)| (s, i)));
        all
    }

    /// The origin `slot`'s secret is bound to: of the Okta or target URL, or the SMTP server.
    #[must_use]
    pub fn origin_for(&self, slot: SecretSlot) -> String {
        match slot.side() {
            SecretSide::Okta => origin_of(&self.okta.url),
            SecretSide::Target => origin_of(&self.target.url),
            SecretSide::Webhook | SecretSide::Smtp => self.notify.origin_for(slot),
        }
    }
}

/// The secrets of an app's two credentials, Jira's user server and the event hook, in slot order.
fn every_secret<'a, S>(
    okta: &'a OktaCredential<S>,
    target: &'a TargetCredential<S>,
    user_server: Option<&'a UserServer<S>>,
    events: &'a EventSettings<S>,
) -> Vec<(SecretSlot, &'a S)> {
    let mut all = okta.secrets();
    all.extend(target.secrets());
    all.extend(user_server.map(|u| (SecretSlot::UserServerPassword, &u.password)));
    all.push((SecretSlot::HookSecret, &events.hook_secret));
    all
}
