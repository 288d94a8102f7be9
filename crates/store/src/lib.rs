//! Everything usersync remembers, behind one [`Store`] type. All SQL of usersync lives here.
//!
//! The embedded default is SQLite: [`Store::open`] creates the data directory, the
//! database `usersync.db` (WAL mode) and, unless `USERSYNC_MASTER_KEY` is set, a master
//! key file `master.key` (mode 0600). Forward-only migrations run at open, and a database
//! whose schema is newer than this binary is refused ([`StoreError::SchemaTooNew`]).
//! Runs left `running` by a process that has died are marked `interrupted` at open.
//! [`Store::open_in_memory`] gives a private throw-away store for tests.
//! The SQL is portable (RFC 3339 text timestamps, `$n` parameters, `ON CONFLICT`
//! upserts) and runs on SQLite or PostgreSQL through sqlx's `Any` driver; only `db.rs`
//! and `migrations/{sqlite,postgres}/` are dialect-specific.
//!
//! # PostgreSQL
//! [`Store::open_postgres`] opens a store in a PostgreSQL database ([`DatabaseUrl`],
//! `--database-url` or `USERSYNC_DATABASE_URL`) that several replicas share; the master key
//! still comes from `USERSYNC_MASTER_KEY` or `master.key` in the (local) data directory,
//! and every replica needs the same one. [`transfer::copy_store`] moves an installation
//! from SQLite to PostgreSQL (`usersync store migrate`). Backups stay SQLite-only.
//!
//! # Data directory
//! [`default_data_dir`]: `USERSYNC_DATA_DIR` when set; else `$XDG_DATA_HOME/usersync`, else
//! `~/.local/share/usersync` (Unix), `%LOCALAPPDATA%\usersync` (Windows), else `./usersync-data`.
//!
//! # Interface
//! - **Apps** ([`app`]): [`AppDraft`] (input, e.g. from TOML or the API; the model and its
//!   validation live in `usersync_core::app`) is validated into an [`App`]: `create_app(draft, actor)`, `update_app(id, draft, actor)`, `get_app(id)`,
//!   `find_app(name)`, `list_apps()`, `delete_app(id, actor)`, `apply_apps(drafts, actor) ->
//!   ApplyReport`. Validation errors are `StoreError::Validation { field, message }`.
//! - **Secrets** ([`secret`]): write-only. Drafts carry [`SecretInput`]s (value, `env:NAME` /
//!   `file:/path` reference, or keep); apps show [`SecretState`]s; `resolve_secret(&app, slot)
//!   -> SecretString` is the only way to a value. Values are sealed with XChaCha20-Poly1305.
//!   Each secret is bound to the origin of the URL it was given for (see `app::secrets`).
//! - **Config as code**: [`apps_from_toml`] and [`apps_to_toml`] (from `usersync_core::app`,
//!   re-exported); exports never contain secret values, and re-applying an export keeps the
//!   stored secrets. [`unresolved_references`] lists a draft's references unreadable here.
//! - **Identity links** ([`links`]): `load_links(app) -> Links`, `save_links(app, &LinkChanges)`.
//! - **Runs** ([`runs`]): `start_run`, `record_plan`, `record_operations`, `record_outcome(s)`,
//!   `record_outcomes_with_links`, `finish_run`,
//!   `approve_run`, `reject_run`, `get_run`, `list_runs`, `run_operations`, `run_plan`.
//! - **Checkpoints** ([`checkpoints`]): per-app key/value, e.g. the System Log `next` link.
//! - **Audit** ([`audit`]): every configuration change writes an [`AuditEntry`] in the same
//!   transaction; `audit_log(filter, limit)` reads them; field names only, never values.
//! - **Console** ([`console`]): administrators, sessions, API tokens, sign-in throttling
//!   counters (shared by every replica),
//!   the first start's setup code and the atomic `create_first_admin`.
//! - **Events and scheduler** ([`events`]): event-hook dedupe, next/last scheduled run per app.
//! - **Leases** ([`lease`]): `acquire_lease(name)` / `release_lease(name)` (the replicas'
//!   leader), `renew_run_claim(run)` (a running run's claim on its app),
//!   `interrupt_abandoned_runs()`; their length is `with_lease(d)` (default 15 s).
//! - **Backup and restore** ([`backup`]): `backup_to(path)` (a consistent copy while the
//!   server runs, `VACUUM INTO`), and [`restore`] into a data directory no process has open
//!   (every open store holds a shared lock on `usersync.lock`; a restore needs it alone).

