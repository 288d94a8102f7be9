//! A run's planned operations and their outcomes: recording the plan in batches,
//! recording outcomes (alone, in batches, or with the identity links they imply),
//! and reading them back.
//!
//! Plans can have a million operations, so nothing here needs the whole plan at
//! once: [`Store::record_plan`] takes the plan blob and a first batch of rows, and
//! [`Store::record_operations`] adds further batches, each in its own short
//! transaction so other writers (the console, the scheduler) never wait long.
//! Rows go in as multi-row `INSERT`s and plain `applied` outcomes as `IN (...)`
//! updates, which cuts the per-row cost of the database driver.

use std::collections::{BTreeMap, HashMap};

use sqlx::AnyConnection;

use super::lifecycle::{load, load_in};
use super::types::{
    NewOperation, OpOutcome, Operation, OutcomeCounts, OutcomeUpdate, Run, RunCounts, RunId,
    RunStatus,
};
use crate::Store;
use crate::app::AppId;
use crate::error::{DbContext as _, StoreError, is_unique_violation};
use crate::links::{LinkChanges, save_links_in};

pub(super) type OperationRow = (i64, String, String, String, String, String, Option<String>);

pub(super) fn operation(row: OperationRow) -> Result<Operation, StoreError> {
    let (seq, kind, subject, rule, payload, outcome, error) = row;
    Ok(Operation {
        seq: u32::try_from(seq).unwrap_or(u32::MAX),
        kind,
        subject,
        rule,
        payload: serde_json::from_str(&payload).ctx("reading an operation")?,
        outcome: OpOutcome::parse(&outcome).unwrap_or(OpOutcome::Pending),
        error,
    })
}

/// Rows per `INSERT` statement (6 parameters each). Binding looks parameters up by
/// name, which costs more per parameter the more a statement has: a few dozen rows
/// per statement save most of the per-statement cost without paying that.
const INSERT_ROWS: usize = 16;
/// Sequence numbers per `UPDATE ... IN (...)` statement (kept small for the same reason).
const UPDATE_SEQS: usize = 64;

impl Store {
    /// Records the plan of a running run: the engine's plan blob (kept for people
    /// looking at a held plan later; opaque to the store) and a first batch of its
    /// operations, all `pending`, in one transaction. Further batches go through
    /// [`Store::record_operations`].
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when the run is not running or already has an
    /// operation with one of these sequence numbers.
    pub async fn record_plan(
        &self,
        run: RunId,
        ops: &[NewOperation],
        plan_json: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.gate.begin(&self.db).await?;
        load_in(&mut tx, run, RunStatus::Running, "record a plan for").await?;
        insert_operations(&mut tx, run, ops).await?;
        sqlx::query("UPDATE runs SET plan_json = $1 WHERE id = $2")
            .bind(plan_json)
            .bind(run.0)
            .execute(&mut *tx)
            .await
            .ctx("recording a plan")?;
        tx.commit().await.ctx("recording a plan")
    }

    /// Adds a batch of operations (all `pending`) to a running run's plan, in one
    /// transaction.
    ///
    /// # Errors
    /// As [`Store::record_plan`].
    pub async fn record_operations(
        &self,
        run: RunId,
        ops: &[NewOperation],
    ) -> Result<(), StoreError> {
        let mut tx = self.gate.begin(&self.db).await?;
        load_in(&mut tx, run, RunStatus::Running, "record a plan for").await?;
        insert_operations(&mut tx, run, ops).await?;
        tx.commit().await.ctx("recording a plan")
    }

    /// Records the outcome of one operation.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the run has no such operation.
    pub async fn record_outcome(
        &self,
        run: RunId,
        seq: u32,
        outcome: OpOutcome,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        let update = OutcomeUpdate {
            seq,
            outcome,
            error: error.map(str::to_owned),
        };
        self.record_outcomes(run, std::slice::from_ref(&update))
            .await
    }

    /// Records many outcomes in one transaction.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] naming the first unknown operation; nothing is recorded then.
    pub async fn record_outcomes(
        &self,
        run: RunId,
        updates: &[OutcomeUpdate],
    ) -> Result<(), StoreError> {
        let mut tx = self.gate.begin(&self.db).await?;
        update_outcomes(&mut tx, run, updates).await?;
        tx.commit().await.ctx("recording outcomes")
    }

