//! The store's futures can be spawned on a multi-threaded runtime, as the engine and
//! server do (a future that is not `Send` would not compile here).

use serde_json::json;
use usersync_store::{
    LinkChanges, NewOperation, OpOutcome, RunFilter, RunStatus, RunTrigger, SecretSlot,
};

use crate::common::{draft, temp_sqlite_store};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_run_can_be_recorded_from_spawned_tasks() {
    let (_dir, store) = temp_sqlite_store().await;
    let s = store.clone();
    let app = tokio::spawn(async move { s.create_app(draft("Jira"), "test").await })
        .await
        .unwrap()
        .unwrap();
    let s = store.clone();
    let name = app.name.clone();
    let found = tokio::spawn(async move { s.find_app(&name).await })
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let s = store.clone();
    let secret =
        tokio::spawn(async move { s.resolve_secret(&found, SecretSlot::OktaApiToken).await });
    assert!(secret.await.unwrap().is_ok());

    let s = store.clone();
    let app_id = app.id;
    let run = tokio::spawn(async move {
        let run = s.start_run(app_id, RunTrigger::Manual).await?;
        let links = s.load_links(app_id).await?;
        s.save_links(app_id, &LinkChanges::default()).await?;
        let op = NewOperation {
            seq: 1,
            kind: "create_user".into(),
            subject: "alice".into(),
            rule: "import_users".into(),
            payload: "{}".into(),
        };
        s.record_plan(
            run.id,
            &[op],
            &json!({ "links": links.users.len() }).to_string(),
        )
        .await?;
        s.record_outcome(run.id, 1, OpOutcome::Applied, None)
            .await?;
        s.finish_run(run.id, RunStatus::Succeeded, None).await
    })
    .await
    .unwrap()
    .unwrap();
    let s = store.clone();
    let listed = tokio::spawn(async move { s.list_runs(&RunFilter::default(), 5).await })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(listed, vec![run]);
}
