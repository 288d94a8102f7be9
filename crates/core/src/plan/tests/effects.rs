//! What ops do beyond the target: their apply stage, and the identity links the
//! engine records and the simulator previews.

use pretty_assertions::assert_eq;

use super::{World, gid, group, name, uid};
use crate::ids::TargetUserKey;
use crate::links::{GroupLink, LinkChange, UserLink, link_change};
use crate::plan::{NewAccount, Op, OpKind};
use crate::snapshot::OktaStatus::Active;

#[test]
fn stages_follow_the_dependency_order_of_the_kinds_and_each_stage_is_used() {
    let stages: Vec<usize> = OpKind::ALL.iter().map(|k| k.stage()).collect();
    assert!(stages.windows(2).all(|w| w[0] <= w[1]), "{stages:?}");
    let used: std::collections::BTreeSet<usize> = stages.into_iter().collect();
    assert_eq!(used, (0..OpKind::STAGES).collect());
}

#[test]
fn memberships_run_after_user_creation_and_before_deactivation() {
    assert!(OpKind::CreateUser.stage() < OpKind::AddMember.stage());
    assert!(OpKind::CreateGroup.stage() < OpKind::AddMember.stage());
    assert!(OpKind::RemoveMember.stage() < OpKind::DeactivateUser.stage());
    assert!(OpKind::DeleteUser.stage() < OpKind::DeleteGroup.stage());
}

#[test]
fn a_created_user_is_linked_with_the_key_the_target_gave() {
    let op = Op::CreateUser {
        okta_id: uid("u1"),
        username: name("ann"),
        account: Box::new(NewAccount {
            display_name: "Ann".into(),
            email: None,
            active: true,
        }),
    };
    let key = TargetUserKey::parse("JIRAUSER1").unwrap();
    let change = link_change(&op, &World::new().links, Some(key.clone()), true);
    assert_eq!(
        change,
        Some(LinkChange::SetUser(UserLink {
            okta_id: uid("u1"),
            target_key: Some(key),
            username: name("ann"),
            read_only: false,
        }))
    );
}

#[test]
fn a_rename_keeps_the_target_key_of_the_link() {
    let mut world = World::new().link_user("u1", "ann");
    let key = TargetUserKey::parse("JIRAUSER1").unwrap();
    world.links.users.get_mut(&uid("u1")).unwrap().target_key = Some(key.clone());
    let op = Op::RenameUser {
        okta_id: uid("u1"),
        from: Box::new(name("ann")),
        to: name("anna"),
    };
    let Some(LinkChange::SetUser(link)) = link_change(&op, &world.links, None, true) else {
        panic!("a rename moves the user link");
    };
    assert_eq!((link.target_key, link.username), (Some(key), name("anna")));
}

#[test]
fn a_created_group_is_owned_only_when_the_run_could_see_it_was_missing() {
    let op = Op::CreateGroup {
        okta_group_id: gid("g1"),
        name: group("eng"),
    };
    let links = World::new().links;
    for owned in [true, false] {
        assert_eq!(
            link_change(&op, &links, None, owned),
            Some(LinkChange::SetGroup(GroupLink {
                okta_id: gid("g1"),
                target_name: group("eng"),
                created_by_usersync: owned,
            }))
        );
    }
}

#[test]
fn memberships_and_status_changes_leave_the_links_alone() {
    let op = Op::AddMember {
        group: group("eng"),
        username: name("ann"),
    };
    assert_eq!(link_change(&op, &World::new().links, None, true), None);
}

#[test]
fn the_simulator_links_what_it_creates_and_unlinks_what_it_deletes() {
    let mut world = World::new().okta_user("u1", "ann@x.org", Active);
    world.converge();
    assert_eq!(world.links.users[&uid("u1")].username, name("ann"));
    world.okta.users.clear();
    world.policy.departed = crate::policy::DepartedPolicy::Delete;
    world.converge();
    assert!(world.links.users.is_empty());
}
