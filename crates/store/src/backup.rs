//! Backups of the database, and restoring one into a data directory.
//!
//! [`Store::backup_to`] writes a consistent copy with SQLite's `VACUUM INTO`: it reads
//! in one transaction, so the copy is the database as of one moment, while `serve`
//! goes on writing (WAL mode lets writers continue beside the reader). The copy holds
//! the apps with their sealed secrets, links, runs, audit and console accounts; the
//! master key is not in it, and must be kept apart.
//!
//! [`restore`] replaces a data directory's database with a backup. It takes the data
//! directory's lock exclusively (refused while any usersync process has the store
//! open), checks the file is a usersync database of a schema this binary knows and
//! that the master key here opens its secrets, keeps the database it replaces beside
//! it, and leaves migrations to the next open, as every start does. Without the
//! original key the restore is refused, unless asked to drop the sealed secrets
//! (`forget_secrets`): everything else is kept, and each dropped secret is named and
//! audited so it can be entered again.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sqlx::{AnyConnection, Connection as _};

use crate::audit::{self, Subject};
use crate::crypto::MasterKey;
use crate::db::{forget_key_check, key_opens_check, knows_schema_version, stored_key_check};
use crate::error::{DbContext as _, StoreError};
use crate::lock::DirLock;
use crate::{AppId, DATABASE_FILE, Store, create_data_dir};

/// What a backup file holds, in numbers a person can check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackupSummary {
    /// The schema version of the copy (the newest migration applied to it).
    pub schema_version: i64,
    pub apps: i64,
    pub user_links: i64,
    pub runs: i64,
    /// The file's size.
    pub bytes: u64,
}

/// How to restore.
#[derive(Debug, Clone)]
pub struct RestoreOptions {
    /// Restore even when the master key here cannot open the backup's secrets, dropping
    /// them (references such as `env:NAME` are kept: they hold no secret).
    pub forget_secrets: bool,
    /// Who restores, for the audit log.
    pub actor: String,
}

/// A secret a restore without the original master key dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DroppedSecret {
    pub app: String,
    /// The secret's field, e.g. `okta.credential.token`.
    pub field: String,
}

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RestoreReport {
    pub summary: BackupSummary,
    /// Where the database the restore replaced was kept, if there was one.
    pub replaced: Option<PathBuf>,
    /// Sealed secrets dropped because the master key here could not open them.
    pub dropped: Vec<DroppedSecret>,
}

const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

impl Store {
    /// Writes a consistent copy of the database to `dest`, a new file readable by its
    /// owner only, and returns what it holds.
    ///
    /// # Errors
    /// `dest` exists or cannot be written (its directory missing, a full disk), or its
    /// path is not UTF-8 (SQLite takes the name as text).
    pub async fn backup_to(&self, dest: &Path) -> Result<BackupSummary, StoreError> {
        if self.is_postgres() {
            return Err(StoreError::Conflict(POSTGRES_BACKUP.into()));
        }
        let name = dest
            .to_str()
            .ok_or_else(|| StoreError::validation("--to", "the backup path must be valid UTF-8"))?;
        create_new_private(dest)?;
        let copied = sqlx::query("VACUUM INTO $1")
            .bind(name)
            .execute(&self.db)
            .await;
        if let Err(err) = copied {
            let _ = std::fs::remove_file(dest);
            return Err(StoreError::Database {
                context: format!("writing the backup {}", dest.display()),
                message: err.to_string(),
            });
        }
        sync_file(dest)?;
        let mut conn = connect_one(dest).await?;
        let summary = inspect(&mut conn, dest).await;
        let _ = conn.close().await;
        Ok(BackupSummary {
            bytes: file_size(dest)?,
            ..summary?
        })
    }
}

/// What `backup` says when the store is PostgreSQL: its own tools back it up.
pub const POSTGRES_BACKUP: &str = "usersync backup copies the SQLite store only; this store is \
     PostgreSQL: back it up with pg_dump (e.g. `pg_dump --format=custom --file=usersync.dump \
     DATABASE`) and restore with pg_restore";

