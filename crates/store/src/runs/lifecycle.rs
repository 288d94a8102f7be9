//! The run methods of [`Store`]: starting, finishing, deciding on held plans, and
//! reading runs back (a run's operations and outcomes are in `operations`).

use chrono::{DateTime, Utc};
use sqlx::AnyConnection;

use super::types::{Run, RunFilter, RunId, RunStatus, RunTrigger, SyncKind};
use crate::Store;
use crate::app::AppId;
use crate::audit::{self, Subject};
use crate::error::{DbContext as _, StoreError};
use crate::stamp::Ts;

type RunRow = (
    i64,
    i64,
    String,
    String,
    Ts,
    Option<Ts>,
    String,
    Option<String>,
    Option<String>,
    Option<Ts>,
    Option<f64>,
    Option<String>,
    Option<String>,
);

const SELECT_RUN: &str = "SELECT id, app_id, trigger_kind, status, started_at, finished_at, \
     counts_json, reason, decided_by, decided_at, work_seconds, sync_kind, sync_kind_reason FROM runs";

fn build(row: RunRow) -> Result<Run, StoreError> {
    let (
        id,
        app_id,
        trigger,
        status,
        started_at,
        finished_at,
        counts,
        reason,
        decided_by,
        decided_at,
        work_seconds,
        sync_kind,
        sync_kind_reason,
    ) = row;
    let bad = |what: &str| StoreError::Database {
        context: format!("reading run {id}"),
        message: format!("unknown {what}"),
    };
    Ok(Run {
        id: RunId(id),
        app_id: AppId(app_id),
        trigger: RunTrigger::parse(&trigger).ok_or_else(|| bad("trigger"))?,
        status: RunStatus::parse(&status).ok_or_else(|| bad("status"))?,
        started_at: started_at.0,
        finished_at: finished_at.map(|t| t.0),
        counts: serde_json::from_str(&counts).ctx("reading run counts")?,
        reason,
        decided_by,
        decided_at: decided_at.map(|t| t.0),
        work_seconds,
        sync_kind: sync_kind
            .map(|k| SyncKind::parse(&k).ok_or_else(|| bad("sync kind")))
            .transpose()?,
        sync_kind_reason,
    })
}

pub(super) async fn load(conn: &mut AnyConnection, id: RunId) -> Result<Run, StoreError> {
    let row: Option<RunRow> = sqlx::query_as(&format!("{SELECT_RUN} WHERE id = $1"))
        .bind(id.0)
        .fetch_optional(conn)
        .await
        .ctx("reading a run")?;
    build(row.ok_or_else(|| StoreError::not_found(format!("run {id}")))?)
}

/// Loads a run and refuses unless it is in `expected` state.
pub(super) async fn load_in(
    conn: &mut AnyConnection,
    id: RunId,
    expected: RunStatus,
    doing: &str,
) -> Result<Run, StoreError> {
    let run = load(conn, id).await?;
    if run.status != expected {
        return Err(StoreError::Conflict(format!(
            "cannot {doing} run {id}: it is {}, not {expected}",
            run.status
        )));
    }
    Ok(run)
}

/// A run of `app` still `running` under another process's live claim (see `lease`). The
/// engine's in-process lock covers this process; this covers the service, a command-line
/// sync and other replicas sharing one database.
async fn running_elsewhere(
    conn: &mut AnyConnection,
    app: AppId,
) -> Result<Option<i64>, StoreError> {
    let rows: Vec<(i64, Option<String>, Option<i64>)> = sqlx::query_as(
        "SELECT id, owner, claim_expires_at FROM runs WHERE app_id = $1 AND status = 'running'",
    )
    .bind(app.0)
    .fetch_all(&mut *conn)
    .await
    .ctx("looking for running runs")?;
    let me = crate::process::current_owner();
    let now = crate::lease::now_ms();
    Ok(rows.into_iter().find_map(|(id, owner, claim)| {
        let theirs = owner.as_deref().is_some_and(|o| o != me);
        (theirs && crate::lease::claim_is_live(owner.as_deref(), claim, now)).then_some(id)
    }))
}

pub(super) async fn app_name(
    conn: &mut AnyConnection,
    app: AppId,
) -> Result<Option<String>, StoreError> {
    sqlx::query_scalar("SELECT name FROM apps WHERE id = $1")
        .bind(app.0)
        .fetch_optional(conn)
        .await
        .ctx("reading an app name")
}

