//! What a run may conclude from what it read: a username's uniqueness needs a
//! complete user listing (or, for one user, a targeted query), and a user missing
//! from a listing is confirmed gone by id before anything is taken from them.

use std::collections::{BTreeMap, BTreeSet};

use pretty_assertions::assert_eq;
use usersync::engine::sync_user;
use usersync_core::{OktaStatus, OktaUser};
use usersync_sim::faults::PathFault;
use usersync_sim::okta::NewUser;
use usersync_store::{RunStatus, RunTrigger};

use crate::helpers::{APP, World, assert_status, small_org};

const LOCAL_PART: &str = "[app.policy.username]\nregex = \"(.*)@.*\"\nreplacement = \"$1\"\n";

/// Page 2 onwards of the every-user listing, as the client follows Okta's `next` link.
const USER_PAGES_AFTER_THE_FIRST: &str =
    "/api/v1/users?limit=200&filter=lastUpdated+gt+%221970-01-01T00%3A00%3A00.000Z%22&after=";

/// A 300-user org (two user pages) plus seven pairs of ACTIVE users whose logins
/// differ only in the domain, so `(.*)@.*` -> `$1` gives each pair one username.
async fn colliding_world() -> World {
    let world = World::with_policy(small_org_of(300), LOCAL_PART).await;
    for i in 0..7 {
        for domain in ["example.com", "example.co.uk"] {
            let login = format!("david.cohen{i}@{domain}");
            world
                .okta
                .add_user(NewUser::new(&login, "David", "Cohen"))
                .unwrap();
        }
    }
    world
}

fn small_org_of(users: usize) -> usersync_sim::okta::OrgSpec {
    usersync_sim::okta::OrgSpec {
        users,
        ..small_org()
    }
}

/// Everything in Jira a sync decides: each user's state and each group's members.
fn jira_state(world: &World) -> (BTreeMap<String, bool>, BTreeMap<String, BTreeSet<String>>) {
    let groups = world
        .jira
        .groups()
        .into_iter()
        .map(|g| (g.name.to_lowercase(), world.jira_members(&g.name)))
        .collect();
    (world.jira_users(), groups)
}

/// The users in Okta's listing order (status, then id) and the index each is at.
fn listing_order(world: &World) -> Vec<OktaUser> {
    let mut users = world.okta.snapshot().users;
    users.sort_by(|a, b| (a.status, a.id.as_str()).cmp(&(b.status, b.id.as_str())));
    users
}

#[tokio::test]
async fn a_failed_second_user_page_creates_nothing_and_once_cleared_ends_where_a_clean_sync_does() {
    // Arrange: the listing's first page holds one login of a pair, a later page the other.
    let faulty = colliding_world().await;
    let order = listing_order(&faulty);
    let page_of = |login: &str| order.iter().position(|u| u.login == login).unwrap() / 200;
    let split = (0..7)
        .filter(|i| {
            page_of(&format!("david.cohen{i}@example.com"))
                != page_of(&format!("david.cohen{i}@example.co.uk"))
        })
        .count();
    assert!(split > 0, "some pair straddles the first page break");
    faulty.okta.faults().update(|f| {
        f.path_faults.push(PathFault {
            path_contains: USER_PAGES_AFTER_THE_FIRST.into(),
            status: 503,
            remaining: None,
        });
    });

    // Act
    let partial = faulty.sync().await;
    let created_from_the_partial_read = faulty.jira_users();
    faulty.okta.faults().clear();
    let healed = faulty.sync().await;

    // Assert
    assert_eq!(partial.status, RunStatus::Partial, "{:?}", partial.reasons);
    assert!(
        created_from_the_partial_read.is_empty(),
        "no account from an incomplete listing: {created_from_the_partial_read:?}"
    );
    assert!(partial.plan.as_ref().unwrap().skipped.iter().any(|s| {
        s.reason
            .to_string()
            .contains("only a complete Okta user listing")
    }));
    let clean = colliding_world().await;
    let reference = clean.sync().await;
    assert_eq!(healed.status, reference.status, "{:?}", healed.reasons);
    assert_eq!(jira_state(&faulty), jira_state(&clean));
    assert!(
        !faulty.jira_users().contains_key("david.cohen0"),
        "a colliding username belongs to no one"
    );
}

