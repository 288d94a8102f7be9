//! The types of runs and their operations, and their text forms in the database.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::app::AppId;

/// Declares a unit enum with one snake_case text form per variant, used in SQL and JSON.
macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vdoc])* $variant),+ }

        impl $name {
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            /// The variant written as `text`, if any.
            #[must_use]
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some(Self::$variant),)+ _ => None }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum!(
    /// What started a run.
    RunTrigger {
        Manual => "manual",
        Scheduled => "scheduled",
        /// A user signing in (sync of that one user).
        Login => "login",
        /// An Okta event hook or System Log event.
        Event => "event",
        Api => "api",
        /// A push from Okta to usersync's SCIM server (`/scim/v2/{app}`).
        Scim => "scim",
    }
);

text_enum!(
    /// Where a run stands.
    RunStatus {
        Running => "running",
        Succeeded => "succeeded",
        /// Finished, but some operations failed.
        Partial => "partial",
        Failed => "failed",
        /// Stopped before applying: the plan waits for an administrator's approval.
        Held => "held",
        /// Stopped while running: by Ctrl-C (the run ends with its recorded counts), or
        /// its process died (marked at the next open).
        Interrupted => "interrupted",
        /// A held plan an administrator refused.
        Rejected => "rejected",
        /// A held plan a newer run of the app replaced with its fresh plan.
        Superseded => "superseded",
    }
);

text_enum!(
    /// How much of Okta a sync of the whole app read.
    SyncKind {
        /// Everything: users, groups and memberships (a reconcile).
        Full => "full",
        /// Only what changed since the app's checkpoint.
        Incremental => "incremental",
    }
);

text_enum!(
    /// What became of one planned operation.
    OpOutcome {
        Pending => "pending",
        Applied => "applied",
        Failed => "failed",
        Skipped => "skipped",
    }
);

/// The store's id of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RunId(pub i64);

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Operations of one kind, by outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct OutcomeCounts {
    pub planned: u64,
    pub applied: u64,
    pub failed: u64,
    pub skipped: u64,
}

/// Counts per operation kind (the engine's names, e.g. `create_user`).
pub type RunCounts = BTreeMap<String, OutcomeCounts>;

/// One sync run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Run {
    pub id: RunId,
    pub app_id: AppId,
    pub trigger: RunTrigger,
    pub status: RunStatus,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub counts: RunCounts,
    /// Why the run was held, failed, partial, interrupted or rejected.
    pub reason: Option<String>,
    /// Who approved or rejected a held plan, and when.
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    /// Seconds spent working, once finished: for an approved run, its planning and
    /// its approval's apply, not the wait between them.
    pub work_seconds: Option<f64>,
    /// Full or incremental, for runs of the whole app (`None` for single-user runs,
    /// approvals and runs from before incremental sync).
    pub sync_kind: Option<SyncKind>,
    /// Why the run was full or incremental (e.g. "the daily full reconcile is due").
    pub sync_kind_reason: Option<String>,
}

impl Run {
    /// How long the run worked, once finished: its recorded work time (which for an
    /// approved run leaves out the wait for approval), else finish minus start.
    #[must_use]
    pub fn duration(&self) -> Option<std::time::Duration> {
        let end = self.finished_at?;
        match self.work_seconds {
            Some(s) if s.is_finite() && s >= 0.0 => Some(std::time::Duration::from_secs_f64(s)),
            _ => (end - self.started_at).to_std().ok(),
        }
    }
}

/// A planned operation as the engine records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewOperation {
    /// Position in the plan, unique within the run.
    pub seq: u32,
    /// The operation kind, e.g. `create_user`, `add_membership`.
    pub kind: String,
    /// What it acts on, for people: a username or group name.
    pub subject: String,
    /// The rule that caused it, e.g. `import_users`.
    pub rule: String,
    /// The engine's own serialisation of the operation, as JSON text; opaque to the
    /// store (read back as a JSON value by [`crate::Store::run_operations`]).
    pub payload: String,
}

/// A recorded operation with its outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Operation {
    pub seq: u32,
    pub kind: String,
    pub subject: String,
    pub rule: String,
    pub payload: serde_json::Value,
    pub outcome: OpOutcome,
    pub error: Option<String>,
}

/// One outcome to record, for [`crate::Store::record_outcomes`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutcomeUpdate {
    pub seq: u32,
    pub outcome: OpOutcome,
    pub error: Option<String>,
}

/// Which runs to list; `None` matches all.
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    pub app: Option<AppId>,
    pub status: Option<RunStatus>,
    pub trigger: Option<RunTrigger>,
}
