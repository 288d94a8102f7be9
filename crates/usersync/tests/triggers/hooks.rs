//! The event hook endpoint end to end: the Okta emulator registers, verifies and
//! delivers to it; deliveries lead to single-user syncs in Jira.

use std::time::Duration;

use pretty_assertions::assert_eq;
use usersync::engine::{Mode, run_sync_once};
use usersync::events::LOGIN_EVENTS;
use usersync_core::OktaGroupType;
use usersync_okta::Verification;
use usersync_sim::okta::{DeliveryKnobs, NewUser};
use usersync_store::{RunStatus, RunTrigger};

use crate::world::{APP, SECRET, Setup, World, fast_config, within};

#[tokio::test]
async fn the_okta_emulator_verifies_the_hook_and_a_wrong_secret_is_refused() {
    let mut world = World::new(Setup::hook(&LOGIN_EVENTS)).await;
    world.start(fast_config()).await;

    world.wire_hook(&LOGIN_EVENTS).await;
    let wrong = world.register_hook("not-the-secret", &LOGIN_EVENTS).await;
    let Verification::Failed(reason) = &wrong.verification else {
        panic!("verification with a wrong secret fails: {wrong:?}");
    };
    assert!(reason.contains("did not answer the challenge"), "{reason}");

    let client = reqwest::Client::new();
    let challenge = |secret: Option<&str>, url: &str| {
        let mut r = client
            .get(url)
            .header("x-okta-verification-challenge", "abc123");
        if let Some(s) = secret {
            r = r.header("Authorization", s);
        }
        r.send()
    };
    let ok = challenge(Some(SECRET), &world.hook_url).await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(
        ok.json::<serde_json::Value>().await.unwrap(),
        serde_json::json!({"verification": "abc123"})
    );
    for (secret, url) in [
        (None, world.hook_url.clone()),
        (Some("wrong"), world.hook_url.clone()),
        (Some(&SECRET[..SECRET.len() - 1]), world.hook_url.clone()),
        (Some(SECRET), world.hook_url.replace(APP, "no-such-app")),
    ] {
        let answer = challenge(secret, &url).await.unwrap();
        assert_eq!(answer.status(), 401, "{secret:?} at {url}");
        assert!(!answer.text().await.unwrap().contains(SECRET));
    }
    let post = client
        .post(&world.hook_url)
        .header("Authorization", "wrong")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 401, "deliveries need the secret too");
    world.stop().await;
}

#[tokio::test]
async fn a_login_in_okta_creates_the_user_in_jira_within_two_seconds_through_the_hook() {
    let mut world = World::new(Setup::hook(&LOGIN_EVENTS)).await;
    world.start(fast_config()).await;
    world.wire_hook(&LOGIN_EVENTS).await;
    world
        .okta
        .add_user(NewUser::new("first.login@example.com", "First", "Login"))
        .unwrap();
    assert_eq!(world.jira_users().get("first.login@example.com"), None);

    world.okta.login("first.login@example.com").unwrap();
    let took = within(Duration::from_secs(2), "the user reaches Jira", || async {
        world.jira_users().get("first.login@example.com") == Some(&true)
    })
    .await;

    println!("login to Jira user via the hook: {took:?}");
    let runs = world.runs(Some(RunTrigger::Login)).await;
    assert!(!runs.is_empty(), "the sync is recorded as a login run");
    assert!(
        world
            .okta
            .hook_deliveries()
            .iter()
            .any(|d| d.event_types.contains(&"user.session.start".to_owned()))
    );
    world.stop().await;
}

