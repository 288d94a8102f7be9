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
    /// The window's `X-Rate-Limit-Reset` (epoch seconds): the same for every answer
    /// of one window, so it tells windows apart exactly.
    pub window: i64,
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
    /// The `X-Rate-Limit-Reset` of the latest window an answer reported.
    window: Option<i64>,
    /// When that window ends (local clock); `None` once it is over, until an
    /// answer reports the next one.
    window_end: Option<Instant>,
    /// Requests usersync started in the current window.
    sent: u32,
    /// Requests started whose answer (or failure) has not been observed yet.
    in_flight: u32,
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
            // Requests still on their way may reach Okta after its window turned,
            // so they count against the new one.
            b.window_end = None;
            b.sent = b.in_flight;
        }
        let Some(limit) = b.limit else {
            if b.probing {
                return Admission::Wait(UNKNOWN_WINDOW_POLL);
            }
            b.probing = true;
            b.sent += 1;
            b.in_flight += 1;
            return Admission::Go;
        };
        if b.sent < self.budget(limit) {
            b.sent += 1;
            b.in_flight += 1;
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

    /// Records what an answer said, once per admitted request. `None` when the
    /// attempt got no headers (a dropped connection): the next request becomes the probe.
    pub(crate) fn observe(&self, bucket: &str, headers: Option<RateHeaders>) {
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        let b = buckets.entry(bucket.to_owned()).or_default();
        b.probing = false;
        b.in_flight = b.in_flight.saturating_sub(1);
        let Some(h) = headers else { return };
        if h.limit == 0 {
            // A concurrency-limit 429 reports 0/0: it says nothing about the window.
            return;
        }
        b.limit = Some(h.limit);
        // Reset and Date are whole seconds, so each answer's end is late by up to a
        // second (never early: Date is stamped before the answer leaves). The
        // earliest end any answer of the window implies is the closest, so the next
        // window's budget is used from its first moment, not up to a second later.
        let end = Instant::now() + h.reset_in;
        match b.window {
            Some(w) if h.window < w || (h.window == w && b.window_end.is_none()) => {
                // An answer from a window that is already over.
                return;
            }
            Some(w) if h.window == w => {
                b.window_end = b.window_end.map(|e| e.min(end));
                b.remaining = Some(b.remaining.map_or(h.remaining, |r| r.min(h.remaining)));
            }
            _ => start_window(b, &h, end),
        }
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

/// An answer from a window newer than any seen: it is the current one now.
fn start_window(b: &mut Bucket, h: &RateHeaders, end: Instant) {
    if b.window_end.is_some() {
        // Okta moved on before our estimate of the old window's end: what it
        // counted so far in the new window (ours and others'), plus what is still
        // on its way, bounds what we sent into it.
        let used = h.limit.saturating_sub(h.remaining);
        b.sent = b.sent.min(used.saturating_add(b.in_flight));
    }
    b.window = Some(h.window);
    b.window_end = Some(end);
    b.remaining = Some(h.remaining);
    b.resets_at = chrono::Duration::from_std(h.reset_in)
        .ok()
        .and_then(|d| Utc::now().checked_add_signed(d));
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

    /// What the server says at second `now` of its clock about a window that resets
    /// at second `reset` (both whole seconds, as in Okta's headers).
    fn at(now: i64, limit: u32, remaining: u32, reset: i64) -> Option<RateHeaders> {
        Some(RateHeaders {
            limit,
            remaining,
            reset_in: Duration::from_secs(u64::try_from(reset - now).unwrap()),
            window: reset,
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
        g.observe("b", at(0, 10, 9, 60));
        assert!(matches!(g.try_admit("b"), Admission::Go));
    }

    #[tokio::test(start_paused = true)]
    async fn at_most_the_share_of_the_limit_starts_per_window() {
        let g = RateGovernor::new(0.5);
        g.acquire("b").await;
        g.observe("b", at(0, 10, 9, 60));
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
        g.observe("b", at(0, 100, 0, 5));
        assert!(matches!(g.try_admit("b"), Admission::Wait(_)));
        tokio::time::advance(Duration::from_secs(6)).await;
        assert!(matches!(g.try_admit("b"), Admission::Go));
    }

    #[tokio::test(start_paused = true)]
    async fn headroom_reports_the_lowest_remaining_of_the_current_window() {
        let g = RateGovernor::new(0.5);
        assert!(g.headroom().is_empty(), "nothing known before an answer");
        g.acquire("GET /api/v1/users").await;
        g.observe("GET /api/v1/users", at(0, 600, 590, 60));
        g.observe("GET /api/v1/users", at(0, 600, 595, 60));
        g.observe("GET /api/v1/groups", at(0, 100, 99, 30));
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
        g.observe("GET /api/v1/users", at(61, 600, 599, 121));
        assert_eq!(g.headroom()[1].remaining, 599, "a new window starts afresh");
    }

    #[tokio::test(start_paused = true)]
    async fn a_dropped_probe_lets_the_next_request_probe() {
        let g = RateGovernor::new(0.5);
        g.acquire("b").await;
        g.observe("b", None);
        assert!(matches!(g.try_admit("b"), Admission::Go));
    }

    /// Admits every request the bucket allows now; returns how many.
    fn admit_all(g: &RateGovernor, bucket: &str) -> u32 {
        let mut started = 0;
        while matches!(g.try_admit(bucket), Admission::Go) {
            started += 1;
        }
        started
    }

    #[tokio::test(start_paused = true)]
    async fn a_window_ends_at_the_earliest_end_its_answers_imply() {
        let g = RateGovernor::new(0.5);
        g.acquire("b").await;
        // Received at 0.9 s while the server's Date still said second 0: this answer
        // alone puts the end at 60.9 s.
        tokio::time::advance(Duration::from_millis(900)).await;
        g.observe("b", at(0, 10, 9, 60));
        assert_eq!(admit_all(&g, "b"), 4, "the rest of the share of 10");
        // Received at 1.0 s with Date second 1: the end is 60.0 s.
        tokio::time::advance(Duration::from_millis(100)).await;
        g.observe("b", at(1, 10, 8, 60));
        tokio::time::advance(Duration::from_secs(59)).await;
        assert!(
            matches!(g.try_admit("b"), Admission::Go),
            "the next window's budget is usable at 60.0 s, not 60.9 s"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn requests_in_flight_when_a_window_turns_count_against_the_next() {
        let g = RateGovernor::new(0.5);
        g.acquire("b").await;
        g.observe("b", at(0, 10, 9, 60));
        assert_eq!(admit_all(&g, "b"), 4, "four more in flight, unanswered");
        tokio::time::advance(Duration::from_secs(61)).await;
        assert_eq!(
            admit_all(&g, "b"),
            1,
            "the four still on their way may land in the new window"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_late_answer_from_a_past_window_changes_nothing() {
        let g = RateGovernor::new(0.5);
        g.acquire("b").await;
        g.observe("b", at(0, 10, 9, 60));
        g.acquire("b").await;
        tokio::time::advance(Duration::from_secs(61)).await;
        assert_eq!(admit_all(&g, "b"), 4, "a new window, one still in flight");
        // The straggler's answer: the old window, spent by others meanwhile.
        g.observe("b", at(60, 10, 0, 60));
        g.observe("b", at(61, 10, 6, 121));
        assert_eq!(
            g.headroom()[0].remaining,
            6,
            "the old window's figures are not taken for the new one"
        );
        assert!(matches!(g.try_admit("b"), Admission::Wait(_)));
    }

    #[tokio::test(start_paused = true)]
    async fn okta_turning_its_window_first_keeps_our_count_of_the_new_window() {
        let g = RateGovernor::new(0.5);
        g.acquire("b").await;
        g.observe("b", at(0, 10, 9, 60));
        assert_eq!(admit_all(&g, "b"), 4);
        // Just before our estimate of the end, an answer from Okta's next window:
        // two requests counted there so far, three of ours still on their way.
        tokio::time::advance(Duration::from_millis(59_990)).await;
        g.observe("b", at(60, 10, 8, 120));
        assert_eq!(admit_all(&g, "b"), 0, "2 counted + 3 on their way = 5 of 5");
    }
}
