//! Which of several `usersync serve` replicas on one database leads: the one holding the
//! store's `leader` lease (`usersync_store::lease`). Only the leader runs the scheduler
//! and the System Log pollers; every replica serves the console, the API, SCIM and the
//! event hooks, and any replica's runs are kept apart by their claims (`engine::lock`).
//!
//! [`spawn`] starts the loop: it takes or renews the lease at once and then every third
//! of the lease (`Store::lease`, `serve --lease-secs`). On becoming leader it starts the
//! leader's work on a child token; each renewal also marks `interrupted` the runs whose
//! holder has gone (`Store::interrupt_abandoned_runs`), so a replica killed mid-run
//! leaves no run `running` for longer than its claim. A leader that cannot renew (the
//! database unreachable, or another replica took an expired lease) stops its leader's
//! work before the lease it last renewed runs out; a clean shutdown releases the lease
//! so a follower leads at its next try instead of waiting for the lease to expire.
//! One process alone always leads, so a single `usersync serve` behaves as before.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use usersync_store::{LEADER, Store};

/// Whether this process leads now; cheap to clone (clones share the answer).
#[derive(Debug, Clone, Default)]
pub struct Leadership(Arc<AtomicBool>);

impl Leadership {
    /// True while this process holds the leader lease.
    #[must_use]
    pub fn is_leader(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    fn set(&self, leads: bool) {
        self.0.store(leads, Ordering::Relaxed);
    }
}

/// Starts the leader loop. `lead` is called with a token each time this process becomes
/// leader and starts the leader's work on it; the token is cancelled when leadership is
/// lost or `shutdown` is cancelled.
pub fn spawn(
    store: Store,
    leadership: Leadership,
    shutdown: CancellationToken,
    tasks: &TaskTracker,
    lead: impl Fn(CancellationToken) + Send + 'static,
) {
    tasks.spawn(async move {
        let every = store.lease() / 3;
        let mut led: Option<CancellationToken> = None;
        // Until when the lease we last took holds, by this process's clock.
        let mut holds_until = Instant::now();
        loop {
            let tried = Instant::now();
            match store.acquire_lease(LEADER).await {
                Ok(state) if state.held => {
                    holds_until = tried + store.lease();
                    if led.is_none() {
                        tracing::info!("this replica leads: it runs the scheduler and the System Log pollers");
                        let token = shutdown.child_token();
                        lead(token.clone());
                        led = Some(token);
                    }
                    leadership.set(true);
                    sweep(&store).await;
                }
                Ok(state) => {
                    if let Some(token) = led.take() {
                        token.cancel();
                        tracing::warn!(leader = %state.holder, "another replica leads now; this one stopped its scheduler and pollers");
                    }
                    leadership.set(false);
                }
                Err(e) => {
                    tracing::warn!("could not take or renew the leader lease: {e}");
                    // Step down before the lease we hold can have passed to another.
                    if Instant::now() + every >= holds_until {
                        if let Some(token) = led.take() {
                            token.cancel();
                            tracing::warn!("stepped down as leader: the lease could not be renewed in time");
                        }
                        leadership.set(false);
                    }
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(every) => {}
            }
        }
        if let Some(token) = led.take() {
            token.cancel();
        }
        leadership.set(false);
        match store.release_lease(LEADER).await {
            Ok(true) => tracing::info!("released the leader lease"),
            Ok(false) => {}
            Err(e) => tracing::warn!("could not release the leader lease (it expires on its own): {e}"),
        }
    });
}

/// Marks the runs of replicas that are gone `interrupted` (the leader's duty).
async fn sweep(store: &Store) {
    match store.interrupt_abandoned_runs().await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(
            runs = n,
            "marked runs of a replica that stopped as interrupted"
        ),
        Err(e) => tracing::warn!("could not look for runs of replicas that stopped: {e}"),
    }
}