impl Store {
    /// Starts a run of `app`, owned by this process, which claims the app for
    /// [`Store::lease`] (renew with [`Store::renew_run_claim`]).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the app does not exist; [`StoreError::Claimed`]
    /// while another process's run of the app holds a live claim.
    pub async fn start_run(&self, app: AppId, trigger: RunTrigger) -> Result<Run, StoreError> {
        let mut tx = self.gate.begin(&self.db).await?;
        let Some(name) = app_name(&mut tx, app).await? else {
            return Err(StoreError::not_found(format!("app {app}")));
        };
        if let Some(run) = running_elsewhere(&mut tx, app).await? {
            return Err(StoreError::Claimed { app: name, run });
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO runs (app_id, trigger_kind, status, owner, started_at, counts_json, \
             claim_expires_at) VALUES ($1, $2, 'running', $3, $4, '{}', $5) RETURNING id",
        )
        .bind(app.0)
        .bind(trigger.as_str())
        .bind(crate::process::current_owner())
        .bind(Ts::now())
        .bind(self.claim_until())
        .fetch_one(&mut *tx)
        .await
        .ctx("starting a run")?;
        let run = load(&mut tx, RunId(id)).await?;
        tx.commit().await.ctx("starting a run")?;
        Ok(run)
    }

    /// Records whether a run of the whole app is full or incremental, and why.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when there is no such run.
    pub async fn set_sync_kind(
        &self,
        run: RunId,
        kind: SyncKind,
        reason: &str,
    ) -> Result<(), StoreError> {
        let done =
            sqlx::query("UPDATE runs SET sync_kind = $1, sync_kind_reason = $2 WHERE id = $3")
                .bind(kind.as_str())
                .bind(reason)
                .bind(run.0)
                .execute(&self.db)
                .await
                .ctx("recording a run's sync kind")?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(format!("run {run}")));
        }
        Ok(())
    }

    /// Ends a running run with `status` (anything but `running`), storing the counts of
    /// its recorded operations per kind and outcome.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when the run is not running or `status` is `running`.
    pub async fn finish_run(
        &self,
        run: RunId,
        status: RunStatus,
        reason: Option<&str>,
    ) -> Result<Run, StoreError> {
        if status == RunStatus::Running {
            return Err(StoreError::Conflict(
                "a run cannot finish as running".into(),
            ));
        }
        let mut tx = self.gate.begin(&self.db).await?;
        let running = load_in(&mut tx, run, RunStatus::Running, "finish").await?;
        let now = Utc::now();
        let (resumed_at,): (Option<Ts>,) =
            sqlx::query_as("SELECT resumed_at FROM runs WHERE id = $1")
                .bind(run.0)
                .fetch_one(&mut *tx)
                .await
                .ctx("finishing a run")?;
        let since = resumed_at.map_or(running.started_at, |t| t.0);
        #[allow(clippy::cast_precision_loss)] // milliseconds of one run
        let worked = (now - since).num_milliseconds().max(0) as f64 / 1000.0;
        let work = running.work_seconds.unwrap_or(0.0) + worked;
        // Counted here, in the same transaction, so a run that has ended always stores
        // what its operations say (`settled_counts` relies on it).
        let counts = super::tally(&mut tx, run).await?;
        sqlx::query("UPDATE runs SET status = $1, finished_at = $2, counts_json = $3, reason = $4, work_seconds = $6 WHERE id = $5")
            .bind(status.as_str())
            .bind(Ts(now))
            .bind(serde_json::to_string(&counts).ctx("encoding run counts")?)
            .bind(reason)
            .bind(run.0)
            .bind(work)
            .execute(&mut *tx)
            .await
            .ctx("finishing a run")?;
        let finished = load(&mut tx, run).await?;
        tx.commit().await.ctx("finishing a run")?;
        Ok(finished)
    }

    /// Approves a held run: it becomes `running` again, owned by this process, and the
    /// caller applies its recorded operations and then calls [`Store::finish_run`].
    /// `working_since` is when the approval's work began (its fresh read): the run's
    /// work time adds the time from then to its finish, not the wait before.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] unless the run is held.
    pub async fn approve_run(
        &self,
        run: RunId,
        by: &str,
        working_since: DateTime<Utc>,
    ) -> Result<Run, StoreError> {
        self.decide(run, by, Some(working_since)).await
    }

    /// Rejects a held run: it ends as `rejected` and its pending operations become `skipped`.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] unless the run is held.
    pub async fn reject_run(&self, run: RunId, by: &str) -> Result<Run, StoreError> {
        self.decide(run, by, None).await
    }

    /// Approves (resuming work at `resumed`) or, without `resumed`, rejects.
    async fn decide(
        &self,
        run: RunId,
        by: &str,
        resumed: Option<DateTime<Utc>>,
    ) -> Result<Run, StoreError> {
        let approve = resumed.is_some();
        let doing = if approve { "approve" } else { "reject" };
        let mut tx = self.gate.begin(&self.db).await?;
        let held = load_in(&mut tx, run, RunStatus::Held, doing).await?;
        if approve && let Some(other) = running_elsewhere(&mut tx, held.app_id).await? {
            let app = app_name(&mut tx, held.app_id).await?.unwrap_or_default();
            return Err(StoreError::Claimed { app, run: other });
        }
        let now = Utc::now();
        let sql = if approve {
            "UPDATE runs SET status = 'running', owner = $1, finished_at = NULL, decided_by = $2, decided_at = $3, resumed_at = $5, claim_expires_at = $6 WHERE id = $4"
        } else {
            "UPDATE runs SET status = 'rejected', owner = $1, finished_at = $3, decided_by = $2, decided_at = $3, resumed_at = $5, claim_expires_at = $6 WHERE id = $4"
        };
        sqlx::query(sql)
            .bind(crate::process::current_owner())
            .bind(by)
            .bind(Ts(now))
            .bind(run.0)
            .bind(resumed.map(Ts))
            .bind(self.claim_until())
            .execute(&mut *tx)
            .await
            .ctx("deciding on a held run")?;
        if !approve {
            sqlx::query("UPDATE run_operations SET outcome = 'skipped' WHERE run_id = $1 AND outcome = 'pending'")
                .bind(run.0)
                .execute(&mut *tx)
                .await
                .ctx("rejecting a held run")?;
            // The stored counts follow the outcomes, as for every run that ends.
            let counts = super::tally(&mut tx, run).await?;
            sqlx::query("UPDATE runs SET counts_json = $1 WHERE id = $2")
                .bind(serde_json::to_string(&counts).ctx("encoding run counts")?)
                .bind(run.0)
                .execute(&mut *tx)
                .await
                .ctx("rejecting a held run")?;
        }
        let name = app_name(&mut tx, held.app_id).await?;
        let subject = Subject {
            app_id: Some(held.app_id),
            app_name: name.as_deref(),
        };
        audit::write(
            &mut tx,
            by,
            subject,
            &format!("run.{doing}"),
            &[format!("run {run}")],
        )
        .await?;
        let decided = load(&mut tx, run).await?;
        tx.commit().await.ctx("deciding on a held run")?;
        Ok(decided)
    }

    /// One run.
    ///
    /// # Errors
    /// [`StoreError::NotFound`].
    pub async fn get_run(&self, run: RunId) -> Result<Run, StoreError> {
        let mut conn = self.db.acquire().await.ctx("reading a run")?;
        load(&mut conn, run).await
    }

    /// The newest runs first, at most `limit`.
    ///
    /// # Errors
    /// Database failures.
    pub async fn list_runs(&self, filter: &RunFilter, limit: u32) -> Result<Vec<Run>, StoreError> {
        let rows: Vec<RunRow> = sqlx::query_as(&format!(
            "{SELECT_RUN} WHERE ($1 IS NULL OR app_id = $1) AND ($2 IS NULL OR status = $2) \
             AND ($3 IS NULL OR trigger_kind = $3) ORDER BY id DESC LIMIT $4"
        ))
        .bind(filter.app.map(|a| a.0))
        .bind(filter.status.map(RunStatus::as_str))
        .bind(filter.trigger.map(RunTrigger::as_str))
        .bind(i64::from(limit))
        .fetch_all(&self.db)
        .await
        .ctx("listing runs")?;
        rows.into_iter().map(build).collect()
    }
}
