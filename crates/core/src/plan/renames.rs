//! Okta group renames. Jira and Confluence Data Center cannot rename a group through
//! REST, so a linked group whose Okta name now maps to another target name is either
//! kept under its old name (`group_renames = keep`, the default; the plan says so)
//! or recreated: a group with the new name gets the members, and the old group is
//! deleted when usersync created it, or else only loses the synced members.
//!
//! Notes name the Okta group by id in parentheses, which `explain` uses to show a
//! user the notes about their groups.

use std::collections::HashMap;

use compact_str::CompactString;

use crate::ids::{GroupName, OktaGroupId};
use crate::links::GroupLink;
use crate::plan::context::Context;
use crate::plan::ops::{Op, Rule};
use crate::plan::output::Output;
use crate::plan::users::Managed;
use crate::policy::GroupRenames;
use crate::snapshot::OktaGroup;

/// The new target name of a linked group renamed in Okta, when it is to be
/// recreated under it; `None` (with a note when it was renamed) to keep the link's name.
pub(crate) fn recreate_as(
    ctx: &Context<'_>,
    group: &OktaGroup,
    link: &GroupLink,
    claimed: &HashMap<GroupName, &OktaGroupId>,
    out: &mut Output,
) -> Option<GroupName> {
    let new = ctx.policy.group_name(&group.name).ok()?;
    if new == link.target_name {
        return None;
    }
    let why = if ctx.policy.policy().group_renames == GroupRenames::Keep {
        format!(
            "{} is Keep: Jira and Confluence cannot rename groups",
            crate::app::labels::describe("policy.group_renames")
        )
    } else if !ctx.options.scope.is_full() {
        "a single-user sync never recreates groups; the next full sync does".to_owned()
    } else if claimed.contains_key(&new)
        || ctx
            .linked_groups
            .get(&new)
            .is_some_and(|id| **id != group.id)
    {
        format!("target group {new} already belongs to another Okta group")
    } else if ctx
        .target_groups
        .get(&new)
        .is_some_and(|g| g.managed_elsewhere)
    {
        format!("target group {new} is in a read-only directory")
    } else {
        return Some(new);
    };
    out.notes.push(format!(
        "Okta group {:?} ({}) was renamed in Okta to {new}; kept as {} ({why})",
        group.name, group.id, link.target_name
    ));
    None
}

/// The old group of a recreated one: deleted when usersync created it, otherwise
/// the managed users leave it (its other members stay).
pub(crate) fn retire(
    ctx: &Context<'_>,
    group: &OktaGroup,
    old: &GroupLink,
    new: &GroupName,
    managed: &Managed<'_>,
    out: &mut Output,
) {
    let Some(existing) = ctx
        .target_groups
        .get(&old.target_name)
        .filter(|g| !g.managed_elsewhere)
    else {
        return;
    };
    let rule = Rule::GroupRenamed {
        okta_group: group.name.as_str().into(),
        old_name: Box::new(CompactString::from(old.target_name.as_str())),
    };
    let head = format!(
        "Okta group {:?} ({}) was renamed in Okta to {new}; recreated as {new}",
        group.name, group.id
    );
    if old.created_by_usersync {
        out.notes.push(format!(
            "{head}, and {} (created by usersync) is deleted",
            existing.name
        ));
        let op = Op::DeleteGroup {
            okta_group_id: group.id.clone(),
            name: old.target_name.clone(),
        };
        out.push(op, rule);
        return;
    }
    out.notes.push(format!(
        "{head}; {} was not created by usersync, so it stays without the synced members",
        existing.name
    ));
    let members = ctx.current.memberships.get(&existing.name).into_iter();
    let mut leaving: Vec<u32> = members
        .flatten()
        .filter_map(|name| managed.by_current_name.get(name.folded()).copied())
        .collect();
    leaving.sort_unstable_by_key(|&i| managed.rank[i as usize]);
    for i in leaving {
        let op = Op::RemoveMember {
            group: existing.name.clone(),
            username: managed.users[i as usize].username.clone(),
        };
        out.push(op, rule.clone());
    }
}
