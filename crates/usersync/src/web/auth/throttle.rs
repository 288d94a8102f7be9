//! Sign-in throttling that slows guessing without letting anyone lock the
//! administrator out.
//!
//! Failures are counted three ways: per username, per client address, and per
//! (username, address) pair. Only the pair is ever refused outright (429, doubling
//! up to a ceiling): that stops one client hammering one account, and it cannot be
//! used against anyone else, because the real administrator signs in from another
//! address. The per-username and per-address counters only add a short delay before
//! an attempt is judged, growing with the failures up to [`LONGEST_DELAY`]; the right
//! password still signs in. The client address is the connection's peer, or the
//! `X-Forwarded-For` entry added by a configured trusted proxy ([`client_address`]).
//!
//! Kept in memory: a restart forgets it, which is acceptable because the Argon2id
//! cost already bounds how fast anyone can guess.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed before delays and the pair's lock-out begin.
pub const FREE_FAILURES: u32 = 5;
const FIRST_LOCK: Duration = Duration::from_secs(30);
const LONGEST_LOCK: Duration = Duration::from_secs(15 * 60);
const FIRST_DELAY: Duration = Duration::from_millis(250);
/// The longest delay a username's or an address's failures add to an attempt.
pub const LONGEST_DELAY: Duration = Duration::from_secs(5);
/// Counters untouched this long are forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    last_failure: Instant,
    locked_until: Option<Instant>,
}

/// What to do with a sign-in attempt before checking its password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Check it after waiting this long (zero when there were few failures).
    After(Duration),
    /// Refuse it: this client failed for this username too often; retry after this.
    Refused(Duration),
}

/// The keys one attempt is counted under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    user: String,
    addr: Option<String>,
    pair: String,
}

impl Attempt {
    #[must_use]
    pub fn new(username: &str, addr: Option<IpAddr>) -> Self {
        let user = format!("user:{}", username.trim().to_lowercase());
        let addr_text = addr.map_or_else(|| "unknown".to_owned(), |a| a.to_string());
        Self {
            pair: format!("pair:{user}|{addr_text}"),
            addr: addr.map(|_| format!("addr:{addr_text}")),
            user,
        }
    }

    fn slowed(&self) -> impl Iterator<Item = &String> {
        std::iter::once(&self.user).chain(self.addr.as_ref())
    }
}

/// Failure counters in memory.
#[derive(Debug)]
pub struct SignInThrottle {
    entries: Mutex<HashMap<String, Entry>>,
    first_delay: Duration,
    longest_delay: Duration,
}

impl Default for SignInThrottle {
    fn default() -> Self {
        Self::with_delays(FIRST_DELAY, LONGEST_DELAY)
    }
}

impl SignInThrottle {
    /// A throttle with other delays (tests use short ones).
    #[must_use]
    pub fn with_delays(first_delay: Duration, longest_delay: Duration) -> Self {
        Self {
            entries: Mutex::default(),
            first_delay,
            longest_delay,
        }
    }

    /// Whether to judge `attempt`, and after how long.
    #[must_use]
    pub fn verdict(&self, attempt: &Attempt) -> Verdict {
        let now = Instant::now();
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(until) = entries.get(&attempt.pair).and_then(|e| e.locked_until)
            && until > now
        {
            return Verdict::Refused(until - now);
        }
        let worst = attempt
            .slowed()
            .filter_map(|k| entries.get(k))
            .map(|e| e.failures)
            .max()
            .unwrap_or(0);
        Verdict::After(self.delay(worst))
    }

    fn delay(&self, failures: u32) -> Duration {
        if failures < FREE_FAILURES {
            return Duration::ZERO;
        }
        let doublings = (failures - FREE_FAILURES).min(16);
        self.first_delay
            .saturating_mul(1 << doublings)
            .min(self.longest_delay)
    }