    /// Saves identity link changes of `app`, batch after batch as given (several
    /// operations' changes, each as if saved alone), and records outcomes of `run`,
    /// all in one transaction: either all are durable or none is.
    ///
    /// # Errors
    /// As [`Store::save_links`] and [`Store::record_outcomes`]; nothing is saved then.
    pub async fn record_outcomes_with_links(
        &self,
        app: AppId,
        links: &[LinkChanges],
        run: RunId,
        updates: &[OutcomeUpdate],
    ) -> Result<(), StoreError> {
        let mut tx = self.gate.begin(&self.db).await?;
        save_links_in(&mut tx, app, links).await?;
        update_outcomes(&mut tx, run, updates).await?;
        tx.commit().await.ctx("recording outcomes and links")
    }

    /// The operations of a run, in plan order.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the run does not exist.
    pub async fn run_operations(&self, run: RunId) -> Result<Vec<Operation>, StoreError> {
        let mut conn = self.db.acquire().await.ctx("reading operations")?;
        load(&mut conn, run).await?;
        let rows: Vec<OperationRow> = sqlx::query_as(
            "SELECT seq, kind, subject, rule, payload_json, outcome, error FROM run_operations \
             WHERE run_id = $1 ORDER BY seq",
        )
        .bind(run.0)
        .fetch_all(&mut *conn)
        .await
        .ctx("reading operations")?;
        rows.into_iter().map(operation).collect()
    }

    /// The plan blob recorded with the run's plan, if any.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the run does not exist.
    pub async fn run_plan(&self, run: RunId) -> Result<Option<serde_json::Value>, StoreError> {
        let plan: Option<Option<String>> =
            sqlx::query_scalar("SELECT plan_json FROM runs WHERE id = $1")
                .bind(run.0)
                .fetch_optional(&self.db)
                .await
                .ctx("reading a plan")?;
        let plan = plan.ok_or_else(|| StoreError::not_found(format!("run {run}")))?;
        plan.map(|p| serde_json::from_str(&p).ctx("reading a plan"))
            .transpose()
    }

    /// Counts of the run's operations per kind and outcome, as recorded so far
    /// (counted by the database: no operation is loaded).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the run does not exist.
    pub async fn tally_operations(&self, run: RunId) -> Result<RunCounts, StoreError> {
        let mut conn = self.db.acquire().await.ctx("counting operations")?;
        let loaded = load(&mut conn, run).await?;
        match settled_counts(&loaded) {
            Some(counts) => Ok(counts.clone()),
            None => tally(&mut conn, run).await,
        }
    }
}

/// The counts stored with a run whose operations no longer change, so that a page of a
/// million-operation run is not a million-row count. Every status change that ends a
/// run or changes its outcomes writes [`tally`] into `counts_json` in the same
/// transaction (finishing, marking interrupted, holding and adding to a hold,
/// superseding, rejecting). A running run is still changing. A rejected run is
/// counted afresh: rejections recorded before rejecting re-counted left the skipped
/// operations out of the stored counts.
pub(super) fn settled_counts(run: &Run) -> Option<&RunCounts> {
    match run.status {
        RunStatus::Running | RunStatus::Rejected => None,
        RunStatus::Succeeded
        | RunStatus::Partial
        | RunStatus::Failed
        | RunStatus::Held
        | RunStatus::Interrupted
        | RunStatus::Superseded => Some(&run.counts),
    }
}

/// How many operations of `counts` have `kind` (any, when `None`) and `outcome`
/// (any, when `None`).
pub(super) fn counted(counts: &RunCounts, kind: Option<&str>, outcome: Option<OpOutcome>) -> u64 {
    counts
        .iter()
        .filter(|(k, _)| kind.is_none_or(|want| want == k.as_str()))
        .map(|(_, c)| match outcome {
            None => c.planned,
            Some(OpOutcome::Applied) => c.applied,
            Some(OpOutcome::Failed) => c.failed,
            Some(OpOutcome::Skipped) => c.skipped,
            Some(OpOutcome::Pending) => c.planned.saturating_sub(c.applied + c.failed + c.skipped),
        })
        .sum()
}

/// Counts of `run`'s recorded operations per kind and outcome.
pub(crate) async fn tally(conn: &mut AnyConnection, run: RunId) -> Result<RunCounts, StoreError> {
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT kind, outcome, COUNT(*) FROM run_operations WHERE run_id = $1 \
         GROUP BY kind, outcome",
    )
    .bind(run.0)
    .fetch_all(&mut *conn)
    .await
    .ctx("counting operations")?;
    let mut counts: BTreeMap<String, OutcomeCounts> = RunCounts::new();
    for (kind, outcome, n) in rows {
        let n = u64::try_from(n).unwrap_or_default();
        let entry = counts.entry(kind).or_default();
        entry.planned += n;
        match OpOutcome::parse(&outcome).unwrap_or(OpOutcome::Pending) {
            OpOutcome::Applied => entry.applied += n,
            OpOutcome::Failed => entry.failed += n,
            OpOutcome::Skipped => entry.skipped += n,
            OpOutcome::Pending => {}
        }
    }
    Ok(counts)
}

