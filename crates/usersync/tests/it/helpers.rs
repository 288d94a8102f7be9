//! A world to test in: an Okta emulator with a generated org, a Jira emulator, and a
//! store in a temporary directory with one app connecting them.

use std::collections::{BTreeMap, BTreeSet};

use usersync::engine::{Deps, Mode, RunOutcome, Silent, run_sync_once};
use usersync_core::{OktaGroupType, OktaSnapshot, StatusClass, status_class};
use usersync_sim::jira::JiraSim;
use usersync_sim::okta::{OktaSim, OrgSpec};
use usersync_store::RunTrigger;
use usersync_testkit::{Backend, DataDir, Sims, TestDb, small_org as seeded};

pub const APP: &str = "jira";

pub struct World {
    pub okta: OktaSim,
    pub jira: JiraSim,
    pub deps: Deps,
    /// Kept so the data directory (and database) lives as long as the world.
    _db: TestDb,
}

/// A small org: enough users and groups to exercise every path, fast to sync.
pub fn small_org() -> OrgSpec {
    seeded(40, 5, 7)
}

pub async fn start_okta(org: OrgSpec) -> OktaSim {
    usersync::telemetry::init_for_tests();
    usersync_testkit::start_okta(org).await
}

impl World {
    /// Suspends the first `n` active Okta users; their logins, lower-cased.
    pub fn suspend_active(&self, n: usize) -> Vec<String> {
        let snapshot = self.okta.snapshot();
        let victims: Vec<_> = snapshot
            .users
            .iter()
            .filter(|u| u.status == usersync_core::OktaStatus::Active)
            .take(n)
            .collect();
        for user in &victims {
            self.okta
                .set_status(user.id.as_str(), usersync_core::OktaStatus::Suspended)
                .unwrap();
        }
        victims.iter().map(|u| u.login.to_lowercase()).collect()
    }

    pub async fn new(org: OrgSpec) -> World {
        Self::with_policy(org, "").await
    }

    /// `policy` is extra TOML appended inside the app.
    pub async fn with_policy(org: OrgSpec, policy: &str) -> World {
        Self::on(Backend::Sqlite, org, policy).await
    }

    /// A world whose store is on `backend` (PostgreSQL: a fresh database of its own).
    pub async fn on(backend: Backend, org: OrgSpec, policy: &str) -> World {
        usersync::telemetry::init_for_tests();
        let sims = Sims::start(org).await;
        let app = sims.app(APP).section(policy).to_string();
        let Sims { okta, jira } = sims;
        let db = TestDb::new(backend).await;
        let store = db.open().await;
        usersync_testkit::apply_apps(&store, &app, "test").await;
        let deps = Deps::new(store).with_progress(std::sync::Arc::new(Silent));
        World {
            okta,
            jira,
            deps,
            _db: db,
        }
    }

    /// A world of emulators and a store set up by the caller.
    pub fn from_parts(okta: OktaSim, jira: JiraSim, deps: Deps, dir: DataDir) -> World {
        World {
            okta,
            jira,
            deps,
            _db: TestDb {
                dir,
                postgres: None,
            },
        }
    }

    pub async fn sync(&self) -> RunOutcome {
        run_sync_once(&self.deps, APP, RunTrigger::Manual, Mode::Apply)
            .await
            .expect("the run starts")
    }

    /// Jira's users (lower-cased username to active), without the admin.
    pub fn jira_users(&self) -> BTreeMap<String, bool> {
        usersync_testkit::jira_users(&self.jira)
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

/// Asserts a run ended `expected`, showing its reasons when it did not.
#[track_caller]
pub fn assert_status(outcome: &RunOutcome, expected: usersync_store::RunStatus) {
    assert_eq!(outcome.status, expected, "{:?}", outcome.reasons);
}
