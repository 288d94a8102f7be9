//! One incremental cycle: the changed users, read and planned through the same
//! plan -> guard -> apply path as every run.
//!
//! The cycle reads what changed since the app's checkpoint (`changes`), then reads
//! each changed user by id (or takes them fresh from the users filter) with all
//! their groups, and their accounts in the target, and plans with
//! `PlanScope::Users`: the planner, the guard, the hold budget and the executor are
//! the single-user sync's. Nothing is removed on the log's word: a user the log
//! says left a group keeps or loses it by the groups read for them now, and a user
//! the log says was deleted is departed only when reading them by id finds no one.
//! A user who cannot be read is left out of the plan's scope (and the read marked
//! incomplete, so the guard withholds every destructive op).

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Context as _;
use chrono::Utc;
use futures::StreamExt as _;
use usersync_core::{
    Completeness, Memberships, OktaGroup, OktaGroupId, OktaSnapshot, OktaUser, OktaUserId,
    PlanScope, Username,
};
use usersync_okta::OktaClient;
use usersync_store::{App, RunId};

use super::accounts::{mapped_username, read_target_accounts, target_names};
use super::changes::{Changes, CycleState, Reads, read_changes, seen_after};
use super::run::Prepared;
use super::{Deps, ReadStats, Stopped, namesakes};

/// Okta reads of changed users in flight at once.
const READS_IN_FLIGHT: usize = 8;

/// How a cycle ended.
pub(crate) enum Cycle {
    /// A group changed: the run must reconcile everything instead (nothing applied).
    Reconcile(String),
    /// Planned and executed; the checkpoint to commit if the run succeeded.
    Done(CycleState),
}

/// Runs one incremental cycle from `state` (see the module docs).
pub(crate) async fn incremental(
    deps: &Deps,
    app: &App,
    run: RunId,
    prepared: &Prepared,
    state: &CycleState,
    outcome: &mut super::RunOutcome,
) -> anyhow::Result<Cycle> {
    let started = Utc::now();
    let okta = &prepared.conns.okta;
    let before = okta.stats().requests;
    let types = prepared.policy.okta_query().group_types;
    let read = std::pin::pin!(read_changes(okta, state, started, &types, Reads::All));
    let changes = Stopped::unless(&deps.stop, "reading what changed in Okta", read).await??;
    if let Some(reason) = changes.reconcile_now {
        return Ok(Cycle::Reconcile(reason));
    }
    let since = started - deps.incremental_margin;
    let mut next = CycleState {
        since,
        seen: seen_after(changes.seen.clone(), since),
        full_due: None,
        ..state.clone()
    };
    if !changes.incomplete.is_empty() {
        next.full_due = Some(changes.incomplete.join("; "));
    }
    let (mut desired, ids) = read_users(okta, &changes).await;
    let links = deps.store.load_links(app.id).await?;
    let mut names: Vec<Username> = Vec::new();
    for id in &ids {
        match desired.users.iter().find(|u| &u.id == id) {
            Some(user) => names.extend(target_names(prepared, user, &links)),
            None => names.extend(links.users.get(id).map(|l| l.username.clone())),
        }
    }
    let current = read_target_accounts(prepared, names, &links, &mut Vec::new())
        .await
        .context("reading the changed users' accounts in the target")?;
    let scoped: Vec<OktaUser> = desired.users.clone();
    for user in &scoped {
        let mapped = mapped_username(prepared, user);
        namesakes::add_namesakes(
            prepared,
            user,
            mapped.as_ref(),
            &links,
            &mut desired,
            namesakes::Among::Okta,
        )
        .await;
    }
    let mut kept = BTreeSet::new();
    desired.users.retain(|u| kept.insert(u.id.clone()));
    outcome.okta = Some(ReadStats {
        users: ids.len(),
        groups: desired.groups.len(),
        memberships: desired.memberships.total(),
        requests: Some(okta.stats().requests - before),
        complete: Some(desired.completeness.is_complete()),
        read_by: None,
    });
    let budget = super::budget::user_budget(deps, app).await?;
    super::user::plan_and_execute_users(
        deps,
        (app, run),
        prepared,
        (&desired, &current, links),
        (PlanScope::Users { ids }, &budget),
        outcome,
    )
    .await?;
    // After the plan's own status and reasons are set: a warning, not a failure.
    if let Some(why) = &next.full_due {
        outcome
            .reasons
            .push(format!("the next cycle is a full reconcile: {why}"));
    }
    Ok(Cycle::Done(next))
}

/// What one user's read found: the user and their groups, `None` when Okta has no
/// such user any more, or why they could not be read.
type UserRead = (
    OktaUserId,
    Result<Option<(OktaUser, Vec<OktaGroup>)>, String>,
);

/// Reads every changed user and their groups into one snapshot; gives back the
/// users the plan may act on (those read, found or confirmed gone).
async fn read_users(okta: &OktaClient, changes: &Changes) -> (OktaSnapshot, BTreeSet<OktaUserId>) {
    let reads: Vec<UserRead> = futures::stream::iter(changes.user_ids())
        .map(|id| async move {
            let listed = changes.listed.get(&id).cloned();
            let read = read_user(okta, &id, listed).await;
            (id, read)
        })
        .buffer_unordered(READS_IN_FLIGHT)
        .collect()
        .await;
    let mut desired = OktaSnapshot {
        users: Vec::new(),
        groups: Vec::new(),
        memberships: Memberships::new(),
        completeness: Completeness::Complete,
    };
    for problem in &changes.unusable {
        desired
            .completeness
            .add_reason(format!("{problem}; it was left out"));
    }
    let mut ids = BTreeSet::new();
    let mut groups = BTreeMap::new();
    let mut members: BTreeMap<OktaGroupId, Vec<OktaUserId>> = BTreeMap::new();
    for (id, read) in reads {
        match read {
            Ok(Some((user, user_groups))) => {
                for group in user_groups {
                    members
                        .entry(group.id.clone())
                        .or_default()
                        .push(user.id.clone());
                    groups.insert(group.id.clone(), group);
                }
                desired.users.push(user);
                ids.insert(id);
            }
            // Confirmed by reading the user: Okta has no such user.
            Ok(None) => {
                ids.insert(id);
            }
            // Out of the plan: unread is not absent.
            Err(why) => desired.completeness.add_reason(why),
        }
    }
    desired.memberships = members.into_iter().collect();
    // Groups the changed users left: without them no removal would be planned.
    for group in &changes.groups {
        groups
            .entry(group.id.clone())
            .or_insert_with(|| group.clone());
    }
    desired.groups = groups.into_values().collect();
    (desired, ids)
}

async fn read_user(
    okta: &OktaClient,
    id: &OktaUserId,
    listed: Option<OktaUser>,
) -> Result<Option<(OktaUser, Vec<OktaGroup>)>, String> {
    let user = match listed {
        Some(user) => user,
        None => match okta.get_user(id.as_str()).await {
            Ok(Some(user)) => user,
            Ok(None) => return Ok(None),
            Err(e) => return Err(format!("the changed user {id} could not be read: {e}")),
        },
    };
    match okta.user_groups(id).await {
        Ok(groups) if groups.unusable.is_empty() => Ok(Some((user, groups.items))),
        Ok(groups) => Err(format!(
            "the groups of user {id} could not all be understood: {}",
            groups.unusable.join("; ")
        )),
        Err(e) => Err(format!("the groups of user {id} could not be read: {e}")),
    }
}
