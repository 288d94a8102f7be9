//! Opening a data directory: migrations, files, the schema guard and the key check.

use tempfile::TempDir;
use usersync_store::{MasterKey, Store, StoreError};

use crate::common::{draft, temp_sqlite_store};

#[tokio::test]
async fn an_empty_data_dir_is_migrated_and_gets_a_database_and_a_private_master_key() {
    let parent = TempDir::new().unwrap();
    let dir = parent.path().join("nested").join("data");
    let store = Store::open(&dir).await.expect("open on an empty directory");
    assert!(store.list_apps().await.unwrap().is_empty());
    assert!(dir.join("usersync.db").is_file());
    store.close().await;
    if std::env::var_os("USERSYNC_MASTER_KEY").is_none() {
        let key_file = dir.join("master.key");
        assert!(key_file.is_file(), "master.key is generated on first open");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
    // Reopening with the generated key works and keeps the schema.
    let store = Store::open(&dir).await.expect("reopen");
    store
        .create_app(draft("after reopen"), "test")
        .await
        .unwrap();
}

#[tokio::test]
async fn data_survives_reopening_with_the_same_key() {
    let dir = TempDir::new().unwrap();
    let key = MasterKey::generate();
    let store = Store::open_with_key(dir.path(), key.clone()).await.unwrap();
    let app = store.create_app(draft("kept"), "test").await.unwrap();
    store.close().await;
    let store = Store::open_with_key(dir.path(), key).await.unwrap();
    assert_eq!(store.get_app(app.id).await.unwrap().name, "kept");
}

#[tokio::test]
async fn a_database_from_a_newer_usersync_is_refused() {
    let (dir, store) = temp_sqlite_store().await;
    store.close().await;
    // Pretend a newer binary applied a migration this one does not know.
    let url = format!("sqlite://{}", dir.path().join("usersync.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (99990101000000, 'from the future', TRUE, x'00', 0)",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;

    let err = Store::open_with_key(dir.path(), MasterKey::generate())
        .await
        .unwrap_err();
    match &err {
        StoreError::SchemaTooNew { found, supported } => {
            assert_eq!(*found, 99990101000000);
            assert_eq!(*supported, Store::supported_schema_version());
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
    assert!(err.to_string().contains("upgrade usersync"), "{err}");
}

#[tokio::test]
async fn a_different_master_key_is_refused_before_any_secret_is_read() {
    let (dir, store) = temp_sqlite_store().await;
    store.create_app(draft("a"), "test").await.unwrap();
    store.close().await;
    let err = Store::open_with_key(dir.path(), MasterKey::generate())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Crypto(_)), "{err:?}");
    assert!(
        err.to_string().contains("master key does not match"),
        "{err}"
    );
}

#[tokio::test]
async fn an_in_memory_store_is_fully_migrated() {
    let store = Store::open_in_memory().await.unwrap();
    let app = store.create_app(draft("memory"), "test").await.unwrap();
    assert_eq!(store.list_apps().await.unwrap()[0].id, app.id);
    assert!(store.data_dir().is_none());
}

#[cfg(unix)]
#[tokio::test]
async fn database_files_are_private_even_inside_a_directory_others_can_read() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = TempDir::new().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    assert!(usersync_store::readable_by_others(dir.path()));
    let store = Store::open_with_key(dir.path(), MasterKey::generate())
        .await
        .unwrap();
    store.create_app(draft("private"), "test").await.unwrap();
    for name in ["usersync.db", "usersync.db-wal", "usersync.db-shm"] {
        let mode = std::fs::metadata(dir.path().join(name))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name} is {:o}", mode & 0o777);
    }
    store.close().await;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    assert!(!usersync_store::readable_by_others(dir.path()));
}

#[test]
fn both_dialects_have_migrations_of_the_same_versions() {
    let (sqlite, postgres) = usersync_store::migration_versions();
    assert!(!sqlite.is_empty());
    assert_eq!(
        sqlite, postgres,
        "migrations/sqlite and migrations/postgres must hold the same versions"
    );
}
