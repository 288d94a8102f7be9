//! Opening the database: connection settings, migrations, the schema-version guard,
//! the master-key check, and recovering runs a dead process left behind.
//!
//! This is the only place with SQLite-specific statements (pragmas, `BEGIN IMMEDIATE`,
//! `sqlite_master`); a PostgreSQL backend would replace this file and the migrations.

use std::path::Path;
use std::str::FromStr as _;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::Utc;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Connection as _, Sqlite, Transaction, TransactionManager as _};

use crate::crypto::MasterKey;
use crate::error::{DbContext as _, StoreError};

pub(crate) type Db = SqlitePool;
pub(crate) type Tx = Transaction<'static, Sqlite>;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

const KEY_CHECK_META: &str = "master_key_check";
const KEY_CHECK_AAD: &str = "usersync:master-key-check";
const KEY_CHECK_TEXT: &[u8] = b"usersync master key check";

/// The newest schema version this binary knows.
pub(crate) fn supported_schema_version() -> i64 {
    MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}

/// Whether this binary has a migration of this version (a backup's versions must all be known).
pub(crate) fn knows_schema_version(version: i64) -> bool {
    MIGRATOR.iter().any(|m| m.version == version)
}

pub(crate) async fn connect_file(path: &Path) -> Result<Db, StoreError> {
    file_pool(4)
        .connect_with(file_options(path))
        .await
        .ctx(&format!("opening {}", path.display()))
}

fn file_options(path: &Path) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10))
}

/// The pool of a database file. A connection handed back still inside a transaction
/// is closed rather than reused: when a write fails with SQLITE_FULL (or an I/O
/// error) SQLite may roll the transaction back itself, the ROLLBACK sqlx then sends
/// fails, and sqlx would count the connection as inside a transaction for ever:
/// every later `BEGIN` on it fails ("begin_with at non-zero transaction depth"),
/// even after space came back. A fresh connection has no such memory.
fn file_pool(max_connections: u32) -> SqlitePoolOptions {
    SqlitePoolOptions::new()
        .max_connections(max_connections)
        .after_release(|conn, _| {
            Box::pin(async move {
                // The ping runs after any rollback queued by a dropped transaction.
                conn.ping().await?;
                let depth =
                    <Sqlite as sqlx::Database>::TransactionManager::get_transaction_depth(conn);
                if depth > 0 {
                    tracing::warn!(
                        "closing a database connection left inside a failed transaction"
                    );
                }
                Ok(depth == 0)
            })
        })
}

pub(crate) async fn connect_memory() -> Result<Db, StoreError> {
    let options = SqliteConnectOptions::from_str("sqlite::memory:")
        .ctx("configuring an in-memory database")?
        .foreign_keys(true);
    // One connection that never closes: each in-memory connection is its own database.
    SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_with(options)
        .await
        .ctx("opening an in-memory database")
}

/// Starts a write transaction that takes the write lock up front, so two writers wait
/// for each other (busy timeout) instead of failing when a read lock cannot be upgraded.
pub(crate) async fn begin_write(db: &Db) -> Result<Tx, StoreError> {
    db.begin_with("BEGIN IMMEDIATE")
        .await
        .ctx("starting a transaction")
}

/// How long [`prove_writable`] may wait for the write lock before the store counts as
/// not ready (other writers hold it for milliseconds; the busy timeout is far longer).
pub(crate) const WRITABLE_WITHIN: Duration = Duration::from_secs(3);

/// Writes the heartbeat row in a write transaction: the proof a readiness probe needs
/// that the store can write now (a read succeeds on a full disk, too).
pub(crate) async fn prove_writable(db: &Db) -> Result<(), StoreError> {
    let write = async {
        let mut tx = begin_write(db).await?;
        sqlx::query(
            "INSERT INTO store_meta (key, value) VALUES ('heartbeat', $1) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(Utc::now().to_rfc3339())
        .execute(&mut *tx)
        .await
        .ctx("writing the heartbeat")?;
        tx.commit().await.ctx("writing the heartbeat")
    };
    tokio::time::timeout(WRITABLE_WITHIN, write)
        .await
        .map_err(|_| StoreError::Database {
            context: "writing the heartbeat".into(),
            message: format!(
                "the database stayed locked for {} s",
                WRITABLE_WITHIN.as_secs()
            ),
        })?
}

/// Refuses a newer schema, then applies the migrations this binary has.
pub(crate) async fn migrate(db: &Db) -> Result<(), StoreError> {
    let has_table: Option<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
    )
    .fetch_optional(db)
    .await
    .ctx("reading the schema version")?;
    if has_table.is_some() {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(db)
                .await
                .ctx("reading the schema version")?;
        let supported = supported_schema_version();
        if let Some(found) = found.filter(|found| *found > supported) {
            return Err(StoreError::SchemaTooNew { found, supported });
        }
    }
    MIGRATOR.run(db).await.map_err(|e| StoreError::Database {
        context: "applying schema migrations".into(),
        message: e.to_string(),
    })
}

