//! Runs and their planned operations: the record of what each sync did and why.
//!
//! Lifecycle: `start_run` (status `running`, owned by this process) → `record_plan`
//! (operations `pending`, plus the engine's plan blob) → `record_outcome(s)` as operations
//! apply → `finish_run` with the final status. A run finished as `held` keeps its plan;
//! `approve_run` puts it back to `running` for the engine to apply the recorded
//! operations, `reject_run` ends it as `rejected`. Runs left `running` by a dead process
//! become `interrupted` when the store is next opened.

mod lifecycle;
mod types;

pub use types::{
    NewOperation, OpOutcome, Operation, OutcomeCounts, OutcomeUpdate, Run, RunCounts, RunFilter,
    RunId, RunStatus, RunTrigger,
};
