//! The single-user sync that login time uses.

use std::time::{Duration, Instant};

use pretty_assertions::assert_eq;
use usersync::engine::sync_user;
use usersync_sim::okta::NewUser;
use usersync_store::{RunStatus, RunTrigger};

use crate::helpers::{APP, World, assert_status, small_org};

#[tokio::test]
async fn a_single_user_sync_creates_that_user_with_their_groups_in_at_most_three_okta_requests() {
    let world = World::new(small_org()).await;
    assert_eq!(world.sync().await.status, RunStatus::Succeeded);
    let snapshot = world.okta.snapshot();
    let group = snapshot
        .groups
        .iter()
        .find(|g| g.kind == usersync_core::OktaGroupType::OktaGroup)
        .unwrap();
    let id = world
        .okta
        .add_user(NewUser::new("login.time@example.com", "Login", "Time"))
        .unwrap();
    world
        .okta
        .add_member(group.id.as_str(), id.as_str())
        .unwrap();
    let other = world
        .okta
        .add_user(NewUser::new("someone.else@example.com", "Someone", "Else"))
        .unwrap();
    world.okta.clear_requests();
    world.jira.clear_requests();

    let outcome = sync_user(
        &world.deps,
        APP,
        "login.time@example.com",
        RunTrigger::Login,
    )
    .await
    .unwrap();

    assert_status(&outcome, RunStatus::Succeeded);
    assert!(
        world.okta.request_count() <= 3,
        "{:?}",
        world.okta.requests()
    );
    assert_eq!(
        outcome.okta.unwrap().requests,
        Some(world.okta.request_count() as u64)
    );
    assert_eq!(
        world.jira_users().get("login.time@example.com"),
        Some(&true)
    );
    assert!(
        world
            .jira_members(&group.name)
            .contains("login.time@example.com")
    );
    assert_eq!(
        world.jira_users().get("someone.else@example.com"),
        None,
        "other users are left alone ({other})"
    );
    let writes = world.jira_writes();
    assert!(writes.iter().all(|w| !w.contains("DELETE")), "{writes:?}");

    world.jira.clear_requests();
    let again = sync_user(
        &world.deps,
        APP,
        "login.time@example.com",
        RunTrigger::Login,
    )
    .await
    .unwrap();
    assert!(again.plan.unwrap().is_empty());
    assert_eq!(world.jira_writes(), Vec::<String>::new());
}

#[tokio::test]
async fn a_single_user_sync_of_an_unknown_login_fails_with_the_login_named() {
    let world = World::new(small_org()).await;
    let outcome = sync_user(&world.deps, APP, "nobody@example.com", RunTrigger::Login)
        .await
        .unwrap();
    assert_eq!(outcome.status, RunStatus::Failed);
    assert!(
        outcome.reasons[0].contains("nobody@example.com"),
        "{:?}",
        outcome.reasons
    );
}

/// The target's checks and the user's target account do not wait for Okta (nor the
/// reverse): with every request of both emulators slowed alike, the sync takes far
/// less than its requests one after another. The bound leaves two latencies to
/// spare (the overlapped run needs about three of the seven), so a loaded machine
/// does not fail it.
#[tokio::test]
async fn a_single_user_sync_checks_the_target_while_okta_answers_and_takes_less_than_its_requests_in_turn()
 {
    const LATENCY_MS: u64 = 300;
    let world = World::new(small_org()).await;
    assert_status(&world.sync().await, RunStatus::Succeeded);
    let snapshot = world.okta.snapshot();
    let user = snapshot
        .users
        .iter()
        .find(|u| u.status == usersync_core::OktaStatus::Active)
        .unwrap();
    for faults in [world.okta.faults(), world.jira.faults()] {
        faults.update(|f| f.latency_ms = LATENCY_MS);
    }
    world.okta.clear_requests();
    world.jira.clear_requests();

    let started = Instant::now();
    let outcome = sync_user(&world.deps, APP, &user.login, RunTrigger::Login)
        .await
        .unwrap();
    let took = started.elapsed();

    assert_status(&outcome, RunStatus::Succeeded);
    let requests = world.okta.request_count() + world.jira.request_count();
    // The user and their groups; the target's version, credential, signed-in
    // account; the user's account and its groups.
    assert!(requests >= 7, "{requests} requests");
    let in_turn = Duration::from_millis(LATENCY_MS * requests as u64);
    let bound = in_turn - Duration::from_millis(2 * LATENCY_MS);
    assert!(
        took < bound,
        "took {took:?}: not under {bound:?}, {requests} requests of {LATENCY_MS} ms in turn \
         less two; Okta: {:?}, Jira: {:?}",
        world.okta.requests(),
        world.jira.requests()
    );
}
