//! The scheduler: on time, once per due time across restarts, once for many missed
//! intervals, and never two runs of one app at once whatever triggers them.

use std::time::Duration;

use chrono::{Timelike as _, Utc};
use usersync::engine::{EngineError, Mode, run_sync_once};
use usersync::events::HANDLED_EVENTS;
use usersync_sim::okta::NewUser;
use usersync_store::{Run, RunTrigger};

use crate::world::{APP, Setup, World, fast_config, within};

#[tokio::test]
async fn a_scheduled_run_fires_on_time() {
    // Every two seconds, by a cron expression with a seconds field.
    let mut world = World::new(Setup::scheduled(r#"{ cron = "*/2 * * * * *" }"#)).await;
    world.start(fast_config()).await;
    within(Duration::from_secs(10), "two scheduled runs", || async {
        world.runs(Some(RunTrigger::Scheduled)).await.len() >= 2
    })
    .await;
    world.stop_triggers().await;
    for run in world.runs(Some(RunTrigger::Scheduled)).await.iter().take(2) {
        let started = run.started_at;
        let slot = started.with_nanosecond(0).unwrap();
        assert_eq!(
            slot.timestamp() % 2,
            0,
            "started in an even second: {started}"
        );
        assert!(
            started - slot < chrono::Duration::milliseconds(900),
            "late: {started}"
        );
    }
    world.stop().await;
}

async fn due_a_while_ago(world: &World, ago: chrono::Duration) {
    let app = world.app().await;
    world
        .deps
        .store
        .set_next_run(app.id, Some(Utc::now() - ago))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_restart_right_after_a_scheduled_run_does_not_run_it_again() {
    let mut world = World::new(Setup::scheduled("{ every_minutes = 1 }")).await;
    due_a_while_ago(&world, chrono::Duration::seconds(1)).await;
    world.start(fast_config()).await;
    within(Duration::from_secs(10), "the due run", || async {
        world.runs(Some(RunTrigger::Scheduled)).await.len() == 1
    })
    .await;
    world.stop().await;

    world.restart(fast_config()).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let runs = world.runs(Some(RunTrigger::Scheduled)).await;
    assert_eq!(runs.len(), 1, "no second run after the restart");
    let state = world
        .deps
        .store
        .scheduler_state(world.app().await.id)
        .await
        .unwrap();
    let next = state.next_run_at.unwrap();
    let gap = next - runs[0].started_at;
    assert!(
        gap > chrono::Duration::seconds(55) && gap < chrono::Duration::seconds(65),
        "next is a minute on: {gap}"
    );
    world.stop().await;
}

#[tokio::test]
async fn a_run_missed_for_many_intervals_runs_once_at_start_up() {
    let mut world = World::new(Setup::scheduled("{ every_minutes = 1 }")).await;
    // The server was down for an hour: sixty intervals missed.
    due_a_while_ago(&world, chrono::Duration::hours(1)).await;
    world.start(fast_config()).await;
    within(Duration::from_secs(10), "the missed run", || async {
        !world.runs(Some(RunTrigger::Scheduled)).await.is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(world.runs(Some(RunTrigger::Scheduled)).await.len(), 1);
    let state = world
        .deps
        .store
        .scheduler_state(world.app().await.id)
        .await
        .unwrap();
    assert!(state.next_run_at.unwrap() > Utc::now());
    assert!(state.last_run_id.is_some());
    world.stop().await;
}

fn overlapping(runs: &[Run]) -> Option<(i64, i64)> {
    for a in runs {
        for b in runs {
            if a.id == b.id {
                continue;
            }
            let a_end = a.finished_at.expect("finished");
            if a.started_at <= b.started_at && b.started_at < a_end {
                return Some((a.id.0, b.id.0));
            }
        }
    }
    None
}

#[tokio::test]
async fn overlapping_triggers_never_run_an_app_twice_at_once() {
    let mut world = World::new(Setup {
        schedule: Some(r#"{ cron = "* * * * * *" }"#),
        ..Setup::everything()
    })
    .await;
    world.jira.faults().update(|f| f.latency_ms = 5);
    world.start(fast_config()).await;
    world.wire_hook(&HANDLED_EVENTS).await;

    // Hold the app as a long run would: every trigger arrives while it is busy.
    let held = world.deps.locks.lock(APP).await;
    let manual = run_sync_once(&world.deps, APP, RunTrigger::Manual, Mode::Apply).await;
    assert!(
        matches!(manual, Err(EngineError::AlreadyRunning(_))),
        "a manual run says the app is busy"
    );
    for i in 0..5 {
        let login = format!("overlap{i}@example.com");
        world
            .okta
            .add_user(NewUser::new(&login, "Over", "Lap"))
            .unwrap();
        world.okta.login(&login).unwrap();
    }
    world
        .okta
        .add_group("Overlappers", None, usersync_core::OktaGroupType::OktaGroup)
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        world.runs(None).await.is_empty(),
        "nothing ran while the app was held"
    );
    drop(held);

    let manual = tokio::spawn({
        let deps = world.deps.clone();
        async move {
            let mut refused = 0;
            for _ in 0..20 {
                if run_sync_once(&deps, APP, RunTrigger::Manual, Mode::Apply)
                    .await
                    .is_err()
                {
                    refused += 1;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            refused
        }
    });
    within(Duration::from_secs(20), "the waiting work runs", || async {
        let runs = world.runs(None).await;
        runs.iter().any(|r| r.trigger == RunTrigger::Scheduled)
            && runs
                .iter()
                .any(|r| matches!(r.trigger, RunTrigger::Login | RunTrigger::Event))
            && world.jira_users().contains_key("overlap4@example.com")
    })
    .await;
    let refused = manual.await.unwrap();
    world.stop_triggers().await;
    let runs = world.runs(None).await;
    assert!(runs.len() >= 3, "{} runs", runs.len());
    assert_eq!(overlapping(&runs), None, "two runs of the app overlapped");
    println!(
        "{} runs, {refused} manual presses refused as busy",
        runs.len()
    );
    world.stop().await;
}
