//! `usersync hook register`: creates or updates an app's event hook in Okta and has
//! Okta verify it, as the console's "Register in Okta" does (both call
//! [`crate::engine::hook::register_hook`]).

use clap::Subcommand;

use super::output::Format;
use super::{Exit, Global, app_named};
use crate::engine::hook::register_hook;

/// Okta event hooks for login-time sync.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: HookCommand,
}

#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// Create or update the app's event hook in Okta and ask Okta to verify it.
    #[command(
        long_about = "Creates the app's event hook in Okta, or updates the one registered before \
(found by its remembered id, else by its name \"usersync: APP\"), with the app's event types and its \
shared secret in the Authorization header, then asks Okta to verify it: Okta calls \
PUBLIC_URL/hooks/okta/APP, which `usersync serve` answers. Okta requires an https:// URL it can \
reach. The Okta credential must be allowed to manage event hooks (OAuth scope \
okta.eventHooks.manage, or an API token of an administrator allowed to manage event hooks). \
Exits 2 when the hook is registered but not verified."
    )]
    Register {
        /// The app whose hook to register.
        #[arg(long)]
        app: String,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        output: Format,
    },
}

/// Runs `usersync hook ...`.
///
/// # Errors
/// No such app, login-time sync not set up, Okta refusing, or a hook left unverified.
pub async fn run(args: Args, global: &Global) -> anyhow::Result<Exit> {
    match args.command {
        HookCommand::Register {
            app,
            output: format,
        } => {
            let Some(public_url) = global.public_url.as_ref().map(url::Url::to_string) else {
                anyhow::bail!(
                    "give the address Okta reaches `usersync serve` at: --public-url https://usersync.example.com (or USERSYNC_PUBLIC_URL)"
                );
            };
            let deps = global.deps().await?;
            let app = app_named(&deps.store, &app).await?;
            let report = register_hook(&deps, &app, &public_url, &super::actor()).await?;
            match format {
                Format::Text => println!("{}", report.text()),
                Format::Json => super::json::print(&report)?,
            }
            anyhow::ensure!(
                report.verified,
                "the event hook is registered but not verified"
            );
            Ok(Exit::Ok)
        }
    }
}