/// Replaces the database of `data_dir` with the backup `from` (see the module docs).
///
/// # Errors
/// The directory is in use, `from` is not a readable usersync backup of a known schema,
/// the master key here cannot open its secrets (without `forget_secrets`), or a file
/// operation failed. On any error the data directory's database is left as it was.
pub async fn restore(
    data_dir: &Path,
    from: &Path,
    options: &RestoreOptions,
) -> Result<RestoreReport, StoreError> {
    create_data_dir(data_dir)?;
    let _lock = DirLock::exclusive(data_dir)?;
    check_magic(from)?;
    let staged = data_dir.join(format!("{DATABASE_FILE}.restoring"));
    remove_database_files(&staged)?;
    copy_private(from, &staged)?;
    let prepared = prepare_staged(&staged, from, data_dir, options).await;
    let (summary, dropped) = match prepared {
        Ok(done) => done,
        Err(err) => {
            let _ = remove_database_files(&staged);
            return Err(err);
        }
    };
    sync_file(&staged)?;
    let replaced = set_aside(data_dir)?;
    let live = data_dir.join(DATABASE_FILE);
    std::fs::rename(&staged, &live).map_err(|source| StoreError::Io {
        context: format!("moving the restored database into {}", live.display()),
        source,
    })?;
    Ok(RestoreReport {
        summary,
        replaced,
        dropped,
    })
}

/// Checks the staged copy, drops its secrets when asked and needed, and audits.
async fn prepare_staged(
    staged: &Path,
    from: &Path,
    data_dir: &Path,
    options: &RestoreOptions,
) -> Result<(BackupSummary, Vec<DroppedSecret>), StoreError> {
    let mut conn = connect_one(staged).await?;
    let result = async {
        let mut summary = inspect(&mut conn, from).await?;
        let dropped = match secrets_readable(&mut conn, data_dir).await? {
            Ok(()) => Vec::new(),
            Err(why) if !options.forget_secrets => return Err(StoreError::Crypto(why)),
            Err(_) => drop_sealed_secrets(&mut conn, &options.actor).await?,
        };
        let subject = Subject::NONE;
        let from_name = vec![from.display().to_string()];
        audit::write(
            &mut conn,
            &options.actor,
            subject,
            "store.restore",
            &from_name,
        )
        .await?;
        summary.bytes = file_size(staged)?;
        Ok((summary, dropped))
    }
    .await;
    let _ = conn.close().await;
    result
}

/// Whether the master key here opens the backup's secrets; `Err` says why not.
async fn secrets_readable(
    conn: &mut AnyConnection,
    data_dir: &Path,
) -> Result<Result<(), String>, StoreError> {
    let Some(check) = stored_key_check(conn).await? else {
        return Ok(Ok(()));
    };
    let fix = format!(
        "put the original key in {} (or USERSYNC_MASTER_KEY) and run the restore again, or pass \
         --forget-secrets to restore everything else: every app's stored secrets (tokens, \
         passwords, private keys, hook secrets) must then be entered again",
        data_dir.join(crate::crypto::MASTER_KEY_FILE).display()
    );
    Ok(match MasterKey::existing(data_dir)? {
        Some(key) if key_opens_check(&key, &check) => Ok(()),
        Some(_) => Err(format!(
            "the backup's secrets are sealed under another master key than this data \
             directory's; {fix}"
        )),
        None => Err(format!(
            "the backup's secrets are sealed under a master key, and this data directory has \
             none (no USERSYNC_MASTER_KEY, no master.key); {fix}"
        )),
    })
}

/// Deletes every sealed secret (keeping references), auditing each app's, and forgets
/// the old key's check so the next open adopts the key here.
async fn drop_sealed_secrets(
    conn: &mut AnyConnection,
    actor: &str,
) -> Result<Vec<DroppedSecret>, StoreError> {
    let rows: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT a.id, a.name, s.slot FROM app_secrets s JOIN apps a ON a.id = s.app_id \
         WHERE s.ciphertext IS NOT NULL ORDER BY a.name, s.slot",
    )
    .fetch_all(&mut *conn)
    .await
    .ctx("listing the backup's sealed secrets")?;
    sqlx::query("DELETE FROM app_secrets WHERE ciphertext IS NOT NULL")
        .execute(&mut *conn)
        .await
        .ctx("dropping the backup's sealed secrets")?;
    forget_key_check(conn).await?;
    let mut by_app: Vec<(i64, String, Vec<String>)> = Vec::new();
    for (id, app, field) in &rows {
        match by_app.last_mut() {
            Some((last, _, fields)) if last == id => fields.push(field.clone()),
            _ => by_app.push((*id, app.clone(), vec![field.clone()])),
        }
    }
    for (id, app, fields) in &by_app {
        let subject = Subject {
            app_id: Some(AppId(*id)),
            app_name: Some(app),
        };
        audit::write(conn, actor, subject, "app.secrets_dropped", fields).await?;
    }
    Ok(rows
        .into_iter()
        .map(|(_, app, field)| DroppedSecret { app, field })
        .collect())
}

