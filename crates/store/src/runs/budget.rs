//! An app's hold budget and its one held run.
//!
//! The hold limits are one budget per app over a rolling window: [`Store::applied_since`]
//! answers "which operations of these kinds did the app's runs apply since T" (the
//! engine asks for the destructive kinds), leaving out what approvals applied, since an
//! approval is the administrator's decision rather than a use of the budget.
//!
//! An app has at most one held run. Single-user runs that find the budget spent add
//! their destructive operations to it ([`Store::hold_more`], without duplicates), and
//! a new full plan replaces it ([`Store::supersede_held`]).

use chrono::{DateTime, Utc};

use super::lifecycle::{app_name, load_in};
use super::operations::{OperationRow, insert_operations, operation, tally};
use super::types::{NewOperation, Operation, Run, RunFilter, RunId, RunStatus};
use crate::Store;
use crate::app::AppId;
use crate::audit::{self, Subject};
use crate::error::{DbContext as _, StoreError};
use crate::stamp::Ts;

/// The query of [`Store::applied_since`] for `kinds` kinds (parameters `$3` on).
///
/// The operations are found by run and kind (`run_operations_by_kind`): a run in the
/// window may hold a million operations, nearly all of them additions. Ordered by
/// `seq` the planner would rather walk the run's primary key to skip a sort, so the
/// `+` leaves the order to a sort of the few rows found.
fn applied_since_sql(kinds: usize) -> String {
    let list: Vec<String> = (0..kinds).map(|i| format!("${}", i + 3)).collect();
    format!(
        "SELECT o.seq, o.kind, o.subject, o.rule, o.payload_json, o.outcome, o.error \
         FROM runs r JOIN run_operations o ON o.run_id = r.id \
         WHERE r.app_id = $1 AND r.decided_at IS NULL \
         AND (r.finished_at IS NULL OR r.finished_at >= $2) \
         AND o.outcome = 'applied' AND o.kind IN ({}) ORDER BY r.id, +o.seq",
        list.join(", ")
    )
}

impl Store {
    /// The operations of `kinds` that runs of `app` applied and that finished at or
    /// after `since` (or are still running), except those of approved runs.
    ///
    /// # Errors
    /// Database failures.
    pub async fn applied_since(
        &self,
        app: AppId,
        since: DateTime<Utc>,
        kinds: &[&str],
    ) -> Result<Vec<Operation>, StoreError> {
        if kinds.is_empty() {
            return Ok(Vec::new());
        }
        let sql = applied_since_sql(kinds.len());
        let mut query = sqlx::query_as::<_, OperationRow>(&sql)
            .bind(app.0)
            .bind(Ts(since));
        for kind in kinds {
            query = query.bind(*kind);
        }
        let rows = query
            .fetch_all(&self.db)
            .await
            .ctx("reading the operations applied in the window")?;
        rows.into_iter().map(operation).collect()
    }

    /// The app's held run, if it has one (the newest, should there be several from
    /// before runs superseded each other).
    ///
    /// # Errors
    /// Database failures.
    pub async fn held_run(&self, app: AppId) -> Result<Option<Run>, StoreError> {
        let filter = RunFilter {
            app: Some(app),
            status: Some(RunStatus::Held),
            trigger: None,
        };
        Ok(self.list_runs(&filter, 1).await?.into_iter().next())
    }

