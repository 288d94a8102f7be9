//! `usersync store migrate`'s copy: a SQLite installation into an empty PostgreSQL database.

use pretty_assertions::assert_eq;
use secrecy::ExposeSecret as _;
use usersync_store::{MasterKey, RunFilter, RunTrigger, SecretSlot, Store, StoreError};
use usersync_testkit::{Backend, TestDb};

use crate::common::{OKTA_TOKEN, draft};

async fn populated_sqlite(key: &MasterKey) -> (TestDb, Store) {
    let db = TestDb::new(Backend::Sqlite).await;
    let store = db.open_with_key(key.clone()).await;
    let app = store.create_app(draft("Jira prod"), "alice").await.unwrap();
    store.create_app(draft("Jira test"), "alice").await.unwrap();
    store.start_run(app.id, RunTrigger::Manual).await.unwrap();
    store
        .create_admin(
            "alice",
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
            "setup",
        )
        .await
        .unwrap();
    (db, store)
}

#[tokio::test]
async fn an_installation_is_copied_into_an_empty_postgres_database_with_every_count_equal() {
    if !Backend::Postgres.available() {
        return;
    }
    let key = MasterKey::generate();
    let (_source_db, source) = populated_sqlite(&key).await;
    let target_db = TestDb::new(Backend::Postgres).await;
    let target = target_db.open_with_key(key.clone()).await;

    let report = usersync_store::transfer::copy_store(&source, &target)
        .await
        .unwrap();

    let count = |name: &str| {
        let row = report.tables.iter().find(|t| t.table == name).unwrap();
        assert_eq!(row.source, row.target, "{name}");
        row.target
    };
    assert_eq!(count("apps"), 2);
    assert_eq!(count("runs"), 1);
    assert_eq!(count("admins"), 1);
    assert!(count("app_secrets") >= 4);
    assert!(count("audit_log") >= 3);
    assert_eq!(report.tables.len(), usersync_store::transfer::TABLES.len());

    // The copy is a working store: the same apps, secrets opened by the same key, runs,
    // and new rows get ids after the copied ones.
    let app = target.find_app("jira prod").await.unwrap().unwrap();
    let token = target
        .resolve_secret(&app, SecretSlot::OktaApiToken)
        .await
        .unwrap();
    assert_eq!(token.expose_secret(), OKTA_TOKEN);
    let runs = target.list_runs(&RunFilter::default(), 10).await.unwrap();
    assert_eq!(runs.len(), 1);
    let third = target.create_app(draft("Jira three"), "bob").await.unwrap();
    assert!(third.id.0 > app.id.0, "{third:?}");
    drop(target);
    // Another replica with the same key opens it.
    target_db.open_with_key(key).await;
}

#[tokio::test]
async fn a_target_that_is_not_empty_is_refused_and_left_as_it_was() {
    if !Backend::Postgres.available() {
        return;
    }
    let key = MasterKey::generate();
    let (_source_db, source) = populated_sqlite(&key).await;
    let target_db = TestDb::new(Backend::Postgres).await;
    let target = target_db.open_with_key(key).await;
    target
        .create_app(draft("Already here"), "bob")
        .await
        .unwrap();

    let err = usersync_store::transfer::copy_store(&source, &target)
        .await
        .unwrap_err();

    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert!(err.to_string().contains("not empty"), "{err}");
    assert_eq!(target.list_apps().await.unwrap().len(), 1);
}
