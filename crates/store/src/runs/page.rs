//! Reading a run's operations a screen at a time, and its live progress.
//!
//! A run can have a hundred thousand operations; the console shows one page of them,
//! filtered by kind, outcome, rule and free text, and exports them in batches. Both
//! are answered by the database (`WHERE ... ORDER BY seq LIMIT`), so no caller ever
//! holds more than a page. Text matching is `LOWER(column) LIKE` with escaped
//! wildcards: portable SQL that means the same on SQLite and PostgreSQL.
//!
//! Progress is one row per run (`progress_*` columns of `runs`) that the process
//! running it overwrites as it goes, so any process sharing the store (the console
//! of `serve` watching a command-line sync) reads the current phase, not a guess.

use chrono::{DateTime, Utc};

use super::operations::{OperationRow, counted, operation, settled_counts};
use super::types::{OpOutcome, Operation, RunId};
use crate::Store;
use crate::error::{DbContext as _, StoreError};
use crate::stamp::Ts;

/// The most operations one page may ask for.
pub const MAX_PAGE: u32 = 1000;

/// Which operations of a run to read; empty filters match all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OperationQuery {
    /// Exactly this kind, e.g. `create_user`.
    pub kind: Option<String>,
    pub outcome: Option<OpOutcome>,
    /// The rule contains this text (case-insensitive).
    pub rule: Option<String>,
    /// The subject, rule, error or operation contains this text (case-insensitive).
    pub text: Option<String>,
    /// Only operations after this `seq` (keyset paging, for exports).
    pub after_seq: Option<u32>,
    /// Operations to skip (page number paging, for screens).
    pub offset: u64,
    /// At most this many (capped at [`MAX_PAGE`]).
    pub limit: u32,
}

/// One page of operations and how many operations match the filters in all.
#[derive(Debug, Clone, PartialEq)]
pub struct OperationPage {
    pub operations: Vec<Operation>,
    pub matching: u64,
}

/// Where a running run stands, as its process last wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunProgress {
    /// The phase in words, e.g. `reading Okta`, `applying`.
    pub phase: String,
    /// Units of the phase done so far (records read, operations applied).
    pub done: u64,
    /// Units the phase has, when known.
    pub total: Option<u64>,
    /// When the phase began: its rate is `done` over the time since.
    pub phase_started_at: DateTime<Utc>,
    /// When this was written.
    pub updated_at: DateTime<Utc>,
}