/// Checks a database file is a sound usersync store of a schema this binary knows.
async fn inspect(conn: &mut AnyConnection, shown: &Path) -> Result<BackupSummary, StoreError> {
    let shown = shown.display();
    let check: String = sqlx::query_scalar("PRAGMA quick_check")
        .fetch_one(&mut *conn)
        .await
        .ctx(&format!("checking {shown}"))?;
    if check != "ok" {
        return Err(StoreError::validation(
            "--from",
            format!("{shown} is damaged (SQLite's check says: {check})"),
        ));
    }
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND name IN ('_sqlx_migrations', 'store_meta', 'apps', 'user_links', 'runs')",
    )
    .fetch_all(&mut *conn)
    .await
    .ctx(&format!("reading the tables of {shown}"))?;
    if tables.len() < 5 {
        return Err(StoreError::validation(
            "--from",
            format!(
                "{shown} is a SQLite database but not a usersync store; a backup is made with \
                 `usersync backup --to FILE`"
            ),
        ));
    }
    let schema_version = known_schema(conn, &shown.to_string()).await?;
    let count = |table: &str| format!("SELECT COUNT(*) FROM {table}");
    let mut counts = [0_i64; 3];
    for (slot, table) in counts.iter_mut().zip(["apps", "user_links", "runs"]) {
        *slot = sqlx::query_scalar(&count(table))
            .fetch_one(&mut *conn)
            .await
            .ctx(&format!("counting the {table} of {shown}"))?;
    }
    Ok(BackupSummary {
        schema_version,
        apps: counts[0],
        user_links: counts[1],
        runs: counts[2],
        // The caller knows which file's size to show.
        bytes: 0,
    })
}

/// The copy's schema version, refused when it has a migration this binary lacks.
async fn known_schema(conn: &mut AnyConnection, shown: &str) -> Result<i64, StoreError> {
    let versions: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(&mut *conn)
            .await
            .ctx(&format!("reading the schema version of {shown}"))?;
    let supported = Store::supported_schema_version();
    let newest = versions.last().copied().unwrap_or(0);
    if newest > supported || !versions.iter().all(|v| knows_schema_version(*v)) {
        return Err(StoreError::validation(
            "--from",
            format!(
                "{shown} has schema version {newest}, which this usersync does not know (it \
                 knows up to {supported}); restore it with the usersync version that made it, \
                 or a newer one"
            ),
        ));
    }
    Ok(newest)
}

/// One connection to a database file that must exist (a backup, or a staged copy).
async fn connect_one(path: &Path) -> Result<AnyConnection, StoreError> {
    crate::db::connect_one_file(path).await
}

/// Refuses a file that is not a SQLite database before anything is copied.
fn check_magic(from: &Path) -> Result<(), StoreError> {
    let mut head = [0_u8; 16];
    let read = std::fs::File::open(from).and_then(|mut f| f.read_exact(&mut head));
    match read {
        Ok(()) if &head == SQLITE_MAGIC => Ok(()),
        Ok(()) => Err(not_a_backup(from)),
        Err(err) if err.kind() == std::io::ErrorKind::UnexpectedEof => Err(not_a_backup(from)),
        Err(source) => Err(StoreError::Io {
            context: format!("reading the backup {}", from.display()),
            source,
        }),
    }
}

fn not_a_backup(from: &Path) -> StoreError {
    StoreError::validation(
        "--from",
        format!(
            "{} is not a SQLite database; a backup is made with `usersync backup --to FILE`",
            from.display()
        ),
    )
}

#[path = "backup_files.rs"]
mod files;
use files::{
    copy_private, create_new_private, file_size, remove_database_files, set_aside, sync_file,
};
