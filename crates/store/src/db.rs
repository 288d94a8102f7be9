//! Opening the database: connection settings, migrations, the schema-version guard,
//! the master-key check, and recovering runs a dead process left behind.
//!
//! Both databases are reached through sqlx's `Any` driver, so every query of the store is
//! one text for both (portable SQL, `$n` parameters, timestamps as `stamp::Ts` text).
//! This is the only place with dialect-specific statements: SQLite's pragmas, `BEGIN
//! IMMEDIATE` and `sqlite_master`, and their PostgreSQL equivalents (a transaction-scoped
//! advisory lock, `to_regclass`, identity sequences); plus the two migration directories.

use std::path::Path;
use std::sync::Once;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{
    Any, AnyConnection, AnyPool, Connection as _, Executor as _, Transaction,
    TransactionManager as _,
};

use crate::crypto::MasterKey;
use crate::error::{DbContext as _, StoreError};
use crate::stamp::Ts;

pub(crate) type Db = AnyPool;
pub(crate) type Conn = AnyConnection;

/// A write transaction. Those a [`crate::Store`] starts also hold its write gate
/// ([`WriteGate`]), released with the transaction.
pub(crate) struct Tx {
    tx: Transaction<'static, Any>,
    _gate: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl std::ops::Deref for Tx {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}

impl Tx {
    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }

    #[cfg(test)]
    pub(crate) async fn rollback(self) -> Result<(), sqlx::Error> {
        self.tx.rollback().await
    }
}

/// One process's writers queue here, in order, before they ask the database for its
/// write lock. SQLite has one writer at a time and makes the others wait by sleeping
/// and retrying (1 ms, then 2, 5, 10... however soon the lock comes free), so eight
/// concurrent writers (a sync's lanes recording identity links) spent most of their
/// time asleep; an async mutex hands the turn over the moment it is free. Writers in
/// other processes still meet SQLite's busy timeout (PostgreSQL's advisory lock).
#[derive(Debug, Clone, Default)]
pub(crate) struct WriteGate(std::sync::Arc<tokio::sync::Mutex<()>>);

impl WriteGate {
    /// Waits for the gate, then starts a write transaction holding it.
    pub(crate) async fn begin(&self, db: &Db) -> Result<Tx, StoreError> {
        let turn = self.0.clone().lock_owned().await;
        let mut tx = begin_write(db).await?;
        tx._gate = Some(turn);
        Ok(tx)
    }
}

static SQLITE_MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

const KEY_CHECK_META: &str = "master_key_check";
const KEY_CHECK_AAD: &str = "usersync:master-key-check";
const KEY_CHECK_TEXT: &[u8] = b"usersync master key check";

/// The advisory lock every PostgreSQL write transaction takes (any constant of our own;
/// this one is "usersync" in ASCII), so writers queue as SQLite's `BEGIN IMMEDIATE` makes them.
const PG_WRITE_LOCK: i64 = 0x7573_6572_7379_6e63;

/// Which database a pool talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    pub(crate) fn of(db: &Db) -> Self {
        if db.connect_options().database_url.scheme() == "sqlite" {
            Self::Sqlite
        } else {
            Self::Postgres
        }
    }

    fn migrator(self) -> &'static Migrator {
        match self {
            Self::Sqlite => &SQLITE_MIGRATOR,
            Self::Postgres => &POSTGRES_MIGRATOR,
        }
    }
}

/// The schema versions of each dialect's migrations (a test proves they are the same).
#[doc(hidden)]
#[must_use]
pub fn migration_versions() -> (Vec<i64>, Vec<i64>) {
    let versions = |m: &Migrator| m.iter().map(|m| m.version).collect();
    (versions(&SQLITE_MIGRATOR), versions(&POSTGRES_MIGRATOR))
}

/// The newest schema version this binary knows.
pub(crate) fn supported_schema_version() -> i64 {
    SQLITE_MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}

/// Whether this binary has a migration of this version (a backup's versions must all be known).
pub(crate) fn knows_schema_version(version: i64) -> bool {
    SQLITE_MIGRATOR.iter().any(|m| m.version == version)
}

/// sqlx's `Any` driver needs the drivers registered once per process.
pub(crate) fn install_drivers() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(sqlx::any::install_default_drivers);
}

