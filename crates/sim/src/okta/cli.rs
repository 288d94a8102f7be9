//! `usersync-sim okta`: runs the emulator with a generated org until interrupted.

use std::net::SocketAddr;

use anyhow::Context;
use clap::ValueEnum;

use super::generator::OrgSpec;
use super::ratelimit::RateLimits;
use super::sim::{OktaSim, OktaSimConfig};
use crate::fault_args::FaultArgs;

/// On or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Switch {
    On,
    Off,
}

/// Command-line settings for `usersync-sim okta`.
#[derive(clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: String,
    /// The API token clients must send (`Authorization: SSWS <token>`); random when not given.
    #[arg(long, env = "OKTA_SIM_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Users in the generated org.
    #[arg(long, default_value_t = 1000)]
    pub users: usize,
    /// Groups in the generated org.
    #[arg(long, default_value_t = 50)]
    pub groups: usize,
    /// Average groups per user.
    #[arg(long, default_value_t = 3.0)]
    pub memberships_per_user: f64,
    /// Seed of the generated org (the same seed gives the same org).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The BUILT_IN Everyone group with every user in it, as every real org has.
    #[arg(long, value_enum, default_value_t = Switch::On)]
    pub everyone: Switch,
    /// Enforce rate limits (headers are sent either way).
    #[arg(long, value_enum, default_value_t = Switch::On)]
    pub rate_limits: Switch,
    /// Send `X-Rate-Limit-Reset` twice with different values, as Okta does.
    #[arg(long, value_enum, default_value_t = Switch::On)]
    pub duplicate_reset_header: Switch,
    #[command(flatten)]
    pub faults: FaultArgs,
    #[command(flatten)]
    pub tls: crate::tls::TlsArgs,
}

impl std::fmt::Debug for ServeArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeArgs")
            .field("listen", &self.listen)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("users", &self.users)
            .field("groups", &self.groups)
            .field("seed", &self.seed)
            .field("faults", &self.faults)
            .finish_non_exhaustive()
    }
}

/// Runs the emulator until Ctrl-C.
///
/// # Errors
/// When the address is not an address or cannot be bound.
pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let listen: SocketAddr = args.listen.parse().with_context(|| {
        format!(
            "--listen {:?} is not an address such as 127.0.0.1:8080",
            args.listen
        )
    })?;
    let mut config = OktaSimConfig {
        listen,
        rate_limits: RateLimits {
            enabled: args.rate_limits == Switch::On,
            duplicate_reset_header: args.duplicate_reset_header == Switch::On,
            ..RateLimits::default()
        },
        faults: args.faults.config(),
        org: Some(OrgSpec {
            users: args.users,
            groups: args.groups,
            memberships_per_user: args.memberships_per_user,
            everyone_group: args.everyone == Switch::On,
            seed: args.seed,
            ..OrgSpec::default()
        }),
        tls: args.tls.files(),
        ..OktaSimConfig::default()
    };
    if let Some(token) = args.token {
        config.api_token = token;
    }
    let sim = OktaSim::start(config).await?;
    println!("Okta emulator listening on {}", sim.base_url());
    println!(
        "API token (send as Authorization: SSWS <token>): {}",
        sim.api_token()
    );
    println!(
        "{} users, {} groups, {} memberships. Ctrl-C stops it.",
        sim.user_count(),
        sim.group_count(),
        sim.membership_count()
    );
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    sim.shutdown().await;
    Ok(())
}