    /// Adds `ops` to held run `run` as `pending` operations, numbered after its last
    /// one (their own `seq` is ignored), leaving out any whose payload the run already
    /// has pending; sets the run's reason to `reason` and its counts to what it now
    /// holds. Returns how many were added.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] unless the run is held.
    pub async fn hold_more(
        &self,
        run: RunId,
        ops: &[NewOperation],
        reason: &str,
    ) -> Result<usize, StoreError> {
        let mut tx = self.gate.begin(&self.db).await?;
        load_in(&mut tx, run, RunStatus::Held, "add operations to").await?;
        let last: Option<i64> =
            sqlx::query_scalar("SELECT MAX(seq) FROM run_operations WHERE run_id = $1")
                .bind(run.0)
                .fetch_one(&mut *tx)
                .await
                .ctx("adding operations to a held run")?;
        let mut next = u32::try_from(last.unwrap_or(0)).unwrap_or(u32::MAX);
        let mut fresh = Vec::new();
        for op in ops {
            let held: Option<i64> = sqlx::query_scalar(
                "SELECT seq FROM run_operations WHERE run_id = $1 AND outcome = 'pending' \
                 AND payload_json = $2 LIMIT 1",
            )
            .bind(run.0)
            .bind(op.payload.as_str())
            .fetch_optional(&mut *tx)
            .await
            .ctx("adding operations to a held run")?;
            let twice = fresh.iter().any(|f: &NewOperation| f.payload == op.payload);
            if held.is_none() && !twice {
                next = next.saturating_add(1);
                fresh.push(NewOperation {
                    seq: next,
                    ..op.clone()
                });
            }
        }
        insert_operations(&mut tx, run, &fresh).await?;
        let counts = tally(&mut tx, run).await?;
        sqlx::query("UPDATE runs SET counts_json = $1, reason = $2 WHERE id = $3")
            .bind(serde_json::to_string(&counts).ctx("encoding run counts")?)
            .bind(reason)
            .bind(run.0)
            .execute(&mut *tx)
            .await
            .ctx("adding operations to a held run")?;
        tx.commit().await.ctx("adding operations to a held run")?;
        Ok(fresh.len())
    }

    /// Ends every held run of `app` but `by` as `superseded` (their pending operations
    /// `skipped`), with a reason naming run `by`, whose fresh plan replaces them.
    /// Returns the runs superseded.
    ///
    /// # Errors
    /// Database failures.
    pub async fn supersede_held(&self, app: AppId, by: RunId) -> Result<Vec<RunId>, StoreError> {
        let mut tx = self.gate.begin(&self.db).await?;
        let held: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM runs WHERE app_id = $1 AND status = 'held' AND id <> $2 ORDER BY id",
        )
        .bind(app.0)
        .bind(by.0)
        .fetch_all(&mut *tx)
        .await
        .ctx("superseding held runs")?;
        let reason = format!(
            "superseded by run {by}, whose fresh plan replaces this one; nothing more of this run is applied"
        );
        for id in &held {
            sqlx::query(
                "UPDATE runs SET status = 'superseded', reason = $1, finished_at = $2 WHERE id = $3",
            )
            .bind(&reason)
            .bind(Ts::now())
            .bind(id)
            .execute(&mut *tx)
            .await
            .ctx("superseding held runs")?;
            sqlx::query(
                "UPDATE run_operations SET outcome = 'skipped', error = $1 \
                 WHERE run_id = $2 AND outcome = 'pending'",
            )
            .bind(&reason)
            .bind(id)
            .execute(&mut *tx)
            .await
            .ctx("superseding held runs")?;
            let counts = tally(&mut tx, RunId(*id)).await?;
            sqlx::query("UPDATE runs SET counts_json = $1 WHERE id = $2")
                .bind(serde_json::to_string(&counts).ctx("encoding run counts")?)
                .bind(id)
                .execute(&mut *tx)
                .await
                .ctx("superseding held runs")?;
            let name = app_name(&mut tx, app).await?;
            let subject = Subject {
                app_id: Some(app),
                app_name: name.as_deref(),
            };
            audit::write(
                &mut tx,
                "usersync",
                subject,
                "run.supersede",
                &[format!("run {id}"), format!("by run {by}")],
            )
            .await?;
        }
        tx.commit().await.ctx("superseding held runs")?;
        Ok(held.into_iter().map(RunId).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query_plan::query_plan;

    #[tokio::test]
    async fn the_budget_reads_only_the_operations_of_the_asked_kinds_of_each_run() {
        let store = Store::open_in_memory().await.unwrap();
        let kinds = [
            "remove_member",
            "deactivate_user",
            "delete_user",
            "delete_group",
        ];
        let plan = query_plan(&store, &applied_since_sql(4), |query| {
            kinds
                .into_iter()
                .fold(query.bind(1_i64).bind(Ts::now()), |q, kind| q.bind(kind))
        })
        .await;
        let plan = plan.join("\n");
        assert!(
            plan.contains("run_operations_by_kind (run_id=? AND kind=?)"),
            "{plan}"
        );
        assert!(!plan.contains("SCAN"), "{plan}");
    }
}
