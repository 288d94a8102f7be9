//! Backups and restores: a backup is a whole, private copy; a restore brings apps,
//! links, runs and (with the original master key) secrets back, keeps the database it
//! replaces, refuses while a store is open, and without the key restores everything
//! but the sealed secrets only when asked, naming each one dropped.

use std::path::Path;

use pretty_assertions::assert_eq;
use usersync_core::ids::{OktaUserId, TargetUserKey, Username};
use usersync_core::links::UserLink;
use usersync_store::crypto::MASTER_KEY_FILE;
use usersync_store::{
    AuditFilter, LinkChanges, RestoreOptions, RunFilter, RunStatus, RunTrigger, SecretInput,
    SecretSlot, Store, StoreError, TargetCredential, restore,
};
use usersync_testkit::DataDir;

use crate::common::{JIRA_PAT, OKTA_TOKEN, draft};

fn options(forget_secrets: bool) -> RestoreOptions {
    RestoreOptions {
        forget_secrets,
        actor: "cli:test".into(),
    }
}

/// A store (with a generated `master.key`) holding two apps, one with a secret given
/// as a reference, a link and a finished run.
async fn populated() -> (DataDir, Store) {
    let dir = DataDir::new();
    let store = Store::open(dir.path()).await.unwrap();
    let jira = store.create_app(draft("Jira"), "test").await.unwrap();
    let mut wiki = draft("Wiki");
    wiki.target.credential = TargetCredential::Pat {
        token: SecretInput::from_text("env:WIKI_PAT"),
    };
    store.create_app(wiki, "test").await.unwrap();
    let alice = UserLink {
        okta_id: OktaUserId::parse("00u1").unwrap(),
        target_key: Some(TargetUserKey::parse("JIRAUSER10100").unwrap()),
        username: Username::parse("alice").unwrap(),
        read_only: false,
    };
    let links = LinkChanges {
        upsert_users: vec![alice],
        ..LinkChanges::default()
    };
    store.save_links(jira.id, &links).await.unwrap();
    let run = store.start_run(jira.id, RunTrigger::Manual).await.unwrap();
    store
        .finish_run(run.id, RunStatus::Succeeded, None)
        .await
        .unwrap();
    (dir, store)
}

async fn backup_of(store: &Store, dir: &Path) -> std::path::PathBuf {
    let file = dir.join("usersync-backup.db");
    store.backup_to(&file).await.unwrap();
    file
}

fn copy_key(from: &DataDir, to: &DataDir) {
    std::fs::copy(
        from.path().join(MASTER_KEY_FILE),
        to.path().join(MASTER_KEY_FILE),
    )
    .unwrap();
}

#[tokio::test]
async fn a_backup_is_a_private_copy_that_says_what_it_holds_and_never_overwrites_a_file() {
    let (dir, store) = populated().await;
    let out = DataDir::new();
    let file = out.path().join("b.db");
    let summary = store.backup_to(&file).await.unwrap();
    assert_eq!((summary.apps, summary.user_links, summary.runs), (2, 1, 1));
    assert_eq!(summary.schema_version, Store::supported_schema_version());
    assert_eq!(summary.bytes, std::fs::metadata(&file).unwrap().len());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "the backup holds sealed secrets and hashes"
        );
    }
    let bytes = std::fs::read(&file).unwrap();
    for secret in [OKTA_TOKEN, JIRA_PAT] {
        let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
        assert!(!found, "the backup holds secrets sealed, never in clear");
    }
    let again = store.backup_to(&file).await.unwrap_err().to_string();
    assert!(again.contains("already exists"), "{again}");
    drop(dir);
}

#[tokio::test]
async fn a_restore_with_the_master_key_brings_back_apps_links_runs_and_secrets() {
    let (source, store) = populated().await;
    let out = DataDir::new();
    let file = backup_of(&store, out.path()).await;
    let target = DataDir::new();
    copy_key(&source, &target);
    let report = restore(target.path(), &file, &options(false))
        .await
        .unwrap();
    assert_eq!(report.replaced, None, "nothing was there to replace");
    assert!(report.dropped.is_empty());

    let restored = Store::open(target.path()).await.unwrap();
    let jira = restored.app_by_name("Jira").await.unwrap();
    assert_eq!(restored.list_apps().await.unwrap().len(), 2);
    assert_eq!(restored.load_links(jira.id).await.unwrap().users.len(), 1);
    let runs = restored.list_runs(&RunFilter::default(), 10).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, RunStatus::Succeeded);
    let token = restored
        .resolve_secret(&jira, SecretSlot::OktaApiToken)
        .await;
    use secrecy::ExposeSecret as _;
    assert_eq!(token.unwrap().expose_secret(), OKTA_TOKEN);
}

#[tokio::test]
async fn a_restore_keeps_the_database_it_replaces_beside_it() {
    let (source, store) = populated().await;
    let file = backup_of(&store, source.path()).await;
    drop(store);
    let target = DataDir::new();
    copy_key(&source, &target);
    let before = Store::open(target.path()).await.unwrap();
    before.create_app(draft("Only here"), "test").await.unwrap();
    before.close().await;
    drop(before);

    let report = restore(target.path(), &file, &options(false))
        .await
        .unwrap();
    let aside = report.replaced.expect("the old database is kept");
    assert!(aside.starts_with(target.path()), "{}", aside.display());
    assert!(
        aside
            .file_name()
            .unwrap()
            .to_string_lossy()
            .contains("before-restore")
    );
    let restored = Store::open(target.path()).await.unwrap();
    assert!(restored.find_app("Only here").await.unwrap().is_none());
    let audit = restored
        .audit_log(&AuditFilter::default(), 50)
        .await
        .unwrap();
    assert!(
        audit.iter().any(|e| e.action == "store.restore"),
        "{audit:?}"
    );
}

