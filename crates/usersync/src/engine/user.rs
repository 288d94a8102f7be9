//! The single-user sync that login time uses: read just one user and their groups
//! from Okta (two requests: the user, then their groups), just that user's state
//! in the target, plan with `PlanScope::Users`, and apply.
//!
//! What does not depend on each other is read at the same time: the target's
//! checks (`prepared::check_target`) and the hold budget's figures run alongside
//! the Okta requests, and the user's links, target account and namesakes alongside
//! their groups. Only the group links the plan needs are read (those of the user's
//! groups and of the target names they map to), once the groups are known. The
//! plan waits for all of it, and for the checks, as every run's does.
//!
//! Its destructive ops count against the app's hold budget like any run's; once
//! the budget is spent they wait in the app's one held run (`engine::budget`).
//!
//! The source side is Okta (read by login or id), or, for usersync's SCIM server,
//! what Okta pushed ([`sync_pushed_user`]): the same plan, guard, budget and apply,
//! only the user and their groups come from the push instead of two Okta requests.
//!
//! The target's group list is not read, so a group this run creates may have
//! existed already (creation is idempotent); such groups are linked as not created
//! by usersync, so usersync never deletes them later on that basis.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use anyhow::Context as _;
use usersync_core::{
    Completeness, GroupLink, GroupName, Links, OktaGroup, OktaGroupId, OktaSnapshot, OktaUser,
    PlanScope, TargetSnapshot, TargetUserKey, Username,
};
use usersync_store::{App, RunId, RunTrigger};

use super::accounts::{AccountRead, mapped_username, read_accounts, target_names, target_view};
use super::budget::{self, Budget};
use super::lock::{Wait, start_claimed};
use super::namesakes::{self, Namesakes};
use super::prepared::{Connected, Prepared, check_target, connect_app};
use super::run::{execute_plan, find_app, finish};
use super::{Deps, EngineError, Mode, ReadStats, RunOutcome};

/// Syncs one user, found in Okta by login or id. Waits for a running sync of the
/// same app to finish first (logins queue rather than fail).
///
/// # Errors
/// [`EngineError`] when the app does not exist or the store fails; a run that
/// starts and fails (no such Okta user, unreachable target) is an `Ok` outcome
/// with status `failed`.
pub async fn sync_user(
    deps: &Deps,
    app_name: &str,
    login: &str,
    trigger: RunTrigger,
) -> Result<RunOutcome, EngineError> {
    sync_one(deps, app_name, Source::Okta(login), trigger).await
}

/// A user as Okta pushed them to usersync's SCIM server: the source side of a
/// single-user run in place of reading Okta.
#[derive(Debug, Clone)]
pub struct PushedUser {
    /// The user (`status` inactive when Okta deactivated or deleted them).
    pub user: OktaUser,
    /// The pushed groups the user is a member of.
    pub groups: Vec<OktaGroup>,
    /// Pushed groups the user is not (or no longer) a member of that the plan must
    /// know, so it removes the user from them (a group push's removals, a deleted group).
    pub not_member_of: Vec<OktaGroup>,
}

/// Syncs one user from what Okta pushed (see [`PushedUser`]), through the same
/// plan, guard, hold budget and apply as [`sync_user`]; recorded as a run.
///
/// # Errors
/// As [`sync_user`].
pub async fn sync_pushed_user(
    deps: &Deps,
    app_name: &str,
    pushed: &PushedUser,
    trigger: RunTrigger,
) -> Result<RunOutcome, EngineError> {
    sync_one(deps, app_name, Source::Pushed(pushed), trigger).await
}

