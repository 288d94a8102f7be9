//! Explicit group mapping (`policy.group_map`) into existing product groups.

use super::{World, ops, ops_with_rules};
use crate::policy::GroupMapRule;

fn rule(id: &str, name: &str, target: &str) -> GroupMapRule {
    GroupMapRule {
        okta_group_id: id.into(),
        okta_group_name: name.into(),
        target_group: target.into(),
    }
}

/// Alice in Engineering, Bob in Support, both mapped to `jira-software-users`, which
/// already has the administrator `root` and the unmanaged `carol`.
fn world() -> World {
    World::new()
        .synced_user("u1", "alice@x.org")
        .synced_user("u2", "bob@x.org")
        .synced_user("u3", "dave@x.org")
        .target_user("root", "Root", "root@x.org", true)
        .okta_group("g1", "Engineering", &["u1"])
        .okta_group("g2", "Support", &["u2"])
        .target_group("jira-software-users", &["root", "dave"])
        .policy(|p| {
            p.group_map = vec![
                rule("g1", "Engineering", "jira-software-users"),
                rule("g2", "Support", "jira-software-users"),
            ];
            p.scope.group_exclude = Some(".*".into());
        })
}

#[test]
fn members_of_several_okta_groups_are_added_to_one_existing_product_group_naming_the_rule() {
    let mut world = world();
    let plan = world.converge();
    assert_eq!(
        ops_with_rules(&plan),
        [
            "add alice to group jira-software-users [Group mapping group_map[0]: Okta group \"Engineering\" (g1) -> jira-software-users]",
            "add bob to group jira-software-users [Group mapping group_map[1]: Okta group \"Support\" (g2) -> jira-software-users]",
        ]
    );
    assert!(
        world.plan().is_empty(),
        "converged: {:?}",
        ops(&world.plan())
    );
    let tracked: Vec<&str> = world.links.mapped[&super::group("jira-software-users")]
        .iter()
        .map(|id| id.as_str())
        .collect();
    assert_eq!(
        tracked,
        ["u1", "u2"],
        "only what usersync added is remembered"
    );
}

#[test]
fn a_user_leaving_the_mapped_okta_groups_loses_only_a_membership_usersync_added() {
    let mut world = world();
    world.converge();
    // Bob and Dave (whose membership an administrator made) leave every mapped group:
    // Dave was never in one. Only Bob's membership, usersync's, is removed.
    world.okta.memberships.insert(super::gid("g2"), []);
    let plan = world.converge();
    assert_eq!(
        ops_with_rules(&plan),
        [
            "remove bob from group jira-software-users [Group mapping: usersync added this membership and the user is in no Okta group mapped to jira-software-users]"
        ]
    );
    let members = &world.target.memberships[&super::group("jira-software-users")];
    let names: Vec<&str> = members.iter().map(|u| u.as_str()).collect();
    assert_eq!(names, ["alice", "dave", "root"]);
    assert!(world.plan().is_empty());
}

#[test]
fn a_membership_that_existed_before_the_rule_is_never_removed() {
    let mut world = world().policy(|p| p.group_map.truncate(1));
    // Dave joins Engineering: he is already a member, so usersync adds nothing and
    // does not make the membership its own.
    world
        .okta
        .memberships
        .insert(super::gid("g1"), [super::uid("u1"), super::uid("u3")]);
    world.converge();
    world
        .okta
        .memberships
        .insert(super::gid("g1"), [super::uid("u1")]);
    assert!(world.plan().is_empty(), "{:?}", ops(&world.plan()));
}

#[test]
fn a_renamed_okta_group_keeps_its_rule_by_id_and_nobody_is_removed() {
    let mut world = world();
    world.converge();
    world.okta.groups[0].name = "Platform Engineering".into();
    let plan = world.plan();
    assert!(plan.is_empty(), "{:?}", ops(&plan));
    world
        .okta
        .memberships
        .insert(super::gid("g1"), [super::uid("u1"), super::uid("u3")]);
    assert_eq!(
        ops_with_rules(&world.plan()),
        Vec::<String>::new(),
        "dave is already a member"
    );
}

#[test]
fn an_unread_mapped_okta_group_removes_no_one_and_says_so() {
    let mut world = world();
    world.converge();
    world.okta.groups.retain(|g| g.id.as_str() != "g2");
    world.okta.memberships.remove_group(&super::gid("g2"));
    let plan = world.plan();
    assert!(plan.is_empty(), "{:?}", ops(&plan));
    assert!(
        plan.notes
            .iter()
            .any(|n| n.contains("group_map[1]: Okta group g2")
                && n.contains("no one leaves jira-software-users")),
        "{:?}",
        plan.notes
    );
}

#[test]
fn a_missing_target_group_is_a_note_and_a_mapped_group_is_not_also_synced_by_name() {
    let world = World::new()
        .synced_user("u1", "alice@x.org")
        .okta_group("g1", "confluence-users", &["u1"])
        .okta_group("g2", "Docs", &["u1"])
        .policy(|p| {
            p.group_map = vec![rule("g2", "Docs", "confluence-users")];
        });
    let plan = world.plan();
    assert!(
        !ops(&plan).iter().any(|o| o.contains("confluence-users")),
        "{:?}",
        ops(&plan)
    );
    assert!(
        plan.notes
            .iter()
            .any(|n| n.contains("target group confluence-users does not exist in the target")),
        "{:?}",
        plan.notes
    );
    assert!(
        plan.notes
            .iter()
            .any(|n| n.contains("\"confluence-users\" (g1) is not synced under its own name")),
        "{:?}",
        plan.notes
    );
}