#[tokio::test]
async fn duplicated_and_reordered_deliveries_give_the_same_end_state() {
    let mut world = World::new(Setup::everything()).await;
    world.start(fast_config()).await;
    let first = run_sync_once(&world.deps, APP, RunTrigger::Manual, Mode::Apply)
        .await
        .unwrap();
    assert_eq!(first.status, RunStatus::Succeeded, "{:?}", first.reasons);
    world.wire_hook(&usersync::events::HANDLED_EVENTS).await;
    world.okta.set_hook_delivery(DeliveryKnobs {
        duplicate_rate: 1.0,
        reorder: true,
        batch_window: Duration::from_millis(400),
        max_events_per_delivery: 1,
        ..DeliveryKnobs::default()
    });
    let groups: Vec<_> = world
        .okta
        .snapshot()
        .groups
        .into_iter()
        .filter(|g| g.kind == OktaGroupType::OktaGroup)
        .take(2)
        .collect();
    let (a, b) = (groups[0].id.as_str(), groups[1].id.as_str());

    // A burst of changes whose order matters if a receiver applied events blindly.
    world
        .okta
        .add_user(NewUser::new("mover@example.com", "Mover", "One"))
        .unwrap();
    world.okta.add_member(a, "mover@example.com").unwrap();
    world.okta.add_member(b, "mover@example.com").unwrap();
    world.okta.remove_member(a, "mover@example.com").unwrap();
    world
        .okta
        .update_profile(
            "mover@example.com",
            [("lastName".to_owned(), "Moved".into())].into(),
        )
        .unwrap();
    world
        .okta
        .add_user(NewUser::new("leaver@example.com", "Leaver", "Two"))
        .unwrap();
    world
        .okta
        .set_status(
            "leaver@example.com",
            usersync_core::OktaStatus::Deprovisioned,
        )
        .unwrap();

    within(
        Duration::from_secs(20),
        "Jira converges on Okta",
        || async {
            match run_sync_once(&world.deps, APP, RunTrigger::Manual, Mode::DryRun).await {
                Ok(outcome) => outcome.plan.is_some_and(|p| p.is_empty()),
                Err(_) => false,
            }
        },
    )
    .await;

    assert_eq!(world.jira_users().get("mover@example.com"), Some(&true));
    assert_ne!(world.jira_users().get("leaver@example.com"), Some(&true));
    let members: Vec<String> = world
        .jira
        .members(&groups[1].name)
        .into_iter()
        .map(|m| m.to_lowercase())
        .collect();
    assert!(members.contains(&"mover@example.com".to_owned()));
    let deliveries = world.okta.hook_deliveries();
    assert!(
        deliveries.iter().any(|d| d.duplicate),
        "deliveries were duplicated"
    );
    let stats = world.triggers().queue().stats();
    assert!(
        stats.duplicates >= 7,
        "each duplicate was ignored: {stats:?}"
    );
    assert!(stats.user_syncs >= 1, "{stats:?}");
    world.stop().await;
}

#[tokio::test]
async fn suspensions_delivered_by_the_hook_deactivate_no_more_than_the_limits_and_the_rest_wait_in_one_held_run()
 {
    let mut world = World::new(Setup::everything()).await;
    let first = run_sync_once(&world.deps, APP, RunTrigger::Manual, Mode::Apply)
        .await
        .unwrap();
    assert_eq!(first.status, RunStatus::Succeeded, "{:?}", first.reasons);
    world.start(fast_config()).await;
    world.wire_hook(&usersync::events::HANDLED_EVENTS).await;
    let snapshot = world.okta.snapshot();
    let victims: Vec<String> = snapshot
        .users
        .iter()
        .filter(|u| u.status == usersync_core::OktaStatus::Active)
        .take(10)
        .map(|u| {
            world
                .okta
                .set_status(u.id.as_str(), usersync_core::OktaStatus::Suspended)
                .unwrap();
            u.login.to_lowercase()
        })
        .collect();
    let deactivated = |w: &World| {
        let users = w.jira_users();
        victims
            .iter()
            .filter(|v| users.get(*v) == Some(&false))
            .count()
    };
    within(
        Duration::from_secs(20),
        "every suspension is handled",
        || async { deactivated(&world) + waiting_in_held_run(&world).await == victims.len() },
    )
    .await;

    // 30 managed users: the 5% limit applies above 5 destructive operations.
    let done = deactivated(&world);
    assert!(done <= 5, "{done} deactivated by events");
    let held: Vec<_> = world
        .runs(None)
        .await
        .into_iter()
        .filter(|r| r.status == RunStatus::Held)
        .collect();
    assert_eq!(held.len(), 1, "{held:?}");
    world.stop_triggers().await;
    let approved = usersync::engine::approve(&world.deps, held[0].id, "admin")
        .await
        .unwrap();
    assert_eq!(
        approved.status,
        RunStatus::Succeeded,
        "{:?}",
        approved.reasons
    );
    assert_eq!(deactivated(&world), victims.len());
    world.stop().await;
}

/// The operations waiting in the app's held run, if it has one.
async fn waiting_in_held_run(world: &World) -> usize {
    let store = &world.deps.store;
    let Some(held) = store.held_run(world.app().await.id).await.unwrap() else {
        return 0;
    };
    let ops = store.run_operations(held.id).await.unwrap();
    ops.iter()
        .filter(|o| o.outcome == usersync_store::OpOutcome::Pending)
        .count()
}
