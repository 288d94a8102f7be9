//! User planning: who is managed, under which username, and the user-level ops
//! (link, create, rename, update, reactivate, deactivate, delete).
//!
//! Users are resolved in two passes so collisions are judged over everyone: first
//! every Okta user's claim on a target username, then the ops of the claims that
//! stand. Only linked (or just adopted) users are ever changed.

use compact_str::CompactString;

use crate::fast_hash::FastMap;
use crate::ids::{OktaUserId, Username};
use crate::plan::context::Context;
use crate::plan::ops::{Change, NewAccount, Op, Rule, SkipReason, UserChanges};
use crate::plan::output::Output;
use crate::policy::DepartedPolicy;
use crate::scope::{StatusClass, status_class};
use crate::snapshot::{OktaUser, TargetUser};

/// A user usersync manages after this plan, for the membership pass.
pub(crate) struct ManagedUser<'a> {
    pub okta_id: &'a OktaUserId,
    /// The username once the plan is applied (after any rename or create).
    pub username: Username,
    /// The username in the current snapshot; `None` for users being created.
    pub current: Option<&'a Username>,
}

/// The managed users, densely indexed so the membership pass can join a million
/// memberships through integer stamps instead of string comparisons.
#[derive(Default)]
pub(crate) struct Managed<'a> {
    pub users: Vec<ManagedUser<'a>>,
    /// Keyed by an owned copy of the Okta id: ids are inline, so a probe compares
    /// bytes inside the table instead of following a pointer to the user (a cache
    /// miss per membership at a million memberships).
    pub by_okta: FastMap<OktaUserId, u32>,
    /// Keyed by the folded current target username, likewise owned.
    pub by_current_name: FastMap<CompactString, u32>,
    /// Each user's position in the order of their (final) usernames, case-folded:
    /// memberships are planned in that order, which is the plan's.
    pub rank: Vec<u32>,
}

impl<'a> Managed<'a> {
    fn with_capacity(users: usize) -> Self {
        let mut managed = Self::default();
        managed.users.reserve(users);
        managed.by_okta.reserve(users);
        managed.by_current_name.reserve(users);
        managed
    }

    fn add(&mut self, user: ManagedUser<'a>) {
        let index = u32::try_from(self.users.len()).unwrap_or(u32::MAX);
        self.by_okta.insert(user.okta_id.clone(), index);
        if let Some(current) = user.current {
            self.by_current_name
                .insert(CompactString::from(current.folded()), index);
        }
        self.users.push(user);
    }

    /// Fills [`Self::rank`] once every user is added.
    fn rank_usernames(&mut self) {
        let mut names: Vec<(CompactString, u32)> = self
            .users
            .iter()
            .zip(0u32..)
            .map(|(u, i)| (CompactString::from(u.username.folded()), i))
            .collect();
        names.sort_unstable();
        self.rank = vec![0; names.len()];
        for ((_, i), r) in names.into_iter().zip(0u32..) {
            self.rank[i as usize] = r;
        }
    }
}

/// How a user will exist in the target.
enum Claim<'a> {
    /// Already linked to this target user.
    Linked(&'a TargetUser),
    /// An unlinked target user with the mapped name, to adopt.
    Adopt(&'a TargetUser),
    /// Missing: create.
    Create,
}

struct Candidate<'a> {
    user: &'a OktaUser,
    username: Username,
    claim: Claim<'a>,
}

/// Plans every user-level op and returns who is managed afterwards.
pub(crate) fn plan_users<'a>(ctx: &Context<'a>, out: &mut Output) -> Managed<'a> {
    let mut candidates = Vec::with_capacity(ctx.desired.users.len());
    for user in &ctx.desired.users {
        if let Some(c) = resolve(ctx, user, out) {
            candidates.push(c);
        }
    }
    let rejected = collisions(ctx, &candidates, out);
    let mut managed = Managed::with_capacity(candidates.len());
    for (i, candidate) in candidates.into_iter().enumerate() {
        if !rejected[i] {
            emit(ctx, candidate, out, &mut managed);
        }
    }
    managed.rank_usernames();
    plan_departures(ctx, out);
    managed
}

