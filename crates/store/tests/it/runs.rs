//! Runs: lifecycle, held plans, and recovery after the process dies.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pretty_assertions::assert_eq;
use serde_json::json;
use tempfile::TempDir;
use usersync_store::{
    AppId, AuditFilter, MasterKey, NewOperation, OpOutcome, OutcomeUpdate, RunFilter, RunStatus,
    RunTrigger, Store, StoreError,
};

use crate::common::{draft, temp_store};
use usersync_testkit::{Backend, on_both_stores};

const CHILD_DIR_ENV: &str = "USERSYNC_STORE_TEST_CHILD_DIR";
const KILL_TEST: &str =
    "runs::a_run_left_running_by_a_killed_process_is_marked_interrupted_on_reopen";

fn op(seq: u32, kind: &str, subject: &str) -> NewOperation {
    NewOperation {
        seq,
        kind: kind.into(),
        subject: subject.into(),
        rule: "import_users".into(),
        payload: json!({ "op": kind, "subject": subject }).to_string(),
    }
}

async fn app_in(store: &Store) -> AppId {
    store.create_app(draft("Jira"), "test").await.unwrap().id
}

/// In the child: start a run, say so through a marker file, then wait to be killed.
async fn child_starts_a_run_and_hangs(dir: &Path) {
    let store = Store::open(dir).await.expect("child opens the store");
    let app = app_in(&store).await;
    let run = store.start_run(app, RunTrigger::Scheduled).await.unwrap();
    store
        .record_plan(
            run.id,
            &[op(1, "create_user", "alice"), op(2, "create_user", "bob")],
            "{}",
        )
        .await
        .unwrap();
    let alice = OutcomeUpdate {
        seq: 1,
        outcome: OpOutcome::Applied,
        error: None,
    };
    store.record_outcomes(run.id, &[alice]).await.unwrap();
    std::fs::write(dir.join("run-started"), run.id.to_string()).unwrap();
    tokio::time::sleep(Duration::from_secs(600)).await;
}

#[tokio::test]
async fn a_run_left_running_by_a_killed_process_is_marked_interrupted_on_reopen() {
    if let Some(dir) = std::env::var_os(CHILD_DIR_ENV) {
        child_starts_a_run_and_hangs(Path::new(&dir)).await;
        return;
    }
    let dir = TempDir::new().unwrap();
    let key_hex = "11".repeat(32);
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([KILL_TEST, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_DIR_ENV, dir.path())
        .env("USERSYNC_MASTER_KEY", &key_hex)
        .stdout(Stdio::null())
        .spawn()
        .expect("re-run this test binary as the child");
    let marker = dir.path().join("run-started");
    let deadline = Instant::now() + Duration::from_secs(120);
    while !marker.exists() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the child exited ({status}) before starting its run");
        }
        assert!(Instant::now() < deadline, "the child never started its run");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // While the child lives, no other process may start a run of the same app.
    let key = MasterKey::parse(&key_hex, "test").unwrap();
    {
        let beside = Store::open_with_key(dir.path(), key.clone()).await.unwrap();
        let app = beside.find_app("Jira").await.unwrap().unwrap().id;
        let err = beside
            .start_run(app, RunTrigger::Manual)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("another usersync process"), "{err}");
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let store = Store::open_with_key(dir.path(), key).await.unwrap();
    let runs = store.list_runs(&RunFilter::default(), 10).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, RunStatus::Interrupted);
    assert!(runs[0].finished_at.is_some());
    assert!(runs[0].reason.as_deref().unwrap().contains("stopped"));
    // Its counts are those of the operations it recorded (not zeros).
    let created = &runs[0].counts["create_user"];
    assert_eq!((created.planned, created.applied), (2, 1));
    // Nothing else is lost: the plan is still there.
    let ops = store.run_operations(runs[0].id).await.unwrap();
    assert_eq!(ops.len(), 2);
    assert_eq!(ops[1].outcome, OpOutcome::Pending);
}

