//! `usersync backup --to FILE` and `usersync restore --from FILE`: the database as one
//! file, taken while `serve` runs, and put back into a data directory no usersync
//! process has open. The store does the work (`Store::backup_to`, `usersync_store::restore`);
//! this module says what was done and, every time, that the master key is not in the
//! backup and what follows without it.

use std::path::PathBuf;

use clap::Args as ClapArgs;
use usersync_store::{BackupSummary, RestoreOptions, RestoreReport, Store};

use super::{Exit, Global, actor};

/// `usersync backup`
#[derive(Debug, ClapArgs)]
pub struct BackupArgs {
    /// The file to write (a new file; it is created readable by its owner only).
    #[arg(long, value_name = "FILE")]
    to: PathBuf,
}

/// `usersync restore`
#[derive(Debug, ClapArgs)]
pub struct RestoreArgs {
    /// A file written by `usersync backup`.
    #[arg(long, value_name = "FILE")]
    from: PathBuf,
    /// Restore even without the master key the backup's secrets were sealed with: they
    /// are dropped (and named), everything else is restored; each app's secrets must then
    /// be entered again.
    #[arg(long)]
    forget_secrets: bool,
}

/// Writes the backup and says where the master key is, which it does not contain.
///
/// # Errors
/// The store cannot be opened, or the file cannot be written (it exists already, its
/// directory is missing, the disk is full).
pub async fn backup(args: BackupArgs, global: &Global) -> anyhow::Result<Exit> {
    let store = global.open_store().await?;
    let summary = store.backup_to(&args.to).await?;
    store.close().await;
    println!(
        "Backed up {} to {}: {}.",
        global.data_dir().display(),
        args.to.display(),
        describe(&summary)
    );
    println!("{}", key_note(global));
    Ok(Exit::Ok)
}

/// Restores the backup, then opens the store as a start does (migrations, key check).
///
/// # Errors
/// The data directory is in use, the file is not a usersync backup of a known schema,
/// or the master key here cannot open its secrets (without `--forget-secrets`).
pub async fn restore(args: RestoreArgs, global: &Global) -> anyhow::Result<Exit> {
    if global.database_url.is_some() {
        anyhow::bail!(
            "usersync restore puts back a SQLite backup; the store given by --database-url is \
             PostgreSQL: restore it with pg_restore from a pg_dump"
        );
    }
    let dir = global.data_dir();
    let options = RestoreOptions {
        forget_secrets: args.forget_secrets,
        actor: actor(),
    };
    let report = usersync_store::restore(&dir, &args.from, &options).await?;
    println!(
        "Restored {} into {}: {}.",
        args.from.display(),
        dir.display(),
        describe(&report.summary)
    );
    if let Some(aside) = &report.replaced {
        println!("The database it replaced is kept as {}.", aside.display());
    }
    print_dropped(&report);
    // Opening runs the migrations a backup of an older usersync needs, and proves the key.
    let store = global.open_store().await?;
    store.close().await;
    if report.summary.schema_version < Store::supported_schema_version() {
        println!(
            "Its schema was brought from version {} to {}.",
            report.summary.schema_version,
            Store::supported_schema_version()
        );
    }
    Ok(Exit::Ok)
}

fn describe(summary: &BackupSummary) -> String {
    format!(
        "{} apps, {} user links, {} runs, schema version {}, {} bytes",
        summary.apps, summary.user_links, summary.runs, summary.schema_version, summary.bytes
    )
}

/// Where this data directory's master key is, and why it must be kept apart.
fn key_note(global: &Global) -> String {
    let key = if std::env::var_os(usersync_store::crypto::MASTER_KEY_ENV).is_some() {
        "USERSYNC_MASTER_KEY (set in this environment)".to_owned()
    } else {
        global
            .data_dir()
            .join(usersync_store::crypto::MASTER_KEY_FILE)
            .display()
            .to_string()
    };
    format!(
        "The master key is NOT in the backup: keep a copy of {key} apart from it. Without the \
         key the apps' stored secrets cannot be read after a restore (everything else can): \
         `usersync restore --forget-secrets` drops them and each app's secrets must be entered again."
    )
}

fn print_dropped(report: &RestoreReport) {
    if report.dropped.is_empty() {
        return;
    }
    println!(
        "Without the master key the backup's secrets were sealed with, these {} secrets could \
         not be restored and were dropped; enter them again (`usersync app apply -f`, or the \
         app's page in the console):",
        report.dropped.len()
    );
    for dropped in &report.dropped {
        println!("  app {:?}: {}", dropped.app, dropped.field);
    }
}
