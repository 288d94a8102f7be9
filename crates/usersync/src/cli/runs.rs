//! `usersync run ...`: the run history, and deciding on held runs.

use std::collections::HashMap;

use clap::Subcommand;
use usersync_store::{AppId, Run, RunFilter, RunId, RunStatus, Store};

use super::output::{self, Format, Table};
use super::report::{JsonReport, counts_table, outcome_text};
use super::{Exit, Global, actor, app_named, interrupt, json};
use crate::engine;
use crate::web::adapter::convert::{operation_view, run_view};
use crate::web::model::{OperationView, RunView};

/// Show runs; approve or reject held ones.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: RunCommand,
}

#[derive(Debug, Subcommand)]
pub enum RunCommand {
    /// List recent runs, newest first.
    List {
        /// Only runs of this app.
        #[arg(long)]
        app: Option<String>,
        /// Only runs with this status (running, succeeded, partial, failed, held, interrupted, rejected).
        #[arg(long, value_parser = parse_status)]
        status: Option<RunStatus>,
        /// At most this many runs.
        #[arg(long, default_value_t = 20)]
        limit: u32,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        output: Format,
    },
    /// Show one run with every operation, its rule and its outcome.
    Show {
        /// The run's number (`usersync run list` shows them).
        run_id: i64,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        output: Format,
    },
    /// Approve a held run and apply it.
    #[command(
        long_about = "Approves a held run and applies it. usersync first re-reads Okta and the \
target and re-plans: if the fresh read is incomplete, or the fresh plan has destructive operations \
the held plan does not, the run stays held and nothing is applied. Otherwise the held operations \
that are still needed are applied, and those no longer needed are recorded as skipped.\n\n\
Ctrl-C stops cleanly as for `sync` (exit code 130): the run ends interrupted, and the app's next \
sync plans (and guards) what was not applied."
    )]
    Approve {
        /// The held run's number (`usersync run list --status held` shows them).
        run_id: i64,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        output: Format,
    },
    /// Reject a held run: none of its pending operations will be applied.
    Reject {
        /// The held run's number (`usersync run list --status held` shows them).
        run_id: i64,
    },
}

fn parse_status(text: &str) -> Result<RunStatus, String> {
    RunStatus::parse(text).ok_or_else(|| {
        format!("{text:?} is not a run status; use running, succeeded, partial, failed, held, interrupted or rejected")
    })
}

/// Runs the command.
///
/// # Errors
/// Unknown runs or apps, runs not in the state the command needs.
pub async fn run(args: Args, global: &Global) -> anyhow::Result<Exit> {
    let deps = match args.command {
        // The one run command that changes a target stops cleanly on Ctrl-C.
        RunCommand::Approve { .. } => global.stoppable_deps().await?,
        _ => global.deps().await?,
    };
    let store = &deps.store;
    match args.command {
        RunCommand::List {
            app,
            status,
            limit,
            output: format,
        } => list(store, app, status, limit, format).await?,
        RunCommand::Show {
            run_id,
            output: format,
        } => show(store, RunId(run_id), format).await?,
        RunCommand::Approve {
            run_id,
            output: format,
        } => {
            held_run(store, RunId(run_id), "approved").await?;
            let outcome = engine::approve(&deps, RunId(run_id), &actor()).await?;
            match format {
                Format::Text => output::print(&outcome_text(&outcome)),
                Format::Json => json::print(&JsonReport::new(&outcome))?,
            }
            if outcome.status == RunStatus::Interrupted {
                // What was approved and not applied is planned afresh (and guarded
                // again) by the app's next sync.
                let again = format!("usersync sync --app {}", outcome.app);
                interrupt::tell_how_to_resume(&outcome, &again);
                return Ok(Exit::Interrupted);
            }
            if matches!(outcome.status, RunStatus::Failed | RunStatus::Partial) {
                anyhow::bail!(
                    "run {run_id} ended {}: {}",
                    outcome.status,
                    outcome.reasons.join("; ")
                );
            }
        }
        RunCommand::Reject { run_id } => {
            held_run(store, RunId(run_id), "rejected").await?;
            let run = engine::reject(&deps, RunId(run_id), &actor()).await?;
            output::print(&format!(
                "run {} rejected; none of its pending operations will be applied\n",
                run.id
            ));
        }
    }
    Ok(Exit::Ok)
}

async fn list(
    store: &Store,
    app: Option<String>,
    status: Option<RunStatus>,
    limit: u32,
    format: Format,
) -> anyhow::Result<()> {
    let app = match app {
        Some(name) => Some(app_named(store, &name).await?.id),
        None => None,
    };
    let filter = RunFilter {
        app,
        status,
        trigger: None,
    };
    let runs = store.list_runs(&filter, limit).await?;
    match format {
        Format::Json => {
            let names = app_names(store).await?;
            let views: Vec<RunView> = runs
                .iter()
                .map(|run| run_view(run, &app_label(&names, run.app_id)))
                .collect();
            json::print_list("runs", &views)?;
        }
        Format::Text if runs.is_empty() => output::print("no runs\n"),
        Format::Text => output::print(&list_table(store, &runs).await?.render()),
    }
    Ok(())
}