#[tokio::test]
async fn a_run_of_a_live_process_is_not_interrupted_by_another_open() {
    let dir = TempDir::new().unwrap();
    let key = MasterKey::generate();
    let service = Store::open_with_key(dir.path(), key.clone()).await.unwrap();
    let app = app_in(&service).await;
    let run = service.start_run(app, RunTrigger::Manual).await.unwrap();
    // Open the same data directory again, as a CLI command would next to the service:
    // the run's owner (this process) is alive, so the run is left alone.
    let cli = Store::open_with_key(dir.path(), key).await.unwrap();
    assert_eq!(
        cli.get_run(run.id).await.unwrap().status,
        RunStatus::Running
    );
    service
        .finish_run(run.id, RunStatus::Succeeded, None)
        .await
        .unwrap();
    assert_eq!(
        cli.get_run(run.id).await.unwrap().status,
        RunStatus::Succeeded
    );
}

async fn a_run_records_its_plan_outcomes_and_counts(backend: Backend) {
    let (_dir, store) = temp_store(backend).await;
    let app = app_in(&store).await;
    let run = store.start_run(app, RunTrigger::Manual).await.unwrap();
    assert_eq!(run.status, RunStatus::Running);
    let ops = [
        op(1, "create_user", "alice"),
        op(2, "create_user", "bob"),
        op(3, "add_membership", "alice"),
    ];
    store
        .record_plan(run.id, &ops, r#"{ "summary": "3 ops" }"#)
        .await
        .unwrap();
    store
        .record_outcome(run.id, 1, OpOutcome::Applied, None)
        .await
        .unwrap();
    let updates = [
        usersync_store::OutcomeUpdate {
            seq: 2,
            outcome: OpOutcome::Failed,
            error: Some("HTTP 500".into()),
        },
        usersync_store::OutcomeUpdate {
            seq: 3,
            outcome: OpOutcome::Skipped,
            error: None,
        },
    ];
    store.record_outcomes(run.id, &updates).await.unwrap();
    let err = store
        .record_outcome(run.id, 99, OpOutcome::Applied, None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");

    let counts = store.tally_operations(run.id).await.unwrap();
    assert_eq!(counts["create_user"].planned, 2);
    assert_eq!(counts["create_user"].applied, 1);
    assert_eq!(counts["create_user"].failed, 1);
    assert_eq!(counts["add_membership"].skipped, 1);
    let finished = store
        .finish_run(run.id, RunStatus::Partial, Some("1 operation failed"))
        .await
        .unwrap();
    assert_eq!(finished.status, RunStatus::Partial);
    assert_eq!(finished.counts, counts);
    assert_eq!(store.get_run(run.id).await.unwrap(), finished);
    let recorded = store.run_operations(run.id).await.unwrap();
    assert_eq!(recorded[1].error.as_deref(), Some("HTTP 500"));
    assert_eq!(
        recorded[0].payload,
        json!({ "op": "create_user", "subject": "alice" })
    );
    assert_eq!(
        store.run_plan(run.id).await.unwrap(),
        Some(json!({ "summary": "3 ops" }))
    );

    let err = store
        .finish_run(run.id, RunStatus::Succeeded, None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict(_)),
        "a finished run cannot finish again: {err:?}"
    );
}

async fn a_held_run_is_approved_once_then_applied_and_finished(backend: Backend) {
    let (_dir, store) = temp_store(backend).await;
    let app = app_in(&store).await;
    let run = store.start_run(app, RunTrigger::Scheduled).await.unwrap();
    store
        .record_plan(
            run.id,
            &[op(1, "deactivate_user", "bob")],
            r#"{ "destructive": 1 }"#,
        )
        .await
        .unwrap();
    let held = store
        .finish_run(
            run.id,
            RunStatus::Held,
            Some("1 deactivation exceeds the limit"),
        )
        .await
        .unwrap();
    assert_eq!(held.status, RunStatus::Held);

    let approved = store
        .approve_run(run.id, "alice", chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(approved.status, RunStatus::Running);
    assert_eq!(approved.decided_by.as_deref(), Some("alice"));
    assert!(approved.finished_at.is_none());
    let err = store
        .approve_run(run.id, "alice", chrono::Utc::now())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");

    store
        .record_outcome(run.id, 1, OpOutcome::Applied, None)
        .await
        .unwrap();
    let done = store
        .finish_run(run.id, RunStatus::Succeeded, None)
        .await
        .unwrap();
    assert_eq!(done.status, RunStatus::Succeeded);

    let audit = store
        .audit_log(
            &AuditFilter {
                app: Some(app),
                actor: None,
            },
            5,
        )
        .await
        .unwrap();
    assert_eq!(audit[0].action, "run.approve");
    assert_eq!(audit[0].actor, "alice");
}

async fn a_rejected_run_ends_and_its_pending_operations_are_skipped(backend: Backend) {
    let (_dir, store) = temp_store(backend).await;
    let app = app_in(&store).await;
    let run = store.start_run(app, RunTrigger::Api).await.unwrap();
    store
        .record_plan(run.id, &[op(1, "delete_user", "bob")], "null")
        .await
        .unwrap();
    let err = store.reject_run(run.id, "alice").await.unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict(_)),
        "a running run cannot be rejected: {err:?}"
    );
    store
        .finish_run(run.id, RunStatus::Held, Some("held"))
        .await
        .unwrap();
    let rejected = store.reject_run(run.id, "alice").await.unwrap();
    assert_eq!(rejected.status, RunStatus::Rejected);
    assert!(rejected.finished_at.is_some());
    // The counts stored with the run (the runs list shows them) say what was skipped.
    assert_eq!(
        (
            rejected.counts["delete_user"].planned,
            rejected.counts["delete_user"].skipped
        ),
        (1, 1)
    );
    let ops = store.run_operations(run.id).await.unwrap();
    assert_eq!(ops[0].outcome, OpOutcome::Skipped);
    assert!(
        store
            .approve_run(run.id, "bob", chrono::Utc::now())
            .await
            .is_err()
    );
}

