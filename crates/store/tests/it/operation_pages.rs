//! A run's operations read a page at a time, filtered in the database, and a
//! running run's live progress as another process would read it.

use chrono::{Duration, Utc};
use pretty_assertions::assert_eq;
use serde_json::json;
use usersync_store::{
    NewOperation, OpOutcome, OperationQuery, OutcomeUpdate, RunId, RunProgress, RunStatus,
    RunTrigger, Store,
};

use usersync_testkit::{Backend, on_both_stores};

use crate::common::{draft, temp_store};

/// A run of 3,000 operations: kinds in turn, every tenth failed with an error.
async fn big_run(store: &Store) -> RunId {
    let app = store.create_app(draft("Jira"), "test").await.unwrap().id;
    let run = store
        .start_run(app, RunTrigger::Scheduled)
        .await
        .unwrap()
        .id;
    let kinds = ["create_user", "add_member", "deactivate_user"];
    let ops: Vec<NewOperation> = (1..=3000u32)
        .map(|seq| {
            let kind = kinds[seq as usize % 3];
            NewOperation {
                seq,
                kind: kind.into(),
                subject: format!("user{seq:05}"),
                rule: if kind == "add_member" {
                    "Membership from Okta group Engi_neering".into()
                } else {
                    "Import Users: ACTIVE".into()
                },
                payload: json!({ "op": kind, "email": format!("u{seq}@example.com") }).to_string(),
            }
        })
        .collect();
    store.record_plan(run, &ops[..1000], "{}").await.unwrap();
    store.record_operations(run, &ops[1000..]).await.unwrap();
    let updates: Vec<OutcomeUpdate> = (1..=3000u32)
        .map(|seq| OutcomeUpdate {
            seq,
            outcome: if seq % 10 == 0 {
                OpOutcome::Failed
            } else {
                OpOutcome::Applied
            },
            error: (seq % 10 == 0).then(|| format!("HTTP 500 for user{seq:05}")),
        })
        .collect();
    store.record_outcomes(run, &updates).await.unwrap();
    run
}

fn seqs(page: &usersync_store::OperationPage) -> Vec<u32> {
    page.operations.iter().map(|o| o.seq).collect()
}

async fn a_page_of_operations_is_filtered_by_kind_outcome_rule_and_text_in_the_database(
    backend: Backend,
) {
    let (_dir, store) = temp_store(backend).await;
    let run = big_run(&store).await;
    let all = OperationQuery {
        limit: 50,
        ..OperationQuery::default()
    };
    let first = store.operations_page(run, &all).await.unwrap();
    assert_eq!((first.matching, first.operations.len()), (3000, 50));
    assert_eq!(seqs(&first)[..3], [1, 2, 3]);
    let third = OperationQuery {
        offset: 100,
        ..all.clone()
    };
    assert_eq!(
        seqs(&store.operations_page(run, &third).await.unwrap())[0],
        101
    );

    let failed = OperationQuery {
        outcome: Some(OpOutcome::Failed),
        ..all.clone()
    };
    let page = store.operations_page(run, &failed).await.unwrap();
    assert_eq!(page.matching, 300);
    assert!(
        page.operations
            .iter()
            .all(|o| o.outcome == OpOutcome::Failed && o.error.is_some())
    );

    let kind = OperationQuery {
        kind: Some("add_member".into()),
        ..failed.clone()
    };
    assert_eq!(
        store.operations_page(run, &kind).await.unwrap().matching,
        100
    );

    // `_` in the rule filter is a character, not a wildcard.
    let rule = OperationQuery {
        rule: Some("engi_NEERING".into()),
        ..all.clone()
    };
    assert_eq!(
        store.operations_page(run, &rule).await.unwrap().matching,
        1000
    );
    let wildcard = OperationQuery {
        rule: Some("Engi%".into()),
        ..all.clone()
    };
    assert_eq!(
        store
            .operations_page(run, &wildcard)
            .await
            .unwrap()
            .matching,
        0
    );

    // Text searches the subject, the error and the operation itself.
    let subject = OperationQuery {
        text: Some("USER00042".into()),
        ..all.clone()
    };
    assert_eq!(
        seqs(&store.operations_page(run, &subject).await.unwrap()),
        [42]
    );
    let email = OperationQuery {
        text: Some("u2999@example".into()),
        ..all.clone()
    };
    assert_eq!(
        seqs(&store.operations_page(run, &email).await.unwrap()),
        [2999]
    );
    let error = OperationQuery {
        text: Some("http 500 for user002".into()),
        ..all.clone()
    };
    assert_eq!(
        store.operations_page(run, &error).await.unwrap().matching,
        10
    );
}

