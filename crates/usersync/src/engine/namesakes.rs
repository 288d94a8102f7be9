//! Username uniqueness for single-user syncs: who else in Okta maps to the username
//! a create, adoption or rename would use.
//!
//! A full run decides uniqueness from its complete user listing. A single-user run
//! reads one user, so before planning it asks Okta, with one targeted query, for
//! every user whose login starts with the mapped username
//! (`search=profile.login sw "<username>"`). That query finds every login that could
//! map to the name only when the mapping keeps a prefix of the login (no regex, or
//! one like `(.*)@.*` -> `$1`: `CompiledPolicy::username_is_a_login_prefix`). The
//! namesakes it finds join the snapshot, outside the plan's scope, so the planner's
//! collision rule sees them and touches nothing of theirs. When the mapping does not
//! keep a prefix, or the query fails, the snapshot is marked incomplete and says
//! why, so the run creates, adopts and renames nothing (and, like every run from an
//! incomplete read, applies nothing destructive); the next full sync decides.

use usersync_core::{Links, OktaSnapshot, OktaUser, Username};

use super::run::Prepared;

/// Adds to `desired` the Okta users who map to the same username as `user`, or marks
/// it incomplete when they cannot be known. No request when the user is linked under
/// that username already (nothing about them depends on its uniqueness).
pub(crate) async fn add_namesakes(
    prepared: &Prepared,
    user: &OktaUser,
    username: Option<&Username>,
    links: &Links,
    desired: &mut OktaSnapshot,
) {
    // An invalid username is the planner's to report; nothing to check.
    let Some(username) = username else { return };
    if links
        .users
        .get(&user.id)
        .is_some_and(|l| &l.username == username)
    {
        return;
    }
    if !prepared.policy.username_is_a_login_prefix() {
        desired.completeness.add_reason(format!(
            "whether username {username} belongs to no other Okta user cannot be checked with a \
             targeted query, because the username mapping (policy.username) does not keep a \
             prefix of the login; a full sync decides"
        ));
        return;
    }
    let constraints = prepared.conns.constraints();
    let maps_to_it = |other: &OktaUser| {
        constraints
            .username(&prepared.policy.map_login(&other.login))
            .is_ok_and(|u| &u == username)
    };
    match prepared
        .conns
        .okta
        .users_with_login_prefix(username.as_str())
        .await
    {
        Ok(found) => {
            for problem in found.unusable {
                desired.completeness.add_reason(format!(
                    "{problem}; it may map to username {username}, so its uniqueness is unknown"
                ));
            }
            let others = found.items.into_iter().filter(|o| o.id != user.id);
            desired.users.extend(others.filter(|o| maps_to_it(o)));
        }
        Err(err) => desired.completeness.add_reason(format!(
            "the Okta users who may also map to username {username} could not be searched: {err}"
        )),
    }
}
