//! One hold budget per app over a rolling window, whatever starts the runs, and
//! one held run per app (issue 12, items 1 and 6).

use pretty_assertions::assert_eq;
use usersync::engine::{approve, sync_user};
use usersync_store::{AppId, OpOutcome, Run, RunFilter, RunId, RunStatus, RunTrigger};
use usersync_testkit::small_org;

use crate::helpers::{APP, World, assert_status};

async fn app_id(world: &World) -> AppId {
    world.deps.store.find_app(APP).await.unwrap().unwrap().id
}

async fn held_runs(world: &World) -> Vec<Run> {
    let filter = RunFilter {
        app: Some(app_id(world).await),
        status: Some(RunStatus::Held),
        trigger: None,
    };
    world.deps.store.list_runs(&filter, 100).await.unwrap()
}

async fn pending(world: &World, run: RunId) -> Vec<String> {
    let ops = world.deps.store.run_operations(run).await.unwrap();
    ops.into_iter()
        .filter(|o| o.outcome == OpOutcome::Pending)
        .map(|o| format!("{} {}", o.kind, o.subject))
        .collect()
}

fn deactivated(world: &World, logins: &[String]) -> usize {
    let users = world.jira_users();
    logins
        .iter()
        .filter(|l| users.get(*l) == Some(&false))
        .count()
}

#[tokio::test]
async fn single_user_runs_share_the_apps_budget_and_what_is_over_it_waits_in_one_held_run() {
    let world = World::new(small_org(300, 5, 7)).await;
    assert_eq!(world.sync().await.status, RunStatus::Succeeded);
    let managed = world
        .deps
        .store
        .count_user_links(app_id(&world).await)
        .await
        .unwrap();
    let victims = world.suspend_active(19);

    // As the event hook and the System Log poller do: one single-user run per event.
    let mut statuses = Vec::new();
    for login in &victims {
        let outcome = sync_user(&world.deps, APP, login, RunTrigger::Event)
            .await
            .unwrap();
        statuses.push(outcome.status);
    }

    let done = deactivated(&world, &victims);
    // The default limits: 25 destructive operations, or 5% of the managed users.
    #[allow(clippy::cast_precision_loss)]
    let share = done as f64 * 100.0 / managed as f64;
    assert!(
        done <= 25 && share <= 5.0,
        "{done} of {managed} deactivated ({share:.1}%)"
    );
    assert!(done > 0, "within the budget, events still apply");
    let held = held_runs(&world).await;
    assert_eq!(held.len(), 1, "exactly one held run: {statuses:?}");
    let waiting = pending(&world, held[0].id).await;
    assert_eq!(waiting.len(), victims.len() - done, "{waiting:?}");
    assert!(
        waiting.iter().all(|w| w.starts_with("deactivate_user ")),
        "{waiting:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == RunStatus::Held).count(),
        1,
        "{statuses:?}"
    );

    // A repeated event for a waiting user adds nothing twice.
    let again = victims.last().unwrap();
    let outcome = sync_user(&world.deps, APP, again, RunTrigger::Event)
        .await
        .unwrap();
    assert!(
        outcome
            .reasons
            .iter()
            .any(|r| r.contains(&format!("approve or reject run {}", held[0].id))),
        "{:?}",
        outcome.reasons
    );
    assert_eq!(pending(&world, held[0].id).await, waiting);
    assert_eq!(held_runs(&world).await.len(), 1);

    let approved = approve(&world.deps, held[0].id, "admin").await.unwrap();
    assert_status(&approved, RunStatus::Succeeded);
    assert_eq!(
        deactivated(&world, &victims),
        victims.len(),
        "all deactivated after approval"
    );
    assert!(held_runs(&world).await.is_empty());
}

#[tokio::test]
async fn a_full_sync_counts_what_single_user_runs_applied_in_the_window() {
    let world = World::with_policy(
        small_org(300, 5, 7),
        "[app.policy.limits]\nmax_destructive = 25\nmax_destructive_percent = 100.0\n",
    )
    .await;
    assert_eq!(world.sync().await.status, RunStatus::Succeeded);
    for login in world.suspend_active(20) {
        sync_user(&world.deps, APP, &login, RunTrigger::Login)
            .await
            .unwrap();
    }
    world.suspend_active(6);

    let full = world.sync().await;

    assert_eq!(full.status, RunStatus::Held, "{:?}", full.reasons);
    assert!(
        full.reasons.iter().any(|r| r
            .contains("6 destructive operations planned (and 20 applied in the last 15 minutes)")),
        "{:?}",
        full.reasons
    );
}

#[tokio::test]
async fn a_new_run_supersedes_the_held_run_and_approving_it_leaves_nothing_held() {
    let world = World::new(small_org(40, 5, 7)).await;
    assert_eq!(world.sync().await.status, RunStatus::Succeeded);
    let victims = world.suspend_active(10);
    let first = world.sync().await;
    assert_eq!(first.status, RunStatus::Held);
    let second = world.sync().await;
    assert_eq!(second.status, RunStatus::Held, "{:?}", second.reasons);
    let (first, second) = (first.run_id.unwrap(), second.run_id.unwrap());

    let old = world.deps.store.get_run(first).await.unwrap();
    assert_eq!(old.status, RunStatus::Superseded);
    assert!(
        old.reason
            .as_deref()
            .unwrap_or_default()
            .contains(&format!("superseded by run {second}")),
        "{:?}",
        old.reason
    );
    assert!(pending(&world, first).await.is_empty());
    assert_eq!(
        held_runs(&world)
            .await
            .iter()
            .map(|r| r.id)
            .collect::<Vec<_>>(),
        [second]
    );
    assert!(
        approve(&world.deps, first, "admin").await.is_err(),
        "only the latest can be approved"
    );

    let approved = approve(&world.deps, second, "admin").await.unwrap();
    assert_status(&approved, RunStatus::Succeeded);
    assert_eq!(deactivated(&world, &victims), victims.len());
    assert!(held_runs(&world).await.is_empty());
    let latest = world
        .deps
        .store
        .list_runs(
            &RunFilter {
                app: Some(app_id(&world).await),
                ..RunFilter::default()
            },
            1,
        )
        .await
        .unwrap();
    assert_eq!(
        latest[0].status,
        RunStatus::Succeeded,
        "the apps list shows the latest run"
    );
    let run = world.deps.store.get_run(second).await.unwrap();
    let wall = (run.finished_at.unwrap() - run.started_at).num_milliseconds() as f64 / 1000.0;
    assert!(run.work_seconds.unwrap() <= wall, "{run:?}");
}

#[tokio::test]
async fn a_full_sync_supersedes_the_held_run_of_single_user_runs() {
    let world = World::new(small_org(300, 5, 7)).await;
    assert_eq!(world.sync().await.status, RunStatus::Succeeded);
    for login in world.suspend_active(19) {
        sync_user(&world.deps, APP, &login, RunTrigger::Event)
            .await
            .unwrap();
    }
    let collected = held_runs(&world).await;
    assert_eq!(collected.len(), 1);

    let full = world.sync().await;

    assert_eq!(
        full.status,
        RunStatus::Held,
        "the budget is still spent: {:?}",
        full.reasons
    );
    let now = held_runs(&world).await;
    assert_eq!(
        now.iter().map(|r| Some(r.id)).collect::<Vec<_>>(),
        [full.run_id]
    );
    let old = world.deps.store.get_run(collected[0].id).await.unwrap();
    assert_eq!(old.status, RunStatus::Superseded);
}
