//! Syncing into SCIM 2.0 services: the emulator's generic and Atlassian Cloud
//! profiles, and `scim2-server` (PyPI), a SCIM server nobody here wrote. One
//! journey for each: first sync, a no-op second sync, changes, a deactivation,
//! group membership. What the service holds is read with plain HTTP GETs, not
//! with usersync's client.

use std::collections::BTreeMap;

use pretty_assertions::assert_eq;
use serde_json::Value;
use usersync::engine::{Deps, Mode, Silent, run_sync_once};
use usersync_core::{OktaGroupType, OktaStatus};
use usersync_sim::okta::{NewUser, OktaSim, OrgSpec};
use usersync_sim::scim::Profile;
use usersync_store::{RunStatus, RunTrigger};
use usersync_testkit::{DataDir, scim_app, start_scim};

use crate::helpers::{assert_status, start_okta};

const LIMITS: &str =
    "[app.policy.limits]\nmax_destructive = 100\nmax_destructive_percent = 100.0\n";

/// What a SCIM service holds, read with plain GETs.
pub struct Observed {
    /// userName (lower-cased) to (active, externalId, displayName).
    pub users: BTreeMap<String, (bool, Option<String>, String)>,
    /// displayName to member userNames (lower-cased, sorted).
    pub groups: BTreeMap<String, Vec<String>>,
}

pub async fn observe(base: &str, token: &str) -> Observed {
    let http = reqwest::Client::new();
    let get = |path: &str| {
        http.get(format!("{base}/{path}?startIndex=1&count=100"))
            .bearer_auth(token)
            .send()
    };
    let users: Value = get("Users").await.unwrap().json().await.unwrap();
    let groups: Value = get("Groups").await.unwrap().json().await.unwrap();
    let mut by_id = BTreeMap::new();
    let mut out = Observed {
        users: BTreeMap::new(),
        groups: BTreeMap::new(),
    };
    for u in users["Resources"].as_array().unwrap() {
        let name = u["userName"].as_str().unwrap().to_lowercase();
        by_id.insert(u["id"].as_str().unwrap().to_owned(), name.clone());
        let external = u["externalId"].as_str().map(str::to_owned);
        let display = u["displayName"].as_str().unwrap_or("").to_owned();
        out.users
            .insert(name, (u["active"] != Value::Bool(false), external, display));
    }
    for g in groups["Resources"].as_array().unwrap() {
        let mut members: Vec<String> = g["members"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| by_id.get(m["value"].as_str().unwrap_or("")).cloned())
            .collect();
        members.sort();
        out.groups
            .insert(g["displayName"].as_str().unwrap().to_owned(), members);
    }
    out
}

/// Okta with three users and one group of two.
pub async fn small_okta() -> (OktaSim, BTreeMap<&'static str, String>) {
    let okta = start_okta(OrgSpec {
        users: 0,
        groups: 0,
        ..OrgSpec::default()
    })
    .await;
    let group = okta
        .add_group("engineering", None, OktaGroupType::OktaGroup)
        .unwrap();
    let mut ids = BTreeMap::new();
    for (name, first, last) in [
        ("alice", "Alice", "Liddell"),
        ("bob", "Bob", "Builder"),
        ("carol", "Carol", "Danvers"),
    ] {
        let id = okta
            .add_user(NewUser::new(&format!("{name}@example.com"), first, last))
            .unwrap();
        if name != "carol" {
            okta.add_member(group.as_str(), id.as_str()).unwrap();
        }
        ids.insert(name, id.as_str().to_owned());
    }
    (okta, ids)
}

/// The whole journey against the SCIM service at `base`; `writes` counts the
/// service's non-GET requests so far, when it can say.
pub async fn journey(kind: &str, base: &str, token: &str, writes: &dyn Fn() -> Option<usize>) {
    let (okta, ids) = small_okta().await;
    let dir = DataDir::new();
    let app = scim_app("scim", &okta, kind, base, token).section(LIMITS);
    let store = dir.store_with_apps(&app.to_string(), "test").await;
    let deps = Deps::new(store).with_progress(std::sync::Arc::new(Silent));
    let sync = || run_sync_once(&deps, "scim", RunTrigger::Manual, Mode::Apply);

    let first = sync().await.unwrap();
    assert_status(&first, RunStatus::Succeeded);
    let seen = observe(base, token).await;
    assert_eq!(
        seen.users["alice@example.com"],
        (true, Some(ids["alice"].clone()), "Alice Liddell".to_owned())
    );
    assert_eq!(seen.users.len(), 3, "{:?}", seen.users.keys());
    assert_eq!(
        seen.groups["engineering"],
        vec!["alice@example.com".to_owned(), "bob@example.com".to_owned()]
    );

    let before = writes();
    let second = sync().await.unwrap();
    assert_status(&second, RunStatus::Succeeded);
    assert!(
        second.plan.as_ref().is_some_and(|p| p.is_empty()),
        "{:?}",
        second.plan
    );
    assert_eq!(
        writes(),
        before,
        "a second sync of an unchanged org writes nothing"
    );

    let group = okta.groups_of(&ids["alice"])[0].clone();
    okta.remove_member(group.as_str(), &ids["alice"]).unwrap();
    okta.add_member(group.as_str(), &ids["carol"]).unwrap();
    okta.update_profile(
        &ids["carol"],
        BTreeMap::from([("lastName".to_owned(), Value::from("Marvel"))]),
    )
    .unwrap();
    okta.set_status(&ids["bob"], OktaStatus::Suspended).unwrap();
    let third = sync().await.unwrap();
    assert_status(&third, RunStatus::Succeeded);
    let seen = observe(base, token).await;
    assert!(
        !seen.users["bob@example.com"].0,
        "bob is deactivated: {:?}",
        seen.users
    );
    assert!(seen.users["alice@example.com"].0);
    assert_eq!(seen.users["carol@example.com"].2, "Carol Marvel");
    let members = &seen.groups["engineering"];
    assert!(
        members.contains(&"carol@example.com".to_owned()),
        "{members:?}"
    );
    assert!(
        !members.contains(&"alice@example.com".to_owned()),
        "{members:?}"
    );

    okta.set_status(&ids["bob"], OktaStatus::Active).unwrap();
    let fourth = sync().await.unwrap();
    assert_status(&fourth, RunStatus::Succeeded);
    assert!(
        observe(base, token).await.users["bob@example.com"].0,
        "bob is active again"
    );
}

