//! The pool after a full disk (SQLite's `max_page_count` stands in for a full file
//! system), a store that another process locks, and writers of one process taking turns.

use super::*;

/// A one-connection pool on a database that may grow by a few pages only, so every
/// write goes through the connection that saw the database full.
async fn small_database(dir: &Path) -> Db {
    let options = sqlite_url(&dir.join("full.db"), true).unwrap();
    let db = file_pool_with(1, "PRAGMA max_page_count = 12;")
        .connect_with(options)
        .await
        .unwrap();
    // No index and no constraint: SQLite then keeps no statement journal, and a
    // SQLITE_FULL rolls back the whole transaction, as a failed commit on a full disk does.
    sqlx::query("CREATE TABLE filler (bytes BLOB)")
        .execute(&db)
        .await
        .unwrap();
    db
}

async fn write_in_transaction(db: &Db) -> Result<(), StoreError> {
    let mut tx = begin_write(db).await?;
    sqlx::query("INSERT INTO filler (bytes) VALUES (zeroblob(3000))")
        .execute(&mut *tx)
        .await
        .ctx("filling")?;
    tx.commit().await.ctx("committing")
}

#[tokio::test]
async fn writes_work_again_once_space_is_freed_after_the_database_was_full() {
    let dir = tempfile::tempdir().unwrap();
    let db = small_database(dir.path()).await;
    let mut full = None;
    for _ in 0..50 {
        if let Err(err) = write_in_transaction(&db).await {
            full = Some(err);
            break;
        }
    }
    let full = full.expect("the database filled up");
    assert!(full.to_string().contains("full"), "{full}");

    // Space comes back: rows are deleted, their pages are free for reuse.
    sqlx::query("DELETE FROM filler")
        .execute(&db)
        .await
        .unwrap();

    for _ in 0..3 {
        write_in_transaction(&db)
            .await
            .expect("a write transaction after space came back");
    }
}

#[tokio::test]
async fn the_store_is_not_writable_while_another_writer_holds_the_lock_and_is_again_after() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("locked.db");
    let db = file_pool(2)
        .connect_with(sqlite_url(&path, true).unwrap())
        .await
        .unwrap();
    migrate(&db).await.unwrap();
    prove_writable(&db).await.expect("a fresh store can write");
    // Another process holds the write lock (reads keep working: WAL).
    let other = file_pool(1)
        .connect_with(sqlite_url(&path, true).unwrap())
        .await
        .unwrap();
    let held = begin_write(&other).await.unwrap();

    let err = prove_writable(&db).await.unwrap_err();

    assert!(err.to_string().contains("heartbeat"), "{err}");
    held.rollback().await.unwrap();
    prove_writable(&db).await.expect("writable again");
}

#[tokio::test]
async fn writers_of_one_process_take_turns_at_the_gate_instead_of_meeting_the_lock() {
    // No busy timeout: a writer that met SQLite's lock would fail at once ("database
    // is locked") instead of sleeping in SQLite's retry loop, as it did before the gate.
    let dir = tempfile::tempdir().unwrap();
    let db = file_pool_with(4, "PRAGMA busy_timeout = 0;")
        .connect_with(sqlite_url(&dir.path().join("turns.db"), true).unwrap())
        .await
        .unwrap();
    sqlx::query("CREATE TABLE writes (writer INTEGER, n INTEGER)")
        .execute(&db)
        .await
        .unwrap();
    let gate = WriteGate::default();

    let writers = (0..8).map(|writer| {
        let (db, gate) = (db.clone(), gate.clone());
        tokio::spawn(async move {
            for n in 0..20 {
                let mut tx = gate.begin(&db).await?;
                sqlx::query("INSERT INTO writes (writer, n) VALUES ($1, $2)")
                    .bind(writer)
                    .bind(n)
                    .execute(&mut *tx)
                    .await
                    .ctx("writing")?;
                // A second statement keeps the lock held across an await.
                sqlx::query("UPDATE writes SET n = n WHERE writer = $1")
                    .bind(writer)
                    .execute(&mut *tx)
                    .await
                    .ctx("writing")?;
                tx.commit().await.ctx("committing")?;
            }
            Ok::<_, StoreError>(())
        })
    });
    for writer in futures::future::join_all(writers).await {
        writer.unwrap().expect("every writer gets its turn");
    }

    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM writes")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(rows, 160);
}
