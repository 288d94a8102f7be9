//! The line protocol between the benchmark and its emulator process: one JSON
//! [`Command`] per line on the child's stdin, one JSON [`Reply`] per line on its
//! stdout. The emulators run in a child process so that the peak memory measured in
//! the benchmark process is usersync's own, not the emulated org's.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What the benchmark asks the emulator process to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum Command {
    /// Okta rate limits on (this size's buckets) or off; either way with fresh windows.
    Limits {
        enabled: bool,
    },
    /// Forget the request logs of both emulators (start counting a new phase).
    Mark,
    /// Requests since the last [`Command::Mark`].
    Counts,
    /// The org's shape, for lower bounds and request-count checks.
    Shape,
    /// Adds one active user to one more Okta group and answers the user's login, so a
    /// single-user sync has something to do.
    ChangeOneUser,
    /// Changes the profile of `users` active users and adds `memberships` other active
    /// users to one more Okta group; answers how many changes were made.
    ChangeMany {
        users: u64,
        memberships: u64,
    },
    /// The emulator process's own peak memory.
    Memory,
    Quit,
}

/// Sent once, when both emulators are up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ready {
    pub okta_url: String,
    pub okta_token: String,
    pub jira_url: String,
    pub jira_user: String,
    pub jira_password: String,
    /// Seconds spent generating the org.
    pub generate_seconds: f64,
}

/// One answer: `ok` with a value, or `error` with a sentence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reply {
    Ok(serde_json::Value),
    Error(String),
}

/// Requests the emulators answered since the last mark.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    pub okta_requests: u64,
    /// Okta answers with status 429.
    pub okta_429: u64,
    /// Okta requests per bucket name.
    pub okta_by_bucket: BTreeMap<String, u64>,
    /// Jira GETs.
    pub jira_reads: u64,
    /// Jira POST/PUT/DELETE requests.
    pub jira_writes: u64,
    /// Jira answers with a status of 400 or more.
    pub jira_errors: u64,
    /// CPU time of the emulator process (both emulators) since the mark.
    pub emulator_cpu_seconds: f64,
}

/// The org as generated.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Shape {
    /// Users of every status.
    pub users: u64,
    /// Users a plain `GET /api/v1/users` returns (every status but DEPROVISIONED).
    pub users_listed_by_default: u64,
    pub groups: u64,
    pub memberships: u64,
    /// Members per group, in the order Okta lists groups.
    pub member_counts: Vec<u64>,
    /// Members per `OKTA_GROUP` group (the groups the default policy syncs).
    pub okta_group_member_counts: Vec<u64>,
}