#[tokio::test]
async fn a_restore_is_refused_while_a_store_has_the_directory_open_and_changes_nothing() {
    let (source, store) = populated().await;
    let file = backup_of(&store, source.path()).await;
    let err = restore(source.path(), &file, &options(false))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("in use by a running usersync"), "{text}");
    assert!(text.contains("stop it first"), "{text}");
    assert_eq!(store.list_apps().await.unwrap().len(), 2);
    let names: Vec<_> = std::fs::read_dir(source.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.contains("restor")), "{names:?}");
}

#[tokio::test]
async fn without_the_master_key_a_restore_is_refused_and_says_how_to_proceed() {
    let (source, store) = populated().await;
    let file = backup_of(&store, source.path()).await;
    let target = DataDir::new();
    let err = restore(target.path(), &file, &options(false))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("this data directory has none"), "{text}");
    assert!(text.contains("--forget-secrets"), "{text}");
    assert!(text.contains(MASTER_KEY_FILE), "{text}");
    assert!(!target.path().join("usersync.db").exists());

    // Another key is refused too, saying so.
    std::fs::write(
        target.path().join(MASTER_KEY_FILE),
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    )
    .unwrap();
    let err = restore(target.path(), &file, &options(false))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("another master key"), "{err}");
}

#[tokio::test]
async fn forgetting_secrets_restores_everything_else_and_names_each_dropped_secret() {
    let (source, store) = populated().await;
    let file = backup_of(&store, source.path()).await;
    let target = DataDir::new();
    let report = restore(target.path(), &file, &options(true)).await.unwrap();
    let dropped: Vec<_> = report
        .dropped
        .iter()
        .map(|d| format!("{}: {}", d.app, d.field))
        .collect();
    assert_eq!(
        dropped,
        [
            "Jira: okta.credential.token",
            "Jira: target.credential.token",
            "Wiki: okta.credential.token",
        ],
        "the reference env:WIKI_PAT holds no secret and is kept"
    );

    // A new key is made at the next open; everything else is there.
    let restored = Store::open(target.path()).await.unwrap();
    assert!(target.path().join(MASTER_KEY_FILE).exists());
    let jira = restored.app_by_name("Jira").await.unwrap();
    assert_eq!(restored.load_links(jira.id).await.unwrap().users.len(), 1);
    assert_eq!(
        restored
            .list_runs(&RunFilter::default(), 10)
            .await
            .unwrap()
            .len(),
        1
    );
    let missing = restored
        .resolve_secret(&jira, SecretSlot::TargetToken)
        .await
        .unwrap_err();
    assert!(
        matches!(missing, StoreError::NotFound { .. }),
        "{missing:?}"
    );
    let wiki = restored.app_by_name("Wiki").await.unwrap();
    let kept = restored.get_app(wiki.id).await.unwrap();
    assert!(format!("{kept:?}").contains("env:WIKI_PAT"));
    let audit = restored
        .audit_log(&AuditFilter::default(), 50)
        .await
        .unwrap();
    let jira_drop = audit
        .iter()
        .find(|e| e.action == "app.secrets_dropped" && e.app_name.as_deref() == Some("Jira"))
        .expect("the dropped secrets are audited per app");
    assert_eq!(
        jira_drop.fields,
        ["okta.credential.token", "target.credential.token"]
    );
    let text = format!("{audit:?}");
    assert!(!text.contains(OKTA_TOKEN) && !text.contains(JIRA_PAT));
}

#[tokio::test]
async fn a_file_that_is_not_a_usersync_backup_is_refused_and_the_database_is_left_alone() {
    let (source, store) = populated().await;
    let file = backup_of(&store, source.path()).await;
    let target = DataDir::new();
    copy_key(&source, &target);
    let existing = Store::open(target.path()).await.unwrap();
    existing.create_app(draft("Kept"), "test").await.unwrap();
    existing.close().await;
    drop(existing);

    let junk = source.path().join("junk.db");
    std::fs::write(&junk, b"not a database at all, just some text").unwrap();
    let err = restore(target.path(), &junk, &options(false))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("is not a SQLite database"),
        "{err}"
    );

    let other = source.path().join("other.db");
    sqlx_free_database(&other).await;
    let err = restore(target.path(), &other, &options(false))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not a usersync store"), "{err}");

    let newer = source.path().join("newer.db");
    std::fs::copy(&file, &newer).unwrap();
    mark_schema(&newer, 9999).await;
    let err = restore(target.path(), &newer, &options(false))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("schema version 9999"), "{err}");

    let reopened = Store::open(target.path()).await.unwrap();
    assert!(reopened.find_app("Kept").await.unwrap().is_some());
    assert!(!target.path().join("usersync.db.restoring").exists());
}

/// A SQLite database of someone else's: one table.
async fn sqlx_free_database(path: &Path) {
    run_sql(path, "CREATE TABLE notes (body TEXT)").await;
}

/// Records a migration this binary does not have, as a newer usersync would.
async fn mark_schema(path: &Path, version: i64) {
    let sql = format!(
        "INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, \
         execution_time) VALUES ({version}, 'future', '2030-01-01', 1, x'00', 0)"
    );
    run_sql(path, &sql).await;
}

async fn run_sql(path: &Path, sql: &str) {
    use sqlx::Connection as _;
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true);
    let mut conn = sqlx::SqliteConnection::connect_with(&options)
        .await
        .unwrap();
    sqlx::query(sql).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
}
