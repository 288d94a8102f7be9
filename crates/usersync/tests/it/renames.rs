//! A group renamed in Okta (`PUT /api/v1/groups/{id}`): kept under its old name in
//! Jira by default, with the plan saying so, or recreated under the new name.

use pretty_assertions::assert_eq;
use serde_json::json;
use usersync_core::OktaGroupType;
use usersync_store::RunStatus;

use crate::helpers::{APP, World, assert_in_step, assert_status, small_org};

/// Renames the first Okta group in Okta; its old and new names.
async fn rename_a_group(world: &World) -> (String, String) {
    let snapshot = world.okta.snapshot();
    let group = snapshot
        .groups
        .iter()
        .find(|g| g.kind == OktaGroupType::OktaGroup)
        .unwrap();
    let new = format!("{} renamed", group.name);
    reqwest::Client::new()
        .put(format!(
            "{}/api/v1/groups/{}",
            world.okta.base_url(),
            group.id
        ))
        .header("Authorization", format!("SSWS {}", world.okta.api_token()))
        .json(&json!({ "profile": { "name": new, "description": "renamed in Okta" } }))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    (group.name.clone(), new)
}

fn jira_groups(world: &World) -> Vec<String> {
    world.jira.groups().into_iter().map(|g| g.name).collect()
}

#[tokio::test]
async fn a_group_renamed_in_okta_keeps_its_jira_name_by_default_and_the_run_says_so() {
    let world = World::new(small_org()).await;
    assert_eq!(world.sync().await.status, RunStatus::Succeeded);
    let (old, new) = rename_a_group(&world).await;
    let members = world.jira_members(&old);
    let outcome = world.sync().await;
    assert_status(&outcome, RunStatus::Succeeded);
    let plan = outcome.plan.unwrap();
    assert!(plan.is_empty(), "{:?}", plan.ops);
    assert!(
        plan.notes
            .iter()
            .any(|n| n.contains(&format!("was renamed in Okta to {new}; kept as {old}"))),
        "{:?}",
        plan.notes
    );
    assert!(!jira_groups(&world).contains(&new));
    assert_eq!(world.jira_members(&old), members);
    let member = members.iter().next().expect("the group has members");
    let explained = usersync::engine::explain_user(&world.deps, APP, member)
        .await
        .unwrap()
        .to_string();
    assert!(
        explained.contains(&format!("renamed in Okta to {new}; kept as {old}")),
        "{explained}"
    );
}

#[tokio::test]
async fn with_recreate_a_renamed_group_gets_its_new_name_its_members_and_the_old_one_goes() {
    let world =
        World::with_policy(small_org(), "[app.policy]\ngroup_renames = \"recreate\"\n").await;
    assert_eq!(world.sync().await.status, RunStatus::Succeeded);
    let (old, new) = rename_a_group(&world).await;
    let members = world.jira_members(&old);
    assert!(!members.is_empty(), "the group has members to move");
    let outcome = world.sync().await;
    assert_status(&outcome, RunStatus::Succeeded);
    let groups = jira_groups(&world);
    assert!(groups.contains(&new), "{groups:?}");
    assert!(
        !groups.contains(&old),
        "usersync created {old}, so it is deleted"
    );
    assert_eq!(world.jira_members(&new), members);
    assert_in_step(&world);
    let third = world.sync().await;
    assert!(
        third.plan.as_ref().unwrap().is_empty(),
        "the new group is linked and owned: {:?}",
        third.plan
    );
    assert!(third.plan.unwrap().notes.is_empty());
}

/// A single-user sync reads only some group links; the one holding a target name
/// the user's group maps to must be among them, or the user's group would take
/// over another Okta group's target group.
#[tokio::test]
async fn a_single_user_sync_leaves_a_target_group_kept_for_a_renamed_okta_group_to_it() {
    let world = World::new(small_org()).await;
    assert_status(&world.sync().await, RunStatus::Succeeded);
    let (old, new) = rename_a_group(&world).await;
    let renamed = world.okta.snapshot().groups;
    let renamed = renamed.iter().find(|g| g.name == new).unwrap();
    let namesake = world
        .okta
        .add_group(&old, None, OktaGroupType::OktaGroup)
        .unwrap();
    let user = world
        .okta
        .add_user(usersync_sim::okta::NewUser::new(
            "claims.test@example.com",
            "Claims",
            "Test",
        ))
        .unwrap();
    world
        .okta
        .add_member(namesake.as_str(), user.as_str())
        .unwrap();

    let outcome = usersync::engine::sync_user(
        &world.deps,
        APP,
        "claims.test@example.com",
        usersync_store::RunTrigger::Login,
    )
    .await
    .unwrap();

    assert_status(&outcome, RunStatus::Succeeded);
    let notes = outcome.plan.unwrap().notes;
    let claimed = format!("already belongs to Okta group {}", renamed.id);
    assert!(notes.iter().any(|n| n.contains(&claimed)), "{notes:?}");
    assert!(!world.jira_members(&old).contains("claims.test@example.com"));
    let app = world.deps.store.find_app(APP).await.unwrap().unwrap();
    let links = world.deps.store.load_links(app.id).await.unwrap();
    assert_eq!(links.groups[&renamed.id].target_name.as_str(), old);
    assert!(!links.groups.contains_key(&namesake));
}
