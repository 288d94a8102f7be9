//! `usersync report --app X`: what the target holds that Okta does not explain
//! (`engine::report`), as text, the versioned JSON envelope, or CSV. Read-only.

use super::output;
use super::{Exit, Global, json};
use crate::engine;

/// How `report` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ReportFormat {
    #[default]
    Text,
    /// `{ "version": 1, "app", "target_kind", "okta_complete", "orphans", "inactive_in_okta",
    /// "unmanaged_members", "seats", "seats_source", "last_login", "never_signed_in", "okta",
    /// "target" }`.
    Json,
    /// One row per finding: `finding,group,username,detail`.
    Csv,
}

/// Report what the target holds that Okta does not explain.
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Reads Okta and the target and lists, without changing anything: target \
users no Okta user maps to (orphans), users inactive in Okta but active in the target, members of \
the groups usersync manages whom Okta does not put there, and licence seats used where the product \
reports them (Jira's application roles, Confluence's licence resource), and active licensed users \
who never signed in where the product says (Confluence 10.2 and later); the report says where each \
figure comes from, or why a target kind does not give it. --output json is versioned like `plan`'s (\"version\": 1, fields only ever added)."
)]
pub struct ReportArgs {
    /// The app to report on.
    #[arg(long)]
    pub app: String,
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub output: ReportFormat,
}

/// Runs `report`.
///
/// # Errors
/// Unknown app, or a side that cannot be read.
pub async fn run(args: ReportArgs, global: &Global) -> anyhow::Result<Exit> {
    let deps = global.deps().await?;
    let report = engine::report(&deps, &args.app).await?;
    match args.output {
        ReportFormat::Text => output::print(&report.text()),
        ReportFormat::Json => json::print(&report)?,
        ReportFormat::Csv => output::print(&report.csv()),
    }
    Ok(Exit::Ok)
}
