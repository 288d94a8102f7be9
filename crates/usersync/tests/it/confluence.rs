//! Syncing into the Confluence emulator, and refusing before any change when the
//! Confluence version cannot do what the app's settings need.

use pretty_assertions::assert_eq;
use usersync::engine::{Deps, Mode, Silent, run_sync_once};
use usersync_core::OktaGroupType;
use usersync_sim::okta::{NewUser, OrgSpec};
use usersync_store::{RunStatus, RunTrigger};

use usersync_testkit::{AppToml, DataDir, start_confluence};

use crate::helpers::{assert_status, start_okta};

#[tokio::test]
async fn a_sync_into_confluence_creates_lower_case_users_groups_and_memberships() {
    let okta = start_okta(OrgSpec {
        users: 0,
        groups: 0,
        ..OrgSpec::default()
    })
    .await;
    let wiki = okta
        .add_group("wiki-editors", None, OktaGroupType::OktaGroup)
        .unwrap();
    for (login, first, last) in [
        ("Ada.Lovelace@example.com", "Ada", "Lovelace"),
        ("alan.turing@example.com", "Alan", "Turing"),
    ] {
        let id = okta.add_user(NewUser::new(login, first, last)).unwrap();
        okta.add_member(wiki.as_str(), id.as_str()).unwrap();
    }
    let sim = start_confluence("10.2.0").await;
    let dir = DataDir::new();
    let app = AppToml::new("wiki", &okta.base_url(), okta.api_token(), &sim.base_url())
        .kind("confluence")
        .username(r"^([^@]+)@example\.com$", "$1");
    let store = dir.store_with_apps(&app.to_string(), "test").await;
    let deps = Deps::new(store).with_progress(std::sync::Arc::new(Silent));

    let outcome = run_sync_once(&deps, "wiki", RunTrigger::Manual, Mode::Apply)
        .await
        .unwrap();

    assert_status(&outcome, RunStatus::Succeeded);
    assert!(
        sim.user("ada.lovelace").is_some_and(|u| u.active),
        "{:?}",
        sim.users()
    );
    assert!(sim.user("alan.turing").is_some());
    let mut members = sim.members("wiki-editors");
    members.sort();
    assert_eq!(
        members,
        vec!["ada.lovelace".to_owned(), "alan.turing".to_owned()]
    );
    sim.clear_requests();
    let again = run_sync_once(&deps, "wiki", RunTrigger::Manual, Mode::Apply)
        .await
        .unwrap();
    assert!(again.plan.unwrap().is_empty());
    let writes: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET")
        .collect();
    assert!(writes.is_empty(), "{writes:?}");
}

#[tokio::test]
async fn an_app_needing_what_the_confluence_version_cannot_do_is_refused_before_any_change() {
    let okta = start_okta(OrgSpec {
        users: 5,
        groups: 1,
        seed: 3,
        ..OrgSpec::default()
    })
    .await;
    let sim = start_confluence("8.5.0").await;
    let dir = DataDir::new();
    let app = AppToml::new(
        "old-wiki",
        &okta.base_url(),
        okta.api_token(),
        &sim.base_url(),
    )
    .kind("confluence");
    let store = dir.store_with_apps(&app.to_string(), "test").await;
    let deps = Deps::new(store).with_progress(std::sync::Arc::new(Silent));

    let outcome = run_sync_once(&deps, "old-wiki", RunTrigger::Manual, Mode::Apply)
        .await
        .unwrap();

    assert_eq!(outcome.status, RunStatus::Failed);
    let reason = &outcome.reasons[0];
    assert!(
        reason.contains("create groups") && reason.contains("8.5"),
        "{reason}"
    );
    assert_eq!(okta.request_count(), 0, "Okta was not even read");
    assert!(
        sim.requests().iter().all(|r| r.method == "GET"),
        "nothing was written"
    );
}
