//! What the target holds that Okta does not explain (issue 20's report): target
//! users no Okta user maps to (orphans), users inactive in Okta but active in the
//! target, and members of the groups usersync manages that Okta does not put there.
//!
//! Pure: it reads the two snapshots, the app's identity links and its compiled
//! policy, and plans nothing. An Okta user "explains" a target user when their
//! link names it or, unlinked, when their login maps to its username (the same rule
//! the planner uses to adopt). Licence seats and last sign-ins are the product's
//! figures, not part of a snapshot: the engine reads them, and [`never_signed_in`]
//! names the Okta owner of each user the product says never signed in.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::ids::{GroupName, OktaUserId, Username};
use crate::links::Links;
use crate::mapping::{CompiledPolicy, TargetConstraints};
use crate::scope::{StatusClass, status_class};
use crate::snapshot::{OktaSnapshot, OktaStatus, TargetSnapshot};

/// The report of one app's target against its Okta org.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unexplained {
    /// False when the Okta read was incomplete: a user missing from it may be
    /// reported an orphan wrongly, so the report says so.
    pub okta_complete: bool,
    /// Target users no Okta user maps to, by username.
    pub orphans: Vec<Orphan>,
    /// Users inactive (suspended, deprovisioned) in Okta whose target account is active.
    pub inactive_in_okta: Vec<InactiveInOkta>,
    /// Members of groups usersync manages whom no linked Okta group puts there.
    pub unmanaged_members: Vec<UnmanagedMember>,
}

/// A target user no Okta user maps to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Orphan {
    pub username: Username,
    pub display_name: String,
    pub active: bool,
    /// Lives in a read-only directory (e.g. LDAP): usersync could not manage it anyway.
    pub managed_elsewhere: bool,
    /// The Okta user it was linked to, when that user is gone from Okta.
    pub linked_to: Option<OktaUserId>,
}

/// An Okta user inactive in Okta whose target account is active.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InactiveInOkta {
    pub username: Username,
    pub okta_login: String,
    pub okta_status: OktaStatus,
    /// Whether usersync links the two (else they match by mapped username only).
    pub linked: bool,
}

/// A member of a managed target group whom no linked Okta group puts there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnmanagedMember {
    pub group: GroupName,
    pub username: Username,
}

/// An active user counting towards the licence who never signed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NeverSignedIn {
    pub username: Username,
    /// The Okta user it belongs to (by link or mapped login), if any: a seat Okta
    /// hands out but nobody uses, rather than an account nobody owns.
    pub okta_login: Option<String>,
}

/// Of the `never` signed-in usernames the product reports, each with its Okta
/// owner; `me` (usersync's own account, which signs in by API only) is left out.
#[must_use]
pub fn never_signed_in<'a>(
    desired: &OktaSnapshot,
    links: &Links,
    policy: &CompiledPolicy,
    constraints: &TargetConstraints,
    never: impl IntoIterator<Item = &'a Username>,
    me: Option<&Username>,
) -> Vec<NeverSignedIn> {
    let owners = owners(desired, links, policy, constraints);
    let logins: BTreeMap<&OktaUserId, &str> = desired
        .users
        .iter()
        .map(|u| (&u.id, u.login.as_str()))
        .collect();
    let mut found: Vec<NeverSignedIn> = never
        .into_iter()
        .filter(|name| Some(*name) != me)
        .map(|name| NeverSignedIn {
            username: name.clone(),
            okta_login: owners
                .get(name)
                .and_then(|id| logins.get(id))
                .map(|l| (*l).to_owned()),
        })
        .collect();
    found.sort_by(|a, b| a.username.cmp(&b.username));
    found
}

