//! `usersync plan`, `usersync sync` and `usersync sync-user`: a dry run, a full
//! run of one app (or all), and the single-user run that login time uses.

use usersync_store::{RunStatus, RunTrigger};

use super::output::{self, Format};
use super::report::{JsonReport, outcome_text, plan_text};
use super::{Exit, Global, interrupt, json};
use crate::engine::{self, Mode, RunOutcome};

/// Show what a sync would change, without changing anything.
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Reads Okta and the target and prints the plan: the changes a sync would make, \
grouped by kind with counts, each with the rule that causes it; users skipped and why; and the guard's \
decision (held plans wait for approval). Nothing is written, not even a run record.\n\n\
--output json prints the documented, stable JSON form (README, \"JSON output\"): \
version, app, status, reasons, summary (counts per kind), plan (ops with op and rule, skipped, guard, \
notes), okta and target read statistics.\n\n\
--all plans every app, one after another, from one Okta read per org and credential (apps on the \
same org with the same credential share it; its `okta.read_by` names the app whose read it was); \
its JSON is { \"version\": 1, \"plans\": [ ... ] }.\n\n\
Exit codes: 0 when the plan was made (with --exit-code: and it is empty), 1 with --exit-code when \
changes are pending, 2 on error."
)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["app", "all"])))]
pub struct PlanArgs {
    /// The app to plan.
    #[arg(long)]
    pub app: Option<String>,
    /// Plan every app, from one Okta read per org and credential.
    #[arg(long)]
    pub all: bool,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub output: Format,
    /// Exit with 1 when the plan has changes (0 when there are none).
    #[arg(long)]
    pub exit_code: bool,
    /// List at most this many operations of each kind in the text form (0: all).
    #[arg(long, default_value_t = 50)]
    pub max_per_kind: usize,
}

/// Plan and apply: bring the target in step with Okta.
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Runs a sync: reads Okta and the target, plans, applies what the guards allow, \
and records the run, every operation's outcome and the identity links. It is the scheduler's cycle: \
after a full sync has succeeded, it reads only what changed in Okta since the app's checkpoint \
(incremental), and it is a full reconcile when none succeeded yet, when the app's settings changed, \
when the last incremental cycle was incomplete, when policy.full_reconcile_hours have passed, or \
when a group was created, renamed or deleted in Okta; `--full` always reconciles everything. The \
summary says which it was and why. A progress bar per phase is \
drawn on a terminal, plain log lines otherwise; a summary is printed at the end.\n\n\
Exit codes: 0 when every run succeeded (perhaps with warnings: Okta users who need attention, \
such as colliding or invalid usernames, listed with the run and in `usersync explain`), 1 when a run \
is held for approval (`usersync run approve RUN_ID`), 2 when a run failed or was partial (e.g. Okta \
could not be read completely, or operations failed), or on error; 130 when stopped by Ctrl-C or \
SIGTERM.\n\n\
Ctrl-C (or SIGTERM) stops cleanly: no further operation is started, those in flight finish \
(at most 60 s), every outcome is recorded, and the run ends `interrupted` with its true counts. \
Running the same command again converges: nothing is applied twice. A second Ctrl-C stops at once \
(the run is then marked interrupted the next time usersync starts)."
)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["app", "all"])))]
pub struct SyncArgs {
    /// The app to sync.
    #[arg(long)]
    pub app: Option<String>,
    /// Sync every app, one after another, from one Okta read per org and credential.
    #[arg(long)]
    pub all: bool,
    /// Reconcile everything (read all of Okta and the target), even when an
    /// incremental cycle could run.
    #[arg(long)]
    pub full: bool,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub output: Format,
}

/// Sync one user now (what a login triggers): a few requests, not a full read.
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Syncs one user: reads just that user and their groups from Okta (two requests) \
and that user's state in the target, then applies only that user's operations. Other users are never \
touched. Exit codes, and Ctrl-C, as for `sync`."
)]
pub struct SyncUserArgs {
    /// The app to sync the user in.
    #[arg(long)]
    pub app: String,
    /// The user's Okta login (or Okta id).
    pub login: String,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub output: Format,
}

/// Runs `plan`.
///
/// # Errors
/// Unknown app, or a plan could not be made (the reason says why).
pub async fn plan(args: PlanArgs, global: &Global) -> anyhow::Result<Exit> {
    let mut deps = global.deps().await?;
    let names = match &args.app {
        Some(name) => vec![name.clone()],
        None => {
            deps =
                deps.with_shared_reads(engine::SharedReads::new(engine::SharedReads::DEFAULT_TTL));
            all_names(&deps).await?
        }
    };
    let mut outcomes = Vec::new();
    for name in &names {
        let outcome = engine::run_sync_once(&deps, name, RunTrigger::Manual, Mode::DryRun).await?;
        if args.output == Format::Text {
            if args.all {
                output::print(&format!("== {}\n", outcome.app));
            }
            if outcome.status != RunStatus::Failed {
                print(&outcome, args.output, args.max_per_kind)?;
            }
        }
        outcomes.push(outcome);
    }
    if args.output == Format::Json {
        print_plans_json(&outcomes, args.all)?;
    }
    let failed: Vec<String> = outcomes
        .iter()
        .filter(|o| o.status == RunStatus::Failed)
        .map(|o| format!("could not plan app {:?}: {}", o.app, o.reasons.join("; ")))
        .collect();
    if !failed.is_empty() {
        anyhow::bail!("{}", failed.join("\n"));
    }
    let pending = outcomes
        .iter()
        .any(|o| o.plan.as_ref().is_some_and(|p| !p.is_empty()));
    Ok(if args.exit_code && pending {
        Exit::ChangesPending
    } else {
        Exit::Ok
    })
}

