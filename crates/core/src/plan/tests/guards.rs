//! Scenarios for the guards, ordering, the JSON form and idempotence.

use pretty_assertions::assert_eq;

use super::{World, ops, uid};
use crate::guard::Guard;
use crate::plan::{OpKind, Plan};
use crate::policy::DepartedPolicy;
use crate::snapshot::Completeness;
use crate::snapshot::OktaStatus::{Active, Deprovisioned, Suspended};

/// `n` synced users `user0..`, all members of the linked group `staff`.
fn team(n: usize) -> World {
    let mut world = World::new();
    let ids: Vec<String> = (0..n).map(|i| format!("u{i}")).collect();
    let names: Vec<String> = (0..n).map(|i| format!("user{i}")).collect();
    for i in 0..n {
        world = world.synced_user(&ids[i], &format!("{}@x.org", names[i]));
    }
    let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    world
        .okta_group("g1", "staff", &id_refs)
        .target_group("staff", &name_refs)
        .link_group("g1", "staff", true)
}

#[test]
fn an_incomplete_read_plans_no_destructive_op_and_no_create_and_says_why() {
    let mut world = team(3).okta_user("new", "newbie@x.org", Active);
    world.okta.users.retain(|u| u.id != uid("u0"));
    world.okta.users[0].status = Suspended;
    world
        .okta
        .memberships
        .remove_member(&super::gid("g1"), &uid("u2"));
    world
        .okta
        .completeness
        .add_reason("users page 3: HTTP 503 after 5 retries");
    let plan = world.plan();
    // The create waits too: whether `newbie` is unique needs the whole listing.
    assert!(ops(&plan).is_empty(), "{:?}", ops(&plan));
    assert_eq!(plan.skipped.len(), 1);
    assert_eq!(
        plan.guard,
        Guard::Partial {
            reasons: vec!["users page 3: HTTP 503 after 5 retries".into()],
            withheld: 3
        }
    );
}

#[test]
fn a_plan_with_more_destructive_ops_than_the_count_limit_is_held() {
    let mut world = team(40).policy(|p| {
        p.limits.max_destructive = 3;
        p.limits.max_destructive_percent = 100.0;
    });
    for user in world.okta.users.iter_mut().take(4) {
        user.status = Deprovisioned;
    }
    let plan = world.plan();
    assert_eq!(plan.summary().destructive, 4);
    assert_eq!(
        plan.guard,
        Guard::Held {
            reasons: vec!["4 destructive operations planned, over the limit of 3 set in Destructive operations allowed without approval (Safety limits)".into()]
        }
    );
    world.okta.users[0].status = Active;
    assert_eq!(
        world.plan().guard,
        Guard::Proceed,
        "three is within the limit"
    );
}

#[test]
fn a_plan_touching_too_large_a_share_of_managed_users_is_held() {
    let mut world = team(40).policy(|p| {
        p.limits.max_destructive = 1000;
        p.limits.max_destructive_percent = 10.0;
        p.limits.percent_applies_above = 2;
        p.departed = DepartedPolicy::Delete;
    });
    world.okta.users.truncate(35);
    let plan = world.plan();
    assert_eq!(plan.summary().counts.get(&OpKind::DeleteUser), Some(&5));
    assert_eq!(
        plan.guard,
        Guard::Held {
            reasons: vec![
                "destructive operations touch 5 of 40 managed users (12.5%), over the 10% set in Percent of managed users allowed without approval (Safety limits)"
                    .into()
            ]
        }
    );
    world.okta.users = team(40).okta.users;
    world.okta.users.truncate(38);
    assert_eq!(
        world.plan().guard,
        Guard::Proceed,
        "two deletions are under percent_applies_above"
    );
}

#[test]
fn ops_come_in_dependency_order() {
    let mut world = team(2)
        .okta_user("new", "newbie@x.org", Active)
        .okta_group("g2", "fresh", &["new", "u1"])
        .policy(|p| p.departed = DepartedPolicy::Delete);
    world.okta.users.retain(|u| u.id != uid("u0"));
    world.okta.users[0].login = "renamed@x.org".into();
    let kinds: Vec<OpKind> = world.plan().ops.iter().map(|p| p.op.kind()).collect();
    let mut sorted = kinds.clone();
    sorted.sort();
    assert_eq!(kinds, sorted);
    assert_eq!(
        kinds,
        [
            OpKind::CreateGroup,
            OpKind::RenameUser,
            OpKind::CreateUser,
            OpKind::AddMember,
            OpKind::AddMember,
            OpKind::DeleteUser
        ]
    );
}

