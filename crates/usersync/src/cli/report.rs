//! Rendering plans and run outcomes for people, and the documented JSON forms.
//!
//! # JSON forms (`--output json`)
//!
//! Every command's JSON is one object in the envelope of [`super::json`]: `"version": 1`
//! first, fields only ever added. Apps are named by name, runs by their number (what
//! `usersync run show` takes); every choice between shapes is tagged by a field
//! (`kind`, `state`, `decision`, `status`), never a Rust enum encoding such as
//! `{"Ok": ...}`.
//!
//! ## A run or dry run (`plan`, `sync --app`, `sync-user`, `run approve`)
//!
//! ```text
//! { "version": 1, "app": "...", "mode": "dry_run" | "apply", "run_id": 12 | null,
//!   "status": "succeeded" | "partial" | "failed" | "held" | "interrupted"
//!             (for a dry run: what a run would end as),
//!   "reasons": ["..."],          (why not succeeded; for a succeeded run, warnings about users)
//!   "summary": { "counts": { "create_user": 3, ... }, "total": 3, "destructive": 0, "skipped": 0 },
//!   "plan": { "ops": [ { "op": { "kind": "create_user", ... }, "rule": { "kind": "import_users", ... } } ],
//!             "skipped": [ { ..., "reason": { "kind": "...", ... } } ],
//!             "guard": { "decision": "proceed" | "partial" | "held", ... }, "notes": [...] },
//!   "results": [ { "seq": 1, "planned": {...}, "outcome": "applied" | "failed" | "skipped", "error": null } ],
//!   "okta": { "users": 0, "groups": 0, "memberships": 0, "requests": 0, "complete": true,
//!             "read_by": "jira" },   (only when the run used another app's read of the cycle; requests 0)
//!   "target": { "users": 0, "groups": 0, "memberships": 0 },
//!   "seconds": 0.4,
//!   "sync": { "kind": "full" | "incremental", "reason": "..." } | null }
//!            (null for dry runs, single-user runs and approvals)
//! ```
//!
//! `plan.ops[].op` and `.rule` are `usersync_core`'s `Op` and `Rule` (tagged by `kind`,
//! snake_case). `sync --all` prints `{ "version": 1, "runs": [ <the above, without version> ] }`,
//! `plan --all` `{ "version": 1, "plans": [ ... ] }`; `report` is documented in `target_report`.
//!
//! ## Runs (`run list`, `run show`)
//!
//! ```text
//! run list: { "version": 1, "runs": [ <run> ] }          (newest first)
//! run show: { "version": 1, "run": <run>, "operations": [
//!             { "seq": 1, "kind": "create_user", "subject": "alice", "rule": "...",
//!               "description": "create user alice ...", "outcome": "pending" | "applied" | "failed" | "skipped",
//!               "error": null } ] }
//! <run> = { "id": 12, "app": "jira", "trigger": "manual" | "scheduled" | "login" | "event" | "api",
//!           "status": "running" | "succeeded" | "partial" | "failed" | "held" | "interrupted" | "rejected" | "superseded",
//!           "started_at": "2026-12-03T07:30:00Z", "finished_at": "..." | null, "work_seconds": 1.2 | null,
//!           "counts": { "create_user": { "planned": 3, "applied": 3, "failed": 0, "skipped": 0 } },
//!           "reason": "..." | null, "decided_by": "cli:ops" | null, "decided_at": "..." | null,
//!           "sync_kind": "full" | "incremental" | null, "sync_kind_reason": "..." | null }
//! ```
//!
//! The run is the console API's `RunView` (`/api/v1/runs`), the operation its `OperationView`.
//!
//! ## Questions (`check`, `explain`)
//!
//! ```text
//! check:   { "version": 1, "app": "jira", "ok": true, "lines": [ { "what": "...", "ok": true, "detail": "..." } ] }
//! explain: { "version": 1, "login": "...",
//!            "okta": { "id": "00u...", "login": "...", "status": "ACTIVE" } | null,
//!            "target": { "username": "...", "display_name": "...", "active": true,
//!                        "managed_elsewhere": false, "linked": true } | null,
//!            "mapped_username": { "state": "usable", "username": "alice" }
//!                             | { "state": "unusable", "problem": "..." } | null,
//!            "in_scope": true, "scope": "...", "status": "..." | null,
//!            "skipped": { "kind": "...", ... } | null, "ops": [ <op with rule> ],
//!            "guard": { "decision": ... }, "group_notes": ["..."] }
//! ```
//!
//! ## Everything else
//!
//! `app list` (`{"version": 1, "apps": [...]}`) and `app show` (the app's fields beside
//! `version`) show apps as stored, secrets as their state, without the database id;
//! `admin list` (`"administrators"`) and `token list` (`"tokens"`) likewise; `okta-read`
//! its read summary beside `version`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;
use usersync_core::{Guard, OpKind, Plan, PlannedOp, Summary};
use usersync_store::{OpOutcome, OutcomeCounts, RunCounts, RunStatus};

