//! Scenarios for users: import, update, rename, enable/disable, departures,
//! ownership, collisions and single-user scope.

use pretty_assertions::assert_eq;

use super::{World, name, ops, ops_with_rules, skipped, uid};
use crate::mapping::TargetConstraints;
use crate::plan::PlanScope;
use crate::policy::DepartedPolicy;
use crate::snapshot::OktaStatus::{self, *};

#[test]
fn import_creates_active_users_missing_in_the_target() {
    let plan = World::new()
        .okta_user("u1", "alice@example.com", Active)
        .plan();
    assert_eq!(
        ops_with_rules(&plan),
        [
            "create active user alice (alice Doe, alice@example.com) [Import Users: ACTIVE in Okta and missing in the target]"
        ]
    );
}

#[test]
fn every_active_status_is_imported_and_staged_provisioned_and_inactive_are_not() {
    let mut world = World::new();
    for (i, status) in OktaStatus::ALL.into_iter().enumerate() {
        world = world.okta_user(
            &format!("u{i}"),
            &format!("{}@x.org", status.as_str().to_lowercase()),
            status,
        );
    }
    let plan = world.plan();
    assert_eq!(
        ops(&plan),
        [
            "create active user active (active Doe, active@x.org)",
            "create active user locked_out (locked_out Doe, locked_out@x.org)",
            "create active user password_expired (password_expired Doe, password_expired@x.org)",
            "create active user recovery (recovery Doe, recovery@x.org)",
        ]
    );
}

#[test]
fn an_inactive_status_added_to_import_statuses_creates_an_inactive_user() {
    let plan = World::new()
        .okta_user("u1", "sue@x.org", Suspended)
        .policy(|p| p.scope.import_statuses.push(Suspended))
        .plan();
    assert_eq!(
        ops(&plan),
        ["create inactive user sue (sue Doe, sue@x.org)"]
    );
}

#[test]
fn import_users_off_never_creates_users() {
    let plan = World::new()
        .okta_user("u1", "alice@example.com", Active)
        .policy(|p| p.toggles.import_users = false)
        .plan();
    assert!(plan.is_empty(), "{:?}", ops(&plan));
}

#[test]
fn display_name_and_email_changes_are_updates_of_the_linked_user() {
    let mut world = World::new().synced_user("u1", "alice@example.com");
    let profile = &mut world.okta.users[0].profile;
    profile.insert("displayName".into(), "Alice Liddell".into());
    profile.insert("email".into(), "alice@wonder.land".into());
    let plan = world.plan();
    assert_eq!(
        ops_with_rules(&plan),
        [
            "update user alice: display name \"alice Doe\" -> \"Alice Liddell\" e-mail alice@example.com -> alice@wonder.land [Update Users: profile or login changed in Okta]"
        ]
    );
}

#[test]
fn a_user_to_create_without_an_email_is_skipped_with_the_reason() {
    let mut world = World::new().okta_user("u1", "alice@example.com", Active);
    world.okta.users[0].profile.remove("email");
    let plan = world.plan();
    assert!(plan.is_empty(), "{:?}", ops(&plan));
    assert_eq!(
        skipped(&plan),
        [
            "alice@example.com: user alice would be created, but the Okta user has no e-mail \
          address and the target requires one; set it in Okta or map another attribute \
          (attributes.email)"
        ]
    );
}

#[test]
fn a_missing_okta_email_never_clears_the_target_email() {
    let mut world = World::new().synced_user("u1", "alice@example.com");
    world.okta.users[0].profile.remove("email");
    assert!(world.plan().is_empty());
}

#[test]
fn a_login_change_is_a_rename_through_the_link_never_a_new_account() {
    let mut world = World::new().synced_user("u1", "alice@example.com");
    world.okta.users[0].login = "alice.liddell@example.com".into();
    let plan = world.plan();
    assert_eq!(ops(&plan), ["rename user alice to alice.liddell"]);
    assert_eq!(
        plan.ops[0].rule.to_string(),
        "Update Users: profile or login changed in Okta"
    );
}

