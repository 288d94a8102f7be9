//! The command line: argument parsing, dispatch and exit codes.
//!
//! Each command lives in its own module with an `Args` struct and an async `run`
//! returning an [`Exit`]; adding a command is one enum variant and one match arm.
//! Errors go to stderr. Exit codes follow ripgrep's convention: 0 for success
//! (nothing to change), 1 for "changes are pending" (only when asked for, with
//! `plan --exit-code`), 2 for an error; 130 when `sync`, `sync-user` or `run approve`
//! was stopped by Ctrl-C or SIGTERM ([`interrupt`]).

pub mod app;
pub mod backup;
pub mod console;
pub mod docs;
pub mod health;
pub mod hook;
pub mod inspect;
pub mod interrupt;
pub mod json;
pub mod okta_read;
pub mod output;
pub mod progress;
pub mod report;
pub mod runs;
pub mod server;
pub mod store;
pub mod sync;
pub mod target_report;

// build.rs's version logic, compiled here too so its fallbacks are unit-tested.
#[cfg(test)]
#[path = "../../build/version.rs"]
mod build_version;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

/// The result of a command that did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Done; nothing pending.
    Ok,
    /// Done, and the plan has changes that were not applied (`plan --exit-code`).
    ChangesPending,
    /// Stopped by SIGINT or SIGTERM; the run ended `interrupted` ([`interrupt`]).
    Interrupted,
    /// `usersync health`: the server did not answer ready (exit 1, as container
    /// health checks expect).
    Unhealthy,
}

impl Exit {
    #[must_use]
    pub fn code(self) -> ExitCode {
        match self {
            Self::Ok => ExitCode::SUCCESS,
            Self::ChangesPending | Self::Unhealthy => ExitCode::from(1),
            Self::Interrupted => ExitCode::from(interrupt::INTERRUPTED_EXIT),
        }
    }
}

/// The exit code of a failed command.
pub const ERROR_EXIT: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "usersync",
    // The package version and the commit it was built from (build.rs).
    version = env!("USERSYNC_VERSION"),
    about = "Keeps Atlassian (Jira, Confluence) users and groups in step with Okta",
    long_about = "Keeps Atlassian (Jira, Confluence) users and groups in step with Okta: on a \
schedule (`usersync serve`), on demand (`usersync sync`), and for one user at login.\n\n\
Exit codes: 0 done (nothing pending); 1 changes pending (`plan --exit-code`) or a run held for \
approval; 2 an error, or a run that failed or ended partial; 130 `sync`, `sync-user` or \
`run approve` stopped by Ctrl-C or SIGTERM (the run ends interrupted; running the command again \
converges).\n\n\
`usersync COMMAND --help` (or `man usersync-COMMAND`) describes each command; `--output json` \
prints one JSON object that starts with \"version\": 1.",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Clone, clap::Args)]
pub struct Global {
    /// Where usersync keeps its database and master key
    /// [default: $XDG_DATA_HOME/usersync, else ~/.local/share/usersync].
    #[arg(long, env = "USERSYNC_DATA_DIR", global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Keep the store in this PostgreSQL database (postgres://user:password@host:5432/db),
    /// shared by several replicas, instead of SQLite in the data directory (which then
    /// holds only master.key, unless USERSYNC_MASTER_KEY is set).
    #[arg(
        long,
        env = "USERSYNC_DATABASE_URL",
        global = true,
        value_name = "URL",
        hide_env_values = true,
        value_parser = parse_database_url
    )]
    pub database_url: Option<usersync_store::DatabaseUrl>,
    /// A PEM file of extra CA certificates every outbound connection trusts (Okta, Jira,
    /// Confluence), besides the operating system's store; an app's side may add its own
    /// `ca_file`.
    #[arg(long, env = "USERSYNC_CA_FILE", global = true, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,
    /// Log more (-v: debug, -vv: trace); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// The address Okta and people reach `usersync serve` at (e.g.
    /// https://usersync.example.com): the event hook URL the console shows and `hook
    /// register` gives Okta, and the link in notifications.
    #[arg(
        long,
        env = "USERSYNC_PUBLIC_URL",
        global = true,
        value_name = "URL",
        value_parser = crate::serve::parse_public_url
    )]
    pub public_url: Option<url::Url>,
}

