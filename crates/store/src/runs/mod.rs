//! Runs and their planned operations: the record of what each sync did and why.
//!
//! Lifecycle: `start_run` (status `running`, owned by this process) → `record_plan`
//! (the engine's plan blob and a first batch of operations, `pending`) and
//! `record_operations` for further batches → `record_outcome(s)` (or
//! `record_outcomes_with_links`, atomically with identity links) as operations apply →
//! `finish_run` with the final status. A run finished as `held` keeps its plan;
//! `approve_run` puts it back to `running` for the engine to apply the recorded
//! operations, `reject_run` ends it as `rejected`. Runs left `running` by a dead process
//! become `interrupted` when the store is next opened. An app has one held run at a
//! time: single-user runs add to it (`hold_more`), a new full plan supersedes it
//! (`supersede_held`); `applied_since` reads the window of the app's hold budget.
//! `operations_page` reads a filtered page of a run's operations; `record_progress` and
//! `run_progress` carry a running run's live progress between processes.

mod budget;
mod lifecycle;
mod operations;
mod page;
mod types;

pub(crate) use operations::tally;

pub use page::{MAX_PAGE, OperationPage, OperationQuery, RunProgress};

pub use types::{
    NewOperation, OpOutcome, Operation, OutcomeCounts, OutcomeUpdate, Run, RunCounts, RunFilter,
    RunId, RunStatus, RunTrigger, SyncKind,
};