#[tokio::test]
async fn a_sync_into_the_generic_scim_emulator_creates_changes_deactivates_and_mirrors_groups() {
    let sim = start_scim(Profile::Generic).await;
    let writes = || Some(sim.requests().iter().filter(|r| r.method != "GET").count());
    journey("scim", sim.base_url(), sim.token(), &writes).await;
    let patches_with_etag = sim
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH" && r.if_match.is_some())
        .count();
    assert!(
        patches_with_etag > 0,
        "the emulator offers ETags, so writes send If-Match"
    );
}

#[tokio::test]
async fn a_sync_into_the_atlassian_cloud_emulator_works_within_its_limits() {
    let sim = start_scim(Profile::AtlassianCloud).await;
    let writes = || Some(sim.requests().iter().filter(|r| r.method != "GET").count());
    journey("atlassian-cloud", sim.base_url(), sim.token(), &writes).await;
    let refused = sim
        .requests()
        .into_iter()
        .filter(|r| r.status >= 400)
        .collect::<Vec<_>>();
    assert!(
        refused.is_empty(),
        "no request broke a Cloud limit: {refused:?}"
    );
}

#[tokio::test]
async fn a_sync_into_scim2_server_a_server_nobody_here_wrote_takes_the_same_journey() {
    let Some(server) = usersync_testkit::ScimServer::start() else {
        return;
    };
    journey("scim", server.base_url(), server.token(), &|| None).await;
}

/// scim2-server announcing no PATCH: every change is a read-modify-PUT.
#[tokio::test]
async fn a_scim_service_without_patch_is_written_with_put() {
    let config = serde_json::json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "patch": {"supported": false},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": 1000},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": true},
        "authenticationSchemes": [{"type": "oauthbearertoken", "name": "bearer_token", "description": "HTTP Bearer Token"}]
    });
    let Some(server) = usersync_testkit::ScimServer::start_with(Some(&config.to_string())) else {
        return;
    };
    journey("scim", server.base_url(), server.token(), &|| None).await;
}

/// The emulator announcing no PATCH: the journey holds with PUT alone.
#[tokio::test]
async fn a_sync_into_a_scim_emulator_without_patch_writes_only_with_put() {
    let sim = usersync_sim::scim::ScimSim::start(usersync_sim::scim::ScimSimConfig {
        features: Some(usersync_sim::scim::Features {
            patch: false,
            etag: true,
            max_results: 50,
        }),
        ..usersync_sim::scim::ScimSimConfig::default()
    })
    .await
    .unwrap();
    let writes = || Some(sim.requests().iter().filter(|r| r.method != "GET").count());
    journey("scim", sim.base_url(), sim.token(), &writes).await;
    let methods: Vec<String> = sim.requests().into_iter().map(|r| r.method).collect();
    assert!(!methods.iter().any(|m| m == "PATCH"), "{methods:?}");
    assert!(methods.iter().any(|m| m == "PUT"), "{methods:?}");
}

/// Atlassian Cloud cannot rename a group: with `group_renames = "recreate"` a group
/// renamed in Okta becomes a new group with the members, and the old one is deleted,
/// without a single refused request.
#[tokio::test]
async fn a_group_renamed_in_okta_is_recreated_in_atlassian_cloud_never_renamed() {
    let sim = start_scim(Profile::AtlassianCloud).await;
    let (okta, ids) = small_okta().await;
    let dir = DataDir::new();
    let app = scim_app(
        "scim",
        &okta,
        "atlassian-cloud",
        sim.base_url(),
        sim.token(),
    )
    .section(&format!(
        "{LIMITS}\n[app.policy]\ngroup_renames = \"recreate\"\n"
    ));
    let store = dir.store_with_apps(&app.to_string(), "test").await;
    let deps = Deps::new(store).with_progress(std::sync::Arc::new(Silent));
    assert_status(
        &run_sync_once(&deps, "scim", RunTrigger::Manual, Mode::Apply)
            .await
            .unwrap(),
        RunStatus::Succeeded,
    );
    let group = okta.groups_of(&ids["alice"])[0].clone();
    reqwest::Client::new()
        .put(format!(
            "{}/api/v1/groups/{}",
            okta.base_url(),
            group.as_str()
        ))
        .header("Authorization", format!("SSWS {}", okta.api_token()))
        .json(
            &serde_json::json!({"profile": {"name": "platform", "description": "renamed in Okta"}}),
        )
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    let outcome = run_sync_once(&deps, "scim", RunTrigger::Manual, Mode::Apply)
        .await
        .unwrap();
    assert_status(&outcome, RunStatus::Succeeded);
    assert_eq!(sim.groups(), vec!["platform".to_owned()]);
    assert_eq!(
        sim.members("platform").unwrap(),
        vec!["alice@example.com".to_owned(), "bob@example.com".to_owned()]
    );
    let refused: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.status >= 400)
        .collect();
    assert!(refused.is_empty(), "{refused:?}");
}