#[test]
fn the_json_form_is_tagged_snake_case_and_round_trips() {
    let plan = World::new().okta_user("u1", "alice@x.org", Active).plan();
    let json = serde_json::to_string(&plan.ops[0]).unwrap();
    assert_eq!(
        json,
        r#"{"op":{"kind":"create_user","okta_id":"u1","username":"alice","display_name":"alice Doe","email":"alice@x.org","active":true},"rule":{"kind":"import_users","status":"ACTIVE"}}"#
    );
    let summary = serde_json::to_string(&plan.summary()).unwrap();
    assert_eq!(
        summary,
        r#"{"counts":{"create_user":1},"total":1,"destructive":0,"skipped":0}"#
    );
    assert_eq!(
        serde_json::to_string(&plan.guard).unwrap(),
        r#"{"decision":"proceed"}"#
    );
    let back: Plan = serde_json::from_str(&serde_json::to_string(&plan).unwrap()).unwrap();
    assert_eq!(back, plan);
}

#[test]
fn planning_again_after_applying_a_plan_gives_an_empty_plan() {
    let mut world = team(5)
        .okta_user("new1", "newbie@x.org", Active)
        .okta_user("new2", "other@x.org", Suspended)
        .okta_user("adopt", "legacy@x.org", Active)
        .target_user("legacy", "Legacy", "legacy@old.org", true)
        .target_user("unmanaged", "Someone", "s@x.org", true)
        .target_group("jira-software-users", &["unmanaged"])
        .target_group("everyone", &[])
        .okta_group("g2", "fresh", &["new1", "adopt", "u1"])
        .okta_group("g3", "devs", &["u3"])
        .target_group("devs", &["unmanaged"])
        .policy(|p| {
            p.default_groups_new_users = vec!["jira-software-users".into()];
            p.default_groups_all_users = vec!["everyone".into()];
            p.departed = DepartedPolicy::Delete;
            p.limits.max_destructive = 1000;
            p.limits.max_destructive_percent = 100.0;
        });
    world.okta.users.retain(|u| u.id != uid("u0"));
    world.okta.users[0].login = "renamed@x.org".into();
    world.okta.users[1].status = Suspended;
    world.okta.users[2]
        .profile
        .insert("displayName".into(), "Third User".into());
    world.target.users[3].active = false;
    world
        .okta
        .memberships
        .remove_member(&super::gid("g1"), &uid("u4"));

    let first = world.converge();
    assert!(first.ops.len() > 10, "{:?}", ops(&first));
    assert_eq!(first.guard, Guard::Proceed);
    let second = world.plan();
    assert!(
        second.is_empty(),
        "second plan should be empty: {:?}",
        ops(&second)
    );
    assert!(
        world.okta.completeness.is_complete() && world.okta.completeness == Completeness::Complete
    );
}

#[test]
fn destructive_ops_already_applied_in_the_window_count_against_the_limits() {
    let mut world = team(300);
    for user in world.okta.users.iter_mut().take(1) {
        user.status = Suspended;
    }
    assert_eq!(world.plan().guard, Guard::Proceed, "one on its own is fine");
    world.spent = crate::guard::Spent {
        operations: 25,
        users: 25,
    };
    assert_eq!(
        world.plan().guard,
        Guard::Held {
            reasons: vec![
                "1 destructive operations planned (and 25 applied in the last 15 minutes), over the limit of 25 set in Destructive operations allowed without approval (Safety limits)".into(),
                "destructive operations (and 25 applied in the last 15 minutes) touch 26 of 300 managed users (8.7%), over the 5% set in Percent of managed users allowed without approval (Safety limits)".into(),
            ]
        }
    );
    world.spent = crate::guard::Spent {
        operations: 15,
        users: 15,
    };
    assert_eq!(
        world.plan().guard,
        Guard::Held {
            reasons: vec![
                "destructive operations (and 15 applied in the last 15 minutes) touch 16 of 300 managed users (5.3%), over the 5% set in Percent of managed users allowed without approval (Safety limits)".into()
            ]
        }
    );
    world.spent.operations = 14;
    world.spent.users = 14;
    assert_eq!(world.plan().guard, Guard::Proceed, "15 of 300 is 5%");
}

#[test]
fn a_spent_budget_holds_nothing_when_the_plan_has_no_destructive_op() {
    let mut world = team(10).okta_user("new", "newbie@x.org", Active);
    world.spent = crate::guard::Spent {
        operations: 1000,
        users: 10,
    };
    let plan = world.plan();
    assert_eq!(plan.summary().destructive, 0);
    assert_eq!(plan.guard, Guard::Proceed);
}

#[test]
fn what_was_spent_counts_destructive_ops_and_distinct_users() {
    let mut world = team(4).policy(|p| p.departed = DepartedPolicy::Delete);
    world.okta.users.truncate(2);
    world
        .okta
        .memberships
        .remove_member(&super::gid("g1"), &uid("u1"));
    let plan = world.plan();
    let spent = crate::guard::Spent::of(plan.ops.iter().map(|p| &p.op));
    assert_eq!(
        (spent.operations, spent.users),
        (plan.summary().destructive, 3),
        "{:?}",
        ops(&plan)
    );
}
