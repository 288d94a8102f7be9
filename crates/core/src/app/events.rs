//! The Okta event types usersync knows, in one place: the app model's defaults and the
//! event handling (hooks and System Log polling) both read these lists.
//!
//! The lists are built from each other at compile time, so a type named in two lists is
//! written once.

/// The event types that mean a user signed in (the product's "single user sync at login").
pub const LOGIN_EVENTS: [&str; 2] = ["user.session.start", "user.authentication.sso"];

/// Lifecycle, profile and membership changes of one user.
pub const USER_CHANGE_EVENTS: [&str; 10] = [
    "user.lifecycle.create",
    "user.lifecycle.reactivate",
    "user.lifecycle.activate",
    "user.lifecycle.deactivate",
    "user.lifecycle.suspend",
    "user.lifecycle.unsuspend",
    "user.lifecycle.delete.initiated",
    "user.account.update_profile",
    "group.user_membership.add",
    "group.user_membership.remove",
];

/// Changes to groups themselves, which a full sync refreshes.
pub const GROUP_EVENTS: [&str; 3] = [
    "group.lifecycle.create",
    "group.lifecycle.delete",
    "group.profile.update",
];

/// The event types an app reacts to unless told otherwise: sign-ins and user changes.
pub const DEFAULT_EVENT_TYPES: [&str; 12] = concat(LOGIN_EVENTS, USER_CHANGE_EVENTS);

/// Every event type usersync acts on, for settings pages and the demo.
pub const HANDLED_EVENTS: [&str; 15] = concat(DEFAULT_EVENT_TYPES, GROUP_EVENTS);

/// `a` followed by `b`; the lengths must add up (checked when the constant is built).
const fn concat<const A: usize, const B: usize, const N: usize>(
    a: [&'static str; A],
    b: [&'static str; B],
) -> [&'static str; N] {
    assert!(A + B == N, "the joined list has the wrong length");
    let mut out = [""; N];
    let mut i = 0;
    while i < A {
        out[i] = a[i];
        i += 1;
    }
    while i < N {
        out[i] = b[i - A];
        i += 1;
    }
    out
}

/// The default event types as owned strings, as an app's settings hold them.
#[must_use]
pub fn default_event_types() -> Vec<String> {
    DEFAULT_EVENT_TYPES
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_handled_list_is_the_defaults_then_the_group_events_without_repeats() {
        assert_eq!(&HANDLED_EVENTS[..2], &LOGIN_EVENTS);
        assert_eq!(&HANDLED_EVENTS[12..], &GROUP_EVENTS);
        let mut unique = HANDLED_EVENTS.to_vec();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), HANDLED_EVENTS.len());
    }
}