/// One plan as its JSON object (none when it failed: the error says why), or with
/// `--all` the listing `plans`, so scripts see one shape.
fn print_plans_json(outcomes: &[RunOutcome], all: bool) -> anyhow::Result<()> {
    match outcomes {
        [one] if !all && one.status != RunStatus::Failed => json::print(&JsonReport::new(one)),
        [_] if !all => Ok(()),
        every => {
            let reports: Vec<JsonReport<'_>> = every.iter().map(JsonReport::new).collect();
            json::print_list("plans", &reports)
        }
    }
}

/// Every app's name; an error when there are none.
async fn all_names(deps: &engine::Deps) -> anyhow::Result<Vec<String>> {
    let names: Vec<String> = deps
        .store
        .list_apps()
        .await?
        .into_iter()
        .map(|a| a.name)
        .collect();
    if names.is_empty() {
        anyhow::bail!("there are no apps; create one with `usersync app apply -f apps.toml`");
    }
    Ok(names)
}

/// Runs `sync`.
///
/// # Errors
/// Unknown app, a run already in progress, or a run that failed or ended partial.
pub async fn sync(args: SyncArgs, global: &Global) -> anyhow::Result<Exit> {
    let mut deps = global.stoppable_deps().await?;
    let all = args.all;
    let names = match args.app {
        Some(name) => vec![name],
        None => {
            // One cycle: apps on one org and credential share one Okta read.
            deps =
                deps.with_shared_reads(engine::SharedReads::new(engine::SharedReads::DEFAULT_TTL));
            all_names(&deps).await?
        }
    };
    let mut outcomes = Vec::new();
    for name in &names {
        if deps.stop.is_cancelled() {
            // `--all`: the apps not started yet are not started at all.
            break;
        }
        let want = if args.full {
            engine::Want::Full
        } else {
            engine::Want::Auto
        };
        let outcome = engine::sync_cycle(&deps, name, RunTrigger::Manual, want).await?;
        audit_started(&deps, name, "run.sync", outcome.run_id).await?;
        if args.output == Format::Text {
            if names.len() > 1 {
                output::print(&format!("== {}\n", outcome.app));
            }
            output::print(&outcome_text(&outcome));
        }
        outcomes.push(outcome);
    }
    if args.output == Format::Json {
        let reports: Vec<JsonReport<'_>> = outcomes.iter().map(JsonReport::new).collect();
        // `--all` is a listing even with one app, so scripts see one shape.
        match reports.as_slice() {
            [one] if !all => json::print(one)?,
            _ => json::print_list("runs", &reports)?,
        }
    }
    exit_for(&outcomes, |o| format!("usersync sync --app {}", o.app))
}

/// Runs `sync-user`.
///
/// # Errors
/// As for `sync`.
pub async fn sync_user(args: SyncUserArgs, global: &Global) -> anyhow::Result<Exit> {
    let deps = global.stoppable_deps().await?;
    let outcome = engine::sync_user(&deps, &args.app, &args.login, RunTrigger::Manual).await?;
    audit_started(&deps, &args.app, "run.sync_user", outcome.run_id).await?;
    match args.output {
        Format::Text => {
            if let Some(plan) = &outcome.plan
                && !plan.is_empty()
            {
                output::print(&plan_text(plan, 0));
                output::print("\n");
            }
            output::print(&outcome_text(&outcome));
        }
        Format::Json => json::print(&JsonReport::new(&outcome))?,
    }
    exit_for(std::slice::from_ref(&outcome), |o| {
        format!("usersync sync-user --app {} {}", o.app, args.login)
    })
}

fn print(outcome: &RunOutcome, format: Format, max_per_kind: usize) -> anyhow::Result<()> {
    match format {
        Format::Text => {
            if let Some(plan) = &outcome.plan {
                output::print(&plan_text(plan, max_per_kind));
                output::print("\n");
            }
            output::print(&outcome_text(outcome));
        }
        Format::Json => json::print(&JsonReport::new(outcome))?,
    }
    Ok(())
}

/// 0 when all succeeded, 1 when one is held, an error (2) when one failed or was
/// partial, 130 when one was interrupted (whatever the others did), after saying
/// how to resume it (`again`: the command that does).
fn exit_for(
    outcomes: &[RunOutcome],
    again: impl Fn(&RunOutcome) -> String,
) -> anyhow::Result<Exit> {
    for outcome in outcomes {
        if outcome.status == RunStatus::Interrupted {
            interrupt::tell_how_to_resume(outcome, &again(outcome));
        }
    }
    if outcomes.iter().any(|o| o.status == RunStatus::Interrupted) {
        return Ok(Exit::Interrupted);
    }
    let bad: Vec<String> = outcomes
        .iter()
        .filter(|o| matches!(o.status, RunStatus::Failed | RunStatus::Partial))
        .map(|o| format!("app {:?} {}: {}", o.app, o.status, o.reasons.join("; ")))
        .collect();
    if !bad.is_empty() {
        anyhow::bail!("{}", bad.join("\n"));
    }
    if outcomes.iter().any(|o| o.status == RunStatus::Held) {
        return Ok(Exit::ChangesPending);
    }
    Ok(Exit::Ok)
}

/// Records in the audit log that this command line user started a run of `app`.
async fn audit_started(
    deps: &engine::Deps,
    app: &str,
    action: &str,
    run: Option<usersync_store::RunId>,
) -> anyhow::Result<()> {
    if let Some(found) = deps.store.find_app(app).await? {
        let actor = super::actor();
        engine::audit::record_started(deps, &actor, found.id, action, RunTrigger::Manual, run)
            .await;
    }
    Ok(())
}
