//! The command line: argument parsing, dispatch and exit codes.
//!
//! Each command lives in its own module with an `Args` struct and an async `run`
//! returning an [`Exit`]; adding a command is one enum variant and one match arm.
//! Errors go to stderr. Exit codes follow ripgrep's convention: 0 for success
//! (nothing to change), 1 for "changes are pending" (only when asked for, with
//! `plan --exit-code`), 2 for an error.

pub mod okta_read;
pub mod output;
pub mod progress;

use std::path::PathBuf;
use std::process::ExitCode;

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
    /// [default: $XDG_DATA_HOME/usersync or ~/.local/share/usersync].
    #[arg(long, env = "USERSYNC_DATA_DIR", global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Log more (-v: debug, -vv: trace); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
}

impl Global {
    /// The data directory: the flag or environment, else the XDG default.
    #[must_use]
    pub fn data_dir(&self) -> PathBuf {
        if let Some(dir) = &self.data_dir {
            return dir.clone();
        }
        let base = std::env::var_os("XDG_DATA_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
            .unwrap_or_else(|| PathBuf::from("."));
        base.join("usersync")
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
}

impl Command {
    async fn run(self, global: &Global) -> anyhow::Result<Exit> {
        match self {
            Self::OktaRead(args) => okta_read::run(args, global).await,
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
