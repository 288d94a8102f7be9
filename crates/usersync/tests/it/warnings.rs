//! Users who need attention in Okta (colliding or invalid usernames) are warnings
//! of a run that did everything it could, not a partial run like a failed Okta
//! read; and repeated syncs of an unchanged org report the same users.

use pretty_assertions::assert_eq;
use usersync_core::SkipReason;
use usersync_store::RunStatus;

use usersync_testkit::{DataDir, Sims};

use crate::cli::{text, usersync_with};
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

/// Runs the binary off the async runtime, so the in-process emulators keep answering.
async fn usersync(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    let dir = dir.to_owned();
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        usersync_with(&dir, &args, &[])
    })
    .await
    .expect("the binary's thread joins")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sync_whose_only_problem_is_colliding_usernames_exits_zero_and_lists_them() {
    let sims = Sims::start(small_org()).await;
    let dir = DataDir::new();
    let file = dir.path().join("apps.toml");
    let app = sims.app("jira").username("([a-z]+)\\..*", "$1");
    std::fs::write(&file, app.to_string()).unwrap();
    let applied = usersync(dir.path(), &["app", "apply", "-f", file.to_str().unwrap()]).await;
    assert_eq!(applied.status.code(), Some(0), "{}", text(&applied.stderr));
    let synced = usersync(dir.path(), &["sync", "--app", "jira"]).await;
    let stdout = text(&synced.stdout);
    assert_eq!(
        synced.status.code(),
        Some(0),
        "users needing attention are not an error: {stdout}{}",
        text(&synced.stderr)
    );
    assert!(stdout.contains("ended succeeded"), "{stdout}");
    assert!(stdout.contains("valid, unique username"), "{stdout}");
}
