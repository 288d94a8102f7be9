//! Emulator worlds: the Okta emulator with a generated, seeded org and a Jira,
//! Confluence or Crowd emulator, each on `127.0.0.1:0`, and the app TOML that connects them.

use std::collections::BTreeMap;

use usersync_sim::confluence::{ConfluenceSim, ConfluenceSimConfig};
use usersync_sim::crowd::{CrowdSim, CrowdSimConfig};
use usersync_sim::jira::{JiraSim, JiraSimConfig};
use usersync_sim::okta::{OktaSim, OktaSimConfig, OrgSpec};
use usersync_sim::scim::{Profile, ScimSim, ScimSimConfig};

use crate::AppToml;

/// An org of `users` users and `groups` groups from `seed`, generator defaults otherwise.
#[must_use]
pub fn org(users: usize, groups: usize, seed: u64) -> OrgSpec {
    OrgSpec {
        users,
        groups,
        seed,
        ..OrgSpec::default()
    }
}

/// A small org (two memberships per user): enough to exercise every path, fast to sync.
#[must_use]
pub fn small_org(users: usize, groups: usize, seed: u64) -> OrgSpec {
    OrgSpec {
        memberships_per_user: 2.0,
        ..org(users, groups, seed)
    }
}

/// The Okta emulator holding `org`.
///
/// # Panics
/// When the emulator does not start.
pub async fn start_okta(org: OrgSpec) -> OktaSim {
    start_okta_with(OktaSimConfig {
        org: Some(org),
        ..OktaSimConfig::default()
    })
    .await
}

/// The Okta emulator with `config` (rate limits, faults, no org…).
///
/// # Panics
/// When the emulator does not start.
pub async fn start_okta_with(config: OktaSimConfig) -> OktaSim {
    OktaSim::start(config)
        .await
        .expect("the Okta emulator starts")
}

/// The Jira emulator with `config`.
///
/// # Panics
/// When the emulator does not start.
pub async fn start_jira(config: JiraSimConfig) -> JiraSim {
    JiraSim::start(config)
        .await
        .expect("the Jira emulator starts")
}

/// The Confluence emulator of `version`, defaults otherwise.
///
/// # Panics
/// When the emulator does not start.
pub async fn start_confluence(version: &str) -> ConfluenceSim {
    ConfluenceSim::start(ConfluenceSimConfig {
        version: version.into(),
        ..ConfluenceSimConfig::default()
    })
    .await
    .expect("the Confluence emulator starts")
}

/// The TOML of an app named `name` from `okta` to `wiki` as the emulator's administrator.
#[must_use]
pub fn confluence_app(name: &str, okta: &OktaSim, wiki: &ConfluenceSim) -> AppToml {
    AppToml::new(name, &okta.base_url(), okta.api_token(), &wiki.base_url()).kind("confluence")
}

/// The SCIM emulator with `profile`, defaults otherwise (token `scim-sim-token`,
/// verified domain `example.com`).
///
/// # Panics
/// When the emulator does not start.
pub async fn start_scim(profile: Profile) -> ScimSim {
    ScimSim::start(ScimSimConfig {
        profile,
        ..ScimSimConfig::default()
    })
    .await
    .expect("the SCIM emulator starts")
}

/// The TOML of an app named `name` from `okta` to the SCIM service at `url` with
/// `token`, of `kind` (`scim` or `atlassian-cloud`).
#[must_use]
pub fn scim_app(name: &str, okta: &OktaSim, kind: &str, url: &str, token: &str) -> AppToml {
    AppToml::new(name, &okta.base_url(), okta.api_token(), url)
        .kind(kind)
        .bearer(token)
}

/// The Crowd emulator with its defaults (application `usersync`, loopback allowed).
///
/// # Panics
/// When the emulator does not start.
pub async fn start_crowd() -> CrowdSim {
    CrowdSim::start(CrowdSimConfig::default())
        .await
        .expect("the Crowd emulator starts")
}

/// The TOML of an app named `name` from `okta` to `crowd` as its application.
#[must_use]
pub fn crowd_app(name: &str, okta: &OktaSim, crowd: &CrowdSim) -> AppToml {
    AppToml::new(name, &okta.base_url(), okta.api_token(), crowd.base_url())
        .crowd_application(crowd.application(), crowd.application_password())
}

/// Okta and Jira emulators, started together.
pub struct Sims {
    pub okta: OktaSim,
    pub jira: JiraSim,
}

impl Sims {
    /// Okta holding `org` and a Jira emulator with its defaults.
    pub async fn start(org: OrgSpec) -> Self {
        Self::with_jira(org, JiraSimConfig::default()).await
    }

    /// Okta holding `org` and a Jira emulator with `jira`.
    pub async fn with_jira(org: OrgSpec, jira: JiraSimConfig) -> Self {
        Self {
            okta: start_okta(org).await,
            jira: start_jira(jira).await,
        }
    }

    /// Okta holding `org` and a Jira emulator whose administrator has `password`
    /// (distinctive, so tests can search answers and logs for it).
    pub async fn with_jira_password(org: OrgSpec, password: &str) -> Self {
        let jira = JiraSimConfig {
            admin_password: password.to_owned(),
            ..JiraSimConfig::default()
        };
        Self::with_jira(org, jira).await
    }

    /// The TOML of an app named `name` from this Okta to this Jira as its administrator.
    #[must_use]
    pub fn app(&self, name: &str) -> AppToml {
        AppToml::new(
            name,
            &self.okta.base_url(),
            self.okta.api_token(),
            self.jira.base_url(),
        )
        .basic(self.jira.admin_username(), self.jira.admin_password())
    }
}

/// Jira's users (lower-cased username to active), without the emulator's administrator.
#[must_use]
pub fn jira_users(jira: &JiraSim) -> BTreeMap<String, bool> {
    jira.users()
        .into_iter()
        .filter(|u| u.name != jira.admin_username())
        .map(|u| (u.name.to_lowercase(), u.active))
        .collect()
}