/// `value` as a `LIKE` pattern matching it anywhere, wildcards escaped with `\`.
fn contains_pattern(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('%');
    for c in value.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// The `WHERE` clause of `query` (parameters `$1` to `$5`, `$1` the run).
const FILTERS: &str = "WHERE run_id = $1 AND ($2 IS NULL OR kind = $2) \
     AND ($3 IS NULL OR outcome = $3) \
     AND ($4 IS NULL OR LOWER(rule) LIKE $4 ESCAPE '\\') \
     AND ($5 IS NULL OR LOWER(subject) LIKE $5 ESCAPE '\\' OR LOWER(rule) LIKE $5 ESCAPE '\\' \
          OR LOWER(kind) LIKE $5 ESCAPE '\\' OR LOWER(COALESCE(error, '')) LIKE $5 ESCAPE '\\' \
          OR LOWER(payload_json) LIKE $5 ESCAPE '\\')";

fn blank_to_none(value: Option<&String>) -> Option<String> {
    value
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

impl Store {
    /// One page of `run`'s operations in plan order, filtered in the database.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the run does not exist.
    pub async fn operations_page(
        &self,
        run: RunId,
        query: &OperationQuery,
    ) -> Result<OperationPage, StoreError> {
        let mut conn = self.db.acquire().await.ctx("reading operations")?;
        let loaded = super::lifecycle::load(&mut conn, run).await?;
        let kind = blank_to_none(query.kind.as_ref());
        let outcome = query.outcome.map(OpOutcome::as_str);
        let rule = blank_to_none(query.rule.as_ref()).map(|r| contains_pattern(&r));
        let text = blank_to_none(query.text.as_ref()).map(|t| contains_pattern(&t));
        let stored = settled_counts(&loaded).filter(|_| rule.is_none() && text.is_none());
        let matching = match stored {
            Some(counts) => counted(counts, kind.as_deref(), query.outcome),
            None => {
                let n: i64 =
                    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM run_operations {FILTERS}"))
                        .bind(run.0)
                        .bind(&kind)
                        .bind(outcome)
                        .bind(&rule)
                        .bind(&text)
                        .fetch_one(&mut *conn)
                        .await
                        .ctx("counting operations")?;
                u64::try_from(n).unwrap_or_default()
            }
        };
        if query.offset >= matching {
            // Past the last match (none at all, often: a finished run's failures): no
            // need to scan the run's operations to find nothing.
            return Ok(OperationPage {
                operations: Vec::new(),
                matching,
            });
        }
        let rows: Vec<OperationRow> = sqlx::query_as(&format!(
            "SELECT seq, kind, subject, rule, payload_json, outcome, error FROM run_operations \
             {FILTERS} AND seq > $6 ORDER BY seq LIMIT $7 OFFSET $8"
        ))
        .bind(run.0)
        .bind(&kind)
        .bind(outcome)
        .bind(&rule)
        .bind(&text)
        .bind(query.after_seq.map_or(-1, i64::from))
        .bind(i64::from(query.limit.min(MAX_PAGE)))
        .bind(i64::try_from(query.offset).unwrap_or(i64::MAX))
        .fetch_all(&mut *conn)
        .await
        .ctx("reading operations")?;
        Ok(OperationPage {
            operations: rows.into_iter().map(operation).collect::<Result<_, _>>()?,
            matching,
        })
    }

    /// Writes where the running run `run` stands; a run that has ended keeps its
    /// last progress and this changes nothing.
    ///
    /// # Errors
    /// Database failures.
    pub async fn record_progress(
        &self,
        run: RunId,
        progress: &RunProgress,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE runs SET progress_phase = $1, progress_done = $2, progress_total = $3, \
             progress_phase_at = $4, progress_at = $5 WHERE id = $6 AND status = 'running'",
        )
        .bind(&progress.phase)
        .bind(i64::try_from(progress.done).unwrap_or(i64::MAX))
        .bind(progress.total.map(|t| i64::try_from(t).unwrap_or(i64::MAX)))
        .bind(Ts(progress.phase_started_at))
        .bind(Ts(progress.updated_at))
        .bind(run.0)
        .execute(&self.db)
        .await
        .ctx("recording progress")?;
        Ok(())
    }

    /// The progress last written for `run`, if any was.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the run does not exist.
    pub async fn run_progress(&self, run: RunId) -> Result<Option<RunProgress>, StoreError> {
        type Row = (
            Option<String>,
            Option<i64>,
            Option<i64>,
            Option<Ts>,
            Option<Ts>,
        );
        let row: Option<Row> = sqlx::query_as(
            "SELECT progress_phase, progress_done, progress_total, progress_phase_at, progress_at \
             FROM runs WHERE id = $1",
        )
        .bind(run.0)
        .fetch_optional(&self.db)
        .await
        .ctx("reading progress")?;
        let (phase, done, total, phase_at, at) =
            row.ok_or_else(|| StoreError::not_found(format!("run {run}")))?;
        let (Some(phase), Some(phase_started_at), Some(updated_at)) = (phase, phase_at, at) else {
            return Ok(None);
        };
        Ok(Some(RunProgress {
            phase,
            done: done.and_then(|d| u64::try_from(d).ok()).unwrap_or_default(),
            total: total.and_then(|t| u64::try_from(t).ok()),
            phase_started_at: phase_started_at.0,
            updated_at: updated_at.0,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::contains_pattern;

    #[test]
    fn like_wildcards_in_a_search_are_matched_literally() {
        assert_eq!(contains_pattern("A_b%c\\"), "%a\\_b\\%c\\\\%");
    }
}
