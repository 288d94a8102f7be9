//! A world to test in: an Okta emulator with a generated org, a Jira emulator, and a
//! store in a temporary directory with one app connecting them.

use std::collections::{BTreeMap, BTreeSet};

use tempfile::TempDir;
use usersync::engine::{Deps, Mode, RunOutcome, Silent, run_sync_once};
use usersync_core::{OktaGroupType, OktaSnapshot, StatusClass, status_class};
use usersync_sim::jira::{JiraSim, JiraSimConfig};
use usersync_sim::okta::{OktaSim, OktaSimConfig, OrgSpec};
use usersync_store::{RunTrigger, Store, apps_from_toml};

pub const APP: &str = "jira";

pub struct World {
    pub okta: OktaSim,
    pub jira: JiraSim,
    pub deps: Deps,
    /// Kept so the data directory lives as long as the world.
    _dir: TempDir,
}

/// A small org: enough users and groups to exercise every path, fast to sync.
pub fn small_org() -> OrgSpec {
    OrgSpec {
        users: 40,
        groups: 5,
        memberships_per_user: 2.0,
        seed: 7,
        ..OrgSpec::default()
    }
}

pub async fn start_okta(org: OrgSpec) -> OktaSim {
    usersync::telemetry::init_for_tests();
    OktaSim::start(OktaSimConfig {
        org: Some(org),
        ..OktaSimConfig::default()
    })
    .await
    .expect("okta emulator starts")
}

/// The TOML of one app; `policy` is extra TOML appended inside the app.
pub fn app_toml(name: &str, okta: &OktaSim, kind: &str, url: &str, policy: &str) -> String {
    format!(
        r#"
[[app]]
name = "{name}"

[app.okta]
url = "{okta_url}"
credential = {{ type = "api_token", token = "{token}" }}

[app.target]
kind = "{kind}"
url = "{url}"
credential = {{ type = "basic", username = "admin", password = "admin" }}

{policy}
"#,
        okta_url = okta.base_url(),
        token = okta.api_token(),
    )
}

pub async fn store_with(dir: &TempDir, toml: &str) -> Store {
    let store = Store::open(dir.path()).await.expect("store opens");
    let drafts = apps_from_toml(toml).expect("the app TOML parses");
    store
        .apply_apps(drafts, "test")
        .await
        .expect("the app is valid");
    store
}

impl World {
    pub async fn new(org: OrgSpec) -> World {
        Self::with_policy(org, "").await
    }

    pub async fn with_policy(org: OrgSpec, policy: &str) -> World {
        let okta = start_okta(org).await;
        let jira = JiraSim::start(JiraSimConfig::default())
            .await
            .expect("jira emulator starts");
        let dir = TempDir::new().expect("temp dir");
        let store = store_with(&dir, &app_toml(APP, &okta, "jira", jira.base_url(), policy)).await;
        let mut deps = Deps::new(store);
        deps.progress = std::sync::Arc::new(Silent);
        World {
            okta,
            jira,
            deps,
            _dir: dir,
        }
    }

    pub async fn sync(&self) -> RunOutcome {
        run_sync_once(&self.deps, APP, RunTrigger::Manual, Mode::Apply)
            .await
            .expect("the run starts")
    }

    /// Jira's users (lower-cased username to active), without the admin.
    pub fn jira_users(&self) -> BTreeMap<String, bool> {
        self.jira
            .users()
            .into_iter()
            .filter(|u| u.name != "admin")
            .map(|u| (u.name.to_lowercase(), u.active))
            .collect()
    }

    /// Jira's members of a group, lower-cased.
    pub fn jira_members(&self, group: &str) -> BTreeSet<String> {
        self.jira
            .members(group)
            .into_iter()
            .map(|m| m.to_lowercase())
            .collect()
    }

    /// Requests to Jira that change something.
    pub fn jira_writes(&self) -> Vec<String> {
        self.jira
            .requests()
            .into_iter()
            .filter(|r| matches!(r.method.as_str(), "POST" | "PUT" | "DELETE"))
            .map(|r| format!("{} {}", r.method, r.path))
            .collect()
    }
}

/// What Jira should hold after syncing `okta` with the default policy: every user
/// whose status counts as active (username = login), and each OKTA_GROUP with its
/// active members.
pub fn expected(okta: &OktaSnapshot) -> (BTreeSet<String>, BTreeMap<String, BTreeSet<String>>) {
    let active: BTreeMap<_, _> = okta
        .users
        .iter()
        .filter(|u| status_class(u.status) == StatusClass::Active)
        .map(|u| (u.id.clone(), u.login.to_lowercase()))
        .collect();
    let mut groups = BTreeMap::new();
    for group in okta
        .groups
        .iter()
        .filter(|g| g.kind == OktaGroupType::OktaGroup)
    {
        let members = okta
            .memberships
            .get(&group.id)
            .into_iter()
            .flatten()
            .filter_map(|id| active.get(id).cloned());
        groups.insert(group.name.clone(), members.collect());
    }
    (active.into_values().collect(), groups)
}

/// Asserts Jira matches what `okta` implies (users exist and are active, groups hold their members).
pub fn assert_in_step(world: &World) {
    let (users, groups) = expected(&world.okta.snapshot());
    let jira = world.jira_users();
    for user in &users {
        assert_eq!(
            jira.get(user),
            Some(&true),
            "{user} should exist in Jira and be active"
        );
    }
    let existing: BTreeSet<String> = world
        .jira
        .groups()
        .into_iter()
        .map(|g| g.name.to_lowercase())
        .collect();
    for (group, members) in &groups {
        assert!(
            existing.contains(&group.to_lowercase()),
            "group {group} should exist in Jira"
        );
        assert_eq!(&world.jira_members(group), members, "members of {group}");
    }
}