    /// Counts one failed attempt under each of its keys.
    pub fn record_failure(&self, attempt: &Attempt) {
        let now = Instant::now();
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|_, e| now.duration_since(e.last_failure) < FORGET_AFTER);
        for key in attempt.slowed().chain(std::iter::once(&attempt.pair)) {
            let entry = entries.entry(key.clone()).or_insert(Entry {
                failures: 0,
                last_failure: now,
                locked_until: None,
            });
            entry.failures = entry.failures.saturating_add(1);
            entry.last_failure = now;
            if key == &attempt.pair && entry.failures >= FREE_FAILURES {
                let doublings = (entry.failures - FREE_FAILURES).min(10);
                let lock = FIRST_LOCK.saturating_mul(1 << doublings).min(LONGEST_LOCK);
                entry.locked_until = Some(now + lock);
            }
        }
    }

    /// Forgets the username's and the pair's failures after a successful sign-in
    /// (the address's stay: one success does not vouch for everyone behind it).
    pub fn record_success(&self, attempt: &Attempt) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.remove(&attempt.user);
        entries.remove(&attempt.pair);
    }
}

/// The client's address: the connection's peer, unless the peer is one of the
/// `trusted` proxies; then the right-most `X-Forwarded-For` entry that is not itself a
/// trusted proxy (entries to its left were written by the client and prove nothing).
#[must_use]
pub fn client_address(
    peer: Option<IpAddr>,
    forwarded_for: Option<&str>,
    trusted: &[IpAddr],
) -> Option<IpAddr> {
    let peer = peer?;
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let hops: Vec<IpAddr> = forwarded_for
        .unwrap_or("")
        .split(',')
        .filter_map(|hop| hop.trim().parse().ok())
        .collect();
    Some(
        hops.into_iter()
            .rev()
            .find(|hop| !trusted.contains(hop))
            .unwrap_or(peer),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn an_attacker_is_refused_for_one_account_but_the_owner_elsewhere_only_waits_a_little() {
        let throttle = SignInThrottle::default();
        let attacker = Attempt::new("Admin", Some(ip("203.0.113.9")));
        for _ in 0..FREE_FAILURES - 1 {
            throttle.record_failure(&attacker);
            assert_eq!(throttle.verdict(&attacker), Verdict::After(Duration::ZERO));
        }
        for _ in 0..20 {
            throttle.record_failure(&attacker);
        }
        let Verdict::Refused(wait) = throttle.verdict(&attacker) else {
            panic!("the attacking client is refused");
        };
        assert!(wait > FIRST_LOCK && wait <= LONGEST_LOCK);
        let owner = Attempt::new("admin", Some(ip("198.51.100.7")));
        assert_eq!(throttle.verdict(&owner), Verdict::After(LONGEST_DELAY));
        throttle.record_success(&owner);
        assert_eq!(throttle.verdict(&owner), Verdict::After(Duration::ZERO));
        assert!(matches!(throttle.verdict(&attacker), Verdict::Refused(_)));
    }

    #[test]
    fn delays_double_with_each_failure_up_to_a_ceiling() {
        let throttle = SignInThrottle::default();
        let from_many = |n: u8| Attempt::new("bob", Some(IpAddr::from([192, 0, 2, n])));
        for n in 0..FREE_FAILURES {
            throttle.record_failure(&from_many(u8::try_from(n).unwrap()));
        }
        assert_eq!(
            throttle.verdict(&from_many(99)),
            Verdict::After(FIRST_DELAY)
        );
        throttle.record_failure(&from_many(98));
        assert_eq!(
            throttle.verdict(&from_many(99)),
            Verdict::After(FIRST_DELAY * 2)
        );
        for _ in 0..40 {
            throttle.record_failure(&from_many(97));
        }
        assert_eq!(
            throttle.verdict(&from_many(99)),
            Verdict::After(LONGEST_DELAY)
        );
    }

    #[test]
    fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
        let proxy = ip("10.0.0.2");
        let header = Some("6.6.6.6, 203.0.113.9");
        assert_eq!(
            client_address(Some(ip("203.0.113.5")), header, &[proxy]),
            Some(ip("203.0.113.5"))
        );
        assert_eq!(
            client_address(Some(proxy), header, &[proxy]),
            Some(ip("203.0.113.9"))
        );
        assert_eq!(client_address(Some(proxy), None, &[proxy]), Some(proxy));
        assert_eq!(client_address(Some(proxy), header, &[]), Some(proxy));
        assert_eq!(client_address(None, header, &[proxy]), None);
    }
}
