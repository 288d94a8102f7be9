//! Okta's BUILT_IN `Everyone` group, which every org has and every user is in: the
//! default scope (`policy.scope.group_types = ["OKTA_GROUP"]`) leaves it out of the
//! read and the target; listing `BUILT_IN` syncs it like any other group.

use usersync_core::{OktaGroupType, StatusClass, status_class};

use crate::helpers::{World, small_org};

#[tokio::test]
async fn the_built_in_everyone_group_is_neither_read_nor_synced_by_default() {
    // Arrange: a generated org has Everyone, as every real org does.
    let world = World::new(small_org()).await;
    let okta = world.okta.snapshot();
    let everyone = okta
        .groups
        .iter()
        .find(|g| g.kind == OktaGroupType::BuiltIn)
        .expect("the generated org has Everyone")
        .clone();
    assert_eq!(everyone.name, "Everyone");
    // Act
    let outcome = world.sync().await;
    // Assert
    assert!(outcome.plan.is_some());
    assert!(
        world
            .jira
            .groups()
            .iter()
            .all(|g| !g.name.eq_ignore_ascii_case("everyone")),
        "no Everyone group in Jira"
    );
    let requests: Vec<String> = world.okta.requests().into_iter().map(|r| r.path).collect();
    let listing = requests
        .iter()
        // The full listing, not the change read a full sync sends first.
        .find(|p| p.starts_with("/api/v1/groups?") && !p.contains("lastUpdated"))
        .unwrap();
    assert!(
        listing.contains("filter=type+eq+%22OKTA_GROUP%22"),
        "the scope is pushed into Okta's query: {listing}"
    );
    assert!(
        !requests.iter().any(|p| p.contains(everyone.id.as_str())),
        "Everyone's members are never read"
    );
}

#[tokio::test]
async fn listing_built_in_in_the_scope_syncs_everyone_with_every_active_user() {
    let scope = "[app.policy.scope]\ngroup_types = [\"OKTA_GROUP\", \"BUILT_IN\"]\n";
    let world = World::with_policy(small_org(), scope).await;
    let okta = world.okta.snapshot();

    world.sync().await;

    let active: std::collections::BTreeSet<String> = okta
        .users
        .iter()
        .filter(|u| status_class(u.status) == StatusClass::Active)
        .map(|u| u.login.to_lowercase())
        .collect();
    assert!(!active.is_empty());
    assert_eq!(world.jira_members("Everyone"), active);
}
