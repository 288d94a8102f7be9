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
//!
//! For a user pushed to usersync's SCIM server the other users are those Okta pushed
//! to the app ([`Among::Pushed`]), found by the same prefix in the store.

use usersync_core::{Links, OktaSnapshot, OktaUser, Username};
use usersync_store::App;

use super::Deps;
use super::prepared::Connected;

/// Whom a single-user run's username must be unique among.
#[derive(Clone, Copy)]
pub(crate) enum Among<'a> {
    /// The Okta org, asked with one targeted query.
    Okta,
    /// The users Okta pushed to the app's SCIM server.
    Pushed { deps: &'a Deps, app: &'a App },
}

/// Most pushed users sharing a prefix that are looked at; more make the read incomplete.
const PUSHED_PREFIX_LIMIT: u64 = 1000;

/// The users whose login starts with `prefix`, and what could not be read.
async fn with_prefix(
    prepared: &Connected,
    among: Among<'_>,
    prefix: &str,
) -> Result<(Vec<OktaUser>, Vec<String>), String> {
    match among {
        Among::Okta => prepared
            .conns
            .okta
            .users_with_login_prefix(prefix)
            .await
            .map(|found| {
                let problems = found.unusable.iter().map(ToString::to_string).collect();
                (found.items, problems)
            })
            .map_err(|e| e.to_string()),
        Among::Pushed { deps, app } => {
            let records = deps
                .store
                .scim_users_with_prefix(app.id, prefix, PUSHED_PREFIX_LIMIT + 1)
                .await
                .map_err(|e| e.to_string())?;
            let mut problems = Vec::new();
            if records.len() as u64 > PUSHED_PREFIX_LIMIT {
                problems.push(format!(
                    "more than {PUSHED_PREFIX_LIMIT} pushed users' userName starts with {prefix:?}"
                ));
            }
            let mut users = Vec::new();
            for record in records.iter().take(PUSHED_PREFIX_LIMIT as usize) {
                match crate::scim::source::okta_user(record) {
                    Ok(user) => users.push(user),
                    Err(e) => problems.push(format!("pushed user {}: {e}", record.id)),
                }
            }
            Ok((users, problems))
        }
    }
}

/// What [`find`] learnt: the other Okta users who map to the username, and why
/// the read must count as incomplete, if it must.
#[derive(Default)]
pub(crate) struct Namesakes {
    users: Vec<OktaUser>,
    reasons: Vec<String>,
    /// Whether Okta was asked (Explain tells so).
    pub asked_okta: bool,
}

impl Namesakes {
    /// The namesakes join `desired` (outside any plan's scope), and the reasons
    /// mark it incomplete.
    pub fn add_to(self, desired: &mut OktaSnapshot) {
        desired.users.extend(self.users);
        for reason in self.reasons {
            desired.completeness.add_reason(reason);
        }
    }

    /// How many other users were found.
    pub fn found(&self) -> usize {
        self.users.len()
    }
}

/// Adds to `desired` the Okta users who map to the same username as `user`, or marks
/// it incomplete when they cannot be known: [`find`], then [`Namesakes::add_to`].
pub(crate) async fn add_namesakes(
    prepared: &Connected,
    user: &OktaUser,
    username: Option<&Username>,
    links: &Links,
    desired: &mut OktaSnapshot,
    among: Among<'_>,
) {
    find(prepared, user, username, links, among)
        .await
        .add_to(desired);
}

/// The Okta users who map to the same username as `user`, or why they cannot be
/// known. No request when the user is linked under that username already (nothing
/// about them depends on its uniqueness); `links` need hold only the user's own.
pub(crate) async fn find(
    prepared: &Connected,
    user: &OktaUser,
    username: Option<&Username>,
    links: &Links,
    among: Among<'_>,
) -> Namesakes {
    let mut out = Namesakes::default();
    // An invalid username is the planner's to report; nothing to check.
    let Some(username) = username else { return out };
    if links
        .users
        .get(&user.id)
        .is_some_and(|l| &l.username == username)
    {
        return out;
    }
    if !prepared.policy.username_is_a_login_prefix() {
        out.reasons.push(format!(
            "whether username {username} belongs to no other Okta user cannot be checked with a \
             targeted query, because the username mapping (policy.username) does not keep a \
             prefix of the login; a full sync decides"
        ));
        return out;
    }
    let constraints = prepared.conns.constraints();
    let maps_to_it = |other: &OktaUser| {
        constraints
            .username(&prepared.policy.map_login(&other.login))
            .is_ok_and(|u| &u == username)
    };
    out.asked_okta = matches!(among, Among::Okta);
    match with_prefix(prepared, among, username.as_str()).await {
        Ok((found, unusable)) => {
            for problem in unusable {
                out.reasons.push(format!(
                    "{problem}; it may map to username {username}, so its uniqueness is unknown"
                ));
            }
            let others = found.into_iter().filter(|o| o.id != user.id);
            out.users.extend(others.filter(|o| maps_to_it(o)));
        }
        Err(err) => out.reasons.push(format!(
            "the Okta users who may also map to username {username} could not be searched: {err}"
        )),
    }
    out
}