use super::output::{self, Table};
use crate::engine::{Mode, RunOutcome};

/// The JSON body of a run or dry run (printed in [`super::json`]'s envelope).
#[derive(Debug, Serialize)]
pub struct JsonReport<'a> {
    #[serde(flatten)]
    pub outcome: &'a RunOutcome,
    pub summary: Summary,
}

impl<'a> JsonReport<'a> {
    #[must_use]
    pub fn new(outcome: &'a RunOutcome) -> Self {
        let summary = outcome.plan.as_ref().map(Plan::summary).unwrap_or_default();
        Self { outcome, summary }
    }
}

/// The plan as text: a count per kind, then each kind's ops with their rules
/// (at most `max_per_kind` of each, all when 0).
#[must_use]
pub fn plan_text(plan: &Plan, max_per_kind: usize) -> String {
    let summary = plan.summary();
    let mut out = String::new();
    if plan.is_empty() {
        out.push_str("No changes: the target is in step with Okta.\n");
    } else {
        let mut counts = Table::new(["change", "count"]);
        for (kind, n) in &summary.counts {
            counts.row([kind.as_str().replace('_', " "), n.to_string()]);
        }
        counts.row([
            format!("total ({} destructive)", summary.destructive),
            summary.total.to_string(),
        ]);
        out.push_str(&counts.render());
        let mut by_kind: BTreeMap<OpKind, Vec<&PlannedOp>> = BTreeMap::new();
        for planned in &plan.ops {
            by_kind.entry(planned.op.kind()).or_default().push(planned);
        }
        for (kind, ops) in by_kind {
            out.push_str(&format!(
                "\n{} ({})\n",
                kind.as_str().replace('_', " "),
                ops.len()
            ));
            let shown = if max_per_kind == 0 {
                ops.len()
            } else {
                max_per_kind.min(ops.len())
            };
            let mut table = Table::new(["  operation", "rule"]);
            for planned in &ops[..shown] {
                table.row([format!("  {}", planned.op), planned.rule.to_string()]);
            }
            out.push_str(&table.render());
            if shown < ops.len() {
                out.push_str(&format!(
                    "  ... and {} more (--max-per-kind 0 shows all; --output json lists every one)\n",
                    ops.len() - shown
                ));
            }
        }
    }
    if !plan.skipped.is_empty() {
        out.push_str(&format!("\nskipped users ({})\n", plan.skipped.len()));
        for skipped in &plan.skipped {
            out.push_str(&format!("  {skipped}\n"));
        }
    }
    if !plan.notes.is_empty() {
        out.push_str("\nnotes\n");
        for note in &plan.notes {
            out.push_str(&format!("  {note}\n"));
        }
    }
    out.push_str(&guard_text(&plan.guard));
    out
}

fn guard_text(guard: &Guard) -> String {
    match guard {
        Guard::Proceed => String::new(),
        Guard::Partial { reasons, withheld } => format!(
            "\nguard: the Okta read was incomplete; {withheld} destructive operations were left out:\n{}",
            bullets(reasons)
        ),
        Guard::Held { reasons } => format!(
            "\nguard: HELD: destructive operations wait for an administrator's approval:\n{}",
            bullets(reasons)
        ),
    }
}

