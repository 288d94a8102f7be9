//! Syncing into the Crowd emulator with the default app (Import, Update and
//! Enable/Disable Users on, groups from Okta): the first sync converges, a second
//! writes nothing, and Okta's changes (a new name, a suspension and its end, group
//! membership changes) reach Crowd through the usermanagement API.

use std::collections::{BTreeMap, BTreeSet};

use pretty_assertions::assert_eq;
use serde_json::json;
use usersync::engine::{Deps, Mode, RunOutcome, Silent, run_sync_once};
use usersync_core::{OktaGroupType, OktaStatus};
use usersync_sim::crowd::CrowdSim;
use usersync_sim::okta::OktaSim;
use usersync_store::{RunStatus, RunTrigger};
use usersync_testkit::{DataDir, crowd_app, start_crowd};

use crate::helpers::{assert_status, expected, small_org, start_okta};

const APP: &str = "crowd";

struct CrowdWorld {
    okta: OktaSim,
    crowd: CrowdSim,
    deps: Deps,
    _dir: DataDir,
}

impl CrowdWorld {
    async fn new() -> Self {
        let okta = start_okta(small_org()).await;
        let crowd = start_crowd().await;
        let dir = DataDir::new();
        let app = crowd_app(APP, &okta, &crowd).to_string();
        let store = dir.store_with_apps(&app, "test").await;
        let deps = Deps::new(store).with_progress(std::sync::Arc::new(Silent));
        Self {
            okta,
            crowd,
            deps,
            _dir: dir,
        }
    }

    async fn sync(&self) -> RunOutcome {
        run_sync_once(&self.deps, APP, RunTrigger::Manual, Mode::Apply)
            .await
            .expect("the run starts")
    }

    /// Crowd's users: lower-cased username to active.
    fn users(&self) -> BTreeMap<String, bool> {
        self.crowd
            .users()
            .into_iter()
            .map(|u| (u.name.to_lowercase(), u.active))
            .collect()
    }

    fn members(&self, group: &str) -> BTreeSet<String> {
        self.crowd
            .members(group)
            .into_iter()
            .map(|m| m.to_lowercase())
            .collect()
    }

    /// Every request that changed Crowd since the log was last cleared.
    fn writes(&self) -> Vec<String> {
        self.crowd
            .requests()
            .into_iter()
            .filter(|r| r.method != "GET")
            .map(|r| format!("{} {}", r.method, r.path))
            .collect()
    }

    /// Crowd matches what Okta implies: active users exist and are active, Okta
    /// groups hold the active members.
    fn assert_in_step(&self) {
        let (users, groups) = expected(&self.okta.snapshot());
        let crowd = self.users();
        for user in &users {
            assert_eq!(
                crowd.get(user),
                Some(&true),
                "{user} should be active in Crowd"
            );
        }
        // A deactivated user keeps their memberships (as in Jira), so only active
        // members are compared.
        for (group, members) in &groups {
            let active: BTreeSet<String> = self
                .members(group)
                .into_iter()
                .filter(|m| crowd.get(m) == Some(&true))
                .collect();
            assert_eq!(&active, members, "active members of {group}");
        }
    }

    async fn okta_api(&self, path: &str, body: Option<serde_json::Value>) {
        let mut request = reqwest::Client::new()
            .post(format!("{}/api/v1/{path}", self.okta.base_url()))
            .header("Authorization", format!("SSWS {}", self.okta.api_token()));
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap().error_for_status().unwrap();
    }
}

#[tokio::test]
async fn the_default_app_converges_on_crowd_and_a_second_sync_writes_nothing() {
    let world = CrowdWorld::new().await;

    let first = world.sync().await;

    assert_status(&first, RunStatus::Succeeded);
    world.assert_in_step();
    let (users, _) = expected(&world.okta.snapshot());
    assert_eq!(
        world.users().len(),
        users.len(),
        "only active Okta users are imported"
    );
    assert!(
        world.crowd.users().iter().all(|u| u.password.len() >= 48),
        "each created user has a long random password"
    );
    world.crowd.clear_requests();
    let second = world.sync().await;
    assert_status(&second, RunStatus::Succeeded);
    assert!(
        second.plan.as_ref().unwrap().is_empty(),
        "{:?}",
        second.plan
    );
    assert_eq!(
        world.writes(),
        Vec::<String>::new(),
        "a second sync makes no writes"
    );
}

#[tokio::test]
async fn okta_changes_reach_crowd_and_a_suspended_user_is_deactivated_then_reactivated() {
    let world = CrowdWorld::new().await;
    assert_status(&world.sync().await, RunStatus::Succeeded);
    let snapshot = world.okta.snapshot();
    let group = snapshot
        .groups
        .iter()
        .find(|g| g.kind == OktaGroupType::OktaGroup)
        .unwrap();
    let members = snapshot.memberships.get(&group.id).unwrap();
    let mut active = snapshot
        .users
        .iter()
        .filter(|u| u.status == OktaStatus::Active);
    let suspended = active.next().unwrap();
    let renamed = active.next().unwrap();
    let joiner = active.find(|u| !members.contains(&u.id)).unwrap();

    world
        .okta
        .set_status(suspended.id.as_str(), OktaStatus::Suspended)
        .unwrap();
    world
        .okta_api(
            &format!("users/{}", renamed.id),
            Some(json!({"profile": {"firstName": "Renamed", "lastName": "Person", "displayName": "Renamed Person"}})),
        )
        .await;
    world
        .okta
        .add_member(group.id.as_str(), joiner.id.as_str())
        .unwrap();

    let outcome = world.sync().await;

    assert_status(&outcome, RunStatus::Succeeded);
    let users = world.users();
    assert_eq!(
        users.get(&suspended.login.to_lowercase()),
        Some(&false),
        "suspended: deactivated"
    );
    let stored = world.crowd.user(&renamed.login).unwrap();
    assert_eq!(stored.display_name, "Renamed Person");
    assert_eq!(
        (stored.first_name.as_str(), stored.last_name.as_str()),
        ("Renamed", "Person")
    );
    assert!(
        !stored.email.is_empty(),
        "the whole user was sent back with the change"
    );
    assert!(
        world
            .members(&group.name)
            .contains(&joiner.login.to_lowercase())
    );
    world.assert_in_step();

    world
        .okta
        .set_status(suspended.id.as_str(), OktaStatus::Active)
        .unwrap();
    assert_status(&world.sync().await, RunStatus::Succeeded);
    assert_eq!(
        world.users().get(&suspended.login.to_lowercase()),
        Some(&true),
        "reactivated"
    );
    world.assert_in_step();
    world.crowd.clear_requests();
    let again = world.sync().await;
    assert!(again.plan.as_ref().unwrap().is_empty(), "{:?}", again.plan);
    assert_eq!(world.writes(), Vec::<String>::new());
}

#[tokio::test]
async fn a_crowd_app_is_checked_as_crowd_and_a_refused_address_says_where_to_allow_it() {
    let world = CrowdWorld::new().await;
    let report = usersync::engine::check(&world.deps, APP).await.unwrap();
    assert!(report.ok, "{report:?}");
    let text = format!("{report:?}");
    assert!(text.contains("crowd 6.0.3"), "{text}");

    world
        .crowd
        .set_allowed_addresses(&["192.0.2.1".parse().unwrap()]);
    let report = usersync::engine::check(&world.deps, APP).await.unwrap();
    assert!(!report.ok);
    let text = format!("{report:?}");
    assert!(text.contains("remote addresses"), "{text}");
    assert_eq!(
        world.writes(),
        Vec::<String>::new(),
        "a check writes nothing"
    );
}
