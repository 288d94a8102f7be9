//! The store journal against a real (in-memory) store: what is durable when.

use pretty_assertions::assert_eq;
use usersync_core::{
    GroupName, OktaStatus, OktaUserId, Op, OpKind, Plan, PlannedOp, Rule, UserLink, Username,
};
use usersync_store::{AppId, LinkChanges, OpOutcome, RunId, RunTrigger, Store, apps_from_toml};

use super::super::apply::{Journal, OpResult};
use super::{FLUSH_AT, PLAN_BATCH, StoreJournal, record_plan};

const APP: &str = r#"
[[app]]
name = "jira"
[app.okta]
url = "https://example.okta.com"
credential = { type = "api_token", token = "okta-token" }
[app.target]
kind = "jira"
url = "https://jira.example.com"
credential = { type = "pat", token = "jira-token" }
"#;

/// A store with one app and one running run whose plan has `ops` memberships.
async fn running(ops: usize) -> (Store, AppId, RunId) {
    let store = Store::open_in_memory().await.unwrap();
    store
        .apply_apps(apps_from_toml(APP).unwrap(), "test")
        .await
        .unwrap();
    let app = store.find_app("jira").await.unwrap().unwrap().id;
    let run = store.start_run(app, RunTrigger::Manual).await.unwrap().id;
    let rule = Rule::ImportUsers {
        status: OktaStatus::Active,
    };
    let plan = Plan {
        ops: (0..ops)
            .map(|i| PlannedOp {
                op: Op::AddMember {
                    group: GroupName::parse("devs").unwrap(),
                    username: Username::parse(format!("user{i}")).unwrap(),
                },
                rule: rule.clone(),
            })
            .collect(),
        skipped: Vec::new(),
        guard: usersync_core::Guard::Proceed,
        notes: Vec::new(),
    };
    record_plan(&store, run, &plan, &usersync_core::PlanScope::Full)
        .await
        .unwrap();
    (store, app, run)
}

fn applied(seq: u32, kind: OpKind) -> OpResult {
    OpResult {
        seq,
        kind,
        outcome: OpOutcome::Applied,
        error: None,
    }
}

async fn pending(store: &Store, run: RunId) -> usize {
    let counts = store.tally_operations(run).await.unwrap();
    let c = counts.values().next().copied().unwrap_or_default();
    usize::try_from(c.planned - c.applied - c.failed - c.skipped).unwrap()
}

#[tokio::test]
async fn a_plan_larger_than_a_batch_is_recorded_whole_and_numbered_in_plan_order() {
    let (store, _, run) = running(PLAN_BATCH + 3).await;

    let ops = store.run_operations(run).await.unwrap();

    assert_eq!(ops.len(), PLAN_BATCH + 3);
    assert!(ops.iter().enumerate().all(|(i, o)| o.seq as usize == i + 1));
    assert_eq!(ops[PLAN_BATCH].subject, format!("user{PLAN_BATCH} in devs"));
    let blob = store.run_plan(run).await.unwrap().unwrap();
    assert_eq!(blob["operations"], PLAN_BATCH + 3);
}

#[tokio::test]
async fn an_identity_link_and_its_outcome_are_durable_at_once_while_memberships_wait_for_a_batch() {
    let (store, app, run) = running(FLUSH_AT + 4).await;
    let journal = StoreJournal {
        // Only the count triggers writes here, however slow the machine.
        every: std::time::Duration::from_secs(3600),
        ..StoreJournal::new(&store, app, run)
    };

    journal
        .record(&applied(1, OpKind::AddMember), &LinkChanges::default())
        .await;
    journal
        .record(&applied(2, OpKind::AddMember), &LinkChanges::default())
        .await;
    assert_eq!(
        pending(&store, run).await,
        FLUSH_AT + 4,
        "memberships are buffered"
    );

    let link = user_link("00u1", "user2");
    journal.record(&applied(3, OpKind::CreateUser), &link).await;
    assert_eq!(store.load_links(app).await.unwrap().users.len(), 1);
    assert_eq!(
        pending(&store, run).await,
        FLUSH_AT + 1,
        "the link's transaction also wrote its outcome and the buffered ones"
    );

    for seq in 4..=u32::try_from(FLUSH_AT + 4).unwrap() {
        journal
            .record(&applied(seq, OpKind::AddMember), &LinkChanges::default())
            .await;
    }
    assert_eq!(
        pending(&store, run).await,
        1,
        "a full buffer is written without waiting for the end; the last op waits"
    );
    journal.flush().await;
    assert_eq!(pending(&store, run).await, 0);
}

fn user_link(okta_id: &str, username: &str) -> LinkChanges {
    LinkChanges {
        upsert_users: vec![UserLink {
            okta_id: OktaUserId::parse(okta_id).unwrap(),
            target_key: None,
            username: Username::parse(username).unwrap(),
            read_only: false,
        }],
        ..LinkChanges::default()
    }
}

#[tokio::test]
async fn links_queued_while_another_write_runs_are_written_together_by_the_next_turn() {
    let (store, app, run) = running(3).await;
    let journal = StoreJournal::new(&store, app, run);
    let links: Vec<LinkChanges> = (1..=3)
        .map(|i| user_link(&format!("00u{i}"), &format!("user{i}")))
        .collect();
    let results: Vec<OpResult> = (1..=3).map(|s| applied(s, OpKind::CreateUser)).collect();

    // A write is under way: three lanes finish creating users meanwhile and queue.
    let turn = journal.writer.lock().await;
    let mut lanes: Vec<_> = results
        .iter()
        .zip(&links)
        .map(|(result, link)| Box::pin(journal.record(result, link)))
        .collect();
    for lane in &mut lanes {
        assert!(
            futures::poll!(lane.as_mut()).is_pending(),
            "a lane waits until its link is written"
        );
    }
    drop(turn);

    // The first lane in line writes what all three queued, in one transaction.
    let mut lanes = lanes.into_iter();
    lanes.next().unwrap().await;
    assert_eq!(store.load_links(app).await.unwrap().users.len(), 3);
    assert_eq!(pending(&store, run).await, 0);
    for lane in lanes {
        lane.await;
    }
    assert_eq!(journal.queue().issued, 3);
    assert_eq!(journal.queue().written, 3);
}

#[tokio::test]
async fn a_failed_operation_is_written_at_once_with_its_error() {
    let (store, app, run) = running(3).await;
    let journal = StoreJournal::new(&store, app, run);
    journal
        .record(&applied(1, OpKind::AddMember), &LinkChanges::default())
        .await;

    let failed = OpResult {
        error: Some("HTTP 500".into()),
        outcome: OpOutcome::Failed,
        ..applied(2, OpKind::AddMember)
    };
    journal.record(&failed, &LinkChanges::default()).await;

    let ops = store.run_operations(run).await.unwrap();
    let outcomes: Vec<_> = ops.iter().map(|o| o.outcome).collect();
    assert_eq!(
        outcomes,
        [OpOutcome::Applied, OpOutcome::Failed, OpOutcome::Pending]
    );
    assert_eq!(ops[1].error.as_deref(), Some("HTTP 500"));
}
