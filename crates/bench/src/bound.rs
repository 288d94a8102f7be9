//! Lower bounds: the least wall time any client could take for a phase, given how
//! many requests it needs, the latency of one request, the allowed rate (the share
//! of each bucket per fixed window) and the concurrency limit.
//!
//! The model is Okta's: a bucket admits `budget` requests per window, the window
//! opens with the bucket's first request, and each request takes `latency`. So `n`
//! requests to one bucket need `floor((n-1)/budget)` full windows before the last
//! batch can start, and that last batch of `r` requests needs `ceil(r/C)` rounds of
//! one latency each. Cursor paging adds a second floor: a listing of `p` pages is a
//! chain, each page's `next` link known only from the page before, so `p` latencies
//! one after another. A phase's bound is the largest of these floors; the phase
//! never beats it, so `measured / bound` says how much time was lost.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The rate-limit setting of one bucket, as a client sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budget {
    /// Requests the client may start per window (share x limit, at least 1);
    /// `None` when the bucket does not limit.
    pub per_window: Option<u64>,
    pub window: Duration,
}

impl Budget {
    pub const UNLIMITED: Budget = Budget {
        per_window: None,
        window: Duration::from_secs(60),
    };

    /// The share of `limit` per `window` (Okta: 50% per token by default).
    #[must_use]
    pub fn share_of(limit: u32, share: f64, window: Duration) -> Self {
        // The share is in (0, 1] and the limit a u32, so the product fits.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let per_window = ((f64::from(limit) * share).floor() as u64).max(1);
        Self {
            per_window: Some(per_window),
            window,
        }
    }
}

/// The least time `n` requests to one bucket take with `concurrency` in flight at once.
#[must_use]
pub fn bucket_time(n: u64, budget: Budget, latency: Duration, concurrency: u64) -> Duration {
    if n == 0 {
        return Duration::ZERO;
    }
    let c = concurrency.max(1);
    let (full_windows, last_batch) = match budget.per_window {
        Some(b) => {
            let b = b.max(1);
            let k = (n - 1) / b;
            (k, n - k * b)
        }
        None => (0, n),
    };
    budget.window * u32::try_from(full_windows).unwrap_or(u32::MAX)
        + latency * u32::try_from(last_batch.div_ceil(c)).unwrap_or(u32::MAX)
}

/// `n` requests one after another.
#[must_use]
pub fn chain(n: u64, latency: Duration) -> Duration {
    latency * u32::try_from(n).unwrap_or(u32::MAX)
}

/// One floor of a phase, named so the report can say what binds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Floor {
    pub what: String,
    pub seconds: f64,
}

/// The lower bound of a phase: the largest of its floors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bound {
    pub seconds: f64,
    /// The floor that binds.
    pub binding: String,
    pub floors: Vec<Floor>,
}

impl Bound {
    #[must_use]
    pub fn of(floors: Vec<(String, Duration)>) -> Self {
        let floors: Vec<Floor> = floors
            .into_iter()
            .map(|(what, d)| Floor {
                what,
                seconds: d.as_secs_f64(),
            })
            .collect();
        let top = floors
            .iter()
            .max_by(|a, b| a.seconds.total_cmp(&b.seconds))
            .cloned()
            .unwrap_or(Floor {
                what: "nothing to do".into(),
                seconds: 0.0,
            });
        Self {
            seconds: top.seconds,
            binding: top.what,
            floors,
        }
    }

    /// `measured / bound` (`None` when the bound is zero).
    #[must_use]
    pub fn ratio(&self, measured_seconds: f64) -> Option<f64> {
        (self.seconds > 0.0).then(|| measured_seconds / self.seconds)
    }
}

/// What a full read of an org needs, in requests per listing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadShape {
    pub user_pages: u64,
    pub group_pages: u64,
    /// Pages of members summed over the groups whose members are read.
    pub member_pages: u64,
    /// The most pages any one group's member listing takes (its chain).
    pub longest_member_chain: u64,
}

impl ReadShape {
    /// The pages a read needs at these page sizes: `pages(n) = max(1, ceil(n/size))`,
    /// since even an empty listing takes one request. `member_counts` holds one
    /// entry per group whose members are read.
    #[must_use]
    pub fn of(users: u64, groups: u64, member_counts: &[u64], sizes: PageSizes) -> Self {
        let pages = |n: u64, size: u64| n.div_ceil(size.max(1)).max(1);
        let member: Vec<u64> = member_counts
            .iter()
            .map(|m| pages(*m, sizes.members))
            .collect();
        Self {
            user_pages: pages(users, sizes.users),
            group_pages: pages(groups, sizes.groups),
            member_pages: member.iter().sum(),
            longest_member_chain: member.iter().copied().max().unwrap_or(0),
        }
    }

    #[must_use]
    pub fn requests(&self) -> u64 {
        self.user_pages + self.group_pages + self.member_pages
    }
}

