//! System Log polling: events reach Jira within the interval, and a restart resumes
//! from the persisted checkpoint without reading an event twice or missing one.

use std::time::Duration;

use usersync::events::LOGIN_EVENTS;
use usersync_sim::okta::NewUser;
use usersync_store::RunTrigger;
use usersync_store::checkpoints::SYSTEM_LOG_NEXT;

use crate::world::{Setup, World, fast_config, within};

/// Waits until the poller has stored a checkpoint (its first poll is done).
async fn first_poll_done(world: &World) {
    let app = world.app().await;
    within(
        Duration::from_secs(5),
        "the first poll stores a checkpoint",
        || async {
            world
                .deps
                .store
                .checkpoint(app.id, SYSTEM_LOG_NEXT)
                .await
                .unwrap()
                .is_some()
        },
    )
    .await;
}

#[tokio::test]
async fn a_login_reaches_jira_within_the_polling_interval_plus_two_seconds_through_the_system_log()
{
    let mut world = World::new(Setup::poll(&LOGIN_EVENTS)).await;
    world
        .okta
        .add_user(NewUser::new("polled.login@example.com", "Polled", "Login"))
        .unwrap();
    let config = fast_config();
    let interval = config.poller.interval_override.unwrap();
    world.start(config).await;
    first_poll_done(&world).await;

    world.okta.login("polled.login@example.com").unwrap();
    within(
        interval + Duration::from_secs(2),
        "the polled login reaches Jira",
        || async { world.jira_users().get("polled.login@example.com") == Some(&true) },
    )
    .await;
    assert!(!world.runs(Some(RunTrigger::Login)).await.is_empty());
    world.stop().await;
}

#[tokio::test]
async fn after_a_restart_the_poller_resumes_from_its_checkpoint() {
    let mut world = World::new(Setup::poll(&LOGIN_EVENTS)).await;
    for login in ["before@example.com", "during@example.com"] {
        world
            .okta
            .add_user(NewUser::new(login, "Poll", "Restart"))
            .unwrap();
    }
    world.start(fast_config()).await;
    first_poll_done(&world).await;
    world.okta.login("before@example.com").unwrap();
    within(
        Duration::from_secs(5),
        "the first login reaches Jira",
        || async { world.jira_users().contains_key("before@example.com") },
    )
    .await;
    let before = world.triggers().queue().stats();
    assert!(
        before.events >= 2,
        "at least the session start and SSO: {before:?}"
    );
    world.stop().await;

    // Signed in while usersync was down: the next poll must still see it, once.
    world.okta.login("during@example.com").unwrap();
    world.restart(fast_config()).await;
    within(
        Duration::from_secs(5),
        "the login from the downtime reaches Jira",
        || async { world.jira_users().contains_key("during@example.com") },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let after = world.triggers().queue().stats();
    assert_eq!(
        after.events, 2,
        "only the downtime's two events are new: {after:?}"
    );
    assert_eq!(after.duplicates, 0, "no event was read again: {after:?}");
    world.stop().await;
}
