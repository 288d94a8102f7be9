//! The console's reads of runs at scale, as methods of [`Backend`]: one filtered page
//! of a run's operations (filtered and paged by the store's SQL), batches of them for
//! streamed exports, and the live progress of an app's running run, whichever
//! process runs it.

use chrono::{DateTime, Utc};
use usersync_store::{OperationQuery, RunFilter, RunId, RunProgress, RunStatus};

use super::convert::{self, store_error};
use crate::web::backend::{Backend, BackendResult, ProgressEvent};
use crate::web::model::{OpCounts, OperationView, RunView};

/// One page of a run's operations and how many match the filters in all.
#[derive(Debug, Clone)]
pub struct OperationsPage {
    pub operations: Vec<OperationView>,
    pub matching: u64,
}

/// A running run and where it stands.
#[derive(Debug, Clone)]
pub struct LiveRun {
    pub run: RunView,
    pub progress: ProgressEvent,
    /// Seconds since the running process last wrote its progress.
    pub quiet_seconds: i64,
}

impl Backend {
    /// One page of `id`'s operations, filtered and paged by the store.
    pub async fn operations_page(
        &self,
        id: i64,
        query: &OperationQuery,
    ) -> BackendResult<OperationsPage> {
        let page = self
            .store
            .operations_page(RunId(id), query)
            .await
            .map_err(store_error)?;
        Ok(OperationsPage {
            operations: page
                .operations
                .iter()
                .map(convert::operation_view)
                .collect(),
            matching: page.matching,
        })
    }

    /// Counts of the run's operations per kind and outcome as recorded so far (a
    /// running run's counts are not yet in its row).
    pub async fn operation_counts(
        &self,
        id: i64,
    ) -> BackendResult<std::collections::BTreeMap<String, OpCounts>> {
        let counts = self
            .store
            .tally_operations(RunId(id))
            .await
            .map_err(store_error)?;
        Ok(counts
            .into_iter()
            .map(|(kind, c)| {
                let view = OpCounts {
                    planned: c.planned,
                    applied: c.applied,
                    failed: c.failed,
                    skipped: c.skipped,
                };
                (kind, view)
            })
            .collect())
    }

    /// The newest run of `app` still running, in any process, with its progress.
    pub async fn running_run(&self, app: &str) -> BackendResult<Option<LiveRun>> {
        let app = self.app(app).await?;
        let filter = RunFilter {
            app: Some(app.id),
            status: Some(RunStatus::Running),
            trigger: None,
        };
        let runs = self
            .store
            .list_runs(&filter, 1)
            .await
            .map_err(store_error)?;
        let Some(run) = runs.first() else {
            return Ok(None);
        };
        let progress = self.store.run_progress(run.id).await.map_err(store_error)?;
        let now = Utc::now();
        let quiet_seconds = progress
            .as_ref()
            .map_or(0, |p| (now - p.updated_at).num_seconds().max(0));
        Ok(Some(LiveRun {
            run: convert::run_view(run, &app.name),
            progress: progress_event(progress.as_ref(), now),
            quiet_seconds,
        }))
    }

    /// The newest run of `app`, running or ended.
    pub async fn latest_run(&self, app: &str) -> BackendResult<Option<RunView>> {
        let app = self.app(app).await?;
        let filter = RunFilter {
            app: Some(app.id),
            ..RunFilter::default()
        };
        let runs = self
            .store
            .list_runs(&filter, 1)
            .await
            .map_err(store_error)?;
        Ok(runs.first().map(|r| convert::run_view(r, &app.name)))
    }

    /// One run as the console shows it.
    pub async fn get_run_view(&self, id: i64) -> BackendResult<RunView> {
        self.run_view(RunId(id)).await
    }
}

/// The progress line: the current phase, how far it is and its rate, e.g.
/// "applying: 1200 of 5000 operations (310/s)".
#[must_use]
pub fn progress_event(progress: Option<&RunProgress>, now: DateTime<Utc>) -> ProgressEvent {
    let Some(p) = progress else {
        return ProgressEvent {
            message: "starting".into(),
            done: 0,
            total: 0,
        };
    };
    let unit = if p.phase == crate::engine::Phase::Apply.to_string() {
        "operations"
    } else {
        "records"
    };
    let amount = match p.total {
        Some(total) => format!("{} of {total} {unit}", p.done),
        None if p.done > 0 => format!("{} {unit}", p.done),
        None => String::new(),
    };
    // The rate over the phase so far, as of its last write (not of now: a stalled
    // writer shows its last rate and the page says how long it has been quiet).
    let seconds = (p.updated_at - p.phase_started_at).num_milliseconds();
    let rate = if p.done > 0 && seconds > 0 {
        #[allow(clippy::cast_precision_loss)] // a rate for people
        let per_second = p.done as f64 * 1000.0 / seconds as f64;
        format!(" ({per_second:.0}/s)")
    } else {
        String::new()
    };
    let elapsed = (now - p.phase_started_at).num_seconds().max(0);
    let message = if amount.is_empty() {
        format!("{} for {elapsed} s", p.phase)
    } else {
        format!("{}: {amount}{rate}", p.phase)
    };
    ProgressEvent {
        message,
        done: p.done,
        total: p.total.unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn at(phase: &str, done: u64, total: Option<u64>, seconds: i64) -> RunProgress {
        let now = Utc::now();
        RunProgress {
            phase: phase.into(),
            done,
            total,
            phase_started_at: now - Duration::seconds(seconds),
            updated_at: now,
        }
    }

    #[test]
    fn the_progress_line_names_the_phase_its_amount_and_its_rate() {
        let now = Utc::now();
        let applying = progress_event(Some(&at("applying", 1200, Some(5000), 4)), now);
        assert_eq!(
            applying.message,
            "applying: 1200 of 5000 operations (300/s)"
        );
        assert_eq!((applying.done, applying.total), (1200, 5000));
        let reading = progress_event(Some(&at("reading Okta", 900, None, 3)), now);
        assert_eq!(reading.message, "reading Okta: 900 records (300/s)");
        let planning = progress_event(Some(&at("planning", 0, None, 0)), now);
        assert!(
            planning.message.starts_with("planning for "),
            "{}",
            planning.message
        );
        assert_eq!(progress_event(None, now).message, "starting");
    }
}