/// A run that has ended answers its pages' counts from the counts stored with it (a
/// million-operation run is not counted again per page), and they agree with counting.
async fn an_ended_runs_pages_count_from_its_stored_counts_the_same_as_counting(backend: Backend) {
    let (_dir, store) = temp_store(backend).await;
    let run = big_run(&store).await;
    // Left pending, so that every outcome filter has something to find.
    store
        .record_operations(
            run,
            &[NewOperation {
                seq: 3001,
                kind: "add_member".into(),
                subject: "late".into(),
                rule: "Import Users: ACTIVE".into(),
                payload: "{}".into(),
            }],
        )
        .await
        .unwrap();
    let outcomes = [
        None,
        Some(OpOutcome::Applied),
        Some(OpOutcome::Failed),
        Some(OpOutcome::Skipped),
        Some(OpOutcome::Pending),
    ];
    let kinds = [None, Some("add_member"), Some("create_user"), Some("none")];
    let mut queries = Vec::new();
    for outcome in outcomes {
        for kind in kinds {
            queries.push(OperationQuery {
                kind: kind.map(str::to_owned),
                outcome,
                limit: 1,
                ..OperationQuery::default()
            });
        }
    }
    // Counted by the database while the run is running.
    let mut counted = Vec::new();
    for q in &queries {
        counted.push(store.operations_page(run, q).await.unwrap().matching);
    }
    assert_eq!((counted[0], counted[4 * 4]), (3001, 1), "all, and pending");
    store
        .finish_run(run, RunStatus::Partial, Some("300 failed"))
        .await
        .unwrap();
    let mut stored = Vec::new();
    for q in &queries {
        stored.push(store.operations_page(run, q).await.unwrap().matching);
    }
    assert_eq!(stored, counted);
    let tally = store.tally_operations(run).await.unwrap();
    assert_eq!(tally, store.get_run(run).await.unwrap().counts);
    assert_eq!(tally["add_member"].planned, 1001);
}

async fn keyset_pages_read_every_operation_once_and_a_page_is_capped(backend: Backend) {
    let (_dir, store) = temp_store(backend).await;
    let run = big_run(&store).await;
    let mut after = None;
    let mut seen = Vec::new();
    loop {
        let q = OperationQuery {
            after_seq: after,
            limit: 700,
            ..OperationQuery::default()
        };
        let page = store.operations_page(run, &q).await.unwrap();
        let Some(last) = page.operations.last() else {
            break;
        };
        after = Some(last.seq);
        seen.extend(seqs(&page));
    }
    assert_eq!(seen, (1..=3000).collect::<Vec<u32>>());
    let huge = OperationQuery {
        limit: u32::MAX,
        ..OperationQuery::default()
    };
    assert_eq!(
        store
            .operations_page(run, &huge)
            .await
            .unwrap()
            .operations
            .len(),
        usersync_store::MAX_PAGE as usize
    );
    let missing = store.operations_page(RunId(999), &huge).await;
    assert!(
        matches!(missing, Err(usersync_store::StoreError::NotFound { .. })),
        "{missing:?}"
    );
}

async fn progress_written_for_a_running_run_is_read_back_and_kept_once_it_ends(backend: Backend) {
    let (_dir, store) = temp_store(backend).await;
    let app = store.create_app(draft("Jira"), "test").await.unwrap().id;
    let run = store.start_run(app, RunTrigger::Manual).await.unwrap().id;
    assert_eq!(store.run_progress(run).await.unwrap(), None);
    let now = Utc::now();
    let applying = RunProgress {
        phase: "applying".into(),
        done: 120,
        total: Some(400),
        phase_started_at: now - Duration::seconds(4),
        updated_at: now,
    };
    store.record_progress(run, &applying).await.unwrap();
    let read = store.run_progress(run).await.unwrap().unwrap();
    assert_eq!(
        (read.phase.as_str(), read.done, read.total),
        ("applying", 120, Some(400))
    );
    store
        .finish_run(run, RunStatus::Succeeded, None)
        .await
        .unwrap();
    let late = RunProgress {
        done: 999,
        ..applying
    };
    store.record_progress(run, &late).await.unwrap();
    assert_eq!(store.run_progress(run).await.unwrap().unwrap().done, 120);
}

on_both_stores!(
    a_page_of_operations_is_filtered_by_kind_outcome_rule_and_text_in_the_database,
    an_ended_runs_pages_count_from_its_stored_counts_the_same_as_counting,
    keyset_pages_read_every_operation_once_and_a_page_is_capped,
    progress_written_for_a_running_run_is_read_back_and_kept_once_it_ends,
);
