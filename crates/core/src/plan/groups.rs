//! Group planning: target groups for in-scope Okta groups, their memberships,
//! default groups, and (only when configured) deleting groups usersync created.
//!
//! Memberships are changed only in groups that come from Okta, and only for
//! managed users: other members of those groups, and every other group, are left
//! alone. A user is never removed from a default group for all managed users.

use std::collections::{HashMap, HashSet};

use compact_str::CompactString;

use crate::ids::{GroupName, OktaGroupId, Username};
use crate::links::GroupLink;
use crate::plan::context::Context;
use crate::plan::ops::{Op, Rule};
use crate::plan::output::Output;
use crate::plan::renames;
use crate::plan::users::Managed;
use crate::snapshot::OktaGroup;

/// Where an in-scope Okta group lands in the target.
struct GroupTarget<'a> {
    name: GroupName,
    /// The link to the old target group of an Okta group recreated after a rename.
    renamed_from: Option<&'a GroupLink>,
    /// Whether the target group exists now.
    exists: bool,
    /// The link or create op needed first, if any.
    setup: Option<Op>,
}

/// Membership adds already planned in default groups, so the default-group pass
/// does not plan them twice.
pub(crate) type DefaultAdds = HashSet<(GroupName, Username)>;

pub(crate) fn plan_groups(ctx: &Context<'_>, managed: &Managed<'_>, out: &mut Output) {
    let defaults: HashSet<&GroupName> = ctx
        .policy
        .default_groups_all_users()
        .iter()
        .chain(ctx.policy.default_groups_new_users())
        .collect();
    // Resolved in Okta's order (the first Okta group to claim a target name keeps it),
    // then planned in the order of the target names, which is the plan's order.
    let mut claimed: HashMap<GroupName, &OktaGroupId> = HashMap::new();
    let mut targets = Vec::new();
    for group in &ctx.desired.groups {
        if ctx.policy.group_scope(group).is_ok()
            && let Some(target) = resolve(ctx, group, &mut claimed, out)
        {
            targets.push((group, target));
        }
    }
    targets.sort_unstable_by(|a, b| a.1.name.cmp(&b.1.name));
    let mut default_adds = DefaultAdds::new();
    let mut stamps = Stamps::new(managed.users.len());
    for (group, target) in targets {
        member_changes(ctx, group, &target, managed, &mut stamps);
        let adds = !stamps.adds.is_empty();
        let okta_group = CompactString::from(group.name.as_str());
        if let Some(setup) = target.setup.filter(|_| adds || ctx.options.scope.is_full()) {
            let okta_group = okta_group.clone();
            out.push(setup, Rule::GroupFromOkta { okta_group });
        }
        let is_default = defaults.contains(&target.name);
        let rule = Rule::MembershipFromOkta { okta_group };
        for &i in &stamps.adds {
            let username = managed.users[i as usize].username.clone();
            if is_default {
                default_adds.insert((target.name.clone(), username.clone()));
            }
            let group = target.name.clone();
            out.push(Op::AddMember { group, username }, rule.clone());
        }
        for &i in &stamps.removes {
            let username = managed.users[i as usize].username.clone();
            let group = target.name.clone();
            out.push(Op::RemoveMember { group, username }, rule.clone());
        }
        if let Some(old) = target.renamed_from {
            renames::retire(ctx, group, old, &target.name, managed, out);
        }
    }
    crate::plan::mapped::plan_mapped(ctx, managed, &mut default_adds, out);
    plan_default_groups(ctx, managed, &default_adds, out);
    if ctx.options.scope.is_full() {
        plan_group_deletions(ctx, out);
    }
}

/// Finds or plans the target group of an Okta group; `None` (with a note) when it cannot be used.
fn resolve<'a>(
    ctx: &Context<'a>,
    group: &'a OktaGroup,
    claimed: &mut HashMap<GroupName, &'a OktaGroupId>,
    out: &mut Output,
) -> Option<GroupTarget<'a>> {
    let link = ctx.links.groups.get(&group.id);
    let recreated = link.and_then(|l| renames::recreate_as(ctx, group, l, claimed, out));
    let renamed_from = recreated.as_ref().and(link);
    let name = match (link, recreated) {
        (_, Some(new)) => new,
        (Some(link), None) => link.target_name.clone(),
        (None, None) => match ctx.policy.group_name(&group.name) {
            Ok(name) => name,
            Err(e) => {
                out.notes.push(format!(
                    "Okta group {:?} ({}) is not synced: its target name {e}",
                    group.name, group.id
                ));
                return None;
            }
        },
    };
    if ctx.policy.group_map().targets(&name) {
        out.notes.push(format!(
            "Okta group {:?} ({}) is not synced under its own name: target group {name} is the target of group_map rules",
            group.name, group.id
        ));
        return None;
    }
    let owner = ctx
        .linked_groups
        .get(&name)
        .copied()
        .filter(|&id| *id != group.id);
    if let Some(other) = claimed.get(&name).copied().or(owner) {
        out.notes.push(format!(
            "Okta group {:?} ({}) is not synced: target group {name} already belongs to Okta group {other}",
            group.name, group.id
        ));
        return None;
    }
    claimed.insert(name.clone(), &group.id);
    let existing = ctx.target_groups.get(&name);
    // Keep the target's own spelling of an existing group.
    let name = existing.map_or(name, |g| g.name.clone());
    if existing.is_some_and(|g| g.managed_elsewhere) {
        out.notes.push(format!(
            "target group {name} is in a read-only directory: memberships from Okta group {:?} are not synced",
            group.name
        ));
        return None;
    }
    let linked_here = link.is_some_and(|l| l.target_name == name);
    let setup = match (existing.is_some(), linked_here) {
        (true, true) => None,
        (true, false) => Some(Op::LinkGroup {
            okta_group_id: group.id.clone(),
            name: name.clone(),
        }),
        (false, _) => Some(Op::CreateGroup {
            okta_group_id: group.id.clone(),
            name: name.clone(),
        }),
    };
    Some(GroupTarget {
        name,
        renamed_from,
        exists: existing.is_some(),
        setup,
    })
}

