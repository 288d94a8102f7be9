//! `usersync store migrate --from sqlite:PATH --to postgres://...`: moves an installation
//! from its SQLite data directory into an empty PostgreSQL database that replicas then
//! share (`usersync_store::transfer` does the copy in one transaction on the target).
//! Stop `usersync serve` on the source first; the master key does not move: every
//! replica is given the same key (its `master.key` or `USERSYNC_MASTER_KEY`).

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args as ClapArgs, Subcommand};
use usersync_store::{DATABASE_FILE, DatabaseUrl, MasterKey, Store};

use super::{Exit, Global};

/// `usersync store ...`
#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Copy every table of a SQLite installation into an empty PostgreSQL database,
    /// in one transaction, and print each table's row counts.
    Migrate(MigrateArgs),
}

/// `usersync store migrate`
#[derive(Debug, ClapArgs)]
pub struct MigrateArgs {
    /// The installation to copy: `sqlite:DIR` (its data directory) or `sqlite:DIR/usersync.db`.
    #[arg(long, value_name = "sqlite:PATH", value_parser = parse_source)]
    from: PathBuf,
    /// The empty PostgreSQL database to copy into (postgres://user:password@host:5432/db).
    #[arg(long, value_name = "URL", value_parser = parse_target)]
    to: DatabaseUrl,
}

fn parse_source(text: &str) -> Result<PathBuf, String> {
    let path = text.strip_prefix("sqlite:").ok_or_else(|| {
        format!("{text} does not start with sqlite:; give sqlite:/path/to/data-dir")
    })?;
    let path = PathBuf::from(path.strip_prefix("//").unwrap_or(path));
    if path.file_name().is_some_and(|name| name == DATABASE_FILE) {
        return Ok(path.parent().map(PathBuf::from).unwrap_or_default());
    }
    Ok(path)
}

fn parse_target(text: &str) -> Result<DatabaseUrl, String> {
    DatabaseUrl::parse(text).map_err(|err| err.to_string())
}

/// Runs a `store` subcommand.
///
/// # Errors
/// The source or target cannot be opened, or the copy was refused or failed.
pub async fn run(command: StoreCommand, _global: &Global) -> anyhow::Result<Exit> {
    match command {
        StoreCommand::Migrate(args) => migrate(args).await,
    }
}

async fn migrate(args: MigrateArgs) -> anyhow::Result<Exit> {
    let dir = &args.from;
    anyhow::ensure!(
        dir.join(DATABASE_FILE).is_file(),
        "--from: {} holds no {DATABASE_FILE}; give sqlite:DIR, the data directory of the installation",
        dir.display()
    );
    let key = MasterKey::from_env_or_data_dir(dir)
        .with_context(|| format!("reading the master key of {}", dir.display()))?;
    let source = Store::open_with_key(dir, key.clone())
        .await
        .with_context(|| format!("opening the source store in {}", dir.display()))?;
    let target = Store::open_postgres_with_key(&args.to, key, None)
        .await
        .with_context(|| format!("opening the target store in {}", args.to))?;
    let report = usersync_store::transfer::copy_store(&source, &target)
        .await
        .with_context(|| format!("copying {} into {}", dir.display(), args.to))?;
    source.close().await;
    target.close().await;
    println!("Copied {} into {}:", dir.display(), args.to);
    println!("{:<18} {:>10} {:>10}", "table", "source", "target");
    for table in &report.tables {
        println!(
            "{:<18} {:>10} {:>10}",
            table.table, table.source, table.target
        );
    }
    println!(
        "Every replica needs this installation's master key: copy {} to each replica's data \
         directory, or set USERSYNC_MASTER_KEY; then start them with --database-url.",
        dir.join(usersync_store::crypto::MASTER_KEY_FILE).display()
    );
    Ok(Exit::Ok)
}
