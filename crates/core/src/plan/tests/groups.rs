//! Scenarios for groups: creation and adoption, memberships, scope, naming,
//! default groups and deletion.

use pretty_assertions::assert_eq;

use super::{World, gid, ops, ops_with_rules};
use crate::plan::PlanScope;
use crate::snapshot::OktaGroupType;
use crate::snapshot::OktaStatus::Active;

#[test]
fn first_sync_creates_groups_users_memberships_and_new_user_default_groups() {
    let plan = World::new()
        .okta_user("u1", "alice@x.org", Active)
        .okta_group("g1", "devs", &["u1"])
        .target_group("jira-software-users", &[])
        .policy(|p| p.default_groups_new_users = vec!["jira-software-users".into()])
        .plan();
    assert_eq!(
        ops_with_rules(&plan),
        [
            "create group devs [Group from Okta group devs]",
            "create active user alice (alice Doe, alice@x.org) [Import Users: ACTIVE in Okta and missing in the target]",
            "add alice to group devs [Membership from Okta group devs]",
            "add alice to group jira-software-users [Default group for new users]",
        ]
    );
}

#[test]
fn an_existing_target_group_with_the_mapped_name_is_linked_not_created() {
    let plan = World::new()
        .okta_group("g1", "devs", &[])
        .target_group("Devs", &[])
        .plan();
    assert_eq!(ops(&plan), ["link existing group Devs to Okta group g1"]);
}

#[test]
fn memberships_change_only_for_managed_users_in_groups_from_okta() {
    let plan = World::new()
        .synced_user("u1", "alice@x.org")
        .synced_user("u2", "bob@x.org")
        .okta_group("g1", "devs", &["u2"])
        .link_group("g1", "devs", true)
        .target_group("devs", &["alice", "outsider"])
        .target_group("other", &["alice"])
        .plan();
    assert_eq!(
        ops_with_rules(&plan),
        [
            "add bob to group devs [Membership from Okta group devs]",
            "remove alice from group devs [Membership from Okta group devs]",
        ]
    );
}

#[test]
fn group_scope_follows_types_include_and_exclude() {
    let mut world = World::new()
        .okta_group("g1", "jira-devs", &[])
        .okta_group("g2", "jira-admins", &[])
        .okta_group("g3", "wiki-devs", &[])
        .okta_group("g4", "jira-app", &[])
        .policy(|p| {
            p.scope.group_include = Some("^jira-".into());
            p.scope.group_exclude = Some("admins$".into());
        });
    world.okta.groups[3].kind = OktaGroupType::AppGroup;
    assert_eq!(ops(&world.plan()), ["create group jira-devs"]);
    world.policy.scope.group_types.push(OktaGroupType::AppGroup);
    assert_eq!(
        ops(&world.plan()),
        ["create group jira-app", "create group jira-devs"]
    );
}

#[test]
fn group_names_are_rewritten_then_prefixed() {
    let plan = World::new()
        .okta_group("g1", "Engineering-Team", &[])
        .policy(|p| {
            p.group_naming.regex = "(.*)-Team".into();
            p.group_naming.replacement = "$1".into();
            p.group_naming.prefix = "okta-".into();
        })
        .plan();
    assert_eq!(ops(&plan), ["create group okta-Engineering"]);
}

#[test]
fn two_okta_groups_landing_on_one_target_name_sync_only_the_first_and_say_why() {
    let plan = World::new()
        .okta_group("g1", "devs", &[])
        .okta_group("g2", "DEVS", &[])
        .plan();
    assert_eq!(ops(&plan), ["create group devs"]);
    assert_eq!(
        plan.notes,
        [
            "Okta group \"DEVS\" (g2) is not synced: target group DEVS already belongs to Okta group g1"
        ]
    );
}

#[test]
fn default_groups_for_all_users_are_kept_and_never_removed() {
    let plan = World::new()
        .synced_user("u1", "alice@x.org")
        .synced_user("u2", "bob@x.org")
        .target_group("everyone", &["bob"])
        .okta_group("g1", "everyone", &[])
        .link_group("g1", "everyone", false)
        .policy(|p| p.default_groups_all_users = vec!["everyone".into()])
        .plan();
    assert_eq!(
        ops_with_rules(&plan),
        ["add alice to group everyone [Default group for all managed users]"]
    );
}

#[test]
fn a_missing_default_group_is_a_note_not_a_failure() {
    let plan = World::new()
        .okta_user("u1", "alice@x.org", Active)
        .policy(|p| p.default_groups_new_users = vec!["jira-software-users".into()])
        .plan();
    assert_eq!(
        ops(&plan),
        ["create active user alice (alice Doe, alice@x.org)"]
    );
    assert_eq!(
        plan.notes,
        [
            "default group jira-software-users does not exist in the target: create it there or remove it from the policy"
        ]
    );
}

#[test]
fn memberships_follow_a_rename_without_being_removed_and_re_added() {
    let mut world = World::new()
        .synced_user("u1", "alice@x.org")
        .okta_group("g1", "devs", &["u1"])
        .target_group("devs", &["alice"])
        .link_group("g1", "devs", true);
    world.okta.users[0].login = "alice2@x.org".into();
    assert_eq!(ops(&world.plan()), ["rename user alice to alice2"]);
}

#[test]
fn groups_are_deleted_only_when_configured_created_by_usersync_and_gone_from_okta() {
    let world = || {
        World::new()
            .target_group("made-by-us", &[])
            .link_group("g1", "made-by-us", true)
            .target_group("adopted", &[])
            .link_group("g2", "adopted", false)
    };
    assert!(world().plan().is_empty(), "never by default");
    let plan = world().policy(|p| p.delete_groups = true).plan();
    assert_eq!(
        ops_with_rules(&plan),
        ["delete group made-by-us [Delete groups: created by usersync and Okta group g1 is gone]"]
    );
    let mut single = world().policy(|p| p.delete_groups = true);
    single.options.scope = PlanScope::user(super::uid("u1"));
    assert!(single.plan().is_empty(), "never in a single-user plan");
    assert!(single.links.groups.contains_key(&gid("g1")));
}

#[test]
fn ops_come_by_kind_then_group_then_username_whatever_order_okta_lists_them_in() {
    let plan = World::new()
        .okta_user("u3", "Carol@x.org", Active)
        .okta_user("u1", "bob@x.org", Active)
        .okta_user("u2", "alice@x.org", Active)
        .okta_group("g2", "Zeta", &["u1", "u2", "u3"])
        .okta_group("g1", "alpha", &["u3", "u2"])
        .target_group("Beta-Default", &[])
        .target_group("zeta", &["bob"])
        .policy(|p| p.default_groups_all_users = vec!["Beta-Default".into()])
        .plan();
    assert_eq!(
        ops(&plan),
        [
            "link existing group zeta to Okta group g2",
            "create group alpha",
            "create active user alice (alice Doe, alice@x.org)",
            "create active user bob (bob Doe, bob@x.org)",
            "create active user Carol (Carol Doe, Carol@x.org)",
            "add alice to group alpha",
            "add Carol to group alpha",
            "add alice to group Beta-Default",
            "add bob to group Beta-Default",
            "add Carol to group Beta-Default",
            "add alice to group zeta",
            "add bob to group zeta",
            "add Carol to group zeta",
        ]
    );
}