pub mod app;
pub mod audit;
pub mod backup;
pub mod checkpoints;
pub mod console;
pub mod crypto;
pub mod database;
mod db;
pub mod error;
pub mod events;
pub mod lease;
pub mod links;
mod lock;
mod process;
#[cfg(test)]
mod query_plan;
pub mod runs;
pub mod scim_server;
pub mod secret;
mod stamp;
pub mod transfer;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use app::{
    App, AppDraft, AppId, ApplyReport, EventSettings, NotifySettings, OktaCredential, OktaDraft,
    OktaSettings, Schedule, TargetCredential, TargetDraft, TargetKind, TargetSettings,
    unresolved_references,
};
pub use audit::{AuditEntry, AuditFilter};
pub use backup::{BackupSummary, DroppedSecret, RestoreOptions, RestoreReport, restore};
pub use console::{
    Admin, AdminId, ApiToken, ApiTokenId, FirstAdmin, NewApiToken, NewSession, Scope, Scopes,
    Session, SignInFailures,
};
pub use crypto::MasterKey;
pub use database::{DATABASE_URL_ENV, DatabaseUrl};
#[doc(hidden)]
pub use db::migration_versions;
pub use error::StoreError;
pub use events::SchedulerState;
pub use lease::{DEFAULT_LEASE, LEADER, LeaseState};
pub use links::LinkChanges;
pub use lock::LOCK_FILE;
pub use runs::{
    MAX_PAGE, NewOperation, OpOutcome, Operation, OperationPage, OperationQuery, OutcomeCounts,
    OutcomeUpdate, Run, RunCounts, RunFilter, RunId, RunProgress, RunStatus, RunTrigger, SyncKind,
};
pub use scim_server::{ScimKind, ScimLookup, ScimPage, ScimRecord, ScimWrite};
pub use secret::{SecretInput, SecretRef, SecretSlot, SecretState};
pub use usersync_core::app::{apps_from_toml, apps_to_toml};

/// The environment variable naming the data directory.
pub const DATA_DIR_ENV: &str = "USERSYNC_DATA_DIR";
/// The database file inside the data directory.
pub const DATABASE_FILE: &str = "usersync.db";

/// Where usersync keeps its data unless told otherwise (see the crate docs).
#[must_use]
pub fn default_data_dir() -> PathBuf {
    let env = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = env(DATA_DIR_ENV) {
        return dir;
    }
    if let Some(dir) = env("XDG_DATA_HOME") {
        return dir.join("usersync");
    }
    if cfg!(windows)
        && let Some(dir) = env("LOCALAPPDATA")
    {
        return dir.join("usersync");
    }
    if let Some(home) = env("HOME") {
        return home.join(".local").join("share").join("usersync");
    }
    PathBuf::from("usersync-data")
}

/// The handle to everything usersync remembers. Cheap to clone; clones share one pool.
#[derive(Clone)]
pub struct Store {
    db: db::Db,
    key: Arc<MasterKey>,
    data_dir: Option<PathBuf>,
    /// How long leases and run claims last unless renewed (`lease`).
    lease: std::time::Duration,
    /// The data directory's shared lock, held while any clone lives (see `lock`).
    _lock: Option<Arc<lock::DirLock>>,
    /// This process's writers take turns here (see [`db::WriteGate`]).
    gate: db::WriteGate,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (creating when needed) the store in `data_dir`, with the master key from
    /// `USERSYNC_MASTER_KEY` or `<data_dir>/master.key`.
    ///
    /// # Errors
    /// An unusable directory or key, a newer schema, or a failed migration.
    pub async fn open(data_dir: &Path) -> Result<Store, StoreError> {
        create_data_dir(data_dir)?;
        let key = MasterKey::from_env_or_data_dir(data_dir)?;
        Self::open_with_key(data_dir, key).await
    }

    /// Opens the store in `data_dir` with an explicit master key.
    ///
    /// # Errors
    /// As [`Store::open`], or a key that does not match the database.
    pub async fn open_with_key(data_dir: &Path, key: MasterKey) -> Result<Store, StoreError> {
        create_data_dir(data_dir)?;
        let lock = lock::DirLock::shared(data_dir)?;
        warn_when_readable_by_others(data_dir);
        let file = data_dir.join(DATABASE_FILE);
        create_owner_only(&file)?;
        let db = db::connect_file(&file).await?;
        let mut store = Self::prepare(db, key, Some(data_dir.to_owned())).await?;
        store._lock = Some(Arc::new(lock));
        Ok(store)
    }

