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
//! The counters live in the store ([`usersync_store::SignInFailures`]), so failures on
//! one `usersync serve` replica slow and refuse attempts on every other, and a restart
//! forgets nothing; keys untouched for [`FORGET_AFTER`] are pruned as failures are counted.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use usersync_store::{SignInFailures, Store};

use crate::web::adapter::convert::store_error;
use crate::web::backend::BackendResult;

/// Failures allowed before delays and the pair's lock-out begin.
pub const FREE_FAILURES: u32 = 5;
const FIRST_LOCK: Duration = Duration::from_secs(30);
const LONGEST_LOCK: Duration = Duration::from_secs(15 * 60);
const FIRST_DELAY: Duration = Duration::from_millis(250);
/// The longest delay a username's or an address's failures add to an attempt.
pub const LONGEST_DELAY: Duration = Duration::from_secs(5);
/// Counters untouched this long are forgotten.
pub const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);

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

    /// The keys whose failures delay an attempt: the username and the address.
    fn slowed(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.user.as_str()).chain(self.addr.as_deref())
    }

    fn all(&self) -> Vec<&str> {
        self.slowed()
            .chain(std::iter::once(self.pair.as_str()))
            .collect()
    }
}

/// The throttle's policy over the store's counters.
#[derive(Debug, Clone)]
pub struct SignInThrottle {
    store: Store,
    first_delay: Duration,
    longest_delay: Duration,
}

impl SignInThrottle {
    /// The throttle with its usual delays, counting in `store`.
    #[must_use]
    pub fn new(store: Store) -> Self {
        Self::with_delays(store, FIRST_DELAY, LONGEST_DELAY)
    }

    /// A throttle with other delays (tests use short ones).
    #[must_use]
    pub fn with_delays(store: Store, first_delay: Duration, longest_delay: Duration) -> Self {
        Self {
            store,
            first_delay,
            longest_delay,
        }
    }

    /// Whether to judge `attempt`, and after how long.
    ///
    /// # Errors
    /// The store could not be read (the caller refuses the attempt then).
    pub async fn verdict(&self, attempt: &Attempt) -> BackendResult<Verdict> {
        let now = Utc::now();
        let counted = self
            .store
            .sign_in_failures(&attempt.all(), horizon(now))
            .await
            .map_err(store_error)?;
        Ok(self.judge(attempt, &counted, now))
    }

    fn judge(
        &self,
        attempt: &Attempt,
        counted: &HashMap<String, SignInFailures>,
        now: DateTime<Utc>,
    ) -> Verdict {
        if let Some(until) = counted.get(&attempt.pair).and_then(|e| e.locked_until)
            && let Ok(wait) = (until - now).to_std()
            && !wait.is_zero()
        {
            return Verdict::Refused(wait);
        }
        let worst = attempt
            .slowed()
            .filter_map(|k| counted.get(k))
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

    /// Counts one failed attempt under each of its keys, locking the pair out once it
    /// has failed [`FREE_FAILURES`] times.
    ///
    /// # Errors
    /// The store could not count it.
    pub async fn record_failure(&self, attempt: &Attempt) -> BackendResult<()> {
        let now = Utc::now();
        let keys = attempt.all();
        let counts = self
            .store
            .record_sign_in_failure(&keys, now, horizon(now))
            .await
            .map_err(store_error)?;
        let pair_failures = counts.last().copied().unwrap_or(0);
        if pair_failures >= FREE_FAILURES {
            let doublings = (pair_failures - FREE_FAILURES).min(10);
            let lock = FIRST_LOCK.saturating_mul(1 << doublings).min(LONGEST_LOCK);
            let until = now + chrono::Duration::from_std(lock).unwrap_or_default();
            self.store
                .lock_sign_ins(&attempt.pair, until)
                .await
                .map_err(store_error)?;
        }
        Ok(())
    }

    /// Forgets the username's and the pair's failures after a successful sign-in
    /// (the address's stay: one success does not vouch for everyone behind it).
    ///
    /// # Errors
    /// The store could not forget them.
    pub async fn record_success(&self, attempt: &Attempt) -> BackendResult<()> {
        self.store
            .clear_sign_in_failures(&[&attempt.user, &attempt.pair])
            .await
            .map_err(store_error)
    }
}

/// Failures last counted before this are forgotten.
fn horizon(now: DateTime<Utc>) -> DateTime<Utc> {
    now - chrono::Duration::from_std(FORGET_AFTER).unwrap_or_default()
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

    async fn throttle() -> SignInThrottle {
        SignInThrottle::new(Store::open_in_memory().await.unwrap())
    }

    #[tokio::test]
    async fn an_attacker_is_refused_for_one_account_but_the_owner_elsewhere_only_waits_a_little() {
        let throttle = throttle().await;
        let attacker = Attempt::new("Admin", Some(ip("203.0.113.9")));
        for _ in 0..FREE_FAILURES - 1 {
            throttle.record_failure(&attacker).await.unwrap();
            assert_eq!(
                throttle.verdict(&attacker).await.unwrap(),
                Verdict::After(Duration::ZERO)
            );
        }
        for _ in 0..20 {
            throttle.record_failure(&attacker).await.unwrap();
        }
        let Verdict::Refused(wait) = throttle.verdict(&attacker).await.unwrap() else {
            panic!("the attacking client is refused");
        };
        assert!(wait > FIRST_LOCK && wait <= LONGEST_LOCK);
        let owner = Attempt::new("admin", Some(ip("198.51.100.7")));
        assert_eq!(
            throttle.verdict(&owner).await.unwrap(),
            Verdict::After(LONGEST_DELAY)
        );
        throttle.record_success(&owner).await.unwrap();
        assert_eq!(
            throttle.verdict(&owner).await.unwrap(),
            Verdict::After(Duration::ZERO)
        );
        assert!(matches!(
            throttle.verdict(&attacker).await.unwrap(),
            Verdict::Refused(_)
        ));
    }

    #[tokio::test]
    async fn delays_double_with_each_failure_up_to_a_ceiling() {
        let throttle = throttle().await;
        let from_many = |n: u8| Attempt::new("bob", Some(IpAddr::from([192, 0, 2, n])));
        for n in 0..FREE_FAILURES {
            throttle
                .record_failure(&from_many(u8::try_from(n).unwrap()))
                .await
                .unwrap();
        }
        assert_eq!(
            throttle.verdict(&from_many(99)).await.unwrap(),
            Verdict::After(FIRST_DELAY)
        );
        throttle.record_failure(&from_many(98)).await.unwrap();
        assert_eq!(
            throttle.verdict(&from_many(99)).await.unwrap(),
            Verdict::After(FIRST_DELAY * 2)
        );
        for _ in 0..40 {
            throttle.record_failure(&from_many(97)).await.unwrap();
        }
        assert_eq!(
            throttle.verdict(&from_many(99)).await.unwrap(),
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
