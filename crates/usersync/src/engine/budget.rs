//! The app's hold budget and its one held run, as the engine uses them.
//!
//! Destructive operations from every trigger of an app (scheduler, manual, API,
//! event hook, System Log polling, login, `sync-user`) count against one budget
//! over a rolling window (`limits.window_minutes`): [`budget`] reads what the app's
//! runs applied in it from the store (approvals excepted: an approval is the
//! administrator's decision) and the guard, in core, adds it to each plan's own.
//!
//! An app has at most one held run. A full plan supersedes it ([`supersede`]). A
//! single-user plan the guard holds either becomes the app's held run or, when
//! there is one, adds its destructive operations to it without duplicates
//! ([`collect`]) and applies the rest: events arriving one by one wait together in
//! one run for one decision, instead of one held run per event.

use anyhow::Context as _;
use chrono::Utc;
use usersync_core::{Guard, OpKind, Plan, PlannedOp, Spent};
use usersync_store::{App, RunId};

use super::Deps;
use super::record::{parse_payload, rows};

/// What the guard needs beyond the plan: what the window already spent, and for a
/// plan made from only some of the app's links, how many users the app manages.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Budget {
    pub spent: Spent,
    pub managed_users: Option<usize>,
}

impl Budget {
    /// No history: an approval's fresh plan (the approval is the decision).
    pub const NONE: Self = Self {
        spent: Spent::NOTHING,
        managed_users: None,
    };
}

/// What the app's runs applied within its window (see the module docs).
pub(crate) async fn spent(deps: &Deps, app: &App) -> anyhow::Result<Spent> {
    let minutes = app.policy.limits.window_minutes;
    if minutes == 0 {
        return Ok(Spent::NOTHING);
    }
    let since = Utc::now() - chrono::Duration::minutes(i64::from(minutes));
    let kinds: Vec<&str> = OpKind::ALL
        .iter()
        .filter(|k| k.is_destructive())
        .map(|k| k.as_str())
        .collect();
    let applied = deps.store.applied_since(app.id, since, &kinds).await?;
    let ops = applied
        .iter()
        .map(|o| parse_payload(&o.payload))
        .collect::<anyhow::Result<Vec<PlannedOp>>>()?;
    Ok(Spent::of(ops.iter().map(|p| &p.op)))
}

/// The budget of a full plan: what the window spent.
pub(crate) async fn budget(deps: &Deps, app: &App) -> anyhow::Result<Budget> {
    Ok(Budget {
        spent: spent(deps, app).await?,
        managed_users: None,
    })
}

/// The budget of a single-user plan: what the window spent, and the app's
/// managed users as the base of the percentage limit (the plan saw one user's links).
pub(crate) async fn user_budget(deps: &Deps, app: &App) -> anyhow::Result<Budget> {
    Ok(Budget {
        spent: spent(deps, app).await?,
        managed_users: Some(deps.store.count_user_links(app.id).await?),
    })
}

/// A full plan (from a complete read) replaces the app's held run: ends it
/// `superseded` with a reason naming `run`, and says so for this run's reasons.
pub(crate) async fn supersede(
    deps: &Deps,
    app: &App,
    run: RunId,
    plan: &Plan,
) -> anyhow::Result<Option<String>> {
    if plan.guard.is_partial() {
        // Its destructive ops were withheld: it cannot stand in for a held plan.
        return Ok(None);
    }
    let replaced = deps.store.supersede_held(app.id, run).await?;
    if replaced.is_empty() {
        return Ok(None);
    }
    let ids: Vec<String> = replaced.iter().map(ToString::to_string).collect();
    Ok(Some(format!(
        "this run's fresh plan supersedes held run {}",
        ids.join(", ")
    )))
}

/// For a single-user plan the guard held, when the app already has a held run:
/// adds the plan's destructive ops to that run, and gives back the plan without
/// them (to apply the rest) and the reason to report. Otherwise (not held, or no
/// held run yet: this run will be it) the plan is given back as it was.
pub(crate) async fn collect(
    deps: &Deps,
    app: &App,
    run: RunId,
    mut plan: Plan,
) -> anyhow::Result<(Plan, Option<String>)> {
    let Guard::Held { reasons } = &plan.guard else {
        return Ok((plan, None));
    };
    let Some(held) = deps.store.held_run(app.id).await? else {
        return Ok((plan, None));
    };
    let why = reasons.join("; ");
    let (waiting, rest): (Vec<PlannedOp>, Vec<PlannedOp>) =
        plan.ops.into_iter().partition(|p| p.op.is_destructive());
    let reason = format!(
        "{why}; destructive operations of later runs collect here too (the last from run {run}); \
         they wait for an administrator to approve or reject run {}",
        held.id
    );
    let added = deps
        .store
        .hold_more(held.id, &rows(&waiting, 1)?, &reason)
        .await
        .with_context(|| format!("adding operations to held run {}", held.id))?;
    tracing::info!(app = %app.name, %run, held = %held.id, added, "the hold budget is spent: destructive operations wait in the app's held run");
    plan.ops = rest;
    plan.guard = Guard::Proceed;
    Ok((
        plan,
        Some(format!(
            "{} destructive operations wait for an administrator to approve or reject run {} ({why})",
            waiting.len(),
            held.id
        )),
    ))
}
