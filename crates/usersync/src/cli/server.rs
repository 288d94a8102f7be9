//! `usersync serve` and `usersync demo`: the commands that keep running until they are
//! told to stop. Both start the process composed by [`crate::serve`]; this module only
//! opens the store, waits for the stop signal and prints.

use anyhow::Context as _;

use super::{Exit, Global};
use crate::engine::Deps;
use crate::serve::ServeArgs;

/// `usersync serve`: the console, the hook endpoint and the triggers until SIGINT
/// (Ctrl-C) or SIGTERM (what systemd and container runtimes send): both are a graceful
/// shutdown that waits for syncs in progress.
///
/// # Errors
/// The store cannot be opened, the signal handlers cannot be installed, the address
/// cannot be bound, or serving fails.
pub async fn serve(mut args: ServeArgs, global: &Global) -> anyhow::Result<Exit> {
    args.public_url.clone_from(&global.public_url);
    let deps = Deps::new(global.open_store().await?)
        .with_trust(global.trust()?)
        .with_notifier(global.notifier(true));
    let stop = stop_signal()?;
    crate::serve::serve(deps, args, stop).await?;
    Ok(Exit::Ok)
}

/// Completes at the first SIGINT or SIGTERM. The handlers are installed before it
/// returns, so a signal arriving while the server starts is not lost.
fn stop_signal() -> anyhow::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt()).context("listening for SIGINT")?;
        let mut terminate = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
        Ok(async move {
            let name = tokio::select! {
                _ = interrupt.recv() => "SIGINT",
                _ = terminate.recv() => "SIGTERM",
            };
            tracing::info!("{name} received: stopping after the syncs in progress");
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

/// `usersync demo`: start, print what to try, wait for Ctrl-C (or stop at once with
/// `--exit-after-ready`).
///
/// # Errors
/// When the demo cannot start.
#[cfg(feature = "demo")]
pub async fn demo(args: crate::demo::Args) -> anyhow::Result<Exit> {
    let demo = crate::demo::Demo::start(&args).await?;
    println!("{}", demo.instructions());
    if !args.exit_after_ready {
        tokio::signal::ctrl_c()
            .await
            .context("waiting for Ctrl-C")?;
        println!("stopping the demo");
    }
    demo.stop().await;
    Ok(Exit::Ok)
}