fn bullets(lines: &[String]) -> String {
    lines.iter().map(|l| format!("  - {l}\n")).collect()
}

/// The end-of-run summary: reads, what happened per kind, failures, status and reasons.
#[must_use]
pub fn outcome_text(outcome: &RunOutcome) -> String {
    let mut out = String::new();
    if let Some(sync) = &outcome.sync {
        out.push_str(&format!("{} sync: {}\n", sync.kind, sync.reason));
    }
    out.push_str(&reads_text(outcome));
    if outcome.mode == Mode::Apply && outcome.plan.is_some() {
        out.push('\n');
        if outcome.results.is_empty() && outcome.plan.as_ref().is_some_and(Plan::is_empty) {
            out.push_str("nothing to change: the target is in step with Okta\n");
        } else {
            out.push_str(&counts_table(&outcome_counts(outcome)).render());
        }
        let failures: Vec<_> = outcome
            .results
            .iter()
            .filter(|r| r.error.is_some())
            .collect();
        if !failures.is_empty() {
            out.push_str(&format!("\nfailed operations ({})\n", failures.len()));
        }
        for result in failures {
            let op = outcome
                .planned(result.seq)
                .map_or_else(|| format!("operation {}", result.seq), |p| p.op.to_string());
            out.push_str(&format!(
                "  {} {op}: {}\n",
                result.outcome,
                result.error.as_deref().unwrap_or_default()
            ));
        }
        out.push('\n');
    }
    let run = outcome
        .run_id
        .map(|id| format!("run {id} "))
        .unwrap_or_default();
    let word = if outcome.mode == Mode::DryRun {
        "would end"
    } else {
        "ended"
    };
    out.push_str(&format!(
        "{run}{word} {} in {}\n",
        outcome.status,
        output::duration(Duration::from_secs_f64(outcome.seconds))
    ));
    out.push_str(&bullets(&outcome.reasons));
    // The engine's reason is shared with the console and the API; the commands are
    // this interface's own.
    if let (RunStatus::Held, Some(id)) = (outcome.status, outcome.run_id) {
        out.push_str(&format!(
            "review it with `usersync run show {id}`, then `usersync run approve {id}` or `usersync run reject {id}`\n"
        ));
    }
    out
}

/// What was read from Okta and the target.
fn reads_text(outcome: &RunOutcome) -> String {
    let mut out = String::new();
    if let Some(okta) = &outcome.okta {
        let complete = match okta.complete {
            Some(false) => ", INCOMPLETE",
            _ => "",
        };
        let requests = match &okta.read_by {
            Some(app) => format!("read once for app {app}"),
            None => output::count(okta.requests.unwrap_or_default(), "request"),
        };
        out.push_str(&format!(
            "okta: {}, {}, {} ({requests}{complete})\n",
            output::count(okta.users, "user"),
            output::count(okta.groups, "group"),
            output::count(okta.memberships, "membership"),
        ));
    }
    if let Some(target) = &outcome.target {
        out.push_str(&format!(
            "target: {}, {}, {}\n",
            output::count(target.users, "user"),
            output::count(target.groups, "group"),
            output::count(target.memberships, "membership")
        ));
    }
    out
}

/// Counts per kind of a run: planned from its plan, outcomes from its results.
fn outcome_counts(outcome: &RunOutcome) -> RunCounts {
    let mut counts = RunCounts::new();
    for planned in outcome.plan.iter().flat_map(|p| &p.ops) {
        let kind = planned.op.kind().as_str().to_owned();
        counts.entry(kind).or_default().planned += 1;
    }
    for result in &outcome.results {
        let kind = result.kind.as_str().to_owned();
        let entry = counts.entry(kind).or_default();
        match result.outcome {
            OpOutcome::Applied => entry.applied += 1,
            OpOutcome::Failed => entry.failed += 1,
            OpOutcome::Skipped => entry.skipped += 1,
            OpOutcome::Pending => {}
        }
    }
    counts
}

