//! The planner's indexes over its inputs, and the accumulating output.
//!
//! Every lookup the planner makes goes through a hash map built once here, so a
//! plan is linear in the size of the snapshots (100,000 users and 1,000,000
//! memberships plan well within a second).

use compact_str::CompactString;

use crate::ids::{GroupName, OktaGroupId, OktaUserId, TargetUserKey, Username};
use crate::links::{Links, UserLink};
use crate::mapping::CompiledPolicy;
use crate::plan::PlanOptions;
use crate::plan::fast_hash::FastMap;
use crate::plan::ops::{Op, OpKind, PlannedOp, Rule, SkipReason, SkippedUser};
use crate::scope::UserScope;
use crate::snapshot::{OktaSnapshot, OktaUser, TargetGroup, TargetSnapshot, TargetUser};

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

/// What the planning passes accumulate.
#[derive(Default)]
pub(crate) struct Output {
    pub ops: Vec<PlannedOp>,
    pub skipped: Vec<SkippedUser>,
    pub notes: Vec<String>,
}

impl Output {
    pub fn push(&mut self, op: Op, rule: Rule) {
        self.ops.push(PlannedOp { op, rule });
    }

    pub fn skip(&mut self, user: &OktaUser, reason: SkipReason) {
        self.skipped.push(SkippedUser {
            okta_id: user.id.clone(),
            login: user.login.clone(),
            reason,
        });
    }
}

/// Sorts ops in dependency order, then by group and user names (case-folded), so
/// plans are deterministic. Names are ranked once and ops sorted by integer keys,
/// then moved into place: a first sync has a million ops of a few hundred bytes,
/// and comparing their strings pairwise, or moving them at every step of a sort,
/// dominated planning time.
pub(crate) fn sort_ops(ops: &mut [PlannedOp]) {
    let groups = Ranks::new(ops.iter().map(|p| p.op.group().map(GroupName::folded)));
    let users = Ranks::new(ops.iter().map(|p| p.op.username().map(Username::folded)));
    let mut keys: Vec<(OpKind, u32, u32, u32)> = ops
        .iter()
        .zip(0u32..)
        .map(|(p, i)| (p.op.kind(), groups.of(i), users.of(i), i))
        .collect();
    keys.sort_unstable();
    let mut order: Vec<u32> = keys.into_iter().map(|(.., i)| i).collect();
    permute(ops, &mut order);
}

/// The rank of each op's name among the distinct names, in sorted order.
struct Ranks {
    /// Per op: the rank of its name (0 when it has none, which sorts first).
    of_op: Vec<u32>,
}

impl Ranks {
    fn new<'a>(names: impl Iterator<Item = Option<&'a str>>) -> Self {
        // Number distinct names in order of appearance (consecutive ops often share
        // a name, which skips the lookup), then rank the few distinct ones.
        let mut ids: FastMap<CompactString, u32> = FastMap::default();
        let mut last: Option<(&str, u32)> = None;
        let mut of_op = Vec::with_capacity(names.size_hint().0);
        for name in names {
            let id = match (name, last) {
                (None, _) => 0,
                (Some(n), Some((l, id))) if n == l => id,
                (Some(n), _) => {
                    let next = u32::try_from(ids.len() + 1).unwrap_or(u32::MAX);
                    let id = *ids.entry(CompactString::from(n)).or_insert(next);
                    last = Some((n, id));
                    id
                }
            };
            of_op.push(id);
        }
        let mut sorted: Vec<(CompactString, u32)> = ids.into_iter().collect();
        sorted.sort_unstable();
        let mut rank = vec![0u32; sorted.len() + 1];
        for ((_, id), r) in sorted.into_iter().zip(1u32..) {
            rank[id as usize] = r;
        }
        for id in &mut of_op {
            *id = rank[*id as usize];
        }
        Self { of_op }
    }

    fn of(&self, op: u32) -> u32 {
        self.of_op[op as usize]
    }
}

/// Reorders `items` so position `j` holds what was at `order[j]`, in place, by
/// following each cycle of the permutation (no second copy of a million ops).
fn permute<T>(items: &mut [T], order: &mut [u32]) {
    for start in 0..order.len() {
        let mut j = start;
        loop {
            let from = order[j] as usize;
            // Mark the slot done: a later start on it then stops at once.
            order[j] = u32::try_from(j).unwrap_or(u32::MAX);
            if from == start {
                break;
            }
            items.swap(j, from);
            j = from;
        }
    }
}