/// Decides one Okta user's claim, or why they are left alone.
fn resolve<'a>(ctx: &Context<'a>, user: &'a OktaUser, out: &mut Output) -> Option<Candidate<'a>> {
    let in_plan = ctx.in_plan(&user.id);
    let skip = |out: &mut Output, reason: SkipReason| {
        if in_plan {
            out.skip(user, reason);
        }
    };
    let linked = ctx
        .links
        .users
        .get(&user.id)
        .and_then(|l| ctx.linked_target(l));
    if let Some(target) = linked
        && ctx.is_protected(&target.username)
    {
        let username = target.username.to_string();
        skip(out, SkipReason::Protected { username });
        return None;
    }
    let verdict = ctx.scope.verdict(user);
    if let Err(reason) = verdict {
        if let Some(target) = linked
            && in_plan
            && writable(ctx, &user.id, target)
        {
            depart(ctx, &user.id, target, Some(reason), out);
        }
        return None;
    }
    let importable = ctx.policy.is_importable(user.status);
    let mapped = ctx.policy.map_login(&user.login);
    let username = match ctx.options.constraints.username(&mapped) {
        Ok(u) => u,
        Err(problem) => {
            if linked.is_some() || importable {
                skip(
                    out,
                    SkipReason::InvalidUsername {
                        username: mapped,
                        problem,
                    },
                );
            }
            return None;
        }
    };
    if let Some(target) = linked {
        return resolve_linked(ctx, user, username, target, out)
            .map_err(|r| skip(out, r))
            .ok();
    }
    if ctx.is_protected(&username) {
        skip(
            out,
            SkipReason::Protected {
                username: username.to_string(),
            },
        );
        return None;
    }
    match ctx.target_by_name.get(&username).copied() {
        // A user who would not be imported claims no name: once another user's
        // account exists under it, that is not a collision (it was none before
        // the account was created, and a repeated sync must report the same).
        Some(existing) if !importable && ctx.owner_of(existing).is_some() => None,
        Some(existing) => resolve_existing(ctx, user, username, existing)
            .map_err(|r| skip(out, r))
            .ok(),
        None if importable && ctx.policy.policy().toggles.import_users => {
            if let Some(reason) = uniqueness_unknown(ctx, &username) {
                skip(out, reason);
                return None;
            }
            if ctx.options.constraints.requires_email && ctx.policy.email(user).is_none() {
                skip(
                    out,
                    SkipReason::NoEmail {
                        username: username.to_string(),
                    },
                );
                return None;
            }
            Some(Candidate {
                user,
                username,
                claim: Claim::Create,
            })
        }
        None => None,
    }
}

/// A linked user who keeps their target user, unless a rename would take someone else's name.
fn resolve_linked<'a>(
    ctx: &Context<'a>,
    user: &'a OktaUser,
    username: Username,
    target: &'a TargetUser,
    out: &mut Output,
) -> Result<Candidate<'a>, SkipReason> {
    // A user in a read-only directory cannot be renamed: they keep their name (and
    // their memberships are planned under it).
    let mut renaming = ctx.policy.policy().toggles.update_users
        && username != target.username
        && writable(ctx, &user.id, target);
    if renaming && let Some(why) = &ctx.uniqueness_unknown {
        // A rename needs the new name known unique; until a complete read shows it,
        // the user keeps their name and everything else about them goes on.
        if ctx.in_plan(&user.id) {
            out.notes.push(format!(
                "{}: the rename of {} to {username} waits for a complete Okta user listing ({why})",
                user.login, target.username
            ));
        }
        renaming = false;
    }
    if renaming && let Some(other) = ctx.target_by_name.get(&username) {
        let with = ctx.owner_of(other).map_or_else(
            || format!("existing target user {}", other.username),
            |id| ctx.describe(id),
        );
        return Err(SkipReason::Collision {
            username: username.to_string(),
            with,
        });
    }
    // With renames off the user keeps the name they have, and claims only that.
    let username = if renaming {
        username
    } else {
        target.username.clone()
    };
    Ok(Candidate {
        user,
        username,
        claim: Claim::Linked(target),
    })
}