/// Reusable per-group marks, indexed like [`Managed::users`]: a user is a current
/// (or desired) member of the group being planned when their stamp equals its
/// generation. Avoids a set allocation and string comparisons per group.
pub(crate) struct Stamps {
    generation: u32,
    current: Vec<u32>,
    desired: Vec<u32>,
    members: Vec<u32>,
    /// The managed users among the Okta group's members.
    found: Vec<u32>,
    /// The group's planned adds and removals (managed indexes), in username order.
    adds: Vec<u32>,
    removes: Vec<u32>,
}

impl Stamps {
    fn new(users: usize) -> Self {
        Self {
            generation: 0,
            current: vec![0; users],
            desired: vec![0; users],
            members: Vec::new(),
            found: Vec::new(),
            adds: Vec::new(),
            removes: Vec::new(),
        }
    }
}

/// Fills `stamps.adds` with managed members missing in the target group, and
/// `stamps.removes` with managed users the Okta group no longer has (never from a
/// default group for all users), each in username order.
fn member_changes(
    ctx: &Context<'_>,
    group: &OktaGroup,
    target: &GroupTarget<'_>,
    managed: &Managed<'_>,
    stamps: &mut Stamps,
) {
    stamps.generation += 1;
    let generation = stamps.generation;
    stamps.members.clear();
    stamps.adds.clear();
    stamps.removes.clear();
    if let Some(current) = ctx
        .current
        .memberships
        .get(&target.name)
        .filter(|_| target.exists)
    {
        let names = current.iter().map(|name| name.folded());
        stamps
            .members
            .extend(names.filter_map(|n| managed.by_current_name.get(n).copied()));
        for &i in &stamps.members {
            stamps.current[i as usize] = generation;
        }
    }
    // Lookups first, in a loop of nothing else: each misses the cache, and the CPU
    // overlaps independent misses only when no other work sits between them.
    let desired = ctx.desired.memberships.get(&group.id).into_iter().flatten();
    stamps.found.clear();
    stamps
        .found
        .extend(desired.filter_map(|id| managed.by_okta.get(id).copied()));
    let full = ctx.options.scope.is_full();
    for &i in &stamps.found {
        stamps.desired[i as usize] = generation;
        if stamps.current[i as usize] != generation
            && (full || ctx.in_plan(managed.users[i as usize].okta_id))
        {
            stamps.adds.push(i);
        }
    }
    stamps
        .adds
        .sort_unstable_by_key(|&i| managed.rank[i as usize]);
    if ctx.policy.default_groups_all_users().contains(&target.name) {
        return;
    }
    for &i in &stamps.members {
        let user = &managed.users[i as usize];
        if stamps.desired[i as usize] != generation && ctx.in_plan(user.okta_id) {
            stamps.removes.push(i);
        }
    }
    stamps
        .removes
        .sort_unstable_by_key(|&i| managed.rank[i as usize]);
}

/// Default groups: for new users, and for every managed user.
fn plan_default_groups(
    ctx: &Context<'_>,
    managed: &Managed<'_>,
    already: &DefaultAdds,
    out: &mut Output,
) {
    let all = ctx.policy.default_groups_all_users();
    let new = ctx.policy.default_groups_new_users();
    for group in all.iter().chain(new.iter().filter(|g| !all.contains(g))) {
        let for_all = all.contains(group);
        if !ctx.target_groups.contains_key(group) {
            if !managed.users.is_empty() {
                out.notes.push(format!(
                    "default group {group} does not exist in the target: create it there or remove it from the policy"
                ));
            }
            continue;
        }
        let current = ctx.current.memberships.get(group);
        let rule = if for_all {
            Rule::DefaultGroupAllUsers
        } else {
            Rule::DefaultGroupNewUsers
        };
        for user in &managed.users {
            let applies = for_all || user.current.is_none();
            let is_member = user
                .current
                .is_some_and(|n| current.is_some_and(|c| c.contains(n)));
            if !applies || is_member || !ctx.in_plan(user.okta_id) {
                continue;
            }
            if already.contains(&(group.clone(), user.username.clone())) {
                continue;
            }
            out.push(
                Op::AddMember {
                    group: group.clone(),
                    username: user.username.clone(),
                },
                rule.clone(),
            );
        }
    }
}

/// Groups usersync created whose Okta group is gone, when `delete_groups` is on.
fn plan_group_deletions(ctx: &Context<'_>, out: &mut Output) {
    if !ctx.policy.policy().delete_groups {
        return;
    }
    for (okta_id, link) in &ctx.links.groups {
        if ctx.okta_groups.contains_key(okta_id) || !link.created_by_usersync {
            continue;
        }
        if ctx
            .target_groups
            .get(&link.target_name)
            .is_some_and(|g| !g.managed_elsewhere)
        {
            let op = Op::DeleteGroup {
                okta_group_id: okta_id.clone(),
                name: link.target_name.clone(),
            };
            out.push(
                op,
                Rule::GroupGoneFromOkta {
                    okta_group: CompactString::from(okta_id.as_str()),
                },
            );
        }
    }
}
