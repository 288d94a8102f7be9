//! The `usersync-bench` command (see the crate docs of `usersync_bench`).

use clap::Parser;
use usersync_bench::settings::Args;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let result = if args.emulators {
        usersync_bench::emulators::serve(&args).await
    } else if let Some(job) = args.sync_child {
        usersync_bench::child::serve(&args, job).await
    } else {
        usersync_bench::run::run(&args).await
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("usersync-bench: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
