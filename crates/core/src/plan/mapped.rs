//! Memberships from explicit group-mapping rules (`policy.group_map`): members of the
//! mapped Okta groups are added to the rule's target group, typically an existing
//! product group such as `jira-software-users` that many Okta groups feed.
//!
//! Such a group has members usersync did not put there (administrators, other
//! directories, the product's own defaults), so it removes only the memberships it
//! remembers adding ([`crate::links::Links::mapped`]), and only when every Okta group
//! mapped to the group was read: a member of an unread group is not proof of absence.
//! Target groups are never created or deleted here: a missing one is a note.

use std::collections::HashMap;

use compact_str::CompactString;

use crate::ids::GroupName;
use crate::mapping::MappedRule;
use crate::plan::context::Context;
use crate::plan::groups::DefaultAdds;
use crate::plan::ops::{Op, Rule};
use crate::plan::output::Output;
use crate::plan::users::Managed;

/// Plans every mapped target group's adds and removals; adds are also put in
/// `default_adds` so the default-group pass does not plan them twice.
pub(crate) fn plan_mapped(
    ctx: &Context<'_>,
    managed: &Managed<'_>,
    default_adds: &mut DefaultAdds,
    out: &mut Output,
) {
    for (name, rules) in ctx.policy.group_map().by_target() {
        let Some(group) = ctx.target_groups.get(name) else {
            if !managed.users.is_empty() {
                out.notes.push(format!(
                    "group_map: target group {name} does not exist in the target; create it there (usersync adds members to existing groups only)"
                ));
            }
            continue;
        };
        if group.managed_elsewhere {
            out.notes.push(format!(
                "group_map: target group {name} is in a read-only directory; its mapped memberships are not synced"
            ));
            continue;
        }
        plan_group(ctx, managed, &group.name, &rules, default_adds, out);
    }
}

fn plan_group(
    ctx: &Context<'_>,
    managed: &Managed<'_>,
    group: &GroupName,
    rules: &[&MappedRule],
    default_adds: &mut DefaultAdds,
    out: &mut Output,
) {
    // The first rule (in policy order) that puts each managed user in the group.
    let mut desired: HashMap<u32, CompactString> = HashMap::new();
    let mut all_read = true;
    for rule in rules {
        let Some(&at) = ctx.okta_groups.get(&rule.okta_group_id) else {
            all_read = false;
            out.notes.push(format!(
                "group_map[{}]: Okta group {} ({:?}) was not among the Okta groups read: check its id, and that its type is in scope.group_types; no one leaves {group} until it is read",
                rule.index, rule.okta_group_id, rule.okta_group_name
            ));
            continue;
        };
        let okta = &ctx.desired.groups[at];
        let text = CompactString::from(format!(
            "group_map[{}]: Okta group {:?} ({}) -> {group}",
            rule.index, okta.name, okta.id
        ));
        let members = ctx.desired.memberships.get(&okta.id).into_iter().flatten();
        for i in members.filter_map(|id| managed.by_okta.get(id).copied()) {
            desired.entry(i).or_insert_with(|| text.clone());
        }
    }
    let current: Vec<u32> = ctx
        .current
        .memberships
        .get(group)
        .into_iter()
        .flatten()
        .filter_map(|n| managed.by_current_name.get(n.folded()).copied())
        .collect();
    let mut adds: Vec<u32> = desired
        .keys()
        .copied()
        .filter(|i| !current.contains(i) && ctx.in_plan(managed.users[*i as usize].okta_id))
        .collect();
    adds.sort_unstable_by_key(|&i| managed.rank[i as usize]);
    for i in adds {
        let user = &managed.users[i as usize];
        default_adds.insert((group.clone(), user.username.clone()));
        let rule = Rule::GroupMap {
            rule: desired[&i].as_str().into(),
            okta_user: Box::new(user.okta_id.clone()),
        };
        let op = Op::AddMember {
            group: group.clone(),
            username: user.username.clone(),
        };
        out.push(op, rule);
    }
    if !all_read || ctx.policy.default_groups_all_users().contains(group) {
        return;
    }
    let tracked = ctx.links.mapped.get(group);
    let mut removes: Vec<u32> = current
        .into_iter()
        .filter(|i| !desired.contains_key(i))
        .filter(|&i| {
            let id = managed.users[i as usize].okta_id;
            tracked.is_some_and(|t| t.contains(id)) && ctx.in_plan(id)
        })
        .collect();
    removes.sort_unstable_by_key(|&i| managed.rank[i as usize]);
    for i in removes {
        let user = &managed.users[i as usize];
        let rule = Rule::GroupMapLeft {
            group: group.as_str().into(),
            okta_user: Box::new(user.okta_id.clone()),
        };
        let op = Op::RemoveMember {
            group: group.clone(),
            username: user.username.clone(),
        };
        out.push(op, rule);
    }
}