/// The sealed check text that proves which master key a database belongs to, if written.
pub(crate) async fn stored_key_check(
    conn: &mut sqlx::SqliteConnection,
) -> Result<Option<String>, StoreError> {
    sqlx::query_scalar("SELECT value FROM store_meta WHERE key = $1")
        .bind(KEY_CHECK_META)
        .fetch_optional(conn)
        .await
        .ctx("reading the master key check")
}

/// Whether `key` opens the stored check text.
pub(crate) fn key_opens_check(key: &MasterKey, stored: &str) -> bool {
    stored
        .split_once(':')
        .and_then(|(n, c)| Some((STANDARD.decode(n).ok()?, STANDARD.decode(c).ok()?)))
        .and_then(|(nonce, sealed)| key.open(KEY_CHECK_AAD, &nonce, &sealed).ok())
        .is_some_and(|text| text == KEY_CHECK_TEXT)
}

/// Forgets which key the database belongs to (a restore that dropped the sealed
/// secrets): the next open writes the check for its own key.
pub(crate) async fn forget_key_check(conn: &mut sqlx::SqliteConnection) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM store_meta WHERE key = $1")
        .bind(KEY_CHECK_META)
        .execute(conn)
        .await
        .ctx("forgetting the master key check")?;
    Ok(())
}

/// Proves the master key is the one the secrets were stored with, before anything is decrypted.
pub(crate) async fn check_master_key(db: &Db, key: &MasterKey) -> Result<(), StoreError> {
    let mut conn = db.acquire().await.ctx("reading the master key check")?;
    if let Some(stored) = stored_key_check(&mut conn).await? {
        return if key_opens_check(key, &stored) {
            Ok(())
        } else {
            Err(StoreError::Crypto(
                "the master key does not match the one this database was created with; \
                 set USERSYNC_MASTER_KEY to the original key or restore master.key in the data directory"
                    .into(),
            ))
        };
    }
    drop(conn);
    let (nonce, sealed) = key.seal(KEY_CHECK_AAD, KEY_CHECK_TEXT)?;
    let value = format!("{}:{}", STANDARD.encode(nonce), STANDARD.encode(sealed));
    sqlx::query("INSERT INTO store_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
        .bind(KEY_CHECK_META)
        .bind(value)
        .execute(db)
        .await
        .ctx("writing the master key check")?;
    Ok(())
}

/// Marks runs left `running` by a process that is gone (its claim no longer live, see
/// `lease`) as `interrupted`; returns how many.
pub(crate) async fn interrupt_orphaned_runs(db: &Db) -> Result<u64, StoreError> {
    let running: Vec<(i64, Option<String>, Option<i64>)> =
        sqlx::query_as("SELECT id, owner, claim_expires_at FROM runs WHERE status = 'running'")
            .fetch_all(db)
            .await
            .ctx("finding unfinished runs")?;
    let mut interrupted = 0;
    let now = crate::lease::now_ms();
    for (id, owner, claim) in running {
        if crate::lease::claim_is_live(owner.as_deref(), claim, now) {
            continue;
        }
        // The counts a finished run gets from `finish_run`, from what was recorded.
        let mut conn = db
            .acquire()
            .await
            .ctx("counting an unfinished run's operations")?;
        let counts = crate::runs::tally(&mut conn, crate::runs::RunId(id)).await?;
        let done = sqlx::query(
            "UPDATE runs SET status = 'interrupted', finished_at = $1, counts_json = $2, \
             reason = 'the usersync process stopped before the run finished' \
             WHERE id = $3 AND status = 'running'",
        )
        .bind(Utc::now())
        .bind(serde_json::to_string(&counts).ctx("encoding run counts")?)
        .bind(id)
        .execute(&mut *conn)
        .await
        .ctx("marking an unfinished run interrupted")?;
        interrupted += done.rows_affected();
    }
    if interrupted > 0 {
        tracing::warn!(
            interrupted,
            "marked runs left unfinished by a stopped process as interrupted"
        );
    }
    Ok(interrupted)
}

#[cfg(test)]
#[path = "db_tests.rs"]
mod tests;
