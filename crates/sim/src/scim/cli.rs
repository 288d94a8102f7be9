//! `usersync-sim scim`: the SCIM emulator from the command line.

use anyhow::Context as _;

use super::{Profile, ScimSim, ScimSimConfig};

/// Command-line settings for `usersync-sim scim`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: String,
    /// Which service to imitate.
    #[arg(long, value_enum, default_value = "generic")]
    pub profile: Profile,
    /// The bearer token clients must send.
    #[arg(
        long,
        env = "SCIM_SIM_TOKEN",
        default_value = "scim-sim-token",
        hide_env_values = true
    )]
    pub token: String,
    /// Atlassian Cloud: verified e-mail domains (repeat for more).
    #[arg(long = "verified-domain", default_value = "example.com")]
    pub verified_domains: Vec<String>,
}

/// Runs the emulator until interrupted.
///
/// # Errors
/// When the address cannot be bound.
pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let listen = args.listen.parse().with_context(|| {
        format!(
            "--listen {:?} is not an address like 127.0.0.1:8080",
            args.listen
        )
    })?;
    let sim = ScimSim::start(ScimSimConfig {
        listen,
        profile: args.profile,
        token: args.token,
        features: None,
        verified_domains: args.verified_domains,
    })
    .await?;
    println!(
        "SCIM emulator ({:?}) listening on {} (bearer token as configured)",
        args.profile,
        sim.base_url()
    );
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    sim.shutdown().await;
    Ok(())
}