#[test]
fn update_users_off_never_updates_or_renames() {
    let mut world = World::new()
        .synced_user("u1", "alice@example.com")
        .policy(|p| p.toggles.update_users = false);
    world.okta.users[0].login = "alice2@example.com".into();
    world.okta.users[0]
        .profile
        .insert("displayName".into(), "New Name".into());
    assert!(world.plan().is_empty(), "{:?}", ops(&world.plan()));
}

#[test]
fn suspended_or_deprovisioned_in_okta_deactivates_the_linked_user() {
    for status in [Suspended, Deprovisioned] {
        let mut world = World::new().synced_user("u1", "alice@example.com");
        world.okta.users[0].status = status;
        let plan = world.plan();
        assert_eq!(ops(&plan), ["deactivate user alice"]);
        assert_eq!(
            plan.ops[0].rule.to_string(),
            format!("Enable/Disable Users: {} in Okta", status.as_str())
        );
    }
}

#[test]
fn a_user_active_again_in_okta_is_reactivated() {
    let mut world = World::new().synced_user("u1", "alice@example.com");
    world.target.users[0].active = false;
    world.okta.users[0].status = PasswordExpired;
    let plan = world.plan();
    assert_eq!(
        ops_with_rules(&plan),
        ["reactivate user alice [Enable/Disable Users: PASSWORD_EXPIRED in Okta]"]
    );
}

#[test]
fn enable_disable_off_never_changes_a_users_state() {
    let mut world = World::new()
        .synced_user("u1", "alice@example.com")
        .synced_user("u2", "bob@example.com")
        .policy(|p| p.toggles.enable_disable_users = false);
    world.okta.users[0].status = Suspended;
    world.target.users[1].active = false;
    assert!(world.plan().is_empty(), "{:?}", ops(&world.plan()));
}

#[test]
fn a_linked_user_gone_from_a_complete_read_gets_the_departed_policy() {
    let world = || {
        World::new()
            .synced_user("u1", "alice@example.com")
            .synced_user("u2", "bob@example.com")
    };
    let mut gone = world();
    gone.okta.users.retain(|u| u.id != uid("u2"));
    let plan = gone.plan();
    assert_eq!(
        ops_with_rules(&plan),
        ["deactivate user bob [Departed users (deactivate): no longer in Okta]"]
    );

    let mut keep = world().policy(|p| p.departed = DepartedPolicy::Keep);
    keep.okta.users.retain(|u| u.id != uid("u2"));
    assert!(keep.plan().is_empty());

    let mut delete = world().policy(|p| p.departed = DepartedPolicy::Delete);
    delete.okta.users.retain(|u| u.id != uid("u2"));
    assert_eq!(ops(&delete.plan()), ["delete user bob"]);
}

#[test]
fn a_user_leaving_scope_gets_the_departed_policy_with_the_reason() {
    let plan = World::new()
        .synced_user("u1", "alice@example.com")
        .synced_user("u2", "bob@example.com")
        .okta_group("g1", "jira-users", &["u1"])
        .policy(|p| {
            p.scope.only_members_of = vec!["jira-users".into()];
            p.scope.group_types.clear();
        })
        .plan();
    assert_eq!(
        ops_with_rules(&plan),
        [
            "deactivate user bob [Scope exit (deactivate): not a member of any scoping Okta group (jira-users)]"
        ]
    );
}

#[test]
fn unlinked_target_users_missing_in_okta_are_left_alone() {
    let plan = World::new()
        .target_user("admin", "Admin", "admin@x.org", true)
        .plan();
    assert!(plan.is_empty());
}

#[test]
fn an_existing_unlinked_user_with_the_mapped_name_is_adopted_then_updated() {
    let plan = World::new()
        .okta_user("u1", "alice@example.com", Active)
        .target_user("alice", "Old Name", "alice@example.com", true)
        .plan();
    assert_eq!(
        ops_with_rules(&plan),
        [
            "link existing user alice to Okta user u1 [Adopt existing: a target user already has the mapped username]",
            "update user alice: display name \"Old Name\" -> \"alice Doe\" [Update Users: profile or login changed in Okta]",
        ]
    );
}

#[test]
fn without_adopt_existing_a_same_named_user_is_skipped() {
    let plan = World::new()
        .okta_user("u1", "alice@example.com", Active)
        .target_user("alice", "Alice", "alice@example.com", true)
        .policy(|p| p.adopt_existing = false)
        .plan();
    assert!(plan.is_empty());
    assert_eq!(
        skipped(&plan),
        [
            "alice@example.com: target user alice exists, is not linked, and adopting existing users is off"
        ]
    );
}

