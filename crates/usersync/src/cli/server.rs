//! `usersync serve` and `usersync demo`: the commands that keep running until they are
//! told to stop. Both start the process composed by [`crate::serve`]; this module only
//! opens the store, waits for the stop signal and prints.

use super::{Exit, Global};
use crate::engine::Deps;
use crate::serve::ServeArgs;

/// `usersync serve`: the console, the hook endpoint and the triggers until Ctrl-C.
///
/// # Errors
/// The store cannot be opened, the address cannot be bound, or serving fails.
pub async fn serve(args: ServeArgs, global: &Global) -> anyhow::Result<Exit> {
    let deps = Deps::new(global.open_store().await?);
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    crate::serve::serve(deps, args, stop).await?;
    Ok(Exit::Ok)
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
        anyhow::Context::context(tokio::signal::ctrl_c().await, "waiting for Ctrl-C")?;
        println!("stopping the demo");
    }
    demo.stop().await;
    Ok(Exit::Ok)
}