async fn runs_are_listed_newest_first_and_filtered(backend: Backend) {
    let (_dir, store) = temp_store(backend).await;
    let jira = app_in(&store).await;
    let wiki = store.create_app(draft("Wiki"), "test").await.unwrap().id;
    let first = store.start_run(jira, RunTrigger::Manual).await.unwrap();
    store
        .finish_run(first.id, RunStatus::Failed, Some("Okta unreachable"))
        .await
        .unwrap();
    let second = store.start_run(wiki, RunTrigger::Login).await.unwrap();
    let third = store.start_run(jira, RunTrigger::Event).await.unwrap();

    let all = store.list_runs(&RunFilter::default(), 10).await.unwrap();
    let ids: Vec<_> = all.iter().map(|r| r.id).collect();
    assert_eq!(ids, vec![third.id, second.id, first.id]);
    let jira_runs = store
        .list_runs(
            &RunFilter {
                app: Some(jira),
                ..RunFilter::default()
            },
            10,
        )
        .await
        .unwrap();
    assert_eq!(jira_runs.len(), 2);
    let failed = store
        .list_runs(
            &RunFilter {
                status: Some(RunStatus::Failed),
                ..RunFilter::default()
            },
            10,
        )
        .await
        .unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].reason.as_deref(), Some("Okta unreachable"));
    let logins = store
        .list_runs(
            &RunFilter {
                trigger: Some(RunTrigger::Login),
                ..RunFilter::default()
            },
            10,
        )
        .await
        .unwrap();
    assert_eq!(logins[0].id, second.id);
    assert_eq!(
        store
            .list_runs(&RunFilter::default(), 1)
            .await
            .unwrap()
            .len(),
        1
    );
    let err = store
        .start_run(AppId(999), RunTrigger::Manual)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
}

