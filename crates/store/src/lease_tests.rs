//! Leases and run claims between processes. Another process is played by rows whose
//! holder names another machine (liveness unknown, so only the lease counts) or a dead
//! process of this one.

use std::time::Duration;

use super::*;
use crate::runs::{RunStatus, RunTrigger};

const ELSEWHERE: &str = "pid:1:1 host:other place:another-machine nonce:0000beef";

async fn store_with_app() -> (Store, crate::AppId) {
    let store = Store::open_in_memory()
        .await
        .unwrap()
        .with_lease(Duration::from_secs(15));
    let toml = usersync_testkit::AppToml::new(
        "Jira",
        "https://example.okta.com",
        "okta-token",
        "https://jira.example.com",
    )
    .basic("admin", "jira-password")
    .to_string();
    let drafts = crate::apps_from_toml(&toml).unwrap();
    store.apply_apps(drafts, "test").await.unwrap();
    let app = store.find_app("Jira").await.unwrap().unwrap().id;
    (store, app)
}

async fn set_lease(store: &Store, holder: &str, expires_at: i64) {
    sqlx::query(
        "INSERT INTO leases (name, holder, expires_at, acquired_at) VALUES ($1, $2, $3, 0) \
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at",
    )
    .bind(LEADER)
    .bind(holder)
    .bind(expires_at)
    .execute(&store.db)
    .await
    .unwrap();
}

/// A run of `app` as another process would have started it, its claim until `claim`.
async fn foreign_run(store: &Store, app: crate::AppId, owner: &str, claim: i64) -> i64 {
    sqlx::query_scalar(
        "INSERT INTO runs (app_id, trigger_kind, status, owner, started_at, counts_json, \
         claim_expires_at) VALUES ($1, 'scheduled', 'running', $2, $3, '{}', $4) RETURNING id",
    )
    .bind(app.0)
    .bind(owner)
    .bind(crate::stamp::Ts::now())
    .bind(claim)
    .fetch_one(&store.db)
    .await
    .unwrap()
}

#[test]
fn a_claim_of_another_machine_lives_until_it_expires_and_a_dead_local_one_at_once_ends() {
    assert!(claim_is_live(Some(ELSEWHERE), Some(2_000), 1_000));
    assert!(!claim_is_live(Some(ELSEWHERE), Some(500), 1_000));
    assert!(!claim_is_live(Some(ELSEWHERE), None, 1_000));
    assert!(!claim_is_live(None, Some(2_000), 1_000));
    let me = current_owner();
    assert!(claim_is_live(Some(&me), Some(0), 1_000), "alive wins");
    if cfg!(target_os = "linux") {
        assert!(!claim_is_live(Some("pid:4294967295:1"), Some(i64::MAX), 0));
    }
}

#[tokio::test]
async fn the_leader_lease_is_taken_when_free_renewed_by_its_holder_and_released() {
    let (store, _) = store_with_app().await;
    let first = store.acquire_lease(LEADER).await.unwrap();
    assert!(first.held, "{first:?}");
    assert_eq!(first.holder, Store::holder_id());
    let renewed = store.acquire_lease(LEADER).await.unwrap();
    assert!(renewed.held && renewed.expires_at >= first.expires_at);
    assert!(store.release_lease(LEADER).await.unwrap());
    assert!(!store.release_lease(LEADER).await.unwrap(), "released once");
}

#[tokio::test]
async fn another_replicas_lease_is_respected_until_it_expires_then_taken() {
    let (store, _) = store_with_app().await;
    set_lease(&store, ELSEWHERE, now_ms() + 60_000).await;
    let refused = store.acquire_lease(LEADER).await.unwrap();
    assert!(!refused.held);
    assert_eq!(refused.holder, ELSEWHERE);
    assert!(
        !store.release_lease(LEADER).await.unwrap(),
        "only the holder releases"
    );
    set_lease(&store, ELSEWHERE, now_ms() - 1).await;
    let taken = store.acquire_lease(LEADER).await.unwrap();
    assert!(taken.held, "an expired lease is taken: {taken:?}");
    assert_eq!(taken.holder, Store::holder_id());
}

#[tokio::test]
async fn a_lease_of_a_dead_process_on_this_machine_is_taken_at_once() {
    if !cfg!(target_os = "linux") {
        return;
    }
    let (store, _) = store_with_app().await;
    set_lease(&store, "pid:4294967295:1", now_ms() + 60_000).await;
    assert!(store.acquire_lease(LEADER).await.unwrap().held);
}

#[tokio::test]
async fn a_live_claim_of_another_replica_refuses_a_second_run_and_an_expired_one_is_interrupted() {
    let (store, app) = store_with_app().await;
    let theirs = foreign_run(&store, app, ELSEWHERE, now_ms() + 60_000).await;
    let refused = store.start_run(app, RunTrigger::Manual).await.unwrap_err();
    assert!(
        matches!(&refused, StoreError::Claimed { run, .. } if *run == theirs),
        "{refused:?}"
    );
    assert!(refused.to_string().contains("another usersync process"));
    assert_eq!(store.interrupt_abandoned_runs().await.unwrap(), 0);

    sqlx::query("UPDATE runs SET claim_expires_at = $1 WHERE id = $2")
        .bind(now_ms() - 1)
        .bind(theirs)
        .execute(&store.db)
        .await
        .unwrap();
    assert_eq!(store.interrupt_abandoned_runs().await.unwrap(), 1);
    let run = store.get_run(RunId(theirs)).await.unwrap();
    assert_eq!(run.status, RunStatus::Interrupted);
    let mine = store.start_run(app, RunTrigger::Manual).await.unwrap();
    assert!(store.renew_run_claim(mine.id).await.unwrap());
    store
        .finish_run(mine.id, RunStatus::Succeeded, None)
        .await
        .unwrap();
    assert!(
        !store.renew_run_claim(mine.id).await.unwrap(),
        "a finished run's claim is not renewed"
    );
}
