//! Repeated plans of an unchanged org: what a plan reports must not grow because a
//! previous plan was applied.

use super::*;
use crate::snapshot::OktaStatus::{Active, Deprovisioned, Staged, Suspended};

#[test]
fn skipped_users_do_not_grow_after_the_first_plan_is_applied() {
    // sam@b.com is deprovisioned and staged kim@b.com is not imported: neither
    // claims a name before the active users' accounts exist, nor after.
    let mut world = World::new()
        .okta_user("u1", "sam@a.com", Active)
        .okta_user("u2", "sam@b.com", Deprovisioned)
        .okta_user("u3", "kim@a.com", Active)
        .okta_user("u4", "kim@b.com", Staged)
        .okta_user("u5", "lee@a.com", Active)
        .okta_user("u6", "lee@b.com", Active)
        .okta_user("u7", "lee@c.com", Suspended);
    let first = world.converge();
    assert_eq!(
        skipped(&first),
        [
            "lee@a.com: mapped username \"lee\" is also claimed by lee@b.com (u6)",
            "lee@b.com: mapped username \"lee\" is also claimed by lee@a.com (u5)",
        ]
    );
    let second = world.converge();
    assert!(second.is_empty(), "{:?}", ops(&second));
    assert_eq!(skipped(&second), skipped(&first), "the same users, no more");
}