/// The `sqlite://` URL of a database file (absolute, percent-encoded, created when missing).
pub(crate) fn sqlite_url(path: &Path, create: bool) -> Result<AnyConnectOptions, StoreError> {
    install_drivers();
    let absolute = std::path::absolute(path).map_err(|source| StoreError::Io {
        context: format!("finding the database {}", path.display()),
        source,
    })?;
    let file = url::Url::from_file_path(&absolute).map_err(|()| StoreError::Database {
        context: format!("opening {}", path.display()),
        message: "the path cannot be named as a URL".into(),
    })?;
    let mode = if create { "rwc" } else { "rw" };
    format!("sqlite://{}?mode={mode}", file.path())
        .parse::<AnyConnectOptions>()
        .ctx(&format!("opening {}", path.display()))
}

pub(crate) async fn connect_file(path: &Path) -> Result<Db, StoreError> {
    file_pool(4)
        .connect_with(sqlite_url(path, true)?)
        .await
        .ctx(&format!("opening {}", path.display()))
}

/// Every SQLite connection: WAL, foreign keys, a generous busy timeout.
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;";

/// One SQLite connection with the store's settings (restores inspect files through it).
pub(crate) async fn connect_one_file(path: &Path) -> Result<Conn, StoreError> {
    let mut conn = AnyConnection::connect_with(&sqlite_url(path, false)?)
        .await
        .ctx(&format!("opening {}", path.display()))?;
    conn.execute("PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;")
        .await
        .ctx(&format!("opening {}", path.display()))?;
    Ok(conn)
}

/// The pool of a database file. A connection handed back still inside a transaction
/// is closed rather than reused: when a write fails with SQLITE_FULL (or an I/O
/// error) SQLite may roll the transaction back itself, the ROLLBACK sqlx then sends
/// fails, and sqlx would count the connection as inside a transaction for ever:
/// every later `BEGIN` on it fails ("begin_with at non-zero transaction depth"),
/// even after space came back. A fresh connection has no such memory.
fn file_pool(max_connections: u32) -> AnyPoolOptions {
    file_pool_with(max_connections, "")
}

