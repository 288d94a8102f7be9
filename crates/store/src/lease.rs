//! Leases between processes that share one database: the leader of several
//! `usersync serve` replicas, and the claim each running run holds on its app.
//!
//! A lease row names its holder (this process's identifier, see `process`) and when it
//! expires; the holder renews it well before then ([`Store::acquire_lease`] both takes
//! and renews). Another process may take it only once it has expired, or at once when
//! the holder is known dead (same machine, see `process::liveness`). Taking is a
//! compare-and-swap on the row it read, so two processes that both see an expired lease
//! cannot both win, whatever the database's isolation level.
//!
//! A run's claim is the run row itself while `running`: its owner and
//! `claim_expires_at`, renewed by the engine while the run works
//! ([`Store::renew_run_claim`]). A claim is live while its holder is known alive or,
//! when liveness is unknown (another machine), until it expires; a run whose claim is
//! not live is marked `interrupted` by [`Store::interrupt_abandoned_runs`] (the leader
//! calls it as it renews; every open does too). Times are the writer's clock: replicas
//! on several machines need their clocks in step to well within the lease (NTP).

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::Store;
use crate::error::{DbContext as _, StoreError};
use crate::process::{Liveness, current_owner, liveness};
use crate::runs::RunId;

/// How long a lease or a run's claim lasts unless renewed, by default.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(15);
/// The lease of the replica that runs the scheduler and the System Log pollers.
pub const LEADER: &str = "leader";

/// Who holds a lease after [`Store::acquire_lease`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseState {
    /// This process holds it (until `expires_at`, unless renewed).
    pub held: bool,
    /// The holder's identifier (host, pid, a random part).
    pub holder: String,
    pub expires_at: DateTime<Utc>,
}

pub(crate) fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2)
}

fn time_of(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// Whether a running run's claim still holds (see the module docs).
pub(crate) fn claim_is_live(owner: Option<&str>, expires_at: Option<i64>, now: i64) -> bool {
    match owner.map(liveness) {
        None | Some(Liveness::Dead) => false,
        Some(Liveness::Alive) => true,
        Some(Liveness::Unknown) => expires_at.is_some_and(|at| at >= now),
    }
}

impl Store {
    /// This store with leases and run claims lasting `lease` unless renewed
    /// (default [`DEFAULT_LEASE`]); holders renew at a third of it.
    #[must_use]
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease.max(Duration::from_millis(100));
        self
    }

    /// How long leases and run claims taken through this store last unless renewed.
    #[must_use]
    pub fn lease(&self) -> Duration {
        self.lease
    }

    /// This process's identifier, as leases and runs record it.
    #[must_use]
    pub fn holder_id() -> String {
        current_owner()
    }

    pub(crate) fn claim_until(&self) -> i64 {
        now_ms().saturating_add(millis(self.lease))
    }

    /// Takes or renews the lease `name` for [`Store::lease`]: held when free, expired,
    /// ours already, or its holder is known dead; otherwise says who holds it.
    ///
    /// # Errors
    /// Database failures.
    pub async fn acquire_lease(&self, name: &str) -> Result<LeaseState, StoreError> {
        let me = current_owner();
        let mut tx = self.gate.begin(&self.db).await?;
        let current: Option<(String, i64)> =
            sqlx::query_as("SELECT holder, expires_at FROM leases WHERE name = $1")
                .bind(name)
                .fetch_optional(&mut *tx)
                .await
                .ctx("reading a lease")?;
        let now = now_ms();
        if let Some((holder, expires_at)) = &current {
            let free = *holder == me || *expires_at < now || liveness(holder) == Liveness::Dead;
            if !free {
                tx.commit().await.ctx("reading a lease")?;
                return Ok(LeaseState {
                    held: false,
                    holder: holder.clone(),
                    expires_at: time_of(*expires_at),
                });
            }
        }
        // Compare-and-swap on what was read: a row someone else wrote since is kept.
        let (seen_holder, seen_expiry) = current.unwrap_or_default();
        let until = self.claim_until();
        let done = sqlx::query(
            "INSERT INTO leases (name, holder, expires_at, acquired_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
             expires_at = excluded.expires_at, acquired_at = CASE WHEN leases.holder = \
             excluded.holder THEN leases.acquired_at ELSE excluded.acquired_at END \
             WHERE leases.holder = $5 AND leases.expires_at = $6",
        )
        .bind(name)
        .bind(&me)
        .bind(until)
        .bind(now)
        .bind(&seen_holder)
        .bind(seen_expiry)
        .execute(&mut *tx)
        .await
        .ctx("taking a lease")?;
        let (holder, expires_at): (String, i64) =
            sqlx::query_as("SELECT holder, expires_at FROM leases WHERE name = $1")
                .bind(name)
                .fetch_one(&mut *tx)
                .await
                .ctx("reading a lease")?;
        tx.commit().await.ctx("taking a lease")?;
        Ok(LeaseState {
            held: done.rows_affected() == 1 && holder == me,
            holder,
            expires_at: time_of(expires_at),
        })
    }

    /// Gives up the lease `name` if this process holds it (a clean shutdown), so another
    /// process need not wait for it to expire. Returns whether it was held.
    ///
    /// # Errors
    /// Database failures.
    pub async fn release_lease(&self, name: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(current_owner())
            .execute(&self.db)
            .await
            .ctx("releasing a lease")?;
        Ok(done.rows_affected() == 1)
    }

    /// Extends this process's claim on a running run by [`Store::lease`]; false when the
    /// run is no longer running or no longer this process's.
    ///
    /// # Errors
    /// Database failures.
    pub async fn renew_run_claim(&self, run: RunId) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE runs SET claim_expires_at = $1 WHERE id = $2 AND owner = $3 AND status = 'running'",
        )
        .bind(self.claim_until())
        .bind(run.0)
        .bind(current_owner())
        .execute(&self.db)
        .await
        .ctx("renewing a run's claim")?;
        Ok(done.rows_affected() == 1)
    }

    /// Marks `interrupted` every running run whose claim is not live (its process died,
    /// or, on another machine, stopped renewing it); returns how many.
    ///
    /// # Errors
    /// Database failures.
    pub async fn interrupt_abandoned_runs(&self) -> Result<u64, StoreError> {
        crate::db::interrupt_orphaned_runs(&self.db).await
    }
}

#[cfg(test)]
#[path = "lease_tests.rs"]
mod tests;