#[test]
fn protected_accounts_and_the_credentials_own_account_are_never_touched() {
    let mut world = World::new()
        .okta_user("u1", "admin@example.com", Suspended)
        .target_user("admin", "Admin", "admin@example.com", true)
        .okta_user("u2", "sync-bot@example.com", Active)
        .target_user("sync-bot", "Bot", "bot@example.com", false)
        .synced_user("u3", "root@example.com")
        .policy(|p| p.protected_accounts = vec!["Admin".into(), "root".into()]);
    world.okta.users[2].status = Deprovisioned;
    let plan = world.plan();
    assert!(plan.is_empty(), "{:?}", ops(&plan));
    assert_eq!(
        skipped(&plan),
        [
            "admin@example.com: target user admin is protected and never changed",
            "sync-bot@example.com: target user sync-bot is protected and never changed",
            "root@example.com: target user root is protected and never changed",
        ]
    );
}

#[test]
fn users_managed_elsewhere_are_never_changed_and_the_skip_says_what_is_not_done() {
    let mut world = World::new().synced_user("u1", "alice@example.com");
    world.target.users[0].managed_elsewhere = true;
    world.okta.users[0].status = Suspended;
    let plan = world.plan();
    assert!(plan.is_empty());
    assert_eq!(
        skipped(&plan),
        [
            "alice@example.com: not writable: target user alice is in a read-only directory, so \
          usersync does not deactivate user alice (memberships of writable groups are still synced)"
        ]
    );
}

#[test]
fn a_user_remembered_as_read_only_keeps_their_memberships_without_attribute_writes() {
    let mut world = World::new()
        .synced_user("u1", "alice@example.com")
        .okta_group("g1", "all-staff", &["u1"])
        .target_group("all-staff", &[])
        .link_group("g1", "all-staff", true);
    world.okta.users[0]
        .profile
        .insert("displayName".into(), "Alice Smith".into());
    assert_eq!(
        ops(&world.plan()),
        [
            "update user alice: display name \"alice Doe\" -> \"Alice Smith\"",
            "add alice to group all-staff",
        ],
        "a writable user gets both"
    );
    world
        .links
        .users
        .get_mut(&super::uid("u1"))
        .unwrap()
        .read_only = true;
    let plan = world.plan();
    assert_eq!(ops(&plan), ["add alice to group all-staff"]);
    assert_eq!(
        skipped(&plan),
        [
            "alice@example.com: not writable: target user alice is in a read-only directory, so \
          usersync does not update user alice: display name \"alice Doe\" -> \"Alice Smith\" \
          (memberships of writable groups are still synced)"
        ]
    );
    world.okta.users.clear();
    let departed = world.plan();
    assert!(
        departed.is_empty(),
        "a read-only user who leaves Okta is not deactivated: {:?}",
        ops(&departed)
    );
}

#[test]
fn two_logins_mapping_to_one_username_are_both_skipped_and_the_rest_go_on() {
    let plan = World::new()
        .okta_user("u1", "sam@a.com", Active)
        .okta_user("u2", "sam@b.com", Active)
        .okta_user("u3", "kim@a.com", Active)
        .plan();
    assert_eq!(ops(&plan), ["create active user kim (kim Doe, kim@a.com)"]);
    assert_eq!(
        skipped(&plan),
        [
            "sam@a.com: mapped username \"sam\" is also claimed by sam@b.com (u2)",
            "sam@b.com: mapped username \"sam\" is also claimed by sam@a.com (u1)",
        ]
    );
}

#[test]
fn a_linked_user_keeps_their_name_when_a_new_login_maps_to_it() {
    let plan = World::new()
        .synced_user("u1", "sam@a.com")
        .okta_user("u2", "sam@b.com", Active)
        .plan();
    assert!(plan.is_empty(), "{:?}", ops(&plan));
    assert_eq!(
        skipped(&plan),
        ["sam@b.com: mapped username \"sam\" is also claimed by sam@a.com (u1)"]
    );
}

