//! Syncing into the Confluence emulator on every release usersync supports (7.19,
//! 8.5, 9.2 and 10.3: JSON-RPC does what each release's REST API lacks), and
//! refusing before any change, naming the release that adds what is missing, when
//! a target cannot do what the app's settings need.

use std::collections::BTreeMap;

use pretty_assertions::assert_eq;
use serde_json::json;
use usersync::engine::{Deps, Mode, RunOutcome, Silent, run_sync_once};
use usersync_core::{OktaGroupType, OktaStatus};
use usersync_sim::confluence::ConfluenceSim;
use usersync_sim::jira::JiraSimConfig;
use usersync_sim::okta::{NewUser, OktaSim, OrgSpec};
use usersync_store::{RunStatus, RunTrigger};

use usersync_testkit::{AppToml, DataDir, start_confluence, start_jira};

use crate::helpers::{assert_status, start_okta};

/// An Okta org of three people in `wiki-editors`, their Okta ids by login.
async fn wiki_org() -> (OktaSim, BTreeMap<&'static str, String>) {
    let okta = start_okta(OrgSpec {
        users: 0,
        groups: 0,
        ..OrgSpec::default()
    })
    .await;
    let wiki = okta
        .add_group("wiki-editors", None, OktaGroupType::OktaGroup)
        .unwrap();
    let mut ids = BTreeMap::new();
    for (login, first, last) in [
        ("Ada.Lovelace@example.com", "Ada", "Lovelace"),
        ("alan.turing@example.com", "Alan", "Turing"),
        ("grace.hopper@example.com", "Grace", "Hopper"),
    ] {
        let id = okta.add_user(NewUser::new(login, first, last)).unwrap();
        okta.add_member(wiki.as_str(), id.as_str()).unwrap();
        ids.insert(login, id.to_string());
    }
    (okta, ids)
}

/// The default app (import, update, enable/disable, groups) from `okta` to `wiki`.
async fn default_app(okta: &OktaSim, wiki: &ConfluenceSim) -> (Deps, DataDir) {
    let dir = DataDir::new();
    let app = AppToml::new("wiki", &okta.base_url(), okta.api_token(), &wiki.base_url())
        .kind("confluence")
        .username(r"^([^@]+)@example\.com$", "$1");
    let store = dir.store_with_apps(&app.to_string(), "test").await;
    (
        Deps::new(store).with_progress(std::sync::Arc::new(Silent)),
        dir,
    )
}

async fn sync(deps: &Deps) -> RunOutcome {
    run_sync_once(deps, "wiki", RunTrigger::Manual, Mode::Apply)
        .await
        .unwrap()
}

/// The requests since the last clear that could change Confluence.
fn writes(wiki: &ConfluenceSim) -> Vec<String> {
    wiki.requests()
        .into_iter()
        .filter(|r| r.is_write())
        .map(|r| format!("{} {} {}", r.method, r.path, r.rpc_method().unwrap_or("")))
        .collect()
}

/// The default app converges on `version`: users, groups and memberships created,
/// a second sync writes nothing, a changed name is updated, and a user suspended
/// in Okta is deactivated; `rpc` are the JSON-RPC methods the release needs.
async fn the_default_app_converges_on(version: &str, rpc: &[&str]) {
    let (okta, ids) = wiki_org().await;
    let wiki = start_confluence(version).await;
    let (deps, _dir) = default_app(&okta, &wiki).await;

    assert_status(&sync(&deps).await, RunStatus::Succeeded);
    for name in ["ada.lovelace", "alan.turing", "grace.hopper"] {
        assert!(
            wiki.user(name).is_some_and(|u| u.active),
            "{version}: {name}"
        );
    }
    assert_eq!(
        wiki.members("wiki-editors"),
        ["ada.lovelace", "alan.turing", "grace.hopper"],
        "{version}"
    );
    let mut used: Vec<String> = wiki
        .requests()
        .iter()
        .filter_map(|r| r.rpc_method().map(str::to_owned))
        .filter(|m| !m.starts_with("get"))
        .collect();
    used.sort();
    used.dedup();

    wiki.clear_requests();
    let again = sync(&deps).await;
    assert!(again.plan.unwrap().is_empty(), "{version}");
    assert_eq!(
        writes(&wiki),
        Vec::<String>::new(),
        "{version}: a second sync writes nothing"
    );

    okta.update_profile(
        &ids["alan.turing@example.com"],
        [("firstName".to_owned(), json!("Alonzo"))].into(),
    )
    .unwrap();
    okta.set_status(&ids["grace.hopper@example.com"], OktaStatus::Suspended)
        .unwrap();
    assert_status(&sync(&deps).await, RunStatus::Succeeded);
    assert_eq!(
        wiki.user("alan.turing").unwrap().display_name,
        "Alonzo Turing",
        "{version}"
    );
    assert!(
        !wiki.user("grace.hopper").unwrap().active,
        "{version}: suspended in Okta"
    );
    assert!(wiki.user("ada.lovelace").unwrap().active, "{version}");
    for r in wiki.requests() {
        if let Some(m) = r.rpc_method().filter(|m| !m.starts_with("get")) {
            used.push(m.to_owned());
        }
    }
    used.sort();
    used.dedup();
    assert_eq!(used, rpc, "{version}: the JSON-RPC methods used");

    wiki.clear_requests();
    assert!(sync(&deps).await.plan.unwrap().is_empty(), "{version}");
    assert_eq!(writes(&wiki), Vec::<String>::new(), "{version}");
}