#[tokio::test]
async fn a_user_unlocked_while_the_listing_pages_is_confirmed_by_id_and_keeps_their_account() {
    // Arrange: a LOCKED_OUT user (active in Jira) listed after the first page break
    // is unlocked once page 1 is served, which moves them to ACTIVE, behind the
    // cursor: the listing never shows them and still ends normally.
    let world = World::new(small_org_of(300)).await;
    assert_eq!(world.sync().await.status, RunStatus::Succeeded);
    let order = listing_order(&world);
    let cursor = &order[199];
    let unlocked = order[200..]
        .iter()
        .find(|u| {
            matches!(
                u.status,
                OktaStatus::LockedOut | OktaStatus::PasswordExpired
            ) && (OktaStatus::Active, u.id.as_str()) < (cursor.status, cursor.id.as_str())
        })
        .expect("a user who moves behind the page-1 cursor when activated")
        .clone();
    let username = unlocked.login.to_lowercase();
    assert_eq!(world.jira_users().get(&username), Some(&true));
    // A user who really left, to show confirmed absences still count.
    let leaver = order
        .iter()
        .find(|u| u.status == OktaStatus::Active && u.id != unlocked.id)
        .unwrap()
        .clone();
    world
        .okta
        .set_status(leaver.id.as_str(), OktaStatus::Deprovisioned)
        .unwrap();
    world.okta.delete_user(leaver.id.as_str()).unwrap();
    world
        .okta
        .change_status_while_listing(unlocked.id.as_str(), OktaStatus::Active, 1)
        .unwrap();
    world.okta.clear_requests();

    // Act
    let outcome = world.sync().await;

    // Assert
    assert_status(&outcome, RunStatus::Succeeded);
    assert_eq!(
        world.jira_users().get(&username),
        Some(&true),
        "an absence that a read by id disproves deactivates no one"
    );
    assert_eq!(
        world.jira_users().get(&leaver.login.to_lowercase()),
        Some(&false)
    );
    let by_id: Vec<String> = world
        .okta
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/api/v1/users/"))
        .map(|r| r.path)
        .collect();
    assert_eq!(by_id.len(), 2, "one read by id per departure: {by_id:?}");
    let notes = &outcome.plan.as_ref().unwrap().notes;
    assert!(
        notes
            .iter()
            .any(|n| n.contains(unlocked.id.as_str()) && n.contains("not treated as departed")),
        "{notes:?}"
    );
}

#[tokio::test]
async fn a_group_that_shrank_sharply_is_read_again_before_members_are_removed() {
    let limits = "[app.policy.limits]\nmax_destructive = 1000\nmax_destructive_percent = 100.0\n";
    let world = World::with_policy(small_org(), limits).await;
    assert_eq!(world.sync().await.status, RunStatus::Succeeded);
    let snapshot = world.okta.snapshot();
    let (group, members) = snapshot
        .groups
        .iter()
        .filter(|g| g.kind == usersync_core::OktaGroupType::OktaGroup)
        .map(|g| (g, snapshot.memberships.get(&g.id).unwrap()))
        .max_by_key(|(_, m)| m.len())
        .unwrap();
    let active: Vec<_> = snapshot
        .users
        .iter()
        .filter(|u| u.status == OktaStatus::Active && members.contains(&u.id))
        .take(members.len() / 2)
        .collect();
    assert!(active.len() >= 2 && active.len() * 100 >= members.len() * 20);
    for user in &active {
        world
            .okta
            .remove_member(group.id.as_str(), user.id.as_str())
            .unwrap();
    }
    world.okta.clear_requests();

    let outcome = world.sync().await;

    assert_status(&outcome, RunStatus::Succeeded);
    let reads = world
        .okta
        .requests()
        .iter()
        .filter(|r| {
            r.path
                .starts_with(&format!("/api/v1/groups/{}/users", group.id))
        })
        .count();
    assert_eq!(reads, 2, "read, then read again before removing");
    for user in active {
        assert!(
            !world
                .jira_members(&group.name)
                .contains(&user.login.to_lowercase())
        );
    }
}

#[tokio::test]
async fn a_single_user_sync_finds_an_okta_namesake_with_one_query_and_creates_no_one() {
    let world = World::with_policy(small_org(), LOCAL_PART).await;
    for domain in ["example.com", "example.co.uk"] {
        let login = format!("david.cohen@{domain}");
        world
            .okta
            .add_user(NewUser::new(&login, "David", "Cohen"))
            .unwrap();
    }
    world.okta.clear_requests();

    let outcome = sync_user(
        &world.deps,
        APP,
        "david.cohen@example.com",
        RunTrigger::Login,
    )
    .await
    .unwrap();

    assert!(
        !world.jira_users().contains_key("david.cohen"),
        "{:?}",
        outcome.reasons
    );
    let skipped = &outcome.plan.as_ref().unwrap().skipped;
    assert!(
        skipped[0]
            .reason
            .to_string()
            .contains("david.cohen@example.co.uk"),
        "{skipped:?}"
    );
    let searches = world
        .okta
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("search=profile.login"))
        .count();
    assert_eq!(searches, 1);
}

#[tokio::test]
async fn a_single_user_sync_refuses_to_create_when_no_targeted_query_can_show_uniqueness() {
    let policy = "[app.policy.username]\nregex = \"(.*)@(.*)\\\\..*\"\nreplacement = \"$1.$2\"\n";
    let world = World::with_policy(small_org(), policy).await;
    world
        .okta
        .add_user(NewUser::new("ann.lee@example.com", "Ann", "Lee"))
        .unwrap();

    let outcome = sync_user(&world.deps, APP, "ann.lee@example.com", RunTrigger::Login)
        .await
        .unwrap();

    assert!(!world.jira_users().contains_key("ann.lee.example"));
    assert_eq!(outcome.status, RunStatus::Partial);
    assert!(
        outcome
            .reasons
            .iter()
            .any(|r| r.contains("does not keep a prefix of the login")),
        "{:?}",
        outcome.reasons
    );
}
