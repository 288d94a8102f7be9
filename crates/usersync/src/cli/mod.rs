//! The command line: argument parsing, dispatch and exit codes.
//!
//! Each command lives in its own module with an `Args` struct and an async `run`
//! returning an [`Exit`]; adding a command is one enum variant and one match arm.
//! Errors go to stderr. Exit codes follow ripgrep's convention: 0 for success
//! (nothing to change), 1 for "changes are pending" (only when asked for, with
//! `plan --exit-code`), 2 for an error.

pub mod app;
pub mod console;
pub mod inspect;
pub mod okta_read;
pub mod output;
pub mod progress;
pub mod report;
pub mod runs;
pub mod server;
pub mod sync;

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
}

impl Exit {
    #[must_use]
    pub fn code(self) -> ExitCode {
        match self {
            Self::Ok => ExitCode::SUCCESS,
            Self::ChangesPending => ExitCode::from(1),
        }
    }
}

/// The exit code of a failed command.
pub const ERROR_EXIT: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "usersync",
    version,
    about = "Keeps Atlassian (Jira, Confluence) users and groups in step with Okta",
    long_about = None,
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
    /// Log more (-v: debug, -vv: trace); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// The console's address as people reach it (e.g. https://usersync.example.com/):
    /// notifications link to the run's page there.
    #[arg(long, env = "USERSYNC_PUBLIC_URL", global = true, value_name = "URL")]
    pub public_url: Option<url::Url>,
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
        usersync_store::Store::open(&dir)
            .await
            .with_context(|| format!("opening the usersync data directory {}", dir.display()))
    }

    /// The engine's dependencies, with progress drawn on stderr.
    ///
    /// # Errors
    /// As [`Global::open_store`].
    pub async fn deps(&self) -> anyhow::Result<crate::engine::Deps> {
        Ok(crate::engine::Deps::new(self.open_store().await?)
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
    /// Run the console, the Okta event hook endpoint and the scheduler until Ctrl-C.
    Serve(crate::serve::ServeArgs),
    /// Try usersync against emulated Okta and Jira: nothing to install or configure.
    #[cfg(feature = "demo")]
    Demo(crate::demo::Args),
    /// Manage console administrators: create.
    Admin(console::AdminArgs),
    /// Manage API tokens for automation: create.
    Token(console::TokenArgs),
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
            Self::Serve(args) => server::serve(args, global).await,
            #[cfg(feature = "demo")]
            Self::Demo(args) => server::demo(args).await,
            Self::Admin(args) => console::admin(args, global).await,
            Self::Token(args) => console::token(args, global).await,
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
    match runtime.block_on(cli.command.run(&cli.global)) {
        Ok(exit) => exit.code(),
        Err(err) => fail(&err),
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
