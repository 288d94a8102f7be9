//! Okta group memberships, held compactly.
//!
//! A 100,000-user org has about a million memberships, and a full sync holds them
//! while it plans. As a set of ids per group they took about 28 MB (24 bytes an id
//! and the set's nodes around it), the largest part of a sync's peak after the plan
//! itself. Here every member id is kept once, and each group lists its members as
//! 4-byte numbers into that list, sorted by id: about 8 MB for the same million.
//! Reading it looks like reading the sets did: [`Memberships::get`] gives a group's
//! [`Members`], which iterate the ids in order.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::hash::{BuildHasher, BuildHasherDefault};

use hashbrown::HashTable;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::fast_hash::FxHasher;
use crate::ids::{OktaGroupId, OktaUserId};

/// Okta group id to the ids of its members (see the module docs).
#[derive(Clone, Default)]
pub struct Memberships {
    /// Every member id, once, in the order first seen.
    ids: Vec<OktaUserId>,
    /// Positions in `ids`, hashed by the id they point at (finds an id's number).
    numbers: HashTable<u32>,
    /// Each group's members: numbers into `ids`, sorted by id, no repeats.
    groups: BTreeMap<OktaGroupId, Box<[u32]>>,
}

/// The members of one group, in id order.
#[derive(Clone, Copy)]
pub struct Members<'a> {
    ids: &'a [OktaUserId],
    numbers: &'a [u32],
}

fn hash_of(id: &OktaUserId) -> u64 {
    BuildHasherDefault::<FxHasher>::default().hash_one(id.as_str())
}

impl Memberships {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the members of `group`, replacing any it had (repeats are kept once).
    pub fn insert(&mut self, group: OktaGroupId, members: impl IntoIterator<Item = OktaUserId>) {
        let mut numbers: Vec<u32> = members.into_iter().map(|id| self.number(id)).collect();
        self.sort(&mut numbers);
        self.groups.insert(group, numbers.into_boxed_slice());
    }

    /// Adds one member to `group` (creating the group's entry); false when it was one.
    pub fn add_member(&mut self, group: &OktaGroupId, member: OktaUserId) -> bool {
        let at = match self.get(group).map(|m| m.search(&member)) {
            Some(Ok(_)) => return false,
            Some(Err(at)) => at,
            None => 0,
        };
        let number = self.number(member);
        let entry = self.groups.entry(group.clone()).or_default();
        let mut numbers = std::mem::take(entry).into_vec();
        numbers.insert(at, number);
        *entry = numbers.into_boxed_slice();
        true
    }

    /// Removes one member from `group`; false when it was not one.
    pub fn remove_member(&mut self, group: &OktaGroupId, member: &OktaUserId) -> bool {
        let Some(at) = self.get(group).and_then(|m| m.position(member)) else {
            return false;
        };
        if let Some(numbers) = self.groups.get_mut(group) {
            let mut kept = std::mem::take(numbers).into_vec();
            kept.remove(at);
            *numbers = kept.into_boxed_slice();
        }
        true
    }

    /// Forgets `group` and its members; false when it was not here.
    pub fn remove_group(&mut self, group: &OktaGroupId) -> bool {
        self.groups.remove(group).is_some()
    }

    /// The members of `group`, when the group was read.
    #[must_use]
    pub fn get(&self, group: &OktaGroupId) -> Option<Members<'_>> {
        self.groups.get(group).map(|numbers| Members {
            ids: &self.ids,
            numbers,
        })
    }

    /// Whether `member` is a member of `group`.
    #[must_use]
    pub fn contains(&self, group: &OktaGroupId, member: &OktaUserId) -> bool {
        self.get(group).is_some_and(|m| m.contains(member))
    }

    /// Every group read, in id order, with its members.
    pub fn iter(&self) -> impl Iterator<Item = (&OktaGroupId, Members<'_>)> {
        self.groups.iter().map(|(group, numbers)| {
            let members = Members {
                ids: &self.ids,
                numbers,
            };
            (group, members)
        })
    }

    /// Every group's members, in group id order.
    pub fn values(&self) -> impl Iterator<Item = Members<'_>> {
        self.iter().map(|(_, members)| members)
    }

    /// Whether the members of `group` were read.
    #[must_use]
    pub fn contains_key(&self, group: &OktaGroupId) -> bool {
        self.groups.contains_key(group)
    }

    /// How many groups have their members here.
    #[must_use]
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// How many memberships there are, over all groups.
    #[must_use]
    pub fn total(&self) -> usize {
        self.groups.values().map(|m| m.len()).sum()
    }

    /// The number of `id` in `ids`, adding it when new.
    fn number(&mut self, id: OktaUserId) -> u32 {
        let hash = hash_of(&id);
        let ids = &self.ids;
        if let Some(&n) = self.numbers.find(hash, |&n| ids[n as usize] == id) {
            return n;
        }
        let n = u32::try_from(self.ids.len()).expect("fewer than 4 billion Okta users");
        self.ids.push(id);
        let ids = &self.ids;
        self.numbers
            .insert_unique(hash, n, |&n| hash_of(&ids[n as usize]));
        n
    }

    /// Sorts numbers by the ids they stand for and drops repeats.
    fn sort(&self, numbers: &mut Vec<u32>) {
        numbers.sort_unstable_by(|&a, &b| self.ids[a as usize].cmp(&self.ids[b as usize]));
        numbers.dedup();
    }
}

