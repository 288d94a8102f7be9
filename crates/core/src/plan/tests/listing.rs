//! Scenarios for plans from an incomplete Okta user listing: a username's
//! uniqueness can only be decided from a complete one, so nothing that depends on
//! it (a create, an adoption, a rename) is planned from an incomplete read.

use pretty_assertions::assert_eq;

use super::{World, ops, skipped};
use crate::plan::SkipReason;
use crate::snapshot::OktaStatus::Active;

const WHY: &str = "the user listing stopped after 200 users: HTTP 503";

/// `david.cohen@example.com` was read; `david.cohen@example.co.uk`, who maps to the
/// same username, was on the page that failed.
fn half_read_collision() -> World {
    let mut world = World::new().okta_user("u1", "david.cohen@example.com", Active);
    world.okta.completeness.add_reason(WHY);
    world
}

#[test]
fn an_incomplete_listing_creates_no_user_and_says_why() {
    let plan = half_read_collision().plan();
    assert!(plan.is_empty(), "{:?}", ops(&plan));
    assert_eq!(
        plan.skipped[0].reason,
        SkipReason::UniquenessUnknown {
            username: "david.cohen".into(),
            why: WHY.into()
        }
    );
    assert!(skipped(&plan)[0].contains("only a complete Okta user listing"));
}

#[test]
fn the_complete_listing_sees_the_collision_the_incomplete_one_hid() {
    let mut world = half_read_collision().okta_user("u2", "david.cohen@example.co.uk", Active);
    world.okta.completeness = crate::snapshot::Completeness::Complete;
    let plan = world.plan();
    assert!(plan.is_empty(), "{:?}", ops(&plan));
    assert_eq!(plan.skipped.len(), 2);
}

#[test]
fn an_incomplete_listing_adopts_no_existing_user() {
    let plan = half_read_collision()
        .target_user("david.cohen", "David", "david.cohen@example.com", true)
        .plan();
    assert!(plan.is_empty(), "{:?}", ops(&plan));
    assert!(matches!(
        plan.skipped[0].reason,
        SkipReason::UniquenessUnknown { .. }
    ));
}

#[test]
fn an_incomplete_listing_renames_no_one_but_keeps_updating_the_linked_user() {
    let mut world = World::new()
        .okta_user("u1", "dcohen@example.com", Active)
        .target_user("david.cohen", "Old Name", "dcohen@example.com", true)
        .link_user("u1", "david.cohen");
    world.okta.completeness.add_reason(WHY);
    let plan = world.plan();
    assert_eq!(
        ops(&plan),
        ["update user david.cohen: display name \"Old Name\" -> \"dcohen Doe\""]
    );
    assert_eq!(
        plan.notes,
        [format!(
            "dcohen@example.com: the rename of david.cohen to dcohen waits for a complete Okta user listing ({WHY})"
        )]
    );
    assert!(plan.skipped.is_empty());
}
