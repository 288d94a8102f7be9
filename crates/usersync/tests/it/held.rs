//! The hold limit: a mass deactivation waits for an administrator.

use pretty_assertions::assert_eq;
use usersync::engine::{approve, reject};
use usersync_store::{OpOutcome, RunStatus};

use crate::helpers::{World, assert_status, small_org};

#[tokio::test]
async fn a_mass_deactivation_is_held_and_applied_only_after_approval() {
    let world = World::new(small_org()).await;
    assert_eq!(world.sync().await.status, RunStatus::Succeeded);
    let victims = world.suspend_active(10);

    let held = world.sync().await;

    assert_eq!(held.status, RunStatus::Held, "{:?}", held.reasons);
    let run = held.run_id.unwrap();
    // The reason is shown in the console and the API too: no command-line syntax in it.
    let waiting = format!("wait for an administrator to approve or reject run {run}");
    assert!(
        held.reasons
            .iter()
            .any(|r| r.contains(&waiting) && !r.contains('`')),
        "{:?}",
        held.reasons
    );
    assert!(
        victims.iter().all(|v| world.jira_users()[v]),
        "nothing deactivated while held"
    );
    let pending = world.deps.store.run_operations(run).await.unwrap();
    let waiting = pending
        .iter()
        .filter(|o| o.outcome == OpOutcome::Pending && o.kind == "deactivate_user");
    assert_eq!(waiting.count(), victims.len());

    let approved = approve(&world.deps, run, "test-admin").await.unwrap();

    assert_status(&approved, RunStatus::Succeeded);
    assert!(
        victims.iter().all(|v| !world.jira_users()[v]),
        "all deactivated after approval"
    );
    let stored = world.deps.store.get_run(run).await.unwrap();
    assert_eq!(stored.status, RunStatus::Succeeded);
    assert_eq!(stored.decided_by.as_deref(), Some("test-admin"));
    assert!(world.sync().await.plan.unwrap().is_empty());
}

#[tokio::test]
async fn a_rejected_run_applies_nothing_and_an_approval_that_would_do_more_is_refused() {
    let world = World::new(small_org()).await;
    assert_eq!(world.sync().await.status, RunStatus::Succeeded);
    let first = world.suspend_active(8);
    let held = world.sync().await.run_id.unwrap();

    let rejected = reject(&world.deps, held, "test-admin").await.unwrap();
    assert_eq!(rejected.status, RunStatus::Rejected);
    assert!(first.iter().all(|v| world.jira_users()[v]));

    let again = world.sync().await;
    assert_eq!(again.status, RunStatus::Held);
    world.suspend_active(12); // more leavers since the plan was made
    let err = approve(&world.deps, again.run_id.unwrap(), "test-admin")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("stays held"), "{err}");
    assert_eq!(
        world
            .deps
            .store
            .get_run(again.run_id.unwrap())
            .await
            .unwrap()
            .status,
        RunStatus::Held
    );
    assert!(
        first.iter().all(|v| world.jira_users()[v]),
        "still nothing deactivated"
    );
}