async fn several_operations_links_recorded_together_end_as_if_saved_one_after_another(
    backend: Backend,
) {
    let (_dir, store) = temp_store(backend).await;
    let app = app_in(&store).await;
    let run = store.start_run(app, RunTrigger::Manual).await.unwrap();
    let ops: Vec<_> = (1..=8).map(|i| op(i, "create_user", "alice")).collect();
    store.record_plan(run.id, &ops, "{}").await.unwrap();
    let user = |id: &str, name: &str| usersync_store::LinkChanges {
        upsert_users: vec![usersync_core::UserLink {
            okta_id: usersync_core::OktaUserId::parse(id).unwrap(),
            target_key: None,
            username: usersync_core::Username::parse(name).unwrap(),
            read_only: false,
        }],
        ..Default::default()
    };
    let group = |id: &str, name: &str| usersync_store::LinkChanges {
        upsert_groups: vec![usersync_core::GroupLink {
            okta_id: usersync_core::OktaGroupId::parse(id).unwrap(),
            target_name: usersync_core::GroupName::parse(name).unwrap(),
            created_by_usersync: true,
        }],
        ..Default::default()
    };
    let gone = usersync_store::LinkChanges {
        delete_users: vec![usersync_core::OktaUserId::parse("00u2").unwrap()],
        ..Default::default()
    };
    // Created users and groups (saved as multi-row statements), a second change of
    // 00u1 (which must come after its first), a delete, then a link reusing a name.
    let batches = [
        user("00u1", "alice"),
        user("00u2", "bob"),
        group("00g1", "devs"),
        group("00g2", "ops"),
        user("00u1", "alice.smith"),
        gone,
        user("00u3", "bob"),
    ];
    let updates: Vec<_> = (1..=7)
        .map(|seq| usersync_store::OutcomeUpdate {
            seq,
            outcome: OpOutcome::Applied,
            error: None,
        })
        .collect();

    store
        .record_outcomes_with_links(app, &batches, run.id, &updates)
        .await
        .unwrap();

    let links = store.load_links(app).await.unwrap();
    let users: Vec<(&str, &str)> = links
        .users
        .values()
        .map(|l| (l.okta_id.as_str(), l.username.as_str()))
        .collect();
    assert_eq!(users, [("00u1", "alice.smith"), ("00u3", "bob")]);
    let groups: Vec<&str> = links
        .groups
        .values()
        .map(|l| l.target_name.as_str())
        .collect();
    assert_eq!(groups, ["devs", "ops"]);
    let counts = store.tally_operations(run.id).await.unwrap();
    assert_eq!(counts["create_user"].applied, 7);
}

async fn links_and_outcomes_recorded_together_are_saved_together_or_not_at_all(backend: Backend) {
    let (_dir, store) = temp_store(backend).await;
    let app = app_in(&store).await;
    let run = store.start_run(app, RunTrigger::Manual).await.unwrap();
    let ops: Vec<_> = (1..=40).map(|i| op(i, "add_member", "alice")).collect();
    store.record_plan(run.id, &ops[..1], "{}").await.unwrap();
    store.record_operations(run.id, &ops[1..]).await.unwrap();
    let link = usersync_store::LinkChanges {
        upsert_users: vec![usersync_core::UserLink {
            okta_id: usersync_core::OktaUserId::parse("00u1").unwrap(),
            target_key: None,
            username: usersync_core::Username::parse("alice").unwrap(),
            read_only: false,
        }],
        ..Default::default()
    };
    let applied = |seq| usersync_store::OutcomeUpdate {
        seq,
        outcome: OpOutcome::Applied,
        error: None,
    };

    let unknown: Vec<_> = [1, 2, 99].into_iter().map(applied).collect();
    let err = store
        .record_outcomes_with_links(app, std::slice::from_ref(&link), run.id, &unknown)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("operation 99"), "{err}");
    assert!(store.load_links(app).await.unwrap().users.is_empty());
    assert_eq!(
        store.tally_operations(run.id).await.unwrap()["add_member"].applied,
        0
    );

    let known: Vec<_> = (1..=40).map(applied).collect();
    store
        .record_outcomes_with_links(app, std::slice::from_ref(&link), run.id, &known)
        .await
        .unwrap();
    assert_eq!(store.load_links(app).await.unwrap().users.len(), 1);
    let counts = store.tally_operations(run.id).await.unwrap();
    assert_eq!(
        (counts["add_member"].planned, counts["add_member"].applied),
        (40, 40)
    );
}

on_both_stores!(
    a_run_records_its_plan_outcomes_and_counts,
    a_held_run_is_approved_once_then_applied_and_finished,
    a_rejected_run_ends_and_its_pending_operations_are_skipped,
    runs_are_listed_newest_first_and_filtered,
    links_and_outcomes_recorded_together_are_saved_together_or_not_at_all,
    several_operations_links_recorded_together_end_as_if_saved_one_after_another,
);
