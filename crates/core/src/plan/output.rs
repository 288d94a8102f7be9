//! What the planning passes accumulate, and putting the ops in their final order.
//!
//! Ops are kept in one list per [`OpKind`] as they are planned. A plan's order is
//! by kind, then by group and user name (case-folded), then by when the op was
//! planned. The passes plan the bulk of the ops (memberships, group setup) already
//! in that order, so a list is usually only checked; one that is not in order is
//! sorted through integer ranks of its names and moved into place, never by
//! comparing strings pairwise or moving ops at every step of a sort.

use compact_str::CompactString;

use crate::fast_hash::FastMap;
use crate::ids::{GroupName, Username};
use crate::plan::ops::{Op, OpKind, PlannedOp, Rule, SkipReason, SkippedUser};
use crate::snapshot::OktaUser;

/// What the planning passes accumulate.
pub(crate) struct Output {
    /// The ops of each kind (indexed by `OpKind as usize`), in the order planned.
    by_kind: Vec<Vec<PlannedOp>>,
    pub skipped: Vec<SkippedUser>,
    pub notes: Vec<String>,
}

impl Default for Output {
    fn default() -> Self {
        Self {
            by_kind: OpKind::ALL.iter().map(|_| Vec::new()).collect(),
            skipped: Vec::new(),
            notes: Vec::new(),
        }
    }
}

impl Output {
    pub fn push(&mut self, op: Op, rule: Rule) {
        self.by_kind[op.kind() as usize].push(PlannedOp { op, rule });
    }

    pub fn skip(&mut self, user: &OktaUser, reason: SkipReason) {
        self.skipped.push(SkippedUser {
            okta_id: user.id.clone(),
            login: user.login.clone(),
            reason,
        });
    }

    /// Takes back the attribute and state writes just planned for `user`, whose target
    /// user `username` is in a read-only directory, and records them as one skip
    /// ([`SkipReason::NotWritable`]); nothing when none were planned.
    pub fn not_writable(&mut self, user: &OktaUser, username: &Username) {
        let mut not_done = Vec::new();
        for kind in [
            OpKind::RenameUser,
            OpKind::UpdateUser,
            OpKind::ReactivateUser,
            OpKind::DeactivateUser,
        ] {
            let list = &mut self.by_kind[kind as usize];
            if let Some(taken) = list.pop_if(|p| p.op.okta_user() == Some(&user.id)) {
                not_done.push(taken.op.to_string());
            }
        }
        if !not_done.is_empty() {
            let username = username.to_string();
            self.skip(user, SkipReason::NotWritable { username, not_done });
        }
    }

    /// Every op in dependency order, then by group and user names, then as planned.
    pub fn into_ops(self) -> (Vec<PlannedOp>, Vec<SkippedUser>, Vec<String>) {
        let mut lists = self.by_kind;
        for list in &mut lists {
            if !is_in_order(list) {
                sort_ops(list);
            }
        }
        // Build on the longest list so the bulk of the ops moves at most once.
        let total: usize = lists.iter().map(Vec::len).sum();
        let longest = (0..lists.len())
            .max_by_key(|&k| lists[k].len())
            .unwrap_or(0);
        let mut ops = std::mem::take(&mut lists[longest]);
        ops.reserve_exact(total - ops.len());
        // The lists before it go in front, the last first, each straight into the room
        // just reserved: gathering them into one list first would hold a second copy
        // of them at the plan's peak.
        for list in lists[..longest].iter_mut().rev() {
            if !list.is_empty() {
                ops.splice(0..0, std::mem::take(list));
            }
        }
        for list in &mut lists[longest + 1..] {
            ops.append(list);
        }
        (ops, self.skipped, self.notes)
    }
}

/// The names an op sorts by within its kind (`None` sorts first).
fn names(op: &PlannedOp) -> (Option<&str>, Option<&str>) {
    (
        op.op.group().map(GroupName::folded),
        op.op.username().map(Username::folded),
    )
}

fn is_in_order(ops: &[PlannedOp]) -> bool {
    ops.windows(2).all(|w| names(&w[0]) <= names(&w[1]))
}

/// Sorts ops by kind, then group and user names (case-folded), then position,
/// through integer ranks of the names, then moves them into place.
pub(crate) fn sort_ops(ops: &mut [PlannedOp]) {
    let groups = Ranks::new(ops.iter().map(|p| names(p).0));
    let users = Ranks::new(ops.iter().map(|p| names(p).1));
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