    /// Opens the store in the PostgreSQL database `url` (migrating it as [`Store::open`]
    /// does), with the master key from `USERSYNC_MASTER_KEY` or `<data_dir>/master.key`;
    /// the data directory holds nothing else then.
    ///
    /// # Errors
    /// As [`Store::open`]; an unreachable database names the URL without its password.
    pub async fn open_postgres(url: &DatabaseUrl, data_dir: &Path) -> Result<Store, StoreError> {
        create_data_dir(data_dir)?;
        let key = MasterKey::from_env_or_data_dir(data_dir)?;
        Self::open_postgres_with_key(url, key, Some(data_dir)).await
    }

    /// Opens the store in the PostgreSQL database `url` with an explicit master key.
    ///
    /// # Errors
    /// As [`Store::open_postgres`], or a key that does not match the database.
    pub async fn open_postgres_with_key(
        url: &DatabaseUrl,
        key: MasterKey,
        data_dir: Option<&Path>,
    ) -> Result<Store, StoreError> {
        let db = db::connect_postgres(url.expose()).await?;
        Self::prepare(db, key, data_dir.map(Path::to_owned)).await
    }

    /// Opens PostgreSQL when given a database URL, else SQLite in `data_dir`: what the
    /// command line's `--database-url` and `--data-dir` select.
    ///
    /// # Errors
    /// As [`Store::open`] or [`Store::open_postgres`].
    pub async fn open_selected(
        url: Option<&DatabaseUrl>,
        data_dir: &Path,
    ) -> Result<Store, StoreError> {
        match url {
            Some(url) => Self::open_postgres(url, data_dir).await,
            None => Self::open(data_dir).await,
        }
    }

    /// Whether this store lives in PostgreSQL (else SQLite).
    #[must_use]
    pub fn is_postgres(&self) -> bool {
        db::Dialect::of(&self.db) == db::Dialect::Postgres
    }

    /// A private store in memory with a random master key, gone when dropped.
    ///
    /// # Errors
    /// Only if SQLite cannot start.
    pub async fn open_in_memory() -> Result<Store, StoreError> {
        let db = db::connect_memory().await?;
        Self::prepare(db, MasterKey::generate(), None).await
    }

    async fn prepare(
        db: db::Db,
        key: MasterKey,
        data_dir: Option<PathBuf>,
    ) -> Result<Store, StoreError> {
        db::migrate(&db).await?;
        db::check_master_key(&db, &key).await?;
        app::seal_legacy_with_origins(&db, &key).await?;
        db::interrupt_orphaned_runs(&db).await?;
        Ok(Store {
            db,
            key: Arc::new(key),
            data_dir,
            lease: lease::DEFAULT_LEASE,
            _lock: None,
            gate: db::WriteGate::default(),
        })
    }

    /// The data directory, or `None` for an in-memory store.
    #[must_use]
    pub fn data_dir(&self) -> Option<&Path> {
        self.data_dir.as_deref()
    }

    /// The newest schema version this binary can read and write.
    #[must_use]
    pub fn supported_schema_version() -> i64 {
        db::supported_schema_version()
    }

    /// Proves the store can write now (a heartbeat row, in a write transaction, within a
    /// few seconds): what `/readyz` asks.
    ///
    /// # Errors
    /// The write failed (a full disk, a lock held too long, a closed store).
    pub async fn prove_writable(&self) -> Result<(), StoreError> {
        db::prove_writable(&self.db).await
    }

    /// Closes every connection, flushing the WAL; other clones become unusable.
    pub async fn close(&self) {
        self.db.close().await;
    }
}

/// Creates the data directory (owner-only on Unix when usersync creates it).
fn create_data_dir(dir: &Path) -> Result<(), StoreError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|source| StoreError::Io {
        context: format!(
            "creating the data directory {} (set --data-dir or {DATA_DIR_ENV} to another place)",
            dir.display()
        ),
        source,
    })
}

/// Creates the database file readable by its owner only, before SQLite opens it:
/// SQLite gives its `-wal` and `-shm` files the database file's mode, whatever the
/// umask. An existing file is left as it is.
fn create_owner_only(file: &Path) -> Result<(), StoreError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    match options.open(file) {
        Ok(_) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(source) => Err(StoreError::Io {
            context: format!("creating the database {}", file.display()),
            source,
        }),
    }
}

/// Whether other users of the machine may list or read `dir` (Unix permissions).
#[must_use]
pub fn readable_by_others(dir: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::metadata(dir).is_ok_and(|m| m.permissions().mode() & 0o077 != 0)
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        false
    }
}

/// The data directory holds the database and usually the master key: say so when
/// others may look into it (usersync creates it 0700, but it may already exist).
fn warn_when_readable_by_others(dir: &Path) {
    if readable_by_others(dir) {
        tracing::warn!(
            "the data directory {} is accessible to other users; make it private with `chmod 700 {}`",
            dir.display(),
            dir.display()
        );
    }
}
