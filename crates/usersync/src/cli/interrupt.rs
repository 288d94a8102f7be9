//! Ctrl-C for the commands that change a target (`sync`, `sync-user`, `run approve`).
//!
//! The first SIGINT or SIGTERM cancels the engine's stop token ([`crate::engine::Deps::stop`]):
//! a run still reading stops at once; a run applying starts no further operation,
//! lets those in flight finish (their outcomes and identity links are recorded) and
//! ends `interrupted` with its true counts. The command then exits with
//! [`INTERRUPTED_EXIT`] and says how to resume. Should the operations in flight not
//! finish within [`GRACE`], or a second signal arrive, the process exits at once
//! with the same code; its run is then left `running` and marked `interrupted`
//! (with the outcomes recorded so far) the next time the store is opened.
//!
//! Other commands keep the default behaviour: they change nothing, so Ctrl-C simply
//! ends them.

use std::time::Duration;

use anyhow::Context as _;
use tokio_util::sync::CancellationToken;

/// The exit code of a command stopped by SIGINT or SIGTERM (128 + SIGINT, as shells
/// report a process ended by Ctrl-C), whether it stopped cleanly or at once.
pub const INTERRUPTED_EXIT: u8 = 130;

/// How long operations in flight may take to finish after the first signal.
pub const GRACE: Duration = Duration::from_secs(60);

/// Installs the handlers and returns the token the first signal cancels.
///
/// # Errors
/// The signal handlers cannot be installed.
pub fn install() -> anyhow::Result<CancellationToken> {
    let stop = CancellationToken::new();
    let mut signals = Signals::new()?;
    let token = stop.clone();
    tokio::spawn(async move {
        let name = signals.next().await;
        eprintln!(
            "usersync: {name} received: stopping after the operations in flight \
             (at most {} s; press Ctrl-C again to stop at once)",
            GRACE.as_secs()
        );
        token.cancel();
        tokio::select! {
            name = signals.next() => {
                eprintln!("usersync: {name} received again: stopping at once; the run is marked \
                           interrupted the next time usersync starts");
            }
            () = tokio::time::sleep(GRACE) => {
                eprintln!("usersync: the operations in flight did not finish within {} s: stopping \
                           at once; the run is marked interrupted the next time usersync starts",
                          GRACE.as_secs());
            }
        }
        std::process::exit(i32::from(INTERRUPTED_EXIT));
    });
    Ok(stop)
}

/// SIGINT and SIGTERM (Ctrl-C elsewhere), as one stream of signal names.
struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> anyhow::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                interrupt: signal(SignalKind::interrupt()).context("listening for SIGINT")?,
                terminate: signal(SignalKind::terminate()).context("listening for SIGTERM")?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Self {})
        }
    }

    async fn next(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.interrupt.recv() => "SIGINT",
                _ = self.terminate.recv() => "SIGTERM",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        }
    }
}

/// Says on stderr that `outcome`'s run was interrupted and that `again` resumes it.
pub fn tell_how_to_resume(outcome: &crate::engine::RunOutcome, again: &str) {
    let run = outcome
        .run_id
        .map(|id| format!("run {id} of "))
        .unwrap_or_default();
    eprintln!(
        "usersync: {run}app {:?} was interrupted; every finished operation is recorded.\n\
         To resume, run `{again}` again: the next run converges; nothing is applied twice.",
        outcome.app
    );
}
