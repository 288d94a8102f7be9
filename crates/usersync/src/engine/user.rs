//! The single-user sync that login time uses: read just one user and their groups
//! from Okta (two requests: the user, then their groups), just that user's state
//! in the target, plan with `PlanScope::Users`, and apply.
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
use futures::StreamExt as _;
use usersync_core::{
    Completeness, GroupName, Links, OktaGroup, OktaSnapshot, OktaUser, PlanScope, TargetGroup,
    TargetSnapshot, TargetUser, TargetUserKey, Username,
};
use usersync_store::{App, RunId, RunTrigger};

use super::budget;
use super::lock::{Wait, start_claimed};
use super::namesakes;
use super::run::{Prepared, execute_plan, find_app, finish, prepare};
use super::{Deps, EngineError, Mode, ReadStats, RunOutcome};

/// One account found in the target, with its groups.
type AccountRead = (TargetUser, Vec<GroupName>);

/// Target accounts looked up at once.
const TARGET_LOOKUPS_IN_FLIGHT: usize = 8;

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

async fn user_run(
    deps: &Deps,
    app: &App,
    run: RunId,
    source: Source<'_>,
    outcome: &mut RunOutcome,
) -> anyhow::Result<()> {
    let prepared = prepare(deps, app).await?;
    let result = user_work(deps, app, run, source, &prepared, outcome).await;
    outcome.okta_rate_limits = prepared.conns.okta.rate_limit_headroom();
    result
}

/// Reads the Okta user (by login or id) and their groups as a one-user snapshot.
pub(crate) async fn read_okta_user(
    okta: &usersync_okta::OktaClient,
    login: &str,
) -> anyhow::Result<(OktaUser, OktaSnapshot)> {
    let user = okta
        .get_user(login)
        .await
        .with_context(|| format!("reading the Okta user {login:?}"))?
        .ok_or_else(|| anyhow::anyhow!("Okta has no user with login or id {login:?}"))?;
    let groups = okta
        .user_groups(&user.id)
        .await
        .with_context(|| format!("reading the groups of Okta user {login:?}"))?;
    let mut completeness = Completeness::Complete;
    for problem in &groups.unusable {
        completeness.add_reason(format!("{problem}; it was left out"));
    }
    let desired = one_user_snapshot(&user, groups.items, completeness);
    Ok((user, desired))
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

fn clock() -> String {
    chrono::Utc::now().format("%H:%M:%S UTC").to_string()
}

/// The single-user reads: the Okta user and their groups, their links in the store,
/// their target account and its groups, and the Okta users who map to the same name.
pub(crate) async fn read_one_user(
    deps: &Deps,
    app: &App,
    prepared: &Prepared,
    source: Source<'_>,
) -> anyhow::Result<OneUser> {
    let okta = &prepared.conns.okta;
    let before = okta.stats().requests;
    let (user, mut desired, mut sources) = match source {
        Source::Okta(login) => {
            let (user, desired) = read_okta_user(okta, login).await?;
            let sources = vec![
                format!("Okta user {}: read by {login:?} at {}", user.login, clock()),
                format!(
                    "Okta groups of the user: {} read at {}",
                    desired.groups.len(),
                    clock()
                ),
            ];
            (user, desired, sources)
        }
        Source::Pushed(p) => {
            let mut desired = one_user_snapshot(&p.user, p.groups.clone(), Completeness::Complete);
            let others = p
                .not_member_of
                .iter()
                .filter(|g| !p.groups.iter().any(|m| m.id == g.id));
            desired.groups.extend(others.cloned());
            let sources = vec![format!(
                "Okta user {} and {} group(s): pushed to usersync's SCIM server at {}",
                p.user.login,
                p.groups.len(),
                clock()
            )];
            (p.user.clone(), desired, sources)
        }
    };
    // Only the links this user's plan can touch: at 100,000 users, reading every
    // link would cost more than the rest of a login-time sync. The user's own link
    // and the group links first (they say what to look up in the target), then the
    // links holding any name or key found there.
    let mut links = deps
        .store
        .load_links_touching(app.id, &user.id, &[], &[])
        .await?;
    let current = read_target_user(prepared, &user, &links, &mut sources).await?;
    let mut names: Vec<Username> = current.users.iter().map(|u| u.username.clone()).collect();
    names.extend(mapped_username(prepared, &user));
    let keys: Vec<TargetUserKey> = current.users.iter().filter_map(|u| u.key.clone()).collect();
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
    let mapped = mapped_username(prepared, &user);
    let asked = okta.stats().requests;
    let among = match source {
        Source::Okta(_) => namesakes::Among::Okta,
        Source::Pushed(_) => namesakes::Among::Pushed { deps, app },
    };
    namesakes::add_namesakes(
        prepared,
        &user,
        mapped.as_ref(),
        &links,
        &mut desired,
        among,
    )
    .await;
    if okta.stats().requests > asked {
        sources.push(format!(
            "Okta users whose login maps to the same username: searched at {} ({} other found)",
            clock(),
            desired.users.len().saturating_sub(1)
        ));
    }
    Ok(OneUser {
        user,
        desired,
        current,
        links,
        sources,
        okta_requests: okta.stats().requests - before,
    })
}

async fn user_work(
    deps: &Deps,
    app: &App,
    run: RunId,
    source: Source<'_>,
    prepared: &Prepared,
    outcome: &mut RunOutcome,
) -> anyhow::Result<()> {
    let OneUser {
        user,
        desired,
        current,
        links,
        okta_requests,
        ..
    } = read_one_user(deps, app, prepared, source).await?;
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
        scope,
        outcome,
    )
    .await
}

