//! The rate governor: keeps usersync within its share of every Okta rate-limit bucket.
//!
//! Okta counts requests per bucket (roughly: per endpoint) in windows that end at
//! `X-Rate-Limit-Reset` (epoch seconds, server clock). The governor learns each
//! bucket's `X-Rate-Limit-Limit` from the answers and lets at most
//! `share * limit` requests start per window; further requests wait for the
//! window to reset. Until a bucket's limit is known only one request (a probe) is
//! in flight for it, so a burst of concurrent reads cannot overshoot a small
//! limit before the first answer arrives. It owns no retry logic: 429 handling
//! lives in the executor, which tells the governor about exhausted windows.
//! [`RateGovernor::headroom`] reports the latest figures per bucket for metrics.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::time::Instant;

/// What one answer said about its bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RateHeaders {
    pub limit: u32,
    pub remaining: u32,
    /// Time until the window resets, measured against the server's `Date`.
    pub reset_in: Duration,
}

/// What Okta last said about one rate-limit bucket: requests left in the window
/// (by every client of the org, not only usersync), the window's limit, and when
/// the window resets.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BucketHeadroom {
    /// Method and path template, e.g. `GET /api/v1/groups/{id}/users`.
    pub bucket: String,
    pub remaining: u32,
    pub limit: u32,
    /// Local wall-clock time of the reset (the server's `Date` corrects for skew).
    pub resets_at: DateTime<Utc>,
}

#[derive(Debug, Default)]
struct Bucket {
    limit: Option<u32>,
    /// The lowest `X-Rate-Limit-Remaining` seen in the current window (answers
    /// can arrive out of order, so the lowest is the latest).
    remaining: Option<u32>,
    resets_at: Option<DateTime<Utc>>,
    /// When the current window ends (local clock), if known.
    window_end: Option<Instant>,
    /// Requests usersync started in the current window.
    sent: u32,
    probing: bool,
}

/// Paces requests per bucket. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub(crate) struct RateGovernor {
    share: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

/// How long to wait before asking again, or go.
enum Admission {
    Go,
    Wait(Duration),
}

/// How often a waiter re-checks a bucket whose window end is not yet known.
const UNKNOWN_WINDOW_POLL: Duration = Duration::from_millis(20);

