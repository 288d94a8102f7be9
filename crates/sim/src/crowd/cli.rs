//! `usersync-sim crowd`: the Crowd emulator from the command line.

use std::net::IpAddr;

use anyhow::Context as _;

use super::{CrowdSim, CrowdSimConfig};

/// Command-line settings for `usersync-sim crowd`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: String,
    /// The version `X-Embedded-Crowd-Version` names.
    #[arg(long, default_value = "6.0.3")]
    pub version: String,
    /// The application's name (HTTP basic username).
    #[arg(long, default_value = "usersync")]
    pub application: String,
    #[arg(
        long,
        env = "CROWD_SIM_APPLICATION_PASSWORD",
        default_value = "crowd-sim-app-password",
        hide_env_values = true
    )]
    pub application_password: String,
    /// The application's remote addresses (repeat the flag); loopback when absent.
    #[arg(long = "allow-address")]
    pub allow_addresses: Vec<IpAddr>,
    /// Users to create (user0001..), every third one inactive.
    #[arg(long, default_value_t = 0)]
    pub users: usize,
    #[command(flatten)]
    pub faults: crate::fault_args::FaultArgs,
}

/// Runs the emulator until interrupted.
///
/// # Errors
/// When the address cannot be bound or a setting is invalid.
pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let listen = args.listen.parse().with_context(|| {
        format!(
            "--listen {:?} is not an address like 127.0.0.1:8095",
            args.listen
        )
    })?;
    let config = CrowdSimConfig {
        listen,
        version: args.version,
        application: args.application,
        application_password: args.application_password,
        allowed_addresses: if args.allow_addresses.is_empty() {
            CrowdSimConfig::default().allowed_addresses
        } else {
            args.allow_addresses
        },
        faults: args.faults.config(),
        // Nobody reads the log of a command-line emulator: keep it small.
        request_log_capacity: 10_000,
    };
    let sim = CrowdSim::start(config).await?;
    for i in 1..=args.users {
        let name = format!("user{i:04}");
        sim.add_user(
            &name,
            &format!("User {name}"),
            &format!("{name}@example.com"),
            i % 3 != 0,
        )
        .map_err(|e| anyhow::anyhow!("seeding {name}: {}", e.message))?;
    }
    println!(
        "Crowd emulator listening on {} (application {:?}; password as configured)",
        sim.base_url(),
        sim.application()
    );
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    sim.shutdown().await;
    Ok(())
}
