//! `usersync-sim`: run an emulator from the command line, so people can try
//! usersync (or any Okta or Atlassian client) with no real org.

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "usersync-sim",
    version,
    about = "Emulators of Okta, Jira, Confluence and Crowd for trying usersync"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Emulate an Okta org's Management API (users, groups, members, System Log, event hooks).
    Okta(usersync_sim::okta::ServeArgs),
    /// Emulate a Jira Data Center's user-management REST API.
    Jira(usersync_sim::jira::ServeArgs),
    /// Emulate a Confluence Data Center's user-management REST API.
    Confluence(usersync_sim::confluence::ServeArgs),
    /// Emulate a Crowd Data Center's usermanagement REST API (application auth, remote addresses).
    Crowd(usersync_sim::crowd::ServeArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    match Cli::parse().command {
        Command::Okta(args) => usersync_sim::okta::serve(args).await,
        Command::Jira(args) => usersync_sim::jira::serve(args).await,
        Command::Confluence(args) => usersync_sim::confluence::serve(args).await,
        Command::Crowd(args) => usersync_sim::crowd::serve(args).await,
    }
}
