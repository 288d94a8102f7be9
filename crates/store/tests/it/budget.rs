//! An app's hold budget over a rolling window, its one held run, and the work
//! time of approved runs.

use std::time::Duration;

use chrono::Utc;
use pretty_assertions::assert_eq;
use serde_json::json;
use usersync_store::{AppId, NewOperation, OpOutcome, RunId, RunStatus, RunTrigger, Store};

use crate::common::{draft, temp_store};
use usersync_testkit::{Backend, on_both_stores};

const DESTRUCTIVE: &[&str] = &["deactivate_user", "remove_member"];

fn op(seq: u32, kind: &str, subject: &str) -> NewOperation {
    NewOperation {
        seq,
        kind: kind.into(),
        subject: subject.into(),
        rule: "enable_disable_users".into(),
        payload: json!({ "op": kind, "subject": subject }).to_string(),
    }
}

/// A finished run of `app` with `ops`, the first `applied` of them applied.
async fn run_with(
    store: &Store,
    app: AppId,
    ops: &[NewOperation],
    applied: usize,
    status: RunStatus,
) -> RunId {
    let run = store.start_run(app, RunTrigger::Event).await.unwrap().id;
    store.record_plan(run, ops, "{}").await.unwrap();
    for o in ops.iter().take(applied) {
        store
            .record_outcome(run, o.seq, OpOutcome::Applied, None)
            .await
            .unwrap();
    }
    store.finish_run(run, status, None).await.unwrap();
    run
}

fn subjects(ops: &[usersync_store::Operation]) -> Vec<&str> {
    ops.iter().map(|o| o.subject.as_str()).collect()
}

