//! Scenarios for Okta group renames: kept under the old name (the default) or
//! recreated under the new one.

use pretty_assertions::assert_eq;

use super::{World, ops_with_rules};
use crate::plan::PlanScope;
use crate::policy::GroupRenames;

/// Alice and Bob in Okta group g1, synced as `devs` (created by usersync when
/// `owned`), with `ops` an extra member of the target group; then g1 is renamed
/// `engineers` in Okta.
fn renamed(owned: bool) -> World {
    World::new()
        .synced_user("u1", "alice@x.org")
        .synced_user("u2", "bob@x.org")
        .okta_group("g1", "engineers", &["u1", "u2"])
        .target_group("devs", &["alice", "bob", "ops"])
        .link_group("g1", "devs", owned)
}

#[test]
fn a_renamed_group_is_kept_under_its_old_name_by_default_and_the_plan_says_so() {
    let plan = renamed(true).plan();
    assert!(plan.is_empty(), "{:?}", ops_with_rules(&plan));
    assert_eq!(
        plan.notes,
        [
            "Okta group \"engineers\" (g1) was renamed in Okta to engineers; kept as devs \
             (Groups renamed in Okta (Groups) is Keep: Jira and Confluence cannot rename groups)"
        ]
    );
}

#[test]
fn recreating_a_renamed_group_usersync_created_moves_the_members_and_deletes_the_old_one() {
    let mut world = renamed(true).policy(|p| p.group_renames = GroupRenames::Recreate);
    let plan = world.converge();
    assert_eq!(
        ops_with_rules(&plan),
        [
            "create group engineers [Group from Okta group engineers]",
            "add alice to group engineers [Membership from Okta group engineers]",
            "add bob to group engineers [Membership from Okta group engineers]",
            "delete group devs [Group renames (recreate): Okta group engineers was renamed; devs was its group]",
        ]
    );
    assert_eq!(
        plan.notes,
        [
            "Okta group \"engineers\" (g1) was renamed in Okta to engineers; recreated as \
          engineers, and devs (created by usersync) is deleted"
        ]
    );
    let link = &world.links.groups[&super::gid("g1")];
    assert_eq!(link.target_name.as_str(), "engineers");
    assert!(link.created_by_usersync, "the new group is usersync's own");
    let again = world.plan();
    assert!(again.is_empty(), "{:?}", ops_with_rules(&again));
    assert!(again.notes.is_empty(), "{:?}", again.notes);
}

#[test]
fn recreating_a_renamed_group_usersync_did_not_create_only_takes_the_synced_members_out() {
    let plan = renamed(false)
        .policy(|p| p.group_renames = GroupRenames::Recreate)
        .plan();
    let rule = "[Group renames (recreate): Okta group engineers was renamed; devs was its group]";
    assert_eq!(
        ops_with_rules(&plan),
        [
            "create group engineers [Group from Okta group engineers]".to_owned(),
            "add alice to group engineers [Membership from Okta group engineers]".to_owned(),
            "add bob to group engineers [Membership from Okta group engineers]".to_owned(),
            format!("remove alice from group devs {rule}"),
            format!("remove bob from group devs {rule}"),
        ]
    );
}

#[test]
fn a_single_user_sync_keeps_a_renamed_group_for_the_next_full_sync_to_recreate() {
    let mut world = renamed(true).policy(|p| p.group_renames = GroupRenames::Recreate);
    world.options.scope = PlanScope::user(super::uid("u1"));
    let plan = world.plan();
    assert!(plan.is_empty(), "{:?}", ops_with_rules(&plan));
    assert!(
        plan.notes[0].contains("the next full sync does"),
        "{:?}",
        plan.notes
    );
}
