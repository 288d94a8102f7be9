//! `usersync admin create` and `usersync token create`: console sign-in data made from
//! the command line, for a first start without a browser and for automation.
//!
//! Passwords are never taken as arguments (they would show in the process list): they
//! come from `USERSYNC_ADMIN_PASSWORD` or the first line of standard input.

use std::io::BufRead;

use anyhow::Context as _;
use clap::{Args as ClapArgs, Subcommand};
use secrecy::SecretString;

use super::{Exit, Global};

/// `usersync admin ...`
#[derive(Debug, ClapArgs)]
pub struct AdminArgs {
    #[command(subcommand)]
    command: AdminCommand,
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Add a console administrator. The password is read from USERSYNC_ADMIN_PASSWORD, else from
    /// the first line of standard input.
    Create {
        /// The administrator's username.
        username: String,
    },
}

/// `usersync token ...`
#[derive(Debug, ClapArgs)]
pub struct TokenArgs {
    #[command(subcommand)]
    command: TokenCommand,
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create an API token for automation (`Authorization: Bearer ...`). It is printed once;
    /// only its hash is stored.
    Create {
        /// A name that says who or what uses the token.
        name: String,
    },
}

pub async fn admin(args: AdminArgs, global: &Global) -> anyhow::Result<Exit> {
    let AdminCommand::Create { username } = args.command;
    let password = password()?;
    let store = global.open_store().await?;
    crate::web::create_admin(&store, &username, password)
        .await
        .with_context(|| format!("could not create administrator {username:?}"))?;
    println!("administrator {username:?} created; sign in at the console (`usersync serve`)");
    Ok(Exit::Ok)
}

pub async fn token(args: TokenArgs, global: &Global) -> anyhow::Result<Exit> {
    let TokenCommand::Create { name } = args.command;
    let store = global.open_store().await?;
    let value = crate::web::create_api_token(&store, &name)
        .await
        .with_context(|| format!("could not create API token {name:?}"))?;
    eprintln!("API token {name:?} created; it is shown once, store it now:");
    println!("{value}");
    Ok(Exit::Ok)
}

fn password() -> anyhow::Result<SecretString> {
    if let Ok(value) = std::env::var("USERSYNC_ADMIN_PASSWORD") {
        return Ok(SecretString::from(value));
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("could not read the password from standard input")?;
    let line = line.trim_end_matches(['\r', '\n']).to_owned();
    anyhow::ensure!(
        !line.is_empty(),
        "no password given: set USERSYNC_ADMIN_PASSWORD or pipe the password on standard input"
    );
    Ok(SecretString::from(line))
}
