//! The okta emulator (being written).

/// Command-line settings for `usersync-sim okta`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: String,
}

/// Runs the emulator until interrupted.
///
/// # Errors
/// When the address cannot be bound.
pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    anyhow::bail!(
        "the okta emulator is not built yet (asked to listen on {})",
        args.listen
    )
}