/// [`file_pool`] with more pragmas for every connection (tests limit the file's size).
fn file_pool_with(max_connections: u32, more_pragmas: &'static str) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max_connections)
        .after_connect(move |conn, _| {
            Box::pin(async move {
                conn.execute(SQLITE_PRAGMAS).await?;
                if !more_pragmas.is_empty() {
                    conn.execute(more_pragmas).await?;
                }
                Ok(())
            })
        })
        .after_release(|conn, _| {
            Box::pin(async move {
                // The ping runs after any rollback queued by a dropped transaction.
                conn.ping().await?;
                let depth =
                    <Any as sqlx::Database>::TransactionManager::get_transaction_depth(conn);
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
    install_drivers();
    let options = "sqlite::memory:"
        .parse::<AnyConnectOptions>()
        .ctx("configuring an in-memory database")?;
    // One connection that never closes: each in-memory connection is its own database.
    AnyPoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .after_connect(|conn, _| {
            Box::pin(async move { conn.execute("PRAGMA foreign_keys = ON").await.map(|_| ()) })
        })
        .connect_with(options)
        .await
        .ctx("opening an in-memory database")
}

/// A pool on a PostgreSQL database. The URL is checked here so that a mistyped one
/// is named; the error never repeats the URL, which may hold a password.
pub(crate) async fn connect_postgres(url: &str) -> Result<Db, StoreError> {
    install_drivers();
    let shown = crate::database::redacted(url);
    let options: AnyConnectOptions =
        url.parse()
            .map_err(|err: sqlx::Error| StoreError::Database {
                context: format!("reading the database URL {shown}"),
                message: crate::database::without(&err.to_string(), url),
            })?;
    AnyPoolOptions::new()
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(30))
        .connect_with(options)
        .await
        .map_err(|err| StoreError::Database {
            context: format!("connecting to the PostgreSQL database {shown}"),
            message: crate::database::without(&err.to_string(), url),
        })
}

/// Starts a write transaction that takes the write lock up front, so two writers wait
/// for each other (busy timeout) instead of failing when a read lock cannot be upgraded.
/// PostgreSQL gets the same discipline from one transaction-scoped advisory lock: its
/// row locks alone would let two "insert only while none exists" checks both pass.
pub(crate) async fn begin_write(db: &Db) -> Result<Tx, StoreError> {
    let tx = match Dialect::of(db) {
        Dialect::Sqlite => db
            .begin_with("BEGIN IMMEDIATE")
            .await
            .ctx("starting a transaction")?,
        Dialect::Postgres => {
            let mut tx = db.begin().await.ctx("starting a transaction")?;
            sqlx::query("SELECT 1 FROM pg_advisory_xact_lock($1)")
                .bind(PG_WRITE_LOCK)
                .execute(&mut *tx)
                .await
                .ctx("taking the store's write lock")?;
            tx
        }
    };
    Ok(Tx { tx, _gate: None })
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
        .bind(Ts::now())
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
    let dialect = Dialect::of(db);
    let has_table = match dialect {
        Dialect::Sqlite => sqlx::query_scalar::<_, String>(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
        )
        .fetch_optional(db)
        .await
        .map(|name| name.is_some()),
        Dialect::Postgres => {
            sqlx::query_scalar::<_, bool>("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
                .fetch_one(db)
                .await
        }
    }
    .ctx("reading the schema version")?;
    if has_table {
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
    dialect
        .migrator()
        .run(db)
        .await
        .map_err(|e| StoreError::Database {
            context: "applying schema migrations".into(),
            message: e.to_string(),
        })
}

/// How a column's values cross between databases (see `transfer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColumnKind {
    Integer,
    Float,
    Text,
    Bytes,
}

impl ColumnKind {
    /// From a declared type: SQLite's (`INTEGER`, `REAL`, `BLOB`, `TEXT`) or PostgreSQL's
    /// `information_schema` names (`bigint`, `double precision`, `bytea`, `text`).
    fn of(declared: &str) -> Self {
        let declared = declared.to_ascii_lowercase();
        if declared.contains("int") {
            Self::Integer
        } else if ["real", "double", "float", "numeric"]
            .iter()
            .any(|t| declared.contains(t))
        {
            Self::Float
        } else if declared.contains("blob") || declared.contains("bytea") {
            Self::Bytes
        } else {
            Self::Text
        }
    }
}

/// The store's tables (and sqlx's migration table) in this database.
pub(crate) async fn table_names(db: &Db) -> Result<Vec<String>, StoreError> {
    let sql = match Dialect::of(db) {
        Dialect::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        }
        Dialect::Postgres => {
            "SELECT CAST(table_name AS TEXT) FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        }
    };
    sqlx::query_scalar(sql)
        .fetch_all(db)
        .await
        .ctx("listing the tables")
}

/// A table's columns in order, with how their values cross.
pub(crate) async fn column_kinds(
    tx: &mut Tx,
    table: &str,
) -> Result<Vec<(String, ColumnKind)>, StoreError> {
    let sql = if tx.backend_name() == "SQLite" {
        "SELECT name, type FROM pragma_table_info($1) ORDER BY cid"
    } else {
        "SELECT CAST(column_name AS TEXT), CAST(data_type AS TEXT) FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position"
    };
    let rows: Vec<(String, String)> = sqlx::query_as(sql)
        .bind(table)
        .fetch_all(&mut **tx)
        .await
        .ctx(&format!("reading the columns of {table}"))?;
    Ok(rows
        .into_iter()
        .map(|(name, declared)| (name, ColumnKind::of(&declared)))
        .collect())
}

/// After rows were copied with their ids: PostgreSQL's identity sequence of the table
/// continues after the highest id (SQLite's rowid needs nothing).
pub(crate) async fn after_copy(
    tx: &mut Tx,
    table: &str,
    columns: &[(String, ColumnKind)],
) -> Result<(), StoreError> {
    // Only integer `id` columns have a sequence (SCIM resources' ids are text).
    let serial_id = columns
        .iter()
        .any(|(name, kind)| name == "id" && matches!(kind, ColumnKind::Integer));
    if tx.backend_name() == "SQLite" || !serial_id {
        return Ok(());
    }
    sqlx::query_scalar::<_, Option<i64>>(&format!(
        "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
         (SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
    ))
    .fetch_one(&mut **tx)
    .await
    .ctx(&format!("continuing the ids of {table}"))?;
    Ok(())
}

/// The sealed check text that proves which master key a database belongs to, if written.
pub(crate) async fn stored_key_check(conn: &mut Conn) -> Result<Option<String>, StoreError> {
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
pub(crate) async fn forget_key_check(conn: &mut Conn) -> Result<(), StoreError> {
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
        .bind(Ts::now())
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
