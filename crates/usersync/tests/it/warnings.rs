//! Users who need attention in Okta (colliding or invalid usernames) are warnings
//! of a run that did everything it could, not a partial run like a failed Okta
//! read; and repeated syncs of an unchanged org report the same users.

use pretty_assertions::assert_eq;
use usersync_core::SkipReason;
use usersync_store::RunStatus;

use crate::helpers::{World, small_org};

/// Every user's username is their first name: many share one.
const FIRST_NAMES: &str = "[app.policy.username]\nregex = '([a-z]+)\\..*'\nreplacement = '$1'\n";

fn collisions(outcome: &usersync::engine::RunOutcome) -> Vec<String> {
    let plan = outcome.plan.as_ref().expect("the run planned");
    let mut logins: Vec<String> = plan
        .skipped
        .iter()
        .filter(|s| matches!(s.reason, SkipReason::Collision { .. }))
        .map(|s| s.login.clone())
        .collect();
    logins.sort();
    logins
}

#[tokio::test]
async fn colliding_usernames_are_warnings_of_a_succeeded_run_and_do_not_grow() {
    let world = World::with_policy(small_org(), FIRST_NAMES).await;
    let first = world.sync().await;
    let before = collisions(&first);
    assert!(!before.is_empty(), "the org has shared first names");
    assert_eq!(first.status, RunStatus::Succeeded, "{:?}", first.reasons);
    assert!(
        first
            .reasons
            .iter()
            .any(|r| r.contains("valid, unique username")),
        "the users needing attention are listed: {:?}",
        first.reasons
    );
    let second = world.sync().await;
    assert_eq!(second.status, RunStatus::Succeeded, "{:?}", second.reasons);
    assert_eq!(
        collisions(&second),
        before,
        "an unchanged org has the same collisions after its first sync"
    );
    assert!(second.plan.as_ref().unwrap().is_empty());
}