/// An unlinked Okta user whose mapped name already exists in the target.
fn resolve_existing<'a>(
    ctx: &Context<'a>,
    user: &'a OktaUser,
    username: Username,
    existing: &'a TargetUser,
) -> Result<Candidate<'a>, SkipReason> {
    if let Some(reason) = hands_off(ctx, existing) {
        return Err(reason);
    }
    if let Some(owner) = ctx.owner_of(existing) {
        return Err(SkipReason::Collision {
            username: username.to_string(),
            with: ctx.describe(owner),
        });
    }
    if !ctx.policy.policy().adopt_existing {
        return Err(SkipReason::ExistsNotAdopted {
            username: username.to_string(),
        });
    }
    if let Some(reason) = uniqueness_unknown(ctx, &username) {
        return Err(reason);
    }
    Ok(Candidate {
        user,
        username,
        claim: Claim::Adopt(existing),
    })
}

/// Why a create or adoption under `username` must wait: only a complete Okta user
/// listing shows that no other Okta user maps to the same name.
fn uniqueness_unknown(ctx: &Context<'_>, username: &Username) -> Option<SkipReason> {
    ctx.uniqueness_unknown
        .as_ref()
        .map(|why| SkipReason::UniquenessUnknown {
            username: username.to_string(),
            why: why.clone(),
        })
}

/// Whether a linked user's attributes and state can be written: not when the target
/// has refused it for a read-only directory (remembered on the link) or reports it so.
fn writable(ctx: &Context<'_>, okta_id: &OktaUserId, target: &TargetUser) -> bool {
    let refused = ctx.links.users.get(okta_id).is_some_and(|l| l.read_only);
    !(refused || target.managed_elsewhere)
}

/// Target users usersync never changes.
fn hands_off(ctx: &Context<'_>, target: &TargetUser) -> Option<SkipReason> {
    let username = target.username.to_string();
    if ctx.is_protected(&target.username) {
        Some(SkipReason::Protected { username })
    } else if target.managed_elsewhere {
        Some(SkipReason::ManagedElsewhere { username })
    } else {
        None
    }
}

/// Marks every candidate that shares its username with another; a linked user who
/// already has the name keeps it, otherwise all claimants are skipped.
fn collisions(ctx: &Context<'_>, candidates: &[Candidate<'_>], out: &mut Output) -> Vec<bool> {
    let mut by_name: FastMap<&str, Vec<usize>> = FastMap::default();
    by_name.reserve(candidates.len());
    for (i, c) in candidates.iter().enumerate() {
        by_name.entry(c.username.folded()).or_default().push(i);
    }
    let mut rejected = vec![false; candidates.len()];
    for indexes in by_name.values().filter(|v| v.len() > 1) {
        let keeper = indexes.iter().copied().find(|&i| {
            matches!(candidates[i].claim, Claim::Linked(t) if t.username == candidates[i].username)
        });
        for &i in indexes {
            if Some(i) == keeper {
                continue;
            }
            rejected[i] = true;
            let others: Vec<String> = indexes
                .iter()
                .filter(|&&j| j != i && (keeper.is_none() || Some(j) == keeper))
                .map(|&j| ctx.describe(&candidates[j].user.id))
                .collect();
            let c = &candidates[i];
            if ctx.in_plan(&c.user.id) {
                let reason = SkipReason::Collision {
                    username: c.username.to_string(),
                    with: others.join(", "),
                };
                out.skip(c.user, reason);
            }
        }
    }
    rejected
}

/// The ops of one accepted candidate, and their entry in the managed set.
fn emit<'a>(ctx: &Context<'a>, c: Candidate<'a>, out: &mut Output, managed: &mut Managed<'a>) {
    let in_plan = ctx.in_plan(&c.user.id);
    let current = match c.claim {
        Claim::Create => {
            if in_plan {
                out.push(
                    create(ctx, c.user, &c.username),
                    Rule::ImportUsers {
                        status: c.user.status,
                    },
                );
            }
            None
        }
        Claim::Adopt(target) | Claim::Linked(target) => {
            if in_plan {
                if matches!(c.claim, Claim::Adopt(_)) {
                    let op = Op::LinkUser {
                        okta_id: c.user.id.clone(),
                        username: target.username.clone(),
                        key: target.key.clone().map(Box::new),
                    };
                    out.push(op, Rule::AdoptExisting);
                }
                update(ctx, c.user, &c.username, target, out);
                if !writable(ctx, &c.user.id, target) {
                    out.not_writable(c.user, &target.username);
                }
            }
            Some(&target.username)
        }
    };
    managed.add(ManagedUser {
        okta_id: &c.user.id,
        username: c.username,
        current,
    });
}

