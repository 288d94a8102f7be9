//! A linked user from Jira's read-only ("LDAP") directory: Jira refuses to change
//! their attributes, but lets them join groups of the writable directory. Their
//! memberships are applied; the refused update is remembered on the identity link,
//! recorded as a skip, not tried again, and never fails a run.

use pretty_assertions::assert_eq;
use usersync_core::{OktaGroupType, OktaStatus, SkipReason};
use usersync_sim::jira::SeedUser;
use usersync_store::{OpOutcome, RunStatus};

use crate::helpers::{APP, World, small_org};

/// An active Okta user in an Okta group, and that group's name.
fn member_of_a_group(world: &World) -> (usersync_core::OktaUser, String) {
    let okta = world.okta.snapshot();
    for group in okta
        .groups
        .iter()
        .filter(|g| g.kind == OktaGroupType::OktaGroup)
    {
        let members = okta.memberships.get(&group.id).into_iter().flatten();
        for id in members {
            let user = okta.users.iter().find(|u| &u.id == id).unwrap();
            if user.status == OktaStatus::Active {
                return (user.clone(), group.name.clone());
            }
        }
    }
    panic!("the org has an active user in a group");
}

#[tokio::test]
async fn a_read_only_user_joins_writable_groups_and_the_refused_update_is_remembered() {
    let world = World::new(small_org()).await;
    let (user, group) = member_of_a_group(&world);
    // The same person, already in Jira through the LDAP directory (other display name).
    world
        .jira
        .add_ldap_user(&SeedUser::new(&user.login))
        .unwrap();

    let first = world.sync().await;
    assert_eq!(first.status, RunStatus::Succeeded, "{:?}", first.reasons);
    assert!(
        world
            .jira_members(&group)
            .contains(&user.login.to_lowercase()),
        "the read-only user is added to {group}"
    );
    let refused: Vec<_> = first
        .results
        .iter()
        .filter(|r| r.outcome == OpOutcome::Skipped)
        .collect();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(
        refused[0]
            .error
            .as_deref()
            .is_some_and(|e| e.starts_with("not writable: ")),
        "{refused:?}"
    );
    let app = world.deps.store.app_by_name(APP).await.unwrap();
    let links = world.deps.store.load_links(app.id).await.unwrap();
    assert!(links.users[&user.id].read_only, "remembered on the link");

    world.jira.clear_requests();
    let second = world.sync().await;
    assert_eq!(second.status, RunStatus::Succeeded, "{:?}", second.reasons);
    let plan = second.plan.unwrap();
    assert!(plan.is_empty(), "nothing is retried: {:?}", plan.ops);
    assert!(
        plan.skipped
            .iter()
            .any(|s| s.okta_id == user.id && matches!(s.reason, SkipReason::NotWritable { .. })),
        "the plan records the skip: {:?}",
        plan.skipped
    );
    assert_eq!(world.jira_writes(), Vec::<String>::new());
}
