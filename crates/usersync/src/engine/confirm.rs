//! Absence is not proof: the confirmation step between a full run's plan and its
//! apply.
//!
//! Okta's listings are not snapshots. The user listing is ordered by status, so a
//! user whose status changes while it is paged can move behind the cursor and never
//! be listed, and the read still ends normally and looks complete; a member listing
//! read while a group is being edited can likewise come back short. So before a
//! full run deactivates or deletes a linked user because they are missing from the
//! listing (`Rule::Departed`), it reads that user by id, and before it removes
//! members from a group whose listing shrank sharply, it reads the group's members
//! again. What the confirmation finds goes into the snapshot and the plan is made
//! again from it; a confirmation that fails makes the snapshot incomplete, so the
//! guard withholds every destructive op.
//!
//! The requests stay few: departures are confirmed only when there are no more of
//! them than `limits.max_destructive` (with more, the guard holds the run anyway,
//! and an administrator decides), and at most [`MAX_GROUP_REREADS`] groups are read
//! again. Single-user runs need none of this: their user was read by id.

use std::collections::{BTreeMap, BTreeSet};

use usersync_core::{
    GroupName, Links, OktaGroupId, OktaSnapshot, OktaUserId, Op, Plan, PlanScope, Rule,
    TargetSnapshot,
};
use usersync_okta::OktaClient;

use super::budget::Budget;
use super::run::Prepared;

/// At most this many groups' members are read again in one run.
pub(crate) const MAX_GROUP_REREADS: usize = 5;

/// A group's listing "shrank sharply" when the plan removes at least this many of
/// its members...
const SHARP_SHRINK_MIN: usize = 2;
/// ...and at least this share (in percent) of the target group's members.
const SHARP_SHRINK_PERCENT: usize = 20;

/// Plans and guards a full run (or an approval's fresh plan, in the held run's
/// `scope`), confirming what the plan would take away on the strength of an
/// absence, and plans again when a confirmation changed the picture.
pub(crate) async fn plan_confirmed(
    prepared: &Prepared,
    desired: &mut OktaSnapshot,
    current: &TargetSnapshot,
    links: &Links,
    scope: PlanScope,
    budget: &Budget,
) -> Plan {
    let plan = prepared.plan_and_guard(desired, current, links, scope.clone(), budget);
    let okta = &prepared.conns.okta;
    let limit = prepared.policy.policy().limits.max_destructive as usize;
    let mut notes = confirm_departures(okta, desired, &plan, limit).await;
    notes.extend(reread_shrunk_groups(okta, desired, &plan, current, links).await);
    if notes.is_empty() {
        return plan;
    }
    // Freed before planning again: a first sync's plan is a million ops.
    drop(plan);
    let mut plan = prepared.plan_and_guard(desired, current, links, scope, budget);
    plan.notes.extend(notes);
    plan
}

/// The users the plan deactivates or deletes because the listing did not show them.
fn departures(plan: &Plan) -> Vec<&OktaUserId> {
    plan.ops
        .iter()
        .filter(|p| matches!(p.rule, Rule::Departed { .. }))
        .filter_map(|p| match &p.op {
            Op::DeactivateUser { okta_id, .. } | Op::DeleteUser { okta_id, .. } => Some(okta_id),
            _ => None,
        })
        .collect()
}

/// Reads each departing user by id; one Okta still has goes back into the snapshot.
/// Returns a note for each absence that was not what it seemed.
async fn confirm_departures(
    okta: &OktaClient,
    desired: &mut OktaSnapshot,
    plan: &Plan,
    limit: usize,
) -> Vec<String> {
    let gone = departures(plan);
    if gone.is_empty() || gone.len() > limit {
        return Vec::new();
    }
    let mut notes = Vec::new();
    for id in gone {
        match okta.get_user(id.as_str()).await {
            Ok(None) => {}
            Ok(Some(user)) => {
                notes.push(format!(
                    "Okta user {} ({id}) was missing from the user listing but is in Okta ({}): \
                     not treated as departed (the listing changed while it was read)",
                    user.login,
                    user.status.as_str()
                ));
                desired.users.push(user);
            }
            Err(err) => {
                let reason =
                    format!("could not confirm that Okta user {id} is gone from Okta: {err}");
                notes.push(reason.clone());
                desired.completeness.add_reason(reason);
            }
        }
    }
    notes
}