fn create(ctx: &Context<'_>, user: &OktaUser, username: &Username) -> Op {
    Op::CreateUser {
        okta_id: user.id.clone(),
        username: username.clone(),
        account: Box::new(NewAccount {
            display_name: ctx.policy.display_name(user),
            email: ctx.policy.email(user),
            active: status_class(user.status) == StatusClass::Active,
        }),
    }
}

/// Rename, attribute updates and status changes of an existing (linked or adopted) user.
fn update(
    ctx: &Context<'_>,
    user: &OktaUser,
    username: &Username,
    target: &TargetUser,
    out: &mut Output,
) {
    let toggles = ctx.policy.policy().toggles;
    if toggles.update_users {
        if *username != target.username {
            let op = Op::RenameUser {
                okta_id: user.id.clone(),
                from: Box::new(target.username.clone()),
                to: username.clone(),
            };
            out.push(op, Rule::UpdateUsers);
        }
        let changes = changes(ctx, user, target);
        if !changes.is_empty() {
            out.push(
                Op::UpdateUser {
                    okta_id: user.id.clone(),
                    username: username.clone(),
                    changes: Box::new(changes),
                },
                Rule::UpdateUsers,
            );
        }
    }
    if toggles.enable_disable_users {
        let rule = Rule::EnableDisableUsers {
            status: user.status,
        };
        let (okta_id, username) = (user.id.clone(), username.clone());
        match status_class(user.status) {
            StatusClass::Active if !target.active => {
                out.push(Op::ReactivateUser { okta_id, username }, rule)
            }
            StatusClass::Inactive if target.active => {
                out.push(Op::DeactivateUser { okta_id, username }, rule)
            }
            _ => {}
        }
    }
}

/// Display name and e-mail differences; a missing Okta e-mail never clears the target's, and
/// a target that does not report e-mail addresses is never sent one as a change.
fn changes(ctx: &Context<'_>, user: &OktaUser, target: &TargetUser) -> UserChanges {
    let display_name = ctx.policy.display_name(user);
    let email = ctx
        .policy
        .email(user)
        .filter(|_| ctx.options.constraints.reports_email);
    UserChanges {
        display_name: (display_name != target.display_name).then(|| Change {
            from: target.display_name.clone(),
            to: display_name,
        }),
        email: email
            .filter(|e| {
                target
                    .email
                    .as_ref()
                    .is_none_or(|t| t.as_str() != e.as_str())
            })
            .map(|e| Change {
                from: target.email.clone(),
                to: Some(e),
            }),
    }
}

/// Linked users missing from the Okta snapshot get the departed policy.
fn plan_departures(ctx: &Context<'_>, out: &mut Output) {
    for (okta_id, link) in &ctx.links.users {
        if ctx.okta_users.contains_key(okta_id) || !ctx.in_plan(okta_id) {
            continue;
        }
        let Some(target) = ctx.linked_target(link) else {
            continue;
        };
        if hands_off(ctx, target).is_some() || !writable(ctx, okta_id, target) {
            continue;
        }
        depart(ctx, okta_id, target, None, out);
    }
}

/// Applies the departed policy; `scope_exit` carries the reason when the user is
/// still in Okta but out of scope.
fn depart(
    ctx: &Context<'_>,
    okta_id: &OktaUserId,
    target: &TargetUser,
    scope_exit: Option<String>,
    out: &mut Output,
) {
    let policy = ctx.policy.policy().departed;
    let rule = match scope_exit {
        Some(reason) => Rule::ScopeExit { policy, reason },
        None => Rule::Departed { policy },
    };
    let (okta_id, username) = (okta_id.clone(), target.username.clone());
    match policy {
        DepartedPolicy::Deactivate if target.active => {
            out.push(Op::DeactivateUser { okta_id, username }, rule)
        }
        DepartedPolicy::Delete => out.push(Op::DeleteUser { okta_id, username }, rule),
        DepartedPolicy::Deactivate | DepartedPolicy::Keep => {}
    }
}