/// The run, or an error that says how to find the right number.
async fn run_numbered(store: &Store, id: RunId) -> anyhow::Result<Run> {
    match store.get_run(id).await {
        Err(usersync_store::StoreError::NotFound { .. }) => {
            anyhow::bail!("there is no run {id}; `usersync run list` shows the recent runs")
        }
        other => Ok(other?),
    }
}

/// The run when it is held; otherwise an error saying what state it is in.
async fn held_run(store: &Store, id: RunId, verb: &str) -> anyhow::Result<Run> {
    let run = run_numbered(store, id).await?;
    if run.status != RunStatus::Held {
        anyhow::bail!(
            "run {id} cannot be {verb}: its status is {}, and only held runs wait for a decision; \
             `usersync run list --status held` lists the held runs",
            run.status
        );
    }
    Ok(run)
}

/// Every app's name by id, for listing runs of many apps.
async fn app_names(store: &Store) -> anyhow::Result<HashMap<AppId, String>> {
    Ok(store
        .list_apps()
        .await?
        .into_iter()
        .map(|a| (a.id, a.name))
        .collect())
}

/// An app's name, or `app ID` for a run whose app was deleted.
fn app_label(names: &HashMap<AppId, String>, id: AppId) -> String {
    names
        .get(&id)
        .cloned()
        .unwrap_or_else(|| format!("app {id}"))
}

async fn app_name(store: &Store, id: AppId) -> String {
    store
        .get_app(id)
        .await
        .map_or_else(|_| format!("app {id}"), |a| a.name)
}

async fn list_table(store: &Store, runs: &[Run]) -> anyhow::Result<Table> {
    let mut table = Table::new([
        "run", "app", "trigger", "sync", "status", "started", "applied", "failed", "reason",
    ]);
    for run in runs {
        let applied: u64 = run.counts.values().map(|c| c.applied).sum();
        let failed: u64 = run.counts.values().map(|c| c.failed).sum();
        let mut reason = run.reason.clone().unwrap_or_default();
        if reason.chars().count() > 60 {
            reason = format!("{}...", reason.chars().take(57).collect::<String>());
        }
        table.row([
            run.id.to_string(),
            app_name(store, run.app_id).await,
            run.trigger.to_string(),
            run.sync_kind
                .map_or_else(|| "-".to_owned(), |k| k.to_string()),
            run.status.to_string(),
            run.started_at.format("%Y-%m-%d %H:%M:%S").to_string(),
            applied.to_string(),
            failed.to_string(),
            reason,
        ]);
    }
    Ok(table)
}

async fn show(store: &Store, id: RunId, format: Format) -> anyhow::Result<()> {
    let run = run_numbered(store, id).await?;
    let ops = store.run_operations(id).await?;
    if format == Format::Json {
        #[derive(serde::Serialize)]
        struct Shown {
            run: RunView,
            operations: Vec<OperationView>,
        }
        let app = app_name(store, run.app_id).await;
        json::print(&Shown {
            run: run_view(&run, &app),
            operations: ops.iter().map(operation_view).collect(),
        })?;
        return Ok(());
    }
    let mut out = format!(
        "run {} of {} ({} trigger)\nstatus: {}\nstarted: {}\n",
        run.id,
        app_name(store, run.app_id).await,
        run.trigger,
        run.status,
        output::time(run.started_at)
    );
    if let (Some(end), Some(took)) = (run.finished_at, run.duration()) {
        out.push_str(&format!(
            "finished: {} (took {})\n",
            output::time(end),
            output::duration(took)
        ));
    }
    if let Some(kind) = run.sync_kind {
        let why = run.sync_kind_reason.as_deref().unwrap_or_default();
        out.push_str(&format!("sync: {kind} ({why})\n"));
    }
    if let Some(reason) = &run.reason {
        out.push_str(&format!("reason: {reason}\n"));
    }
    if let Some(by) = &run.decided_by {
        let when = run.decided_at.map(output::time).unwrap_or_default();
        out.push_str(&format!("decided by: {by} {when}\n"));
    }
    if !run.counts.is_empty() {
        out.push('\n');
        out.push_str(&counts_table(&run.counts).render());
    }
    out.push('\n');
    if ops.is_empty() {
        out.push_str("no operations\n");
    } else {
        let mut table = Table::new(["seq", "kind", "subject", "outcome", "rule", "error"]);
        for op in &ops {
            table.row([
                op.seq.to_string(),
                op.kind.clone(),
                op.subject.clone(),
                op.outcome.to_string(),
                op.rule.clone(),
                op.error.clone().unwrap_or_default(),
            ]);
        }
        out.push_str(&table.render());
    }
    if run.status == RunStatus::Held {
        out.push_str(&format!(
            "\nthis run is held: `usersync run approve {id}` or `usersync run reject {id}`\n"
        ));
    }
    output::print(&out);
    Ok(())
}
