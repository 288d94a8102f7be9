//! The request log the Atlassian emulators keep for tests and the benchmark: the
//! most recent requests in full, and exact totals of all of them.
//!
//! A sync of a 100,000-user org sends over a million requests, and a
//! `usersync-sim` left running sends requests forever, so the log keeps at most a
//! set number of entries (dropping the oldest) while counting every request by
//! method and status. Counting tests read the totals; tests that look at what
//! was sent read the retained entries, which are all of them until the cap.

use std::collections::{BTreeMap, VecDeque};

/// How many requests answered, by method and status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestTotals {
    /// (method, status) to the number of requests.
    pub by_method_status: BTreeMap<(String, u16), u64>,
}

impl RequestTotals {
    /// Every request answered.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.by_method_status.values().sum()
    }

    /// Requests with this method (`GET`, `POST`...).
    #[must_use]
    pub fn with_method(&self, method: &str) -> u64 {
        self.by_method_status
            .iter()
            .filter(|((m, _), _)| m == method)
            .map(|(_, n)| n)
            .sum()
    }

    /// Requests answered with a status of at least `status` (400: every error).
    #[must_use]
    pub fn with_status_at_least(&self, status: u16) -> u64 {
        self.by_method_status
            .iter()
            .filter(|((_, s), _)| *s >= status)
            .map(|(_, n)| n)
            .sum()
    }
}

/// The most recent `capacity` entries, and totals of every entry.
#[derive(Debug)]
pub(crate) struct RequestLog<R> {
    recent: VecDeque<R>,
    capacity: usize,
    totals: RequestTotals,
}

impl<R: Clone> RequestLog<R> {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            recent: VecDeque::new(),
            capacity,
            totals: RequestTotals::default(),
        }
    }

    /// Records one request, forgetting the oldest entry when full.
    pub(crate) fn push(&mut self, method: &str, status: u16, entry: R) {
        match self
            .totals
            .by_method_status
            .get_mut(&(method.to_owned(), status))
        {
            Some(n) => *n += 1,
            None => {
                self.totals
                    .by_method_status
                    .insert((method.to_owned(), status), 1);
            }
        }
        if self.capacity == 0 {
            return;
        }
        if self.recent.len() == self.capacity {
            self.recent.pop_front();
        }
        self.recent.push_back(entry);
    }

    /// The retained entries, oldest first.
    pub(crate) fn recent(&self) -> impl Iterator<Item = &R> {
        self.recent.iter()
    }

    pub(crate) fn totals(&self) -> RequestTotals {
        self.totals.clone()
    }

    /// Every request recorded since the last clear (retained or not).
    pub(crate) fn count(&self) -> usize {
        usize::try_from(self.totals.total()).unwrap_or(usize::MAX)
    }

    pub(crate) fn clear(&mut self) {
        self.recent.clear();
        self.totals = RequestTotals::default();
    }
}

#[cfg(test)]
mod tests {
    use super::RequestLog;

    #[test]
    fn a_full_log_keeps_the_newest_entries_and_counts_every_request() {
        let mut log = RequestLog::new(3);
        for i in 0..10u16 {
            let method = if i % 2 == 0 { "GET" } else { "POST" };
            log.push(method, if i == 9 { 404 } else { 200 }, i);
        }
        assert_eq!(log.recent().copied().collect::<Vec<_>>(), vec![7, 8, 9]);
        assert_eq!(log.count(), 10);
        let totals = log.totals();
        assert_eq!(totals.with_method("GET"), 5);
        assert_eq!(totals.with_method("POST"), 5);
        assert_eq!(totals.with_status_at_least(400), 1);
        log.clear();
        assert_eq!(log.count(), 0);
        assert_eq!(log.recent().count(), 0);
    }

    #[test]
    fn a_log_of_no_capacity_still_counts() {
        let mut log = RequestLog::new(0);
        log.push("GET", 200, ());
        assert_eq!(log.count(), 1);
        assert_eq!(log.recent().count(), 0);
    }
}
