//! `usersync-sim jira`: the Jira emulator from the command line.

use anyhow::Context as _;

use super::{JiraSim, JiraSimConfig, RateLimit, SeedUser, UserServerApp};

/// Command-line settings for `usersync-sim jira`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: String,
    /// The Jira version to emulate (its REST differences follow), e.g. 8.2.0, 9.12.0, 10.3.0.
    #[arg(long, default_value = "9.12.0")]
    pub version: String,
    #[arg(long, default_value = "admin")]
    pub admin_username: String,
    #[arg(
        long,
        env = "JIRA_SIM_ADMIN_PASSWORD",
        default_value = "admin",
        hide_env_values = true
    )]
    pub admin_password: String,
    /// The admin's personal access token (send as `Authorization: Bearer`).
    #[arg(
        long,
        env = "JIRA_SIM_PAT",
        default_value = "jira-sim-admin-pat",
        hide_env_values = true
    )]
    pub pat: String,
    /// Internal-directory users to create (user0001..), every third one inactive.
    #[arg(long, default_value_t = 0)]
    pub users: usize,
    /// Read-only LDAP-directory users to create (ldap0001..).
    #[arg(long, default_value_t = 0)]
    pub ldap_users: usize,
    /// Rate limit: requests per second per user (bucket size = twice that); off when absent.
    #[arg(long)]
    pub rate_limit: Option<u32>,
    /// Act as a user server for this application (`NAME:PASSWORD`): Crowd's usermanagement
    /// API at /rest/usermanagement/1, as "Jira user server" configures it.
    #[arg(long, env = "JIRA_SIM_USER_SERVER_APP", hide_env_values = true)]
    pub user_server_app: Option<String>,
    #[command(flatten)]
    pub faults: crate::fault_args::FaultArgs,
    #[command(flatten)]
    pub tls: crate::tls::TlsArgs,
}

/// Runs the emulator until interrupted.
///
/// # Errors
/// When the address cannot be bound or a setting is invalid.
pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let listen = args.listen.parse().with_context(|| {
        format!(
            "--listen {:?} is not an address like 127.0.0.1:8080",
            args.listen
        )
    })?;
    let user_server_app = args
        .user_server_app
        .as_deref()
        .map(|text| match text.split_once(':') {
            Some((name, password)) if !name.is_empty() && !password.is_empty() => {
                Ok(UserServerApp {
                    name: name.to_owned(),
                    password: password.to_owned(),
                })
            }
            _ => Err(anyhow::anyhow!(
                "--user-server-app must be NAME:PASSWORD, both non-empty"
            )),
        })
        .transpose()?;
    let config = JiraSimConfig {
        listen,
        user_server_app,
        version: args.version,
        admin_username: args.admin_username,
        admin_password: args.admin_password,
        pat: args.pat,
        ldap_users: (1..=args.ldap_users)
            .map(|i| SeedUser::new(&format!("ldap{i:04}")))
            .collect(),
        rate_limit: args.rate_limit.map(|n| RateLimit {
            capacity: n.saturating_mul(2),
            per_second: f64::from(n),
        }),
        // Nobody reads the log of a command-line emulator: keep it small, however long it runs.
        request_log_capacity: 10_000,
        faults: args.faults.config(),
        tls: args.tls.files(),
        ..JiraSimConfig::default()
    };
    let sim = JiraSim::start(config).await?;
    sim.add_users("user", args.users, true)?;
    println!(
        "Jira {} emulator listening on {} (admin user {:?}; password and token as configured)",
        sim.version(),
        sim.base_url(),
        sim.admin_username()
    );
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    sim.shutdown().await;
    Ok(())
}