async fn the_window_holds_the_destructive_ops_the_apps_runs_applied_since_then_but_not_approvals(
    backend: Backend,
) {
    let (_dir, store) = temp_store(backend).await;
    let app = store.create_app(draft("Jira"), "test").await.unwrap().id;
    let other = store.create_app(draft("Wiki"), "test").await.unwrap().id;
    let before = Utc::now();
    tokio::time::sleep(Duration::from_millis(20)).await;
    run_with(
        &store,
        app,
        &[op(1, "create_user", "ann"), op(2, "deactivate_user", "bob")],
        2,
        RunStatus::Succeeded,
    )
    .await;
    run_with(
        &store,
        app,
        &[
            op(1, "deactivate_user", "cid"),
            op(2, "remove_member", "dan in staff"),
        ],
        1,
        RunStatus::Partial,
    )
    .await;
    run_with(
        &store,
        other,
        &[op(1, "deactivate_user", "eve")],
        1,
        RunStatus::Succeeded,
    )
    .await;
    let approved = run_with(
        &store,
        app,
        &[op(1, "deactivate_user", "fay")],
        0,
        RunStatus::Held,
    )
    .await;
    store
        .approve_run(approved, "admin", Utc::now())
        .await
        .unwrap();
    store
        .record_outcome(approved, 1, OpOutcome::Applied, None)
        .await
        .unwrap();
    store
        .finish_run(approved, RunStatus::Succeeded, None)
        .await
        .unwrap();

    let window = store.applied_since(app, before, DESTRUCTIVE).await.unwrap();
    assert_eq!(
        subjects(&window),
        ["bob", "cid"],
        "applied, destructive, this app, no approval"
    );
    let later = store
        .applied_since(app, Utc::now(), DESTRUCTIVE)
        .await
        .unwrap();
    assert!(
        later.is_empty(),
        "runs that finished before the window are out: {later:?}"
    );
    assert!(
        store
            .applied_since(app, before, &[])
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_held_run_takes_more_operations_once_each_numbered_after_its_last(backend: Backend) {
    let (_dir, store) = temp_store(backend).await;
    let app = store.create_app(draft("Jira"), "test").await.unwrap().id;
    let held = run_with(
        &store,
        app,
        &[op(1, "create_user", "ann"), op(2, "deactivate_user", "bob")],
        1,
        RunStatus::Held,
    )
    .await;

    let added = store
        .hold_more(
            held,
            &[
                op(1, "deactivate_user", "bob"),
                op(1, "deactivate_user", "cid"),
                op(2, "deactivate_user", "cid"),
            ],
            "2 wait",
        )
        .await
        .unwrap();

    assert_eq!(added, 1, "bob is already held and cid comes once");
    let ops = store.run_operations(held).await.unwrap();
    let rows: Vec<(u32, &str, OpOutcome)> = ops
        .iter()
        .map(|o| (o.seq, o.subject.as_str(), o.outcome))
        .collect();
    assert_eq!(
        rows,
        [
            (1, "ann", OpOutcome::Applied),
            (2, "bob", OpOutcome::Pending),
            (3, "cid", OpOutcome::Pending)
        ]
    );
    let run = store.get_run(held).await.unwrap();
    assert_eq!(run.status, RunStatus::Held);
    assert_eq!(run.reason.as_deref(), Some("2 wait"));
    assert_eq!(
        run.counts["deactivate_user"].planned, 2,
        "the counts include what was added"
    );

    let running = store.start_run(app, RunTrigger::Manual).await.unwrap().id;
    let err = store
        .hold_more(running, &[op(1, "deactivate_user", "dan")], "no")
        .await
        .unwrap_err();
    assert!(
        matches!(err, usersync_store::StoreError::Conflict(_)),
        "{err:?}"
    );
}

async fn a_new_plan_supersedes_the_apps_held_runs_and_says_which_run_replaced_them(
    backend: Backend,
) {
    let (_dir, store) = temp_store(backend).await;
    let app = store.create_app(draft("Jira"), "test").await.unwrap().id;
    let other = store.create_app(draft("Wiki"), "test").await.unwrap().id;
    let first = run_with(
        &store,
        app,
        &[op(1, "deactivate_user", "bob")],
        0,
        RunStatus::Held,
    )
    .await;
    let elsewhere = run_with(
        &store,
        other,
        &[op(1, "deactivate_user", "bob")],
        0,
        RunStatus::Held,
    )
    .await;
    let new = store
        .start_run(app, RunTrigger::Scheduled)
        .await
        .unwrap()
        .id;

    let superseded = store.supersede_held(app, new).await.unwrap();

    assert_eq!(superseded, [first]);
    let old = store.get_run(first).await.unwrap();
    assert_eq!(old.status, RunStatus::Superseded);
    assert!(
        old.reason
            .as_deref()
            .unwrap()
            .contains(&format!("superseded by run {new}")),
        "{:?}",
        old.reason
    );
    assert_eq!(
        store.run_operations(first).await.unwrap()[0].outcome,
        OpOutcome::Skipped
    );
    assert_eq!(old.counts["deactivate_user"].skipped, 1);
    assert_eq!(store.held_run(app).await.unwrap(), None);
    assert_eq!(
        store.held_run(other).await.unwrap().map(|r| r.id),
        Some(elsewhere)
    );
    assert!(
        store.approve_run(first, "admin", Utc::now()).await.is_err(),
        "a superseded run cannot be approved"
    );
}

async fn an_approved_runs_work_time_leaves_out_the_wait_for_approval(backend: Backend) {
    let (_dir, store) = temp_store(backend).await;
    let app = store.create_app(draft("Jira"), "test").await.unwrap().id;
    let run = run_with(
        &store,
        app,
        &[op(1, "deactivate_user", "bob")],
        0,
        RunStatus::Held,
    )
    .await;
    let planned = store.get_run(run).await.unwrap().work_seconds.unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await; // the wait
    store.approve_run(run, "admin", Utc::now()).await.unwrap();
    store
        .record_outcome(run, 1, OpOutcome::Applied, None)
        .await
        .unwrap();
    let done = store
        .finish_run(run, RunStatus::Succeeded, None)
        .await
        .unwrap();

    let work = done.work_seconds.unwrap();
    let wall = (done.finished_at.unwrap() - done.started_at).num_milliseconds() as f64 / 1000.0;
    assert!(wall >= 0.6, "{wall}");
    assert!(
        work >= planned && work < 0.5,
        "work {work}s of {wall}s wall time"
    );
}

on_both_stores!(
    the_window_holds_the_destructive_ops_the_apps_runs_applied_since_then_but_not_approvals,
    a_held_run_takes_more_operations_once_each_numbered_after_its_last,
    a_new_plan_supersedes_the_apps_held_runs_and_says_which_run_replaced_them,
    an_approved_runs_work_time_leaves_out_the_wait_for_approval,
);