/// `--database-url`: a PostgreSQL URL, checked when the command line is read.
fn parse_database_url(text: &str) -> Result<usersync_store::DatabaseUrl, String> {
    usersync_store::DatabaseUrl::parse(text).map_err(|err| err.to_string())
}

impl Global {
    /// The data directory: the flag or `USERSYNC_DATA_DIR`, else the store's default.
    #[must_use]
    pub fn data_dir(&self) -> PathBuf {
        self.data_dir
            .clone()
            .unwrap_or_else(usersync_store::default_data_dir)
    }

    /// Opens the store in the data directory (creating it on first use).
    ///
    /// # Errors
    /// When the directory or database cannot be opened.
    pub async fn open_store(&self) -> anyhow::Result<usersync_store::Store> {
        let dir = self.data_dir();
        match &self.database_url {
            Some(url) => usersync_store::Store::open_postgres(url, &dir)
                .await
                .with_context(|| format!("opening the usersync store in {url}")),
            None => usersync_store::Store::open(&dir)
                .await
                .with_context(|| format!("opening the usersync data directory {}", dir.display())),
        }
    }

    /// The engine's dependencies, with progress drawn on stderr.
    ///
    /// # Errors
    /// As [`Global::open_store`].
    pub async fn deps(&self) -> anyhow::Result<crate::engine::Deps> {
        Ok(crate::engine::Deps::new(self.open_store().await?)
            .with_trust(self.trust()?)
            .with_progress(progress::for_stderr())
            .with_notifier(self.notifier(false)))
    }

    /// The notifier: in the foreground for a command that exits after its run, so its
    /// notifications are sent (or have failed) before it does.
    #[must_use]
    pub fn notifier(&self, background: bool) -> crate::notify::Notifier {
        crate::notify::Notifier::new(crate::notify::NotifierConfig {
            public_url: self.public_url.clone(),
            background,
            ..crate::notify::NotifierConfig::default()
        })
    }

    /// The extra CA bundle of `--ca-file` / `USERSYNC_CA_FILE`, loaded and checked.
    ///
    /// # Errors
    /// The file is not an absolute path to a readable PEM bundle with a certificate.
    pub fn trust(&self) -> anyhow::Result<usersync_tls::TrustRoots> {
        let roots = usersync_tls::TrustRoots::none();
        match &self.ca_file {
            None => Ok(roots),
            Some(path) => {
                let absolute = std::path::absolute(path).unwrap_or_else(|_| path.clone());
                let bundle = usersync_tls::CaBundle::load(&absolute)
                    .context("--ca-file (USERSYNC_CA_FILE)")?;
                Ok(roots.with(bundle))
            }
        }
    }

    /// The engine's dependencies for a command that changes a target: as
    /// [`Global::deps`], and the first Ctrl-C or SIGTERM stops its runs cleanly
    /// ([`interrupt`]).
    ///
    /// # Errors
    /// As [`Global::open_store`], or the signal handlers cannot be installed.
    pub async fn stoppable_deps(&self) -> anyhow::Result<crate::engine::Deps> {
        let stop = interrupt::install()?;
        Ok(self.deps().await?.with_stop(stop))
    }