#[tokio::test]
async fn the_default_app_converges_on_confluence_7_19_through_json_rpc() {
    let rpc = [
        "addGroup",
        "addUser",
        "addUserToGroup",
        "deactivateUser",
        "editUser",
    ];
    the_default_app_converges_on("7.19.0", &rpc).await;
}

#[tokio::test]
async fn the_default_app_converges_on_confluence_8_5_with_groups_and_updates_through_json_rpc() {
    let rpc = ["addGroup", "addUserToGroup", "editUser"];
    the_default_app_converges_on("8.5.0", &rpc).await;
}

#[tokio::test]
async fn the_default_app_converges_on_confluence_9_2_with_updates_through_json_rpc() {
    the_default_app_converges_on("9.2.0", &["editUser"]).await;
}

#[tokio::test]
async fn the_default_app_converges_on_confluence_10_3_through_rest_alone() {
    the_default_app_converges_on("10.3.0", &[]).await;
}

#[tokio::test]
async fn a_target_lacking_what_the_settings_need_is_refused_naming_the_release_and_only_settings_that_can_be_turned_off()
 {
    let okta = start_okta(OrgSpec {
        users: 5,
        groups: 1,
        seed: 3,
        ..OrgSpec::default()
    })
    .await;
    let jira = start_jira(JiraSimConfig {
        version: "8.2.0".into(),
        ..JiraSimConfig::default()
    })
    .await;
    let dir = DataDir::new();
    let app = AppToml::new(
        "old-jira",
        &okta.base_url(),
        okta.api_token(),
        jira.base_url(),
    );
    let store = dir.store_with_apps(&app.to_string(), "test").await;
    let deps = Deps::new(store).with_progress(std::sync::Arc::new(Silent));

    let outcome = run_sync_once(&deps, "old-jira", RunTrigger::Manual, Mode::Apply)
        .await
        .unwrap();

    assert_eq!(outcome.status, RunStatus::Failed);
    let reason = &outcome.reasons[0];
    assert!(
        reason.contains("jira 8.2.0 cannot activate and deactivate users")
            && reason.contains("Jira 8.3 adds it, or turn Enable/Disable Users (Actions) off"),
        "{reason}"
    );
    assert_eq!(reason.matches("turn ").count(), 1, "{reason}");
    assert_eq!(okta.request_count(), 0, "Okta was not even read");
    assert!(
        jira.requests().iter().all(|r| r.method == "GET"),
        "nothing was written"
    );
}

#[tokio::test]
async fn check_says_which_api_each_needed_ability_goes_through() {
    let (okta, _) = wiki_org().await;
    for (version, via) in [("7.19.0", "JSON-RPC"), ("10.3.0", "REST")] {
        let wiki = start_confluence(version).await;
        let (deps, _dir) = default_app(&okta, &wiki).await;
        let report = usersync::engine::check::check(&deps, "wiki").await.unwrap();
        assert!(report.ok, "{version}: {report:?}");
        let groups = report
            .lines
            .iter()
            .find(|l| l.what == "create groups")
            .unwrap();
        assert!(
            groups.detail.starts_with(&format!("supported via {via} ")),
            "{version}: {}",
            groups.detail
        );
    }
}

#[tokio::test]
async fn a_single_user_sync_on_confluence_7_19_creates_and_then_deactivates_that_user_alone() {
    let (okta, ids) = wiki_org().await;
    let wiki = start_confluence("7.19.0").await;
    let (deps, _dir) = default_app(&okta, &wiki).await;
    let login = "alan.turing@example.com";

    let outcome = usersync::engine::sync_user(&deps, "wiki", login, RunTrigger::Login)
        .await
        .unwrap();
    assert_status(&outcome, RunStatus::Succeeded);
    assert!(wiki.user("alan.turing").is_some_and(|u| u.active));
    assert_eq!(wiki.members("wiki-editors"), ["alan.turing"]);
    assert!(
        wiki.user("ada.lovelace").is_none(),
        "no one else was touched"
    );

    okta.set_status(&ids[login], OktaStatus::Suspended).unwrap();
    let outcome = usersync::engine::sync_user(&deps, "wiki", login, RunTrigger::Event)
        .await
        .unwrap();
    assert_status(&outcome, RunStatus::Succeeded);
    assert!(!wiki.user("alan.turing").unwrap().active);
    let methods: Vec<String> = wiki
        .requests()
        .iter()
        .filter(|r| r.is_write())
        .filter_map(|r| r.rpc_method().map(str::to_owned))
        .collect();
    assert_eq!(
        methods,
        ["addGroup", "addUser", "addUserToGroup", "deactivateUser"]
    );
}
