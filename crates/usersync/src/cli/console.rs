//! `usersync admin create|list|delete|passwd` and `usersync token
//! create|list|revoke|rotate`: who may use the console and its API, managed from the
//! command line (a first start without a browser, automation, recovering a lost
//! password). Each change is recorded in the audit log as `cli:<login name>`.
//!
//! Passwords are never taken as arguments (they would show in the process list): they
//! come from `USERSYNC_ADMIN_PASSWORD` or the first line of standard input. Token
//! values are printed once, alone on stdout, so a script can capture them.

use std::io::BufRead;

use anyhow::Context as _;
use clap::{Args as ClapArgs, Subcommand};
use secrecy::SecretString;
use usersync_store::Scopes;

use super::output::{self, Format, Table};
use super::{Exit, Global, actor};
use crate::engine::Deps;
use crate::web::Backend;
use crate::web::auth::accounts::{self, TokenRequest};

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
    /// List the administrators.
    List {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        output: Format,
    },
    /// Delete an administrator and end their sessions (never the last one).
    Delete { username: String },
    /// Set an administrator's password (read like `create`'s) and end their sessions.
    Passwd { username: String },
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
        /// What it may do, comma-separated: read, sync, approve, admin (admin allows all).
        #[arg(long, value_name = "SCOPES")]
        scope: String,
        /// Stop working after this long, e.g. 90d, 12h or 30m [default: never].
        #[arg(long, value_name = "DURATION")]
        expires_in: Option<String>,
    },
    /// List the API tokens (names, scopes, use and expiry; never their values).
    List {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        output: Format,
    },
    /// Revoke a token: it stops working at once.
    Revoke { name: String },
    /// Give a token a new value (printed once); the old one stops working at once.
    Rotate {
        name: String,
        /// A new expiry from now, e.g. 90d [default: keep the current one].
        #[arg(long, value_name = "DURATION")]
        expires_in: Option<String>,
    },
}

async fn backend(global: &Global) -> anyhow::Result<Backend> {
    let store = global.open_store().await?;
    Ok(Backend::new(Deps::new(store)))
}

pub async fn admin(args: AdminArgs, global: &Global) -> anyhow::Result<Exit> {
    let backend = backend(global).await?;
    let actor = actor();
    match args.command {
        AdminCommand::Create { username } => {
            accounts::create_admin_with(&backend, &username, password()?, &actor)
                .await
                .with_context(|| format!("could not create administrator {username:?}"))?;
            println!(
                "administrator {username:?} created; sign in at the console (`usersync serve`)"
            );
        }
        AdminCommand::List { output } => {
            let admins = accounts::list_admins(&backend).await?;
            if output == Format::Json {
                super::json::print_list("administrators", &super::json::without_ids(&admins)?)?;
            } else {
                let mut table = Table::new(["USERNAME", "CREATED", "PASSWORD CHANGED"]);
                for a in &admins {
                    table.row([
                        a.username.clone(),
                        output::time(a.created_at),
                        output::time(a.updated_at),
                    ]);
                }
                output::print(&table.render());
            }
        }
        AdminCommand::Delete { username } => {
            accounts::delete_admin_with(&backend, &username, &actor)
                .await
                .with_context(|| format!("could not delete administrator {username:?}"))?;
            println!("administrator {username:?} deleted");
        }
        AdminCommand::Passwd { username } => {
            accounts::set_admin_password_with(&backend, &username, password()?, &actor)
                .await
                .with_context(|| format!("could not set the password of {username:?}"))?;
            println!("password of {username:?} changed; their sessions were ended");
        }
    }
    Ok(Exit::Ok)
}

fn expiry(text: Option<&str>) -> anyhow::Result<Option<chrono::Duration>> {
    text.map(accounts::parse_expiry).transpose().map_err(|e| {
        anyhow::anyhow!(
            "--expires-in: {}",
            e.to_string().trim_start_matches("expires_in: ")
        )
    })
}

pub async fn token(args: TokenArgs, global: &Global) -> anyhow::Result<Exit> {
    let backend = backend(global).await?;
    let actor = actor();
    match args.command {
        TokenCommand::Create {
            name,
            scope,
            expires_in,
        } => {
            let scopes = Scopes::parse(&scope).map_err(|e| anyhow::anyhow!("--scope: {e}"))?;
            let request = TokenRequest {
                name: name.clone(),
                scopes,
                expires_in: expiry(expires_in.as_deref())?,
            };
            let value = accounts::create_api_token_with(&backend, &request, &actor)
                .await
                .with_context(|| format!("could not create API token {name:?}"))?;
            eprintln!(
                "API token {name:?} ({}) created; it is shown once, store it now:",
                request.scopes
            );
            println!("{value}");
        }
        TokenCommand::List { output } => list_tokens(&backend, output).await?,
        TokenCommand::Revoke { name } => {
            accounts::revoke_api_token_with(&backend, &name, &actor)
                .await
                .with_context(|| format!("could not revoke API token {name:?}"))?;
            println!("API token {name:?} revoked");
        }
        TokenCommand::Rotate { name, expires_in } => {
            let expires_in = expiry(expires_in.as_deref())?;
            let value = accounts::rotate_api_token_with(&backend, &name, expires_in, &actor)
                .await
                .with_context(|| format!("could not rotate API token {name:?}"))?;
            eprintln!(
                "API token {name:?} rotated; the old value no longer works. The new one, shown once:"
            );
            println!("{value}");
        }
    }
    Ok(Exit::Ok)
}

async fn list_tokens(backend: &Backend, format: Format) -> anyhow::Result<()> {
    let tokens = accounts::list_api_tokens(backend).await?;
    if format == Format::Json {
        super::json::print_list("tokens", &super::json::without_ids(&tokens)?)?;
        return Ok(());
    }
    let mut table = Table::new(["NAME", "SCOPES", "CREATED BY", "LAST USED", "EXPIRES"]);
    let when = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map_or_else(|| "never".to_owned(), output::time)
    };
    for t in &tokens {
        table.row([
            t.name.clone(),
            t.scopes.to_string(),
            t.created_by.clone(),
            when(t.last_used_at),
            when(t.expires_at),
        ]);
    }
    output::print(&table.render());
    Ok(())
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
