//! Full syncs into the Jira emulator: the first creates, the second writes nothing,
//! and changes made through Okta's API show up after the next one.

use pretty_assertions::assert_eq;
use serde_json::json;
use usersync_store::{RunFilter, RunStatus};

use crate::helpers::{World, assert_in_step, assert_status, expected, small_org};

#[tokio::test]
async fn a_first_sync_creates_the_users_groups_and_memberships_and_a_second_writes_nothing() {
    let world = World::new(small_org()).await;

    let first = world.sync().await;
    assert_eq!(first.status, RunStatus::Succeeded, "{:?}", first.reasons);
    assert_in_step(&world);
    let (users, _) = expected(&world.okta.snapshot());
    assert_eq!(
        world.jira_users().len(),
        users.len(),
        "only active Okta users are imported"
    );
    let links = world
        .deps
        .store
        .load_links(world.deps.store.app_by_name("jira").await.unwrap().id)
        .await
        .unwrap();
    assert_eq!(
        links.users.len(),
        users.len(),
        "every created user is linked"
    );

    world.jira.clear_requests();
    let second = world.sync().await;
    assert_eq!(second.status, RunStatus::Succeeded, "{:?}", second.reasons);
    assert!(
        second.plan.as_ref().unwrap().is_empty(),
        "{:?}",
        second.plan
    );
    assert_eq!(
        world.jira_writes(),
        Vec::<String>::new(),
        "a second sync makes no writes"
    );
    let runs = world
        .deps
        .store
        .list_runs(&RunFilter::default(), 10)
        .await
        .unwrap();
    assert_eq!(runs.len(), 2);
    assert!(runs.iter().all(|r| r.status == RunStatus::Succeeded));
}

#[tokio::test]
async fn a_full_sync_with_the_store_on_postgres_creates_everything_and_a_second_writes_nothing() {
    if !usersync_testkit::Backend::Postgres.available() {
        return;
    }
    let world = World::on(usersync_testkit::Backend::Postgres, small_org(), "").await;
    assert!(world.deps.store.is_postgres());

    let first = world.sync().await;
    assert_eq!(first.status, RunStatus::Succeeded, "{:?}", first.reasons);
    assert_in_step(&world);
    let jira_app = world.deps.store.app_by_name("jira").await.unwrap();
    let links = world.deps.store.load_links(jira_app.id).await.unwrap();
    assert_eq!(links.users.len(), world.jira_users().len());

    world.jira.clear_requests();
    let second = world.sync().await;
    assert_eq!(second.status, RunStatus::Succeeded, "{:?}", second.reasons);
    assert_eq!(world.jira_writes(), Vec::<String>::new());
    let runs = world
        .deps
        .store
        .list_runs(&RunFilter::default(), 10)
        .await
        .unwrap();
    assert_eq!(runs.len(), 2);
}

#[tokio::test]
async fn changes_made_through_the_okta_api_appear_after_the_next_sync() {
    let world = World::new(small_org()).await;
    assert_eq!(world.sync().await.status, RunStatus::Succeeded);
    let okta = reqwest::Client::new();
    let base = world.okta.base_url();
    let auth = format!("SSWS {}", world.okta.api_token());
    let snapshot = world.okta.snapshot();
    let group = snapshot
        .groups
        .iter()
        .find(|g| g.kind == usersync_core::OktaGroupType::OktaGroup)
        .unwrap();
    let mut active = snapshot
        .users
        .iter()
        .filter(|u| u.status == usersync_core::OktaStatus::Active);
    let (leaver, renamed) = (active.next().unwrap(), active.next().unwrap());

    // A new hire, put in a group; a leaver deactivated; a name change.
    let created: serde_json::Value = okta
        .post(format!("{base}/api/v1/users?activate=true"))
        .header("Authorization", &auth)
        .json(&json!({
            "profile": { "login": "new.hire@example.com", "email": "new.hire@example.com",
                         "firstName": "New", "lastName": "Hire" },
            // With a password an activated user is ACTIVE (without one Okta makes it PROVISIONED).
            "credentials": { "password": { "value": "Correct-Horse-9" } }
        }))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap();
    let new_id = created["id"].as_str().unwrap();
    okta.put(format!("{base}/api/v1/groups/{}/users/{new_id}", group.id))
        .header("Authorization", &auth)
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    okta.post(format!(
        "{base}/api/v1/users/{}/lifecycle/deactivate",
        leaver.id
    ))
    .header("Authorization", &auth)
    .send()
    .await
    .unwrap()
    .error_for_status()
    .unwrap();
    okta.post(format!("{base}/api/v1/users/{}", renamed.id))
        .header("Authorization", &auth)
        .json(&json!({ "profile": { "firstName": "Renamed", "lastName": "Person", "displayName": "Renamed Person" } }))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();

    let outcome = world.sync().await;

    assert_status(&outcome, RunStatus::Succeeded);
    let users = world.jira_users();
    assert_eq!(
        users.get("new.hire@example.com"),
        Some(&true),
        "the new hire exists"
    );
    assert!(
        world
            .jira_members(&group.name)
            .contains("new.hire@example.com"),
        "and is in {}",
        group.name
    );
    assert_eq!(
        users.get(&leaver.login.to_lowercase()),
        Some(&false),
        "the leaver is deactivated, not deleted"
    );
    let renamed_user = world.jira.user(&renamed.login).unwrap();
    assert_eq!(renamed_user.display_name, "Renamed Person");
    world.jira.clear_requests();
    assert!(
        world.sync().await.plan.unwrap().is_empty(),
        "and then it is in step"
    );
}
