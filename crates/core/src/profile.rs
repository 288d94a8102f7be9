//! An Okta user's profile attributes, stored compactly.
//!
//! A snapshot holds one profile per user, so at 100,000 users a `BTreeMap<String, String>`
//! (a 544-byte node plus a heap string per key and value, about 1.1 KB a user) was the
//! largest item besides the plan at planning time (issue 17). [`Profile`] keeps the same
//! meaning (one value per exact key, iterated in key order, a JSON object on the wire and in
//! the store) as one exactly-sized, key-sorted slice of inline-when-short strings: most keys
//! and values fit in a `CompactString`'s 24 bytes, so a profile is usually one allocation.

use std::collections::BTreeMap;
use std::fmt;

use compact_str::CompactString;
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// String-valued profile attributes, sorted by key, one value per key.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Profile(Box<[(CompactString, CompactString)]>);

impl Profile {
    /// An empty profile.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The value of the attribute named exactly `key`.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&str> {
        self.position(key).ok().map(|i| self.0[i].1.as_str())
    }

    /// True when an attribute is named exactly `key`.
    #[must_use]
    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_ok()
    }

    /// Sets one attribute, returning the value it replaced, as `BTreeMap::insert` does.
    /// Rebuilds the slice: profiles are built once (collected) and rarely edited, so the
    /// memory saved is worth the copy.
    pub fn insert(&mut self, key: String, value: String) -> Option<String> {
        let value = CompactString::from(value);
        match self.position(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, value).into_string()),
            Err(i) => {
                let mut entries = std::mem::take(&mut self.0).into_vec();
                entries.insert(i, (key.into(), value));
                self.0 = entries.into_boxed_slice();
                None
            }
        }
    }

    /// Keeps only the attributes `keep` says yes to.
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &str) -> bool) {
        let mut entries = std::mem::take(&mut self.0).into_vec();
        entries.retain(|(k, v)| keep(k, v));
        self.0 = entries.into_boxed_slice();
    }

    /// Removes one attribute, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        let i = self.position(key).ok()?;
        let mut entries = std::mem::take(&mut self.0).into_vec();
        let (_, value) = entries.remove(i);
        self.0 = entries.into_boxed_slice();
        Some(value.into_string())
    }

    /// How many attributes there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The attributes in key order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + Clone + '_ {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The attribute names in order.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &str> + Clone + '_ {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    /// Bytes this profile owns on the heap: its slice, and the keys and values too long to be
    /// kept inline. What the memory tests and the benchmark's accounting read.
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        let spilled = |s: &CompactString| {
            if s.is_heap_allocated() {
                s.capacity()
            } else {
                0
            }
        };
        std::mem::size_of_val::<[(CompactString, CompactString)]>(&self.0)
            + self
                .0
                .iter()
                .map(|(k, v)| spilled(k) + spilled(v))
                .sum::<usize>()
    }

    fn position(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }
}

impl<K: Into<CompactString>, V: Into<CompactString>> FromIterator<(K, V)> for Profile {
    /// Like collecting into a `BTreeMap`: the last value given for a key wins.
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut entries: Vec<(CompactString, CompactString)> = iter
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        // A stable sort keeps a key's values in the order given; dedup keeps the first of a
        // run, so each later duplicate swaps its value into the kept slot before it is dropped.
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        entries.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                std::mem::swap(&mut later.1, &mut kept.1);
            }
            same
        });
        Self(entries.into_boxed_slice())
    }
}

impl From<BTreeMap<String, String>> for Profile {
    fn from(map: BTreeMap<String, String>) -> Self {
        map.into_iter().collect()
    }
}

impl<const N: usize> From<[(&str, &str); N]> for Profile {
    fn from(entries: [(&str, &str); N]) -> Self {
        entries.into_iter().collect()
    }
}

impl<'a> IntoIterator for &'a Profile {
    type Item = (&'a str, &'a str);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (CompactString, CompactString)>,
        fn(&'a (CompactString, CompactString)) -> (&'a str, &'a str),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl fmt::Debug for Profile {
    /// Printed as a map, as the `BTreeMap` it replaced was.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for Profile {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (k, v) in self.iter() {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Profile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ProfileVisitor)
    }
}

struct ProfileVisitor;

impl<'de> Visitor<'de> for ProfileVisitor {
    type Value = Profile;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of string attributes")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Profile, A::Error> {
        let mut entries = Vec::with_capacity(access.size_hint().unwrap_or(0).min(256));
        while let Some(entry) = access.next_entry::<CompactString, CompactString>()? {
            entries.push(entry);
        }
        Ok(entries.into_iter().collect())
    }
}

#[cfg(test)]
#[path = "profile_tests.rs"]
mod tests;