/// A table of operation counts per kind (in the order operations are applied) with a total:
/// planned, applied, failed, skipped, and waiting (planned but not yet applied, e.g. held).
#[must_use]
pub fn counts_table(counts: &RunCounts) -> Table {
    let mut table = Table::new([
        "change", "planned", "applied", "failed", "skipped", "waiting",
    ]);
    let mut total = OutcomeCounts::default();
    let known = OpKind::ALL.iter().map(|k| k.as_str());
    let unknown = counts
        .keys()
        .map(String::as_str)
        .filter(|k| OpKind::ALL.iter().all(|o| o.as_str() != *k));
    for kind in known.chain(unknown.collect::<Vec<_>>()) {
        let Some(c) = counts.get(kind) else { continue };
        table.row(counts_row(kind.replace('_', " "), c));
        total.planned += c.planned;
        total.applied += c.applied;
        total.failed += c.failed;
        total.skipped += c.skipped;
    }
    table.row(counts_row("total".into(), &total));
    table
}

fn counts_row(label: String, c: &OutcomeCounts) -> [String; 6] {
    let waiting = c.planned.saturating_sub(c.applied + c.failed + c.skipped);
    [
        label,
        c.planned.to_string(),
        c.applied.to_string(),
        c.failed.to_string(),
        c.skipped.to_string(),
        waiting.to_string(),
    ]
}

#[cfg(test)]
mod tests {
    use usersync_core::{GroupName, Op, Rule, Username};

    use super::*;

    fn plan_of(n: usize) -> Plan {
        let ops = (0..n)
            .map(|i| PlannedOp {
                op: Op::AddMember {
                    group: GroupName::parse("devs").unwrap(),
                    username: Username::parse(format!("user{i}")).unwrap(),
                },
                rule: Rule::MembershipFromOkta {
                    okta_group: "devs".into(),
                },
            })
            .collect();
        Plan {
            ops,
            skipped: Vec::new(),
            guard: Guard::Proceed,
            notes: Vec::new(),
        }
    }

    #[test]
    fn a_plan_lists_counts_per_kind_and_each_op_with_its_rule_up_to_the_limit() {
        let text = plan_text(&plan_of(3), 2);
        assert!(text.contains("add member             3"), "{text}");
        assert!(
            text.contains("add user0 to group devs  Membership from Okta group devs"),
            "{text}"
        );
        assert!(!text.contains("user2 to group"), "{text}");
        assert!(text.contains("... and 1 more"), "{text}");
        assert!(plan_text(&plan_of(3), 0).contains("user2 to group"));
    }

    #[test]
    fn the_counts_table_lists_kinds_in_apply_order_with_a_total_and_what_still_waits() {
        let mut counts = RunCounts::new();
        counts.insert(
            "deactivate_user".into(),
            OutcomeCounts {
                planned: 30,
                ..OutcomeCounts::default()
            },
        );
        counts.insert(
            "create_user".into(),
            OutcomeCounts {
                planned: 3,
                applied: 2,
                failed: 1,
                skipped: 0,
            },
        );
        let text = counts_table(&counts).render();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "change           planned  applied  failed  skipped  waiting"
        );
        assert_eq!(
            lines[1],
            "create user      3        2        1       0        0"
        );
        assert_eq!(
            lines[2],
            "deactivate user  30       0        0       0        30"
        );
        assert_eq!(
            lines[3],
            "total            33       2        1       0        30"
        );
    }

    #[test]
    fn a_held_run_says_how_to_review_approve_or_reject_it_from_the_command_line() {
        let mut held = RunOutcome::new("jira", Some(usersync_store::RunId(7)), Mode::Apply);
        held.set(
            RunStatus::Held,
            vec![
                "3 destructive operations wait for an administrator to approve or reject run 7"
                    .into(),
            ],
        );
        let text = outcome_text(&held);
        assert!(text.contains("run 7 ended held"), "{text}");
        assert!(
            text.contains(
                "`usersync run show 7`, then `usersync run approve 7` or `usersync run reject 7`"
            ),
            "{text}"
        );
        held.set(RunStatus::Succeeded, Vec::new());
        assert!(!outcome_text(&held).contains("usersync run approve"));
    }

    #[test]
    fn an_empty_plan_says_there_are_no_changes() {
        assert!(plan_text(&plan_of(0), 50).starts_with("No changes"));
    }
}