    fn log_level(&self) -> &'static str {
        match self.verbose {
            0 => "info",
            1 => "debug",
            _ => "trace",
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read a whole Okta org (by default the built-in emulator) and summarise it.
    OktaRead(okta_read::Args),
    /// Manage apps: apply -f apps.toml, export, list, show, delete.
    App(app::Args),
    /// Test an app's connections and whether the target can do what it needs.
    Check(inspect::CheckArgs),
    /// Show what a sync of an app would change (a dry run).
    Plan(sync::PlanArgs),
    /// Sync an app (or --all): plan, guard, apply, record.
    Sync(sync::SyncArgs),
    /// Sync one user now, as a login does.
    SyncUser(sync::SyncUserArgs),
    /// List and show runs; approve or reject held ones.
    Run(runs::Args),
    /// Explain why a user is or is not in the target, and what would change.
    Explain(inspect::ExplainArgs),
    /// Report what the target holds that Okta does not explain (read-only).
    Report(target_report::ReportArgs),
    /// Register an app's Okta event hook for login-time sync.
    Hook(hook::Args),
    /// Run the console, the Okta event hook endpoint and the scheduler until Ctrl-C.
    Serve(crate::serve::ServeArgs),
    /// Try usersync against emulated Okta and Jira: nothing to install or configure.
    #[cfg(feature = "demo")]
    Demo(crate::demo::Args),
    /// Manage console administrators: create.
    Admin(console::AdminArgs),
    /// Manage API tokens for automation: create.
    Token(console::TokenArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(docs::CompletionsArgs),
    /// Print the manual page (or write one per command with --out-dir).
    Man(docs::ManArgs),
    /// Write a consistent copy of the database to a file, also while `serve` runs (the
    /// master key is not in it).
    Backup(backup::BackupArgs),
    /// Replace the database with a backup (refused while usersync runs on the data directory).
    Restore(backup::RestoreArgs),
    /// Move the store between databases: `store migrate --from sqlite:PATH --to postgres://...`.
    #[command(subcommand)]
    Store(store::StoreCommand),
    /// Ask a running server's /readyz: exit 0 when ready, 1 otherwise (container health checks).
    Health(health::Args),
}

impl Command {
    async fn run(self, global: &Global) -> anyhow::Result<Exit> {
        match self {
            Self::OktaRead(args) => okta_read::run(args, global).await,
            Self::App(args) => app::run(args, global).await,
            Self::Check(args) => inspect::check(args, global).await,
            Self::Plan(args) => sync::plan(args, global).await,
            Self::Sync(args) => sync::sync(args, global).await,
            Self::SyncUser(args) => sync::sync_user(args, global).await,
            Self::Run(args) => runs::run(args, global).await,
            Self::Explain(args) => inspect::explain(args, global).await,
            Self::Report(args) => target_report::run(args, global).await,
            Self::Hook(args) => hook::run(args, global).await,
            Self::Serve(args) => server::serve(args, global).await,
            #[cfg(feature = "demo")]
            Self::Demo(args) => server::demo(args).await,
            Self::Admin(args) => console::admin(args, global).await,
            Self::Token(args) => console::token(args, global).await,
            Self::Completions(args) => docs::completions(&args),
            Self::Man(args) => docs::man(&args),
            Self::Backup(args) => backup::backup(args, global).await,
            Self::Restore(args) => backup::restore(args, global).await,
            Self::Store(command) => store::run(command, global).await,
            Self::Health(args) => health::run(args).await,
        }
    }
}

/// Parses the arguments, runs the command and turns its result into an exit code.
#[must_use]
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    crate::telemetry::init(cli.global.log_level());
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(err) => return fail(&anyhow::Error::new(err).context("could not start the runtime")),
    };
    // On a runtime worker, as `serve` runs its syncs, rather than in `block_on`: there
    // every reply the workers' I/O driver takes in has to wake the main thread, which
    // a million-request sync pays for in CPU (measured by the bench: about a quarter
    // of a 10,000-user first sync's).
    let command = runtime.spawn(async move { cli.command.run(&cli.global).await });
    match runtime.block_on(command) {
        Ok(Ok(exit)) => exit.code(),
        Ok(Err(err)) => fail(&err),
        Err(err) => fail(&anyhow::Error::new(err).context("the command's task ended abnormally")),
    }
}

fn fail(err: &anyhow::Error) -> ExitCode {
    eprintln!("usersync: error: {err:#}");
    ExitCode::from(ERROR_EXIT)
}

/// The app with this name, or an error that says how to find the right name.
///
/// # Errors
/// No such app (with a pointer to `usersync app list`), or the store failed.
pub async fn app_named(
    store: &usersync_store::Store,
    name: &str,
) -> anyhow::Result<usersync_store::App> {
    match store.app_by_name(name).await {
        Err(usersync_store::StoreError::NotFound { .. }) => {
            anyhow::bail!("there is no app named {name:?}; `usersync app list` shows the apps")
        }
        other => Ok(other?),
    }
}

/// Who the command line acts as in the audit log: `cli:<login name>`.
#[must_use]
pub fn actor() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into());
    format!("cli:{user}")
}