/// Page sizes (`limit`) of the three listings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageSizes {
    pub users: u64,
    pub groups: u64,
    pub members: u64,
}

/// The Okta side's limits as a client meets them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OktaLimits {
    pub latency: Duration,
    pub users: Budget,
    pub groups: Budget,
    pub members: Budget,
    /// Requests in flight at once (Okta's org-wide concurrency limit).
    pub concurrency: u64,
}

/// The least time a full read of `shape` takes: users and groups are listed at the
/// same time (separate buckets); members can start once the first group page is in.
#[must_use]
pub fn full_read(shape: &ReadShape, limits: &OktaLimits) -> Bound {
    let l = limits.latency;
    let c = limits.concurrency;
    let members = if shape.member_pages == 0 {
        Duration::ZERO
    } else {
        l + bucket_time(shape.member_pages, limits.members, l, c)
    };
    Bound::of(vec![
        ("user pages in sequence".into(), chain(shape.user_pages, l)),
        (
            "users bucket".into(),
            bucket_time(shape.user_pages, limits.users, l, c),
        ),
        (
            "group pages in sequence".into(),
            chain(shape.group_pages, l),
        ),
        (
            "groups bucket".into(),
            bucket_time(shape.group_pages, limits.groups, l, c),
        ),
        ("group members bucket".into(), members),
        (
            "longest member listing".into(),
            chain(1 + shape.longest_member_chain, l),
        ),
        (
            "concurrency limit".into(),
            bucket_time(shape.requests(), Budget::UNLIMITED, l, c),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn requests_within_one_window_cost_only_latency_rounds() {
        let budget = Budget::share_of(600, 0.5, Duration::from_secs(60));
        assert_eq!(budget.per_window, Some(300));
        assert_eq!(bucket_time(300, budget, 50 * MS, 75), 50 * MS * 4);
    }

    #[test]
    fn each_full_window_before_the_last_batch_costs_a_whole_window() {
        let budget = Budget::share_of(1200, 0.5, Duration::from_secs(60));
        // 1300 requests at 600 per window: two full windows, then 100 requests.
        assert_eq!(
            bucket_time(1300, budget, 50 * MS, 75),
            Duration::from_secs(120) + 50 * MS * 2
        );
        assert_eq!(
            bucket_time(1200, budget, 50 * MS, 75),
            Duration::from_secs(60) + 50 * MS * 8
        );
    }

    #[test]
    fn without_limits_only_latency_and_concurrency_count() {
        assert_eq!(bucket_time(150, Budget::UNLIMITED, 50 * MS, 75), 100 * MS);
        assert_eq!(
            bucket_time(0, Budget::UNLIMITED, 50 * MS, 75),
            Duration::ZERO
        );
    }

    #[test]
    fn pages_count_one_request_even_for_an_empty_listing() {
        let sizes = PageSizes {
            users: 200,
            groups: 200,
            members: 200,
        };
        let shape = ReadShape::of(10_000, 1_000, &[0, 1, 200, 201, 5_000], sizes);
        assert_eq!(shape.user_pages, 50);
        assert_eq!(shape.group_pages, 5);
        assert_eq!(shape.member_pages, 1 + 1 + 1 + 2 + 25);
        assert_eq!(shape.longest_member_chain, 25);
        assert_eq!(shape.requests(), 85);
    }

    #[test]
    fn a_rate_limited_read_is_bound_by_its_busiest_bucket() {
        let window = Duration::from_secs(60);
        let limits = OktaLimits {
            latency: 50 * MS,
            users: Budget::share_of(600, 0.5, window),
            groups: Budget::share_of(500, 0.5, window),
            members: Budget::share_of(1200, 0.5, window),
            concurrency: 75,
        };
        let shape = ReadShape {
            user_pages: 50,
            group_pages: 5,
            member_pages: 1300,
            longest_member_chain: 25,
        };
        let bound = full_read(&shape, &limits);
        assert_eq!(bound.binding, "group members bucket");
        assert!((bound.seconds - 120.15).abs() < 1e-9, "{}", bound.seconds);
        assert!((bound.ratio(138.0).unwrap() - 1.1485).abs() < 1e-3);
    }

    #[test]
    fn a_latency_bound_read_is_bound_by_its_longest_chain_or_the_concurrency() {
        let limits = OktaLimits {
            latency: 50 * MS,
            users: Budget::UNLIMITED,
            groups: Budget::UNLIMITED,
            members: Budget::UNLIMITED,
            concurrency: 75,
        };
        let shape = ReadShape {
            user_pages: 500,
            group_pages: 50,
            member_pages: 15_000,
            longest_member_chain: 300,
        };
        let bound = full_read(&shape, &limits);
        assert_eq!(bound.binding, "user pages in sequence");
        assert!((bound.seconds - 25.0).abs() < 1e-9);
    }
}