/// Builds the report; `me` (the account usersync signs in as) is never an orphan.
#[must_use]
pub fn unexplained(
    desired: &OktaSnapshot,
    current: &TargetSnapshot,
    links: &Links,
    policy: &CompiledPolicy,
    constraints: &TargetConstraints,
    me: Option<&Username>,
) -> Unexplained {
    let owners = owners(desired, links, policy, constraints);
    Unexplained {
        okta_complete: desired.completeness.is_complete(),
        orphans: orphans(desired, current, links, &owners, me),
        inactive_in_okta: inactive_in_okta(desired, current, links, &owners),
        unmanaged_members: unmanaged_members(desired, current, links, &owners),
    }
}

/// Each target username an Okta user explains, to that user's id: by link first,
/// else by mapped login.
fn owners(
    desired: &OktaSnapshot,
    links: &Links,
    policy: &CompiledPolicy,
    constraints: &TargetConstraints,
) -> BTreeMap<Username, OktaUserId> {
    let mut owners = BTreeMap::new();
    for user in &desired.users {
        let name = match links.users.get(&user.id) {
            Some(link) => Some(link.username.clone()),
            None => constraints.username(&policy.map_login(&user.login)).ok(),
        };
        if let Some(name) = name {
            owners.entry(name).or_insert_with(|| user.id.clone());
        }
    }
    owners
}

fn orphans(
    desired: &OktaSnapshot,
    current: &TargetSnapshot,
    links: &Links,
    owners: &BTreeMap<Username, OktaUserId>,
    me: Option<&Username>,
) -> Vec<Orphan> {
    let in_okta: BTreeSet<&OktaUserId> = desired.users.iter().map(|u| &u.id).collect();
    let gone_links: BTreeMap<&Username, &OktaUserId> = links
        .users
        .values()
        .filter(|l| !in_okta.contains(&l.okta_id))
        .map(|l| (&l.username, &l.okta_id))
        .collect();
    current
        .users
        .iter()
        .filter(|u| Some(&u.username) != me && !owners.contains_key(&u.username))
        .map(|u| Orphan {
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            active: u.active,
            managed_elsewhere: u.managed_elsewhere,
            linked_to: gone_links.get(&u.username).map(|id| (*id).clone()),
        })
        .collect()
}

fn inactive_in_okta(
    desired: &OktaSnapshot,
    current: &TargetSnapshot,
    links: &Links,
    owners: &BTreeMap<Username, OktaUserId>,
) -> Vec<InactiveInOkta> {
    let by_id: BTreeMap<&OktaUserId, _> = desired.users.iter().map(|u| (&u.id, u)).collect();
    current
        .users
        .iter()
        .filter(|t| t.active)
        .filter_map(|t| {
            let okta = by_id.get(owners.get(&t.username)?)?;
            (status_class(okta.status) == StatusClass::Inactive).then(|| InactiveInOkta {
                username: t.username.clone(),
                okta_login: okta.login.clone(),
                okta_status: okta.status,
                linked: links.users.contains_key(&okta.id),
            })
        })
        .collect()
}

fn unmanaged_members(
    desired: &OktaSnapshot,
    current: &TargetSnapshot,
    links: &Links,
    owners: &BTreeMap<Username, OktaUserId>,
) -> Vec<UnmanagedMember> {
    // Target group -> the Okta users its linked Okta groups hold (several may feed one).
    let mut expected: BTreeMap<&GroupName, BTreeSet<&OktaUserId>> = BTreeMap::new();
    for link in links.groups.values() {
        let members = expected.entry(&link.target_name).or_default();
        if let Some(okta_members) = desired.memberships.get(&link.okta_id) {
            members.extend(okta_members);
        }
    }
    let mut found = Vec::new();
    for (group, allowed) in expected {
        let Some(members) = current.memberships.get(group) else {
            continue;
        };
        for member in members {
            let explained = owners.get(member).is_some_and(|id| allowed.contains(id));
            if !explained {
                found.push(UnmanagedMember {
                    group: group.clone(),
                    username: member.clone(),
                });
            }
        }
    }
    found
}

#[cfg(test)]
mod tests;