impl<'a> Members<'a> {
    /// The member ids, in order.
    #[must_use]
    pub fn iter(&self) -> MemberIds<'a> {
        MemberIds {
            ids: self.ids,
            numbers: self.numbers.iter(),
        }
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.numbers.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.numbers.is_empty()
    }

    #[must_use]
    pub fn contains(&self, member: &OktaUserId) -> bool {
        self.position(member).is_some()
    }

    fn position(&self, member: &OktaUserId) -> Option<usize> {
        self.search(member).ok()
    }

    /// Where `member` is (`Ok`), or would go (`Err`).
    fn search(&self, member: &OktaUserId) -> Result<usize, usize> {
        self.numbers
            .binary_search_by(|&n| self.ids[n as usize].cmp(member))
    }
}

impl<'a> IntoIterator for Members<'a> {
    type Item = &'a OktaUserId;
    type IntoIter = MemberIds<'a>;

    fn into_iter(self) -> MemberIds<'a> {
        self.iter()
    }
}

impl PartialEq for Members<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl fmt::Debug for Members<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl Serialize for Members<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

/// The ids of a group's members, in order (from [`Members::iter`]).
#[derive(Clone)]
pub struct MemberIds<'a> {
    ids: &'a [OktaUserId],
    numbers: std::slice::Iter<'a, u32>,
}

impl<'a> Iterator for MemberIds<'a> {
    type Item = &'a OktaUserId;

    fn next(&mut self) -> Option<&'a OktaUserId> {
        self.numbers.next().map(|&n| &self.ids[n as usize])
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.numbers.size_hint()
    }
}

impl ExactSizeIterator for MemberIds<'_> {}

impl<'a> IntoIterator for &'a Memberships {
    type Item = (&'a OktaGroupId, Members<'a>);
    type IntoIter = Box<dyn Iterator<Item = (&'a OktaGroupId, Members<'a>)> + 'a>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

impl PartialEq for Memberships {
    /// The same groups with the same members, however each was built.
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl fmt::Debug for Memberships {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for Memberships {
    /// As a map of group id to member ids, as a map of sets would be.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for Memberships {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let groups = BTreeMap::<OktaGroupId, Vec<OktaUserId>>::deserialize(deserializer)?;
        Ok(groups.into_iter().collect())
    }
}

impl<I: IntoIterator<Item = OktaUserId>> FromIterator<(OktaGroupId, I)> for Memberships {
    fn from_iter<T: IntoIterator<Item = (OktaGroupId, I)>>(groups: T) -> Self {
        let mut memberships = Self::new();
        for (group, members) in groups {
            memberships.insert(group, members);
        }
        memberships
    }
}

impl From<BTreeMap<OktaGroupId, BTreeSet<OktaUserId>>> for Memberships {
    fn from(groups: BTreeMap<OktaGroupId, BTreeSet<OktaUserId>>) -> Self {
        groups.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: &str) -> OktaUserId {
        OktaUserId::parse(id).unwrap()
    }

    fn group(id: &str) -> OktaGroupId {
        OktaGroupId::parse(id).unwrap()
    }

    #[test]
    fn a_group_lists_its_members_once_each_in_id_order() {
        let mut m = Memberships::new();
        m.insert(group("00g1"), [user("00u3"), user("00u1"), user("00u3")]);
        m.insert(group("00g2"), [user("00u1")]);
        let ids: Vec<&str> = m
            .get(&group("00g1"))
            .unwrap()
            .iter()
            .map(OktaUserId::as_str)
            .collect();
        assert_eq!(ids, ["00u1", "00u3"]);
        assert_eq!(m.total(), 3);
        assert_eq!(m.len(), 2);
        assert!(m.contains(&group("00g2"), &user("00u1")));
        assert!(!m.contains(&group("00g2"), &user("00u3")));
        assert!(m.get(&group("00g9")).is_none());
    }

    #[test]
    fn adding_and_removing_one_member_keeps_the_order_and_says_whether_it_changed() {
        let mut m = Memberships::new();
        assert!(m.add_member(&group("00g1"), user("00u5")));
        assert!(m.add_member(&group("00g1"), user("00u2")));
        assert!(!m.add_member(&group("00g1"), user("00u5")));
        assert!(m.remove_member(&group("00g1"), &user("00u5")));
        assert!(!m.remove_member(&group("00g1"), &user("00u5")));
        assert!(!m.remove_member(&group("00g7"), &user("00u5")));
        let ids: Vec<&OktaUserId> = m.get(&group("00g1")).unwrap().into_iter().collect();
        assert_eq!(ids, [&user("00u2")]);
    }

    #[test]
    fn memberships_built_in_another_order_are_equal_and_read_as_the_same_map() {
        let a: Memberships = [
            (group("00g1"), vec![user("00u1"), user("00u2")]),
            (group("00g2"), vec![user("00u3")]),
        ]
        .into_iter()
        .collect();
        let b: Memberships = [
            (group("00g2"), vec![user("00u3")]),
            (group("00g1"), vec![user("00u2"), user("00u1")]),
        ]
        .into_iter()
        .collect();
        assert_eq!(a, b);
        let sets = BTreeMap::from([
            (group("00g1"), BTreeSet::from([user("00u1"), user("00u2")])),
            (group("00g2"), BTreeSet::from([user("00u3")])),
        ]);
        assert_eq!(
            serde_json::to_value(&a).unwrap(),
            serde_json::to_value(&sets).unwrap(),
            "the JSON is what the map of sets gave"
        );
        let back: Memberships =
            serde_json::from_value(serde_json::to_value(&sets).unwrap()).unwrap();
        assert_eq!(back, Memberships::from(sets));
        let mut c = b.clone();
        c.remove_member(&group("00g2"), &user("00u3"));
        assert_ne!(a, c, "an emptied group is not the group with its member");
    }
}
