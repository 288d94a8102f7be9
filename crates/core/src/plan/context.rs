//! The planner's indexes over its inputs.
//!
//! Every lookup the planner makes goes through a hash map built once here, so a
//! plan is linear in the size of the snapshots (100,000 users and 1,000,000
//! memberships plan in under a second of CPU; `examples/plan_bench.rs` measures it).

use crate::fast_hash::FastMap;
use crate::ids::{GroupName, OktaGroupId, OktaUserId, TargetUserKey, Username};
use crate::links::{Links, UserLink};
use crate::mapping::CompiledPolicy;
use crate::plan::PlanOptions;
use crate::scope::UserScope;
use crate::snapshot::{
    Completeness, OktaSnapshot, OktaUser, TargetGroup, TargetSnapshot, TargetUser,
};

pub(crate) struct Context<'a> {
    pub desired: &'a OktaSnapshot,
    pub current: &'a TargetSnapshot,
    pub links: &'a Links,
    pub policy: &'a CompiledPolicy,
    pub options: &'a PlanOptions,
    pub scope: UserScope<'a>,
    pub okta_users: FastMap<&'a OktaUserId, &'a OktaUser>,
    pub okta_groups: FastMap<&'a OktaGroupId, usize>,
    pub target_by_name: FastMap<&'a Username, &'a TargetUser>,
    pub target_by_key: FastMap<&'a TargetUserKey, &'a TargetUser>,
    pub target_groups: FastMap<&'a GroupName, &'a TargetGroup>,
    /// Which Okta user each linked target username belongs to.
    pub linked_names: FastMap<&'a Username, &'a OktaUserId>,
    pub linked_keys: FastMap<&'a TargetUserKey, &'a OktaUserId>,
    /// Which Okta group each linked target group belongs to.
    pub linked_groups: FastMap<&'a GroupName, &'a OktaGroupId>,
    /// Why usernames cannot be known unique (the Okta read was incomplete, so an
    /// unread user may map to the same name); `None` when they can.
    pub uniqueness_unknown: Option<String>,
}

impl<'a> Context<'a> {
    pub fn new(
        desired: &'a OktaSnapshot,
        current: &'a TargetSnapshot,
        links: &'a Links,
        policy: &'a CompiledPolicy,
        options: &'a PlanOptions,
    ) -> Self {
        let mut linked_names = FastMap::default();
        linked_names.reserve(links.users.len());
        let mut linked_keys = FastMap::default();
        for link in links.users.values() {
            linked_names.insert(&link.username, &link.okta_id);
            if let Some(key) = &link.target_key {
                linked_keys.insert(key, &link.okta_id);
            }
        }
        Self {
            desired,
            current,
            links,
            policy,
            options,
            scope: UserScope::new(policy, desired),
            okta_users: desired.users.iter().map(|u| (&u.id, u)).collect(),
            okta_groups: desired
                .groups
                .iter()
                .enumerate()
                .map(|(i, g)| (&g.id, i))
                .collect(),
            target_by_name: current.users.iter().map(|u| (&u.username, u)).collect(),
            target_by_key: current
                .users
                .iter()
                .filter_map(|u| u.key.as_ref().map(|k| (k, u)))
                .collect(),
            target_groups: current.groups.iter().map(|g| (&g.name, g)).collect(),
            linked_names,
            linked_keys,
            linked_groups: links
                .groups
                .values()
                .map(|l| (&l.target_name, &l.okta_id))
                .collect(),
            uniqueness_unknown: match &desired.completeness {
                Completeness::Complete => None,
                Completeness::Incomplete { reasons } if reasons.is_empty() => {
                    Some("the Okta read was incomplete".into())
                }
                Completeness::Incomplete { reasons } => Some(reasons.join("; ")),
            },
        }
    }

    /// The target user a link points at: by immutable key when both sides have one,
    /// else by the username recorded at the last sync.
    pub fn linked_target(&self, link: &UserLink) -> Option<&'a TargetUser> {
        if let Some(user) = link
            .target_key
            .as_ref()
            .and_then(|k| self.target_by_key.get(k))
        {
            return Some(user);
        }
        self.target_by_name
            .get(&link.username)
            .copied()
            .filter(|u| link.target_key.is_none() || u.key.is_none())
    }

    /// The Okta user linked to a target user, if any.
    pub fn owner_of(&self, user: &TargetUser) -> Option<&'a OktaUserId> {
        if let Some(id) = user.key.as_ref().and_then(|k| self.linked_keys.get(k)) {
            return Some(id);
        }
        self.linked_names.get(&user.username).copied()
    }

    pub fn is_protected(&self, username: &Username) -> bool {
        self.policy
            .is_protected(username, self.options.credential_username.as_ref())
    }

    /// Whether this plan may emit ops for the user.
    pub fn in_plan(&self, id: &OktaUserId) -> bool {
        self.options.scope.includes(id)
    }

    /// A short description of an Okta user for messages.
    pub fn describe(&self, id: &OktaUserId) -> String {
        self.okta_users.get(id).map_or_else(
            || format!("Okta user {id}"),
            |u| format!("{} ({id})", u.login),
        )
    }
}
