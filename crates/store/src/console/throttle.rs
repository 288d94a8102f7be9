//! Sign-in throttling counters, shared by every replica on the database.
//!
//! The policy (how many failures, how long a delay or a lock-out) is the server's; the
//! store only counts failures per key (a username, a client address, or the pair),
//! remembers when a key was last failed and until when it is locked, and forgets keys
//! untouched for longer than the caller's horizon. Counting is one upsert per key, so two
//! replicas counting the same key at once both count. Times are Unix milliseconds.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::Store;
use crate::error::{DbContext as _, StoreError};

/// One key's failed sign-ins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignInFailures {
    pub failures: u32,
    pub last_failed_at: DateTime<Utc>,
    /// Attempts under this key are refused until then.
    pub locked_until: Option<DateTime<Utc>>,
}

type FailureRow = (String, i64, i64, Option<i64>);

fn time_of(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

fn count(failures: i64) -> u32 {
    u32::try_from(failures.max(0)).unwrap_or(u32::MAX)
}

impl Store {
    /// The failures of each of `keys` whose last failure was at `since` or later (keys
    /// with none are absent).
    ///
    /// # Errors
    /// Database failures.
    pub async fn sign_in_failures(
        &self,
        keys: &[&str],
        since: DateTime<Utc>,
    ) -> Result<HashMap<String, SignInFailures>, StoreError> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        let places: Vec<String> = (2..keys.len() + 2).map(|n| format!("${n}")).collect();
        let sql = format!(
            "SELECT key, failures, last_failed_at, locked_until FROM sign_in_failures \
             WHERE last_failed_at >= $1 AND key IN ({})",
            places.join(", ")
        );
        let mut query = sqlx::query_as::<_, FailureRow>(&sql).bind(since.timestamp_millis());
        for key in keys {
            query = query.bind(*key);
        }
        let rows = query
            .fetch_all(&self.db)
            .await
            .ctx("reading failed sign-ins")?;
        Ok(rows
            .into_iter()
            .map(|(key, failures, last, locked)| {
                let entry = SignInFailures {
                    failures: count(failures),
                    last_failed_at: time_of(last),
                    locked_until: locked.map(time_of),
                };
                (key, entry)
            })
            .collect())
    }

    /// Counts one failed sign-in at `now` under each of `keys` and returns their counts,
    /// in the order of `keys`. A key last failed before `forget_before` starts over from
    /// one; such keys that are not locked at `now` are deleted, so the table stays as
    /// small as the failures of the last `now - forget_before`.
    ///
    /// # Errors
    /// Database failures; then nothing was counted.
    pub async fn record_sign_in_failure(
        &self,
        keys: &[&str],
        now: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<Vec<u32>, StoreError> {
        let (now, forget) = (now.timestamp_millis(), forget_before.timestamp_millis());
        let mut tx = self.gate.begin(&self.db).await?;
        sqlx::query(
            "DELETE FROM sign_in_failures WHERE last_failed_at < $1 \
             AND (locked_until IS NULL OR locked_until <= $2)",
        )
        .bind(forget)
        .bind(now)
        .execute(&mut *tx)
        .await
        .ctx("forgetting old failed sign-ins")?;
        let mut counts = Vec::with_capacity(keys.len());
        for key in keys {
            let failures: i64 = sqlx::query_scalar(
                "INSERT INTO sign_in_failures (key, failures, last_failed_at) VALUES ($1, 1, $2) \
                 ON CONFLICT (key) DO UPDATE SET \
                 failures = CASE WHEN sign_in_failures.last_failed_at < $3 THEN 1 \
                 ELSE sign_in_failures.failures + 1 END, \
                 last_failed_at = $2 \
                 RETURNING failures",
            )
            .bind(*key)
            .bind(now)
            .bind(forget)
            .fetch_one(&mut *tx)
            .await
            .ctx("counting a failed sign-in")?;
            counts.push(count(failures));
        }
        tx.commit().await.ctx("counting a failed sign-in")?;
        Ok(counts)
    }

    /// Refuses sign-ins under `key` until `until` (the key must have failures).
    ///
    /// # Errors
    /// Database failures.
    pub async fn lock_sign_ins(&self, key: &str, until: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query("UPDATE sign_in_failures SET locked_until = $1 WHERE key = $2")
            .bind(until.timestamp_millis())
            .bind(key)
            .execute(&self.db)
            .await
            .ctx("locking sign-ins")?;
        Ok(())
    }

    /// Forgets the failures (and any lock) of each of `keys`, after a successful sign-in.
    ///
    /// # Errors
    /// Database failures.
    pub async fn clear_sign_in_failures(&self, keys: &[&str]) -> Result<(), StoreError> {
        for key in keys {
            sqlx::query("DELETE FROM sign_in_failures WHERE key = $1")
                .bind(*key)
                .execute(&self.db)
                .await
                .ctx("clearing failed sign-ins")?;
        }
        Ok(())
    }
}
