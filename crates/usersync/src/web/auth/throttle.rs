//! Sign-in throttling: after a few failures for one username or from one client
//! address, further attempts are refused for a while, doubling with each failure.
//!
//! Kept in memory: a restart forgets it, which is acceptable because the
//! Argon2id cost already bounds how fast anyone can guess.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed before the first lock-out.
pub const FREE_FAILURES: u32 = 5;
const FIRST_LOCK: Duration = Duration::from_secs(30);
const LONGEST_LOCK: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Default, Clone, Copy)]
struct Entry {
    failures: u32,
    locked_until: Option<Instant>,
}

/// Failure counters keyed by `user:<name>` and `addr:<ip>`.
#[derive(Debug, Default)]
pub struct SignInThrottle {
    entries: Mutex<HashMap<String, Entry>>,
}

impl SignInThrottle {
    /// How long the caller must still wait, if any of `keys` is locked out.
    #[must_use]
    pub fn wait_time(&self, keys: &[String]) -> Option<Duration> {
        let now = Instant::now();
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        keys.iter()
            .filter_map(|k| entries.get(k)?.locked_until)
            .filter(|until| *until > now)
            .map(|until| until - now)
            .max()
    }

    /// Counts one failed attempt against every key.
    pub fn record_failure(&self, keys: &[String]) {
        let now = Instant::now();
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        for key in keys {
            let entry = entries.entry(key.clone()).or_default();
            entry.failures += 1;
            if entry.failures >= FREE_FAILURES {
                let doublings = (entry.failures - FREE_FAILURES).min(10);
                let lock = FIRST_LOCK.saturating_mul(1 << doublings).min(LONGEST_LOCK);
                entry.locked_until = Some(now + lock);
            }
        }
    }

    /// Forgets the failures of a username after a successful sign-in.
    pub fn record_success(&self, keys: &[String]) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        for key in keys {
            entries.remove(key);
        }
    }
}

/// The throttle keys of one attempt.
#[must_use]
pub fn keys(username: &str, addr: Option<std::net::IpAddr>) -> Vec<String> {
    let mut keys = vec![format!("user:{}", username.trim().to_lowercase())];
    if let Some(addr) = addr {
        keys.push(format!("addr:{addr}"));
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_lock_the_username_and_success_unlocks_it() {
        let throttle = SignInThrottle::default();
        let k = keys("Admin", None);
        for _ in 0..FREE_FAILURES - 1 {
            throttle.record_failure(&k);
            assert_eq!(throttle.wait_time(&k), None);
        }
        throttle.record_failure(&k);
        let wait = throttle.wait_time(&keys("admin", None)).expect("locked");
        assert!(wait > Duration::from_secs(1) && wait <= FIRST_LOCK);
        throttle.record_success(&k);
        assert_eq!(throttle.wait_time(&k), None);
    }

    #[test]
    fn lock_outs_double_with_each_further_failure_up_to_a_ceiling() {
        let throttle = SignInThrottle::default();
        let k = keys("bob", None);
        for _ in 0..FREE_FAILURES + 1 {
            throttle.record_failure(&k);
        }
        assert!(throttle.wait_time(&k).unwrap() > FIRST_LOCK);
        for _ in 0..30 {
            throttle.record_failure(&k);
        }
        assert!(throttle.wait_time(&k).unwrap() <= LONGEST_LOCK);
    }
}