/// Where a single-user run's source side comes from.
#[derive(Clone, Copy)]
pub(crate) enum Source<'a> {
    /// Read from Okta by login or id.
    Okta(&'a str),
    Pushed(&'a PushedUser),
}

async fn sync_one(
    deps: &Deps,
    app_name: &str,
    source: Source<'_>,
    trigger: RunTrigger,
) -> Result<RunOutcome, EngineError> {
    let app = find_app(deps, app_name).await?;
    let claim = start_claimed(deps, &app, trigger, Wait::Yes).await?;
    let started = Instant::now();
    let run = claim.run;
    let (deps, _live) = &super::live::recording(deps, run);
    let mut outcome = RunOutcome::new(&app.name, Some(run), Mode::Apply);
    let result = user_run(deps, &app, run, source, &mut outcome).await;
    finish(deps, outcome, result, started).await
}

/// Connects, then checks the target, reads the user and reads the hold budget's
/// figures at the same time (none needs another), and plans once all are in.
async fn user_run(
    deps: &Deps,
    app: &App,
    run: RunId,
    source: Source<'_>,
    outcome: &mut RunOutcome,
) -> anyhow::Result<()> {
    let connected = connect_app(deps, app).await?;
    let (me, read, budget) = tokio::join!(
        check_target(app, &connected),
        read_one_user(deps, app, &connected, source),
        budget::user_budget(deps, app),
    );
    outcome.okta_rate_limits = connected.conns.okta.rate_limit_headroom();
    // The target's refusal first: it is what a run that checked first would say.
    let prepared = Prepared::new(connected, me?);
    user_work(deps, (app, run), &prepared, read?, budget?, outcome).await
}

/// Reads the Okta user by login or id.
async fn get_okta_user(okta: &usersync_okta::OktaClient, login: &str) -> anyhow::Result<OktaUser> {
    okta.get_user(login)
        .await
        .with_context(|| format!("reading the Okta user {login:?}"))?
        .ok_or_else(|| anyhow::anyhow!("Okta has no user with login or id {login:?}"))
}

/// Reads the groups of the Okta user `user` (found by `login`) as a one-user snapshot.
async fn read_okta_groups(
    okta: &usersync_okta::OktaClient,
    user: &OktaUser,
    login: &str,
) -> anyhow::Result<OktaSnapshot> {
    let groups = okta
        .user_groups(&user.id)
        .await
        .with_context(|| format!("reading the groups of Okta user {login:?}"))?;
    let mut completeness = Completeness::Complete;
    for problem in &groups.unusable {
        completeness.add_reason(format!("{problem}; it was left out"));
    }
    Ok(one_user_snapshot(user, groups.items, completeness))
}

/// What a single-user sync (and Explain) reads about one user, and where each fact
/// came from, in words for people.
pub(crate) struct OneUser {
    pub user: OktaUser,
    pub desired: OktaSnapshot,
    pub current: TargetSnapshot,
    pub links: Links,
    pub sources: Vec<String>,
    /// Okta requests sent for it.
    pub okta_requests: u64,
}

/// The time of day, as Explain tells when each fact was read.
pub(crate) fn clock() -> String {
    chrono::Utc::now().format("%H:%M:%S UTC").to_string()
}

/// The single-user reads: the Okta user and their groups, their links in the store,
/// their target account and its groups, and the Okta users who map to the same name.
/// Once the user is known, their groups are read alongside the rest
/// ([`read_user_side`]); the group links need the groups, so they come last.
pub(crate) async fn read_one_user(
    deps: &Deps,
    app: &App,
    connected: &Connected,
    source: Source<'_>,
) -> anyhow::Result<OneUser> {
    let okta = &connected.conns.okta;
    let before = okta.stats().requests;
    let user = match source {
        Source::Okta(login) => get_okta_user(okta, login).await?,
        Source::Pushed(p) => p.user.clone(),
    };
    let mut sources = vec![match source {
        Source::Okta(login) => {
            format!("Okta user {}: read by {login:?} at {}", user.login, clock())
        }
        Source::Pushed(p) => format!(
            "Okta user {} and {} group(s): pushed to usersync's SCIM server at {}",
            p.user.login,
            p.groups.len(),
            clock()
        ),
    }];
    let groups = async {
        match source {
            Source::Okta(login) => read_okta_groups(okta, &user, login).await,
            Source::Pushed(p) => Ok(pushed_snapshot(p)),
        }
    };
    let (desired, side) = tokio::join!(groups, read_user_side(deps, app, connected, &user, source));
    let mut desired = desired?;
    if let Source::Okta(_) = source {
        sources.push(format!(
            "Okta groups of the user: {} read at {}",
            desired.groups.len(),
            clock()
        ));
    }
    let UserSide {
        mut links,
        accounts,
        namesakes,
        sources: side_sources,
    } = side?;
    sources.extend(side_sources);
    if namesakes.asked_okta {
        sources.push(format!(
            "Okta users whose login maps to the same username: searched at {} ({} other found)",
            clock(),
            namesakes.found()
        ));
    }
    namesakes.add_to(&mut desired);
    links.groups = needed_group_links(deps, app, connected, &desired).await?;
    let current = target_view(connected, &links, accounts);
    Ok(OneUser {
        user,
        desired,
        current,
        links,
        sources,
        okta_requests: okta.stats().requests - before,
    })
}

/// A pushed user and their groups as a one-user snapshot: the groups they are not
/// (or no longer) a member of are in it too, without them, so the plan removes them.
fn pushed_snapshot(p: &PushedUser) -> OktaSnapshot {
    let mut desired = one_user_snapshot(&p.user, p.groups.clone(), Completeness::Complete);
    let others = p
        .not_member_of
        .iter()
        .filter(|g| !p.groups.iter().any(|m| m.id == g.id));
    desired.groups.extend(others.cloned());
    desired
}

/// What a single-user sync reads of a user besides their groups.
struct UserSide {
    /// The user links the plan can touch (no group links yet).
    links: Links,
    accounts: Vec<AccountRead>,
    namesakes: Namesakes,
    /// Where each fact came from, for Explain.
    sources: Vec<String>,
}

/// The user's links, their target account and the namesakes of their username.
/// Only the links this user's plan can touch: at 100,000 users, reading every link
/// would cost more than the rest of a login-time sync. The user's own link first (it
/// says what to look up in the target), then the links holding any name or key
/// found there.
async fn read_user_side(
    deps: &Deps,
    app: &App,
    connected: &Connected,
    user: &OktaUser,
    source: Source<'_>,
) -> anyhow::Result<UserSide> {
    let mut links = Links::default();
    let own = deps.store.user_links_touching(app.id, &user.id, &[], &[]);
    let mapped_members = deps.store.mapped_memberships(app.id, Some(&user.id));
    let (own, mapped_members) = tokio::try_join!(own, mapped_members)?;
    links.users = own.into_iter().map(|l| (l.okta_id.clone(), l)).collect();
    links.mapped = mapped_members;
    let mapped = mapped_username(connected, user);
    let among = match source {
        Source::Okta(_) => namesakes::Among::Okta,
        Source::Pushed(_) => namesakes::Among::Pushed { deps, app },
    };
    let mut sources = Vec::new();
    let accounts = read_accounts(
        connected,
        target_names(connected, user, &links),
        &mut sources,
    );
    let namesakes = namesakes::find(connected, user, mapped.as_ref(), &links, among);
    let (accounts, namesakes) = tokio::join!(accounts, namesakes);
    let accounts = accounts?;
    let mut names: Vec<Username> = accounts.iter().map(|(u, _)| u.username.clone()).collect();
    names.extend(mapped);
    let keys: Vec<TargetUserKey> = accounts.iter().filter_map(|(u, _)| u.key.clone()).collect();
    links.users = deps
        .store
        .user_links_touching(app.id, &user.id, &names, &keys)
        .await?
        .into_iter()
        .map(|l| (l.okta_id.clone(), l))
        .collect();
    sources.push(match links.users.get(&user.id) {
        Some(link) => format!(
            "Identity link in usersync's store: linked to {}{}",
            link.username,
            if link.read_only {
                ", remembered as read-only in the target"
            } else {
                ""
            }
        ),
        None => "Identity link in usersync's store: none for this user".to_owned(),
    });
    Ok(UserSide {
        links,
        accounts,
        namesakes,
        sources,
    })
}

/// The group links the plan of `desired`'s user needs: those of their Okta groups,
/// and those holding a target name the planner looks up for them (each group's
/// mapped name, the group-mapping rules' targets), so it sees which target groups
/// exist and who else claims one. Every other group link is another group's.
async fn needed_group_links(
    deps: &Deps,
    app: &App,
    connected: &Connected,
    desired: &OktaSnapshot,
) -> anyhow::Result<BTreeMap<OktaGroupId, GroupLink>> {
    let policy = &connected.policy;
    let ids: Vec<OktaGroupId> = desired.groups.iter().map(|g| g.id.clone()).collect();
    let mut names: Vec<GroupName> = desired
        .groups
        .iter()
        .filter_map(|g| policy.group_name(&g.name).ok())
        .collect();
    names.extend(policy.group_map().by_target().map(|(name, _)| name.clone()));
    let links = deps
        .store
        .group_links_touching(app.id, &ids, &names)
        .await?;
    Ok(links.into_iter().map(|l| (l.okta_id.clone(), l)).collect())
}

/// The single-user sync once read and checked: the Okta figures, then plan and apply.
async fn user_work(
    deps: &Deps,
    (app, run): (&App, RunId),
    prepared: &Prepared,
    one: OneUser,
    budget: Budget,
    outcome: &mut RunOutcome,
) -> anyhow::Result<()> {
    let OneUser {
        user,
        desired,
        current,
        links,
        okta_requests,
        ..
    } = one;
    outcome.okta = Some(ReadStats {
        users: 1,
        groups: desired.groups.len(),
        memberships: desired.groups.len(),
        requests: Some(okta_requests),
        complete: Some(desired.completeness.is_complete()),
        read_by: None,
    });
    let scope = PlanScope::user(user.id.clone());
    plan_and_execute_users(
        deps,
        (app, run),
        prepared,
        (&desired, &current, links),
        (scope, &budget),
        outcome,
    )
    .await
}

/// The last steps of a run over some users only (a single-user sync, a SCIM push, an
/// incremental cycle): the target's read figures, the plan of `scope` against the
/// user budget (`budget::user_budget`, with the destructive ops earlier runs left
/// waiting), then recording and applying it.
pub(crate) async fn plan_and_execute_users(
    deps: &Deps,
    (app, run): (&App, RunId),
    prepared: &Prepared,
    (desired, current, links): (&OktaSnapshot, &TargetSnapshot, Links),
    (scope, budget): (PlanScope, &Budget),
    outcome: &mut RunOutcome,
) -> anyhow::Result<()> {
    outcome.target = Some(ReadStats {
        users: current.users.len(),
        groups: current.groups.len(),
        memberships: current.memberships.values().map(BTreeSet::len).sum(),
        ..ReadStats::default()
    });
    let plan = prepared.plan_and_guard(desired, current, &links, scope.clone(), budget);
    let (plan, waiting) = budget::collect(deps, app, run, plan).await?;
    execute_plan(
        deps,
        app,
        Some(run),
        plan,
        links,
        &prepared.conns,
        &scope,
        outcome,
    )
    .await?;
    outcome.reasons.extend(waiting);
    Ok(())
}

fn one_user_snapshot(
    user: &OktaUser,
    groups: Vec<OktaGroup>,
    completeness: Completeness,
) -> OktaSnapshot {
    let memberships = groups
        .iter()
        .map(|g| (g.id.clone(), BTreeSet::from([user.id.clone()])))
        .collect();
    OktaSnapshot {
        users: vec![user.clone()],
        groups,
        memberships,
        completeness,
    }
}
