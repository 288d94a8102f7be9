//! Which group's members a full read starts next: the largest waiting group.
//!
//! A group's member listing is a chain (each page's `next` link comes with the page
//! before it), so a group of 10,000 members at 1,000 per page is ten requests in
//! sequence, and at 200 per page fifty. Started last, such a chain runs on after
//! every other read is done and, under rate limits, spills into a later window
//! ("Everyone", which every real org has and every user is in, is the longest).
//! The group listing asks for `expand=stats`, so each group arrives with its
//! `usersCount`; member reads take the largest group listed so far whenever a lane
//! frees up, so the long chains start first and the short ones fill in beside them.
//! A group without a count (Okta did not report one) waits behind those with one.

use std::collections::BinaryHeap;
use std::sync::{Mutex, PoisonError};

use usersync_core::OktaGroupId;

/// A group waiting for its members to be read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Waiting {
    /// `usersCount`; `None` sorts below every count.
    size: Option<u64>,
    /// Arrival order, reversed: among equal sizes the first listed goes first.
    arrival: std::cmp::Reverse<u64>,
    id: OktaGroupId,
    name: String,
}

/// The groups listed so far whose members are not being read yet, largest first.
#[derive(Debug, Default)]
pub(crate) struct LongestFirst {
    heap: Mutex<(BinaryHeap<Waiting>, u64)>,
}

impl LongestFirst {
    /// Adds a listed group with the member count Okta reported, if any.
    pub(crate) fn push(&self, id: OktaGroupId, name: String, size: Option<u64>) {
        let mut guard = self.heap.lock().unwrap_or_else(PoisonError::into_inner);
        let (heap, arrivals) = &mut *guard;
        heap.push(Waiting {
            size,
            arrival: std::cmp::Reverse(*arrivals),
            id,
            name,
        });
        *arrivals += 1;
    }

    /// The largest waiting group (id and name), if any.
    pub(crate) fn pop(&self) -> Option<(OktaGroupId, String)> {
        let mut guard = self.heap.lock().unwrap_or_else(PoisonError::into_inner);
        guard.0.pop().map(|w| (w.id, w.name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u32) -> OktaGroupId {
        OktaGroupId::parse(format!("00g{n:017}")).unwrap()
    }

    #[test]
    fn the_largest_waiting_group_goes_first_and_ties_keep_listing_order() {
        let queue = LongestFirst::default();
        queue.push(id(1), "small".into(), Some(3));
        queue.push(id(2), "unknown".into(), None);
        queue.push(id(3), "Everyone".into(), Some(10_000));
        queue.push(id(4), "also small".into(), Some(3));
        let order: Vec<String> = std::iter::from_fn(|| queue.pop().map(|(_, n)| n)).collect();
        assert_eq!(order, ["Everyone", "small", "also small", "unknown"]);
    }
}