/// Inserts `ops` as `pending` rows, [`INSERT_ROWS`] to a statement.
pub(super) async fn insert_operations(
    conn: &mut AnyConnection,
    run: RunId,
    ops: &[NewOperation],
) -> Result<(), StoreError> {
    for chunk in ops.chunks(INSERT_ROWS) {
        let sql = insert_sql(chunk.len());
        let mut query = sqlx::query(&sql);
        for op in chunk {
            query = query
                .bind(run.0)
                .bind(i64::from(op.seq))
                .bind(op.kind.as_str())
                .bind(op.subject.as_str())
                .bind(op.rule.as_str())
                .bind(op.payload.as_str());
        }
        match query.execute(&mut *conn).await {
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::Conflict(format!(
                    "run {run} already has one of operations {}..={}; a plan is recorded once, with unique seq numbers",
                    chunk[0].seq,
                    chunk[chunk.len() - 1].seq
                )));
            }
            other => other.ctx("recording a plan")?,
        };
    }
    Ok(())
}

fn insert_sql(rows: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO run_operations (run_id, seq, kind, subject, rule, payload_json, outcome) VALUES ",
    );
    for row in 0..rows {
        let p = row * 6;
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!(
            "(${}, ${}, ${}, ${}, ${}, ${}, 'pending')",
            p + 1,
            p + 2,
            p + 3,
            p + 4,
            p + 5,
            p + 6
        ));
    }
    sql
}

/// Records `updates`: plain outcomes (no error) by `IN` lists, the rest one by one.
async fn update_outcomes(
    conn: &mut AnyConnection,
    run: RunId,
    updates: &[OutcomeUpdate],
) -> Result<(), StoreError> {
    let mut plain: HashMap<OpOutcome, Vec<u32>> = HashMap::new();
    for update in updates {
        match &update.error {
            None => plain.entry(update.outcome).or_default().push(update.seq),
            Some(error) => update_one(conn, run, update.seq, update.outcome, Some(error)).await?,
        }
    }
    for (outcome, mut seqs) in plain {
        seqs.sort_unstable();
        seqs.dedup();
        for chunk in seqs.chunks(UPDATE_SEQS) {
            update_many(conn, run, outcome, chunk).await?;
        }
    }
    Ok(())
}

async fn update_one(
    conn: &mut AnyConnection,
    run: RunId,
    seq: u32,
    outcome: OpOutcome,
    error: Option<&str>,
) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE run_operations SET outcome = $1, error = $2 WHERE run_id = $3 AND seq = $4",
    )
    .bind(outcome.as_str())
    .bind(error)
    .bind(run.0)
    .bind(i64::from(seq))
    .execute(&mut *conn)
    .await
    .ctx("recording an outcome")?;
    if done.rows_affected() == 0 {
        return Err(StoreError::not_found(format!(
            "operation {seq} of run {run}"
        )));
    }
    Ok(())
}

/// Sets `outcome` (and no error) on the distinct, sorted `seqs`.
async fn update_many(
    conn: &mut AnyConnection,
    run: RunId,
    outcome: OpOutcome,
    seqs: &[u32],
) -> Result<(), StoreError> {
    let mut sql = String::from(
        "UPDATE run_operations SET outcome = $1, error = NULL WHERE run_id = $2 AND seq IN (",
    );
    for i in 0..seqs.len() {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!("${}", i + 3));
    }
    sql.push(')');
    let mut query = sqlx::query(&sql).bind(outcome.as_str()).bind(run.0);
    for seq in seqs {
        query = query.bind(i64::from(*seq));
    }
    let done = query.execute(&mut *conn).await.ctx("recording outcomes")?;
    if done.rows_affected() == seqs.len() as u64 {
        return Ok(());
    }
    // Name the first operation that is not there (the caller's transaction is dropped).
    for seq in seqs {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT seq FROM run_operations WHERE run_id = $1 AND seq = $2")
                .bind(run.0)
                .bind(i64::from(*seq))
                .fetch_optional(&mut *conn)
                .await
                .ctx("recording outcomes")?;
        if found.is_none() {
            return Err(StoreError::not_found(format!(
                "operation {seq} of run {run}"
            )));
        }
    }
    Err(StoreError::not_found(format!("operations of run {run}")))
}