/// The last steps of a run over some users only (a single-user sync, a SCIM push, an
/// incremental cycle): the target's read figures, the plan of `scope` against the
/// user budget with the destructive ops earlier runs left waiting, then recording
/// and applying it.
pub(crate) async fn plan_and_execute_users(
    deps: &Deps,
    (app, run): (&App, RunId),
    prepared: &Prepared,
    (desired, current, links): (&OktaSnapshot, &TargetSnapshot, Links),
    scope: PlanScope,
    outcome: &mut RunOutcome,
) -> anyhow::Result<()> {
    outcome.target = Some(ReadStats {
        users: current.users.len(),
        groups: current.groups.len(),
        memberships: current.memberships.values().map(BTreeSet::len).sum(),
        ..ReadStats::default()
    });
    let budget = budget::user_budget(deps, app).await?;
    let plan = prepared.plan_and_guard(desired, current, &links, scope.clone(), &budget);
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

/// The username the mapping gives `user`, when it is valid for the target.
pub(crate) fn mapped_username(prepared: &Prepared, user: &OktaUser) -> Option<Username> {
    prepared
        .conns
        .constraints()
        .username(&prepared.policy.map_login(&user.login))
        .ok()
}

/// The usernames under which `user` may be in the target: mapped and linked.
pub(crate) fn target_names(prepared: &Prepared, user: &OktaUser, links: &Links) -> Vec<Username> {
    let mut names: Vec<Username> = mapped_username(prepared, user).into_iter().collect();
    if let Some(link) = links.users.get(&user.id)
        && !names.contains(&link.username)
    {
        names.push(link.username.clone());
    }
    names
}

/// The target as far as this user is concerned: the user under their mapped and
/// linked usernames, their groups, the linked groups and the default groups.
async fn read_target_user(
    prepared: &Prepared,
    user: &OktaUser,
    links: &Links,
    sources: &mut Vec<String>,
) -> anyhow::Result<TargetSnapshot> {
    read_target_accounts(
        prepared,
        target_names(prepared, user, links),
        links,
        sources,
    )
    .await
}

/// The target as far as the accounts `names` are concerned: each found account with
/// its groups, plus the linked groups and the default groups (the single-user
/// sync's and the incremental cycle's view of the target). Each lookup is told in
/// `sources`, for Explain.
pub(crate) async fn read_target_accounts(
    prepared: &Prepared,
    names: Vec<Username>,
    links: &Links,
    sources: &mut Vec<String>,
) -> anyhow::Result<TargetSnapshot> {
    let target = &prepared.conns.target;
    let mut current = TargetSnapshot::default();
    let mut groups: BTreeSet<GroupName> = links
        .groups
        .values()
        .map(|l| l.target_name.clone())
        .collect();
    groups.extend(prepared.policy.default_groups_new_users().iter().cloned());
    groups.extend(prepared.policy.default_groups_all_users().iter().cloned());
    let mut memberships: BTreeMap<GroupName, BTreeSet<Username>> = BTreeMap::new();
    let unique: BTreeSet<Username> = names.into_iter().collect();
    // Accounts are looked up a few at a time: a cycle may ask for hundreds.
    let found: Vec<anyhow::Result<(Username, Option<AccountRead>)>> = futures::stream::iter(unique)
        .map(|name| async move {
            let Some(found) = target
                .find_user(&name)
                .await
                .with_context(|| format!("looking up {name} in the target"))?
            else {
                return Ok((name, None));
            };
            let groups = target
                .user_groups(&found.username)
                .await
                .with_context(|| format!("reading the groups of {name}"))?;
            Ok((name, Some((found, groups))))
        })
        .buffered(TARGET_LOOKUPS_IN_FLIGHT)
        .collect()
        .await;
    let mut seen = BTreeSet::new();
    for read in found {
        let (name, read) = read?;
        let Some((found, user_groups)) = read else {
            sources.push(format!(
                "Target account {name}: looked up at {}, not found",
                clock()
            ));
            continue;
        };
        sources.push(format!(
            "Target account {name}: looked up at {}, found with {} group(s)",
            clock(),
            user_groups.len()
        ));
        if !seen.insert(found.username.clone()) {
            continue;
        }
        for group in user_groups {
            memberships
                .entry(group.clone())
                .or_default()
                .insert(found.username.clone());
            groups.insert(group);
        }
        current.users.push(found);
    }
    current.groups = groups
        .into_iter()
        .map(|name| TargetGroup {
            name,
            managed_elsewhere: false,
        })
        .collect();
    current.memberships = memberships;
    Ok(current)
}