impl RateGovernor {
    pub(crate) fn new(share: f64) -> Self {
        Self {
            share,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Waits until a request to `bucket` may start within the share, and counts it.
    pub(crate) async fn acquire(&self, bucket: &str) {
        loop {
            match self.try_admit(bucket) {
                Admission::Go => return,
                Admission::Wait(d) => tokio::time::sleep(d).await,
            }
        }
    }

    fn try_admit(&self, bucket: &str) -> Admission {
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        let b = buckets.entry(bucket.to_owned()).or_default();
        let now = Instant::now();
        if b.window_end.is_some_and(|end| now >= end) {
            // The window is over; the next answer tells us when the new one ends.
            b.window_end = None;
            b.sent = 0;
        }
        let Some(limit) = b.limit else {
            if b.probing {
                return Admission::Wait(UNKNOWN_WINDOW_POLL);
            }
            b.probing = true;
            b.sent += 1;
            return Admission::Go;
        };
        if b.sent < self.budget(limit) {
            b.sent += 1;
            return Admission::Go;
        }
        Admission::Wait(
            b.window_end
                .map_or(UNKNOWN_WINDOW_POLL, |end| {
                    end.saturating_duration_since(now)
                })
                .max(Duration::from_millis(1)),
        )
    }

    /// Requests allowed per window: the share of the limit, at least one.
    fn budget(&self, limit: u32) -> u32 {
        let share = (f64::from(limit) * self.share).floor();
        // The share is validated to (0, 1], so this fits in u32.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let share = share as u32;
        share.max(1)
    }

    /// Records what an answer said. `None` when the attempt got no headers (a
    /// dropped connection): the next request becomes the probe.
    pub(crate) fn observe(&self, bucket: &str, headers: Option<RateHeaders>) {
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        let b = buckets.entry(bucket.to_owned()).or_default();
        b.probing = false;
        let Some(h) = headers else { return };
        if h.limit == 0 {
            // A concurrency-limit 429 reports 0/0: it says nothing about the window.
            return;
        }
        let end = Instant::now() + h.reset_in;
        let new_window = b
            .window_end
            .is_none_or(|old| end > old + Duration::from_secs(1));
        if new_window && b.window_end.is_some() {
            // The server moved on to a new window: everything used in it so far
            // (ours and others') is an upper bound on what we sent in it.
            b.sent = b.sent.min(h.limit.saturating_sub(h.remaining));
        }
        if new_window {
            b.window_end = Some(end);
            b.remaining = Some(h.remaining);
            b.resets_at = chrono::Duration::from_std(h.reset_in)
                .ok()
                .and_then(|d| Utc::now().checked_add_signed(d));
        } else {
            b.remaining = Some(b.remaining.map_or(h.remaining, |r| r.min(h.remaining)));
        }
        b.limit = Some(h.limit);
        if h.remaining == 0 {
            b.sent = b.sent.max(self.budget(h.limit));
        }
    }

    /// Marks a bucket exhausted until `reset_in` from now (after a 429).
    pub(crate) fn exhausted(&self, bucket: &str, reset_in: Duration) {
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        let b = buckets.entry(bucket.to_owned()).or_default();
        b.probing = false;
        if let Some(limit) = b.limit {
            b.sent = b.sent.max(self.budget(limit));
            b.window_end = Some(Instant::now() + reset_in);
        }
    }
}

impl RateGovernor {
    /// The latest figures of every bucket an answer has reported, by bucket name.
    pub(crate) fn headroom(&self) -> Vec<BucketHeadroom> {
        let buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        let mut out: Vec<BucketHeadroom> = buckets
            .iter()
            .filter_map(|(name, b)| {
                Some(BucketHeadroom {
                    bucket: name.clone(),
                    remaining: b.remaining?,
                    limit: b.limit?,
                    resets_at: b.resets_at?,
                })
            })
            .collect();
        out.sort_by(|a, b| a.bucket.cmp(&b.bucket));
        out
    }
}

/// The bucket a request counts against: method and path with ids replaced, so
/// `/api/v1/groups/00g1/users` and `/api/v1/groups/00g2/users` share one.
pub(crate) fn bucket_of(method: &http::Method, path: &str) -> String {
    let mut template = String::with_capacity(path.len());
    for (i, segment) in path.trim_matches('/').split('/').enumerate() {
        template.push('/');
        // `/api/v1/{resource}/{id}/...`: the fourth segment is an id.
        template.push_str(if i == 3 { "{id}" } else { segment });
    }
    format!("{method} {template}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(limit: u32, remaining: u32, reset_secs: u64) -> Option<RateHeaders> {
        Some(RateHeaders {
            limit,
            remaining,
            reset_in: Duration::from_secs(reset_secs),
        })
    }

    #[test]
    fn buckets_group_requests_by_endpoint_not_by_id() {
        let get = http::Method::GET;
        assert_eq!(bucket_of(&get, "/api/v1/users"), "GET /api/v1/users");
        assert_eq!(
            bucket_of(&get, "/api/v1/groups/00g1/users"),
            bucket_of(&get, "/api/v1/groups/00g2/users")
        );
        assert_eq!(
            bucket_of(&get, "/api/v1/users/a@b.c"),
            "GET /api/v1/users/{id}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn only_one_probe_goes_out_until_the_limit_is_known() {
        let g = RateGovernor::new(0.5);
        assert!(matches!(g.try_admit("b"), Admission::Go));
        assert!(matches!(g.try_admit("b"), Admission::Wait(_)));
        g.observe("b", headers(10, 9, 60));
        assert!(matches!(g.try_admit("b"), Admission::Go));
    }

    #[tokio::test(start_paused = true)]
    async fn at_most_the_share_of_the_limit_starts_per_window() {
        let g = RateGovernor::new(0.5);
        g.acquire("b").await;
        g.observe("b", headers(10, 9, 60));
        let mut started = 1;
        while matches!(g.try_admit("b"), Admission::Go) {
            started += 1;
        }
        assert_eq!(started, 5, "half of a limit of 10");
        let Admission::Wait(wait) = g.try_admit("b") else {
            panic!("the sixth request must wait")
        };
        assert!(wait > Duration::from_secs(50) && wait <= Duration::from_secs(60));
        tokio::time::advance(Duration::from_secs(61)).await;
        assert!(matches!(g.try_admit("b"), Admission::Go), "a new window");
    }

    #[tokio::test(start_paused = true)]
    async fn an_answer_with_nothing_remaining_stops_the_bucket_until_reset() {
        let g = RateGovernor::new(1.0);
        g.acquire("b").await;
        g.observe("b", headers(100, 0, 5));
        assert!(matches!(g.try_admit("b"), Admission::Wait(_)));
        tokio::time::advance(Duration::from_secs(6)).await;
        assert!(matches!(g.try_admit("b"), Admission::Go));
    }

    #[tokio::test(start_paused = true)]
    async fn headroom_reports_the_lowest_remaining_of_the_current_window() {
        let g = RateGovernor::new(0.5);
        assert!(g.headroom().is_empty(), "nothing known before an answer");
        g.acquire("GET /api/v1/users").await;
        g.observe("GET /api/v1/users", headers(600, 590, 60));
        g.observe("GET /api/v1/users", headers(600, 595, 60));
        g.observe("GET /api/v1/groups", headers(100, 99, 30));
        g.observe("GET /api/v1/logs", None);
        let h = g.headroom();
        let figures: Vec<_> = h
            .iter()
            .map(|b| (b.bucket.as_str(), b.remaining, b.limit))
            .collect();
        assert_eq!(
            figures,
            [
                ("GET /api/v1/groups", 99, 100),
                ("GET /api/v1/users", 590, 600)
            ]
        );
        let in_a_minute = Utc::now() + chrono::Duration::seconds(60);
        assert!(h[1].resets_at <= in_a_minute && h[1].resets_at > Utc::now());
        tokio::time::advance(Duration::from_secs(61)).await;
        g.acquire("GET /api/v1/users").await;
        g.observe("GET /api/v1/users", headers(600, 599, 60));
        assert_eq!(g.headroom()[1].remaining, 599, "a new window starts afresh");
    }

    #[tokio::test(start_paused = true)]
    async fn a_dropped_probe_lets_the_next_request_probe() {
        let g = RateGovernor::new(0.5);
        g.acquire("b").await;
        g.observe("b", None);
        assert!(matches!(g.try_admit("b"), Admission::Go));
    }
}