#[test]
fn a_rename_onto_another_users_name_is_skipped() {
    let mut world =
        World::new()
            .synced_user("u1", "alice@x.org")
            .target_user("bob", "Bob", "bob@x.org", true);
    world.okta.users[0].login = "bob@x.org".into();
    let plan = world.plan();
    assert!(plan.is_empty());
    assert_eq!(
        skipped(&plan),
        ["bob@x.org: mapped username \"bob\" is also claimed by existing target user bob"]
    );
}

#[test]
fn an_invalid_mapped_username_is_skipped_with_the_problem() {
    let plan = World::new()
        .okta_user("u1", "mary ann@x.org", Active)
        .okta_user("u2", "ok@x.org", Active)
        .plan();
    assert_eq!(ops(&plan), ["create active user ok (ok Doe, ok@x.org)"]);
    assert_eq!(
        skipped(&plan),
        [
            "mary ann@x.org: mapped username \"mary ann\" is not valid in the target: contains whitespace (' ')"
        ]
    );
}

#[test]
fn a_target_that_does_not_report_emails_is_never_sent_an_email_change() {
    let mut world = World::new().synced_user("u1", "alice@example.com");
    world.target.users[0].email = None;
    world.options.constraints = TargetConstraints::confluence();
    let plan = world.plan();
    assert!(plan.is_empty(), "{:?}", ops(&plan));
}

#[test]
fn confluence_usernames_are_lower_cased_and_its_forbidden_characters_refused() {
    let mut world = World::new()
        .okta_user("u1", "Alice.Smith@x.org", Active)
        .okta_user("u2", "o'neil@x.org", Active);
    world.options.constraints = TargetConstraints::confluence();
    let plan = world.plan();
    assert_eq!(
        ops(&plan),
        ["create active user alice.smith (Alice.Smith Doe, Alice.Smith@x.org)"]
    );
    assert_eq!(
        skipped(&plan),
        [
            "o'neil@x.org: mapped username \"o'neil\" is not valid in the target: contains '\\'', which the target does not allow"
        ]
    );
}

#[test]
fn a_single_user_plan_touches_only_that_user() {
    let mut world = World::new()
        .synced_user("u1", "alice@x.org")
        .synced_user("u2", "bob@x.org")
        .synced_user("gone", "carol@x.org")
        .okta_user("u4", "dan@x.org", Active)
        .okta_user("u5", "eve@x.org", Active)
        .okta_group("g1", "devs", &["u5"])
        .target_group("devs", &["alice"])
        .link_group("g1", "devs", true);
    world.okta.users.retain(|u| u.id != uid("gone"));
    world.okta.users[1].status = Suspended;
    world.options.scope = PlanScope::user(uid("u5"));
    let plan = world.plan();
    assert_eq!(
        ops(&plan),
        [
            "create active user eve (eve Doe, eve@x.org)",
            "add eve to group devs"
        ]
    );
}

#[test]
fn a_single_user_plan_applies_that_users_own_departure_and_removals() {
    let mut world = World::new()
        .synced_user("u1", "alice@x.org")
        .synced_user("u2", "bob@x.org")
        .okta_group("g1", "devs", &[])
        .target_group("devs", &["alice", "bob"])
        .link_group("g1", "devs", true);
    world.okta.users[0].status = Suspended;
    world.options.scope = PlanScope::user(uid("u1"));
    let plan = world.plan();
    assert_eq!(
        ops(&plan),
        ["remove alice from group devs", "deactivate user alice"]
    );
    assert_eq!(plan.skipped, []);
    assert!(world.options.scope.includes(&uid("u1")) && !world.options.scope.includes(&uid("u2")));
    assert_eq!(name("ALICE"), name("alice"));
}

#[test]
fn a_read_only_user_whose_login_changes_keeps_their_name_for_memberships() {
    let mut world = World::new()
        .synced_user("u1", "alice@example.com")
        .okta_group("g1", "all-staff", &["u1"])
        .target_group("all-staff", &[])
        .link_group("g1", "all-staff", true);
    world
        .links
        .users
        .get_mut(&super::uid("u1"))
        .unwrap()
        .read_only = true;
    world.okta.users[0].login = "alicia@example.com".into();
    let plan = world.plan();
    assert_eq!(ops(&plan), ["add alice to group all-staff"]);
}
