//! Event-hook deduplication and scheduler state.
//!
//! Okta may deliver an event more than once (hook retries, hook plus System Log polling);
//! remembering event ids per app lets each be handled once. Old ids are pruned. The
//! scheduler's next run time per app is persisted so a restart neither skips nor repeats.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::Store;
use crate::app::AppId;
use crate::error::{DbContext as _, StoreError};
use crate::runs::RunId;
use crate::stamp::Ts;

/// What the scheduler remembers about one app.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct SchedulerState {
    /// When the next scheduled run is due; `None` when not scheduled.
    pub next_run_at: Option<DateTime<Utc>>,
    /// The last run the scheduler started, and when.
    pub last_run_id: Option<RunId>,
    pub last_run_at: Option<DateTime<Utc>>,
}

type StateRow = (i64, Option<Ts>, Option<i64>, Option<Ts>);

fn state_of(row: StateRow) -> (AppId, SchedulerState) {
    let (app, next_run_at, last_run_id, last_run_at) = row;
    let state = SchedulerState {
        next_run_at: next_run_at.map(|t| t.0),
        last_run_id: last_run_id.map(RunId),
        last_run_at: last_run_at.map(|t| t.0),
    };
    (AppId(app), state)
}

fn app_missing(app: AppId) -> impl Fn(sqlx::Error) -> StoreError {
    move |e| match e {
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
            StoreError::not_found(format!("app {app}"))
        }
        other => StoreError::Database {
            context: "writing event or scheduler state".into(),
            message: other.to_string(),
        },
    }
}

impl Store {
    /// Remembers an Okta event id; returns `true` the first time, `false` for a duplicate.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the app does not exist.
    pub async fn remember_event(
        &self,
        app: AppId,
        event_id: &str,
        seen_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO seen_events (app_id, event_id, seen_at) VALUES ($1, $2, $3) \
             ON CONFLICT (app_id, event_id) DO NOTHING",
        )
        .bind(app.0)
        .bind(event_id)
        .bind(Ts(seen_at))
        .execute(&self.db)
        .await
        .map_err(app_missing(app))?;
        Ok(done.rows_affected() == 1)
    }

    /// Forgets event ids seen before `before`; returns how many.
    ///
    /// # Errors
    /// Database failures.
    pub async fn prune_seen_events(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM seen_events WHERE seen_at < $1")
            .bind(Ts(before))
            .execute(&self.db)
            .await
            .ctx("pruning seen events")?;
        Ok(done.rows_affected())
    }

    /// The scheduler state of one app (default when never scheduled).
    ///
    /// # Errors
    /// Database failures.
    pub async fn scheduler_state(&self, app: AppId) -> Result<SchedulerState, StoreError> {
        let row: Option<StateRow> = sqlx::query_as(
            "SELECT app_id, next_run_at, last_run_id, last_run_at FROM scheduler_state WHERE app_id = $1",
        )
        .bind(app.0)
        .fetch_optional(&self.db)
        .await
        .ctx("reading scheduler state")?;
        Ok(row.map(|r| state_of(r).1).unwrap_or_default())
    }

    /// The scheduler state of every app that has one.
    ///
    /// # Errors
    /// Database failures.
    pub async fn scheduler_states(&self) -> Result<Vec<(AppId, SchedulerState)>, StoreError> {
        let rows: Vec<StateRow> =
            sqlx::query_as("SELECT app_id, next_run_at, last_run_id, last_run_at FROM scheduler_state ORDER BY app_id")
                .fetch_all(&self.db)
                .await
                .ctx("reading scheduler state")?;
        Ok(rows.into_iter().map(state_of).collect())
    }

    /// Sets (or clears) when the next scheduled run of `app` is due.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the app does not exist.
    pub async fn set_next_run(
        &self,
        app: AppId,
        at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO scheduler_state (app_id, next_run_at) VALUES ($1, $2) \
             ON CONFLICT (app_id) DO UPDATE SET next_run_at = excluded.next_run_at",
        )
        .bind(app.0)
        .bind(at.map(Ts))
        .execute(&self.db)
        .await
        .map_err(app_missing(app))?;
        Ok(())
    }

    /// Records that the scheduler started `run` at `at`, and when the next one is due.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the app does not exist.
    pub async fn record_scheduled_run(
        &self,
        app: AppId,
        run: RunId,
        at: DateTime<Utc>,
        next_run_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO scheduler_state (app_id, next_run_at, last_run_id, last_run_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (app_id) DO UPDATE SET next_run_at = excluded.next_run_at, \
             last_run_id = excluded.last_run_id, last_run_at = excluded.last_run_at",
        )
        .bind(app.0)
        .bind(next_run_at.map(Ts))
        .bind(run.0)
        .bind(Ts(at))
        .execute(&self.db)
        .await
        .map_err(app_missing(app))?;
        Ok(())
    }
}
