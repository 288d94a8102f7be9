//! The report on small worlds built with the planner's test `World`.

use pretty_assertions::assert_eq;

use super::*;
use crate::mapping::{CompiledPolicy, TargetConstraints};
use crate::plan::tests::{World, name};
use crate::snapshot::Completeness;

fn report(world: &World) -> Unexplained {
    let policy = CompiledPolicy::compile(&world.policy).unwrap();
    unexplained(
        &world.okta,
        &world.target,
        &world.links,
        &policy,
        &TargetConstraints::jira(),
        Some(&name("sync-bot")),
    )
}

fn seeded() -> World {
    World::new()
        .synced_user("00u1", "ada@example.com")
        .okta_user("00u2", "alan@example.com", OktaStatus::Suspended)
        .target_user("alan", "Alan", "alan@example.com", true)
        .target_user("ghost", "Nobody Knows", "ghost@example.com", true)
        .target_user("gone", "Left Okta", "gone@example.com", true)
        .link_user("00u9", "gone")
        .target_user("sync-bot", "usersync", "bot@example.com", true)
        .okta_group("00g1", "devs", &["00u1"])
        .target_group("devs", &["ada", "ghost"])
        .link_group("00g1", "devs", true)
        .target_group("unlinked", &["ghost"])
}

#[test]
fn users_no_okta_user_maps_to_are_orphans_and_a_link_to_a_departed_user_is_named() {
    let report = report(&seeded());
    let orphans: Vec<(String, Option<String>)> = report
        .orphans
        .iter()
        .map(|o| {
            (
                o.username.to_string(),
                o.linked_to.as_ref().map(ToString::to_string),
            )
        })
        .collect();
    assert_eq!(
        orphans,
        vec![("ghost".into(), None), ("gone".into(), Some("00u9".into()))],
        "the account usersync signs in as is never an orphan"
    );
    assert!(report.okta_complete);
}

#[test]
fn a_user_suspended_in_okta_but_active_in_the_target_is_reported_linked_or_not() {
    let report = report(&seeded());
    assert_eq!(
        report.inactive_in_okta,
        vec![InactiveInOkta {
            username: name("alan"),
            okta_login: "alan@example.com".into(),
            okta_status: OktaStatus::Suspended,
            linked: false,
        }]
    );
}

#[test]
fn members_of_a_managed_group_okta_does_not_put_there_are_unmanaged_and_unlinked_groups_are_not_judged()
 {
    let report = report(&seeded());
    assert_eq!(
        report.unmanaged_members,
        vec![UnmanagedMember {
            group: crate::plan::tests::group("devs"),
            username: name("ghost"),
        }]
    );
}

#[test]
fn an_incomplete_okta_read_is_said_in_the_report() {
    let mut world = seeded();
    world.okta.completeness = Completeness::Incomplete {
        reasons: vec!["the user listing failed".into()],
    };
    assert!(!report(&world).okta_complete);
}

#[test]
fn users_who_never_signed_in_are_named_with_their_okta_owner_and_usersync_itself_is_left_out() {
    let world = seeded();
    let policy = CompiledPolicy::compile(&world.policy).unwrap();
    let never = [name("ghost"), name("ada"), name("sync-bot")];

    let found = never_signed_in(
        &world.okta,
        &world.links,
        &policy,
        &TargetConstraints::jira(),
        &never,
        Some(&name("sync-bot")),
    );

    let rows: Vec<(String, Option<String>)> = found
        .into_iter()
        .map(|n| (n.username.to_string(), n.okta_login))
        .collect();
    assert_eq!(
        rows,
        [
            ("ada".to_owned(), Some("ada@example.com".to_owned())),
            ("ghost".to_owned(), None),
        ]
    );
}
