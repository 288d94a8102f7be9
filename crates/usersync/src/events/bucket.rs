//! Pacing: a token bucket per app, so a storm of Okta events turns into a steady,
//! bounded stream of syncs instead of spending the org's whole rate limit at once.

use std::time::Duration;

use tokio::time::Instant;

/// A token bucket: `burst` tokens, refilled at `per_minute`.
#[derive(Debug)]
pub struct Bucket {
    tokens: f64,
    capacity: f64,
    per_second: f64,
    refilled: Instant,
}

impl Bucket {
    /// A full bucket of `burst` tokens that refills at `per_minute`.
    #[must_use]
    pub fn new(burst: u32, per_minute: u32, now: Instant) -> Self {
        let capacity = f64::from(burst.max(1));
        Self {
            tokens: capacity,
            capacity,
            per_second: f64::from(per_minute.max(1)) / 60.0,
            refilled: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.capacity);
        self.refilled = now;
    }

    /// Takes a token when there is one.
    pub fn try_take(&mut self, now: Instant) -> bool {
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// When a token will be there.
    #[must_use]
    pub fn ready_at(&self, now: Instant) -> Instant {
        let missing = (1.0 - self.tokens).max(0.0);
        self.refilled.max(now) + Duration::from_secs_f64(missing / self.per_second)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_one_token_per_refill_interval() {
        let start = Instant::now();
        let mut bucket = Bucket::new(3, 60, start);
        assert!((0..3).all(|_| bucket.try_take(start)));
        assert!(!bucket.try_take(start), "the burst is spent");
        let ready = bucket.ready_at(start);
        assert_eq!(
            ready - start,
            Duration::from_secs(1),
            "60 a minute is one a second"
        );
        assert!(bucket.try_take(start + Duration::from_secs(1)));
        assert!(!bucket.try_take(start + Duration::from_secs(1)));
    }
}