/// Reads again the members of the groups whose listing shrank sharply; a listing
/// that differs replaces the one in the snapshot.
async fn reread_shrunk_groups(
    okta: &OktaClient,
    desired: &mut OktaSnapshot,
    plan: &Plan,
    current: &TargetSnapshot,
    links: &Links,
) -> Vec<String> {
    let mut notes = Vec::new();
    for (okta_group, name) in shrunk_groups(plan, current, links) {
        match okta.list_group_members(&okta_group).await {
            Ok(members) => {
                let members: BTreeSet<OktaUserId> = members.into_iter().collect();
                let listed = desired.memberships.get(&okta_group);
                if !listed.is_some_and(|l| l.len() == members.len() && l.iter().eq(&members)) {
                    notes.push(format!(
                        "the members of Okta group {name} ({okta_group}) changed between two reads \
                         ({} then {}): the second read is used",
                        listed.map_or(0, |m| m.len()),
                        members.len()
                    ));
                    desired.memberships.insert(okta_group, members);
                }
            }
            Err(err) => {
                let reason = format!(
                    "could not read the members of Okta group {name} ({okta_group}) again \
                     to confirm removals: {err}"
                );
                notes.push(reason.clone());
                desired.completeness.add_reason(reason);
            }
        }
    }
    notes
}

/// The linked groups the plan removes many of their members from, most removals first.
fn shrunk_groups(
    plan: &Plan,
    current: &TargetSnapshot,
    links: &Links,
) -> Vec<(OktaGroupId, GroupName)> {
    let mut removals: BTreeMap<&GroupName, usize> = BTreeMap::new();
    for planned in &plan.ops {
        if let (Op::RemoveMember { group, .. }, Rule::MembershipFromOkta { .. }) =
            (&planned.op, &planned.rule)
        {
            *removals.entry(group).or_default() += 1;
        }
    }
    let mut sharp: Vec<(usize, &GroupName)> = removals
        .into_iter()
        .filter(|(group, removed)| {
            let before = current.memberships.get(*group).map_or(0, |m| m.len());
            *removed >= SHARP_SHRINK_MIN && removed * 100 >= before * SHARP_SHRINK_PERCENT
        })
        .map(|(group, removed)| (removed, group))
        .collect();
    sharp.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    sharp
        .into_iter()
        .filter_map(|(_, group)| {
            let link = links.groups.values().find(|l| &l.target_name == group)?;
            Some((link.okta_id.clone(), group.clone()))
        })
        .take(MAX_GROUP_REREADS)
        .collect()
}

#[cfg(test)]
mod tests {
    use usersync_core::{GroupLink, Guard, PlannedOp, Username};

    use super::*;

    fn group(name: &str) -> GroupName {
        GroupName::parse(name).unwrap()
    }

    /// A plan removing `removed` of the `members` members of each linked group named.
    fn world(shrinks: &[(&str, usize, usize)]) -> (Plan, TargetSnapshot, Links) {
        let mut plan = Plan {
            ops: Vec::new(),
            skipped: Vec::new(),
            guard: Guard::Proceed,
            notes: Vec::new(),
        };
        let (mut current, mut links) = (TargetSnapshot::default(), Links::default());
        for (i, (name, removed, members)) in shrinks.iter().enumerate() {
            let names: Vec<Username> = (0..*members)
                .map(|m| Username::parse(format!("u{m}")).unwrap())
                .collect();
            current
                .memberships
                .insert(group(name), names.iter().cloned().collect());
            for username in names.into_iter().take(*removed) {
                plan.ops.push(PlannedOp {
                    op: Op::RemoveMember {
                        group: group(name),
                        username,
                    },
                    rule: Rule::MembershipFromOkta {
                        okta_group: (*name).into(),
                    },
                });
            }
            let okta_id = OktaGroupId::parse(format!("00g{i}")).unwrap();
            let link = GroupLink {
                okta_id: okta_id.clone(),
                target_name: group(name),
                created_by_usersync: true,
            };
            links.groups.insert(okta_id, link);
        }
        (plan, current, links)
    }

    #[test]
    fn a_group_is_read_again_only_when_it_loses_two_members_and_a_fifth() {
        let (plan, current, links) = world(&[
            ("one-of-two", 1, 2),
            ("two-of-ten", 2, 10),
            ("two-of-eleven", 2, 11),
            ("three-of-four", 3, 4),
        ]);
        let names: Vec<String> = shrunk_groups(&plan, &current, &links)
            .into_iter()
            .map(|(_, g)| g.to_string())
            .collect();
        assert_eq!(names, ["three-of-four", "two-of-ten"]);
    }

    #[test]
    fn at_most_five_groups_are_read_again_the_most_shrunk_first() {
        let shrinks: Vec<(String, usize)> = (0..8).map(|i| (format!("g{i}"), 2 + i)).collect();
        let spec: Vec<(&str, usize, usize)> = shrinks
            .iter()
            .map(|(n, removed)| (n.as_str(), *removed, 10))
            .collect();
        let (plan, current, links) = world(&spec);
        let names: Vec<String> = shrunk_groups(&plan, &current, &links)
            .into_iter()
            .map(|(_, g)| g.to_string())
            .collect();
        assert_eq!(names, ["g7", "g6", "g5", "g4", "g3"]);
    }
}
