//! One Okta read for several apps: apps on the same Okta org with the same
//! credential (and the same read scope) share one snapshot within a cycle.
//!
//! A cycle is whatever a caller puts one [`SharedReads`] in: `sync --all` and
//! `plan --all` (one per command), the scheduler (one for its life, so apps due
//! within the same minute share), and the console's Preview. Callers that must see
//! Okta as it is now (event triggers, single-user syncs, approvals) carry none and
//! read for themselves.
//!
//! The rules that keep sharing safe:
//! - a snapshot is kept at most `ttl` (default [`SharedReads::DEFAULT_TTL`]) and
//!   serves each app at most once: an app asking again reads Okta afresh, so a
//!   repeated sync of one app never plans from an old read;
//! - the snapshot carries its `Completeness`: an incomplete shared read makes every
//!   app that used it withhold its destructive operations (the guard's rule), and
//!   its runs end `partial`;
//! - the key is the org's URL, a keyed hash of the credential (a random key per
//!   process, so the fingerprint proves nothing outside it; never the secret, in
//!   `Debug` or anywhere) and the read scope (group types, profile attributes);
//! - memory is bounded: one snapshot per key, dropped when expired at the next
//!   lookup or [`SharedReads::purge`]; concurrent askers of one key wait for the
//!   one read in flight instead of starting their own.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use secrecy::ExposeSecret as _;
use sha2::{Digest as _, Sha256};
use usersync_core::OktaSnapshot;
use usersync_okta::{OktaAuth, ReadScope};

use super::ReadStats;
use super::changes::Covered;

/// Which org an app reads and as whom: the org's origin and a keyed hash of the
/// credential. Made when the app's clients are built (`connect`), the one moment
/// its secret is at hand.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct OktaIdentity {
    org: String,
    credential: [u8; 32],
}

impl std::fmt::Debug for OktaIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Eight bytes of a keyed hash: enough to tell identities apart in a log line.
        f.debug_struct("OktaIdentity")
            .field("org", &self.org)
            .field("credential", &hex::encode(&self.credential[..8]))
            .finish()
    }
}

impl OktaIdentity {
    #[must_use]
    pub fn new(org: &url::Url, auth: &OktaAuth) -> Self {
        Self {
            org: org.origin().ascii_serialization(),
            credential: fingerprint(auth),
        }
    }
}

/// Who an Okta read is for: org and credential, and the read's scope.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReadKey {
    identity: OktaIdentity,
    scope: String,
}

impl ReadKey {
    /// The key of reading as `identity` over `scope`.
    #[must_use]
    pub fn new(identity: &OktaIdentity, scope: &ReadScope) -> Self {
        let mut types: Vec<String> = scope.group_types.iter().map(|t| format!("{t:?}")).collect();
        types.sort();
        let attributes = scope.profile_attributes.as_ref().map(|a| {
            let set: BTreeSet<&str> = a.iter().map(String::as_str).collect();
            set.into_iter().collect::<Vec<_>>().join(",")
        });
        Self {
            identity: identity.clone(),
            scope: format!(
                "types={};attributes={}",
                types.join(","),
                attributes.as_deref().unwrap_or("*")
            ),
        }
    }
}

/// A hash of the credential under a random key of this process.
fn fingerprint(auth: &OktaAuth) -> [u8; 32] {
    static PROCESS_KEY: OnceLock<[u8; 32]> = OnceLock::new();
    let key = PROCESS_KEY.get_or_init(rand::random);
    let mut hash = Sha256::new();
    hash.update(key);
    match auth {
        OktaAuth::ApiToken(token) => {
            hash.update(b"ssws\0");
            hash.update(token.expose_secret().as_bytes());
        }
        OktaAuth::ServiceApp {
            client_id,
            private_key_pem,
            key_id,
            ..
        } => {
            hash.update(b"oauth\0");
            hash.update(client_id.as_bytes());
            hash.update(b"\0");
            hash.update(key_id.as_deref().unwrap_or("").as_bytes());
            hash.update(b"\0");
            hash.update(private_key_pem.expose_secret().as_bytes());
        }
    }
    hash.finalize().into()
}

/// A snapshot one app read, as another app receives it.
#[derive(Debug, Clone)]
pub struct SharedRead {
    pub snapshot: Arc<OktaSnapshot>,
    /// What the read saw, requests included (those of the app that read).
    pub stats: ReadStats,
    /// The app whose run sent the requests; `None` when this app read it now.
    pub read_by: Option<String>,
    /// When the read began and what it already covered, for the incremental checkpoint.
    pub(crate) covered: Covered,
}

struct Entry {
    snapshot: Arc<OktaSnapshot>,
    stats: ReadStats,
    covered: Covered,
    reader: String,
    at: Instant,
    used_by: BTreeSet<String>,
}

type Slot = Arc<tokio::sync::Mutex<Option<Entry>>>;

/// Snapshots shared within a cycle; cheap to clone (clones share the snapshots).
#[derive(Clone)]
pub struct SharedReads {
    ttl: Duration,
    slots: Arc<Mutex<HashMap<ReadKey, Slot>>>,
}

impl std::fmt::Debug for SharedReads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedReads")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl SharedReads {
    /// Long enough for apps due within the same minute, short enough that no cycle
    /// plans from a read older than that.
    pub const DEFAULT_TTL: Duration = Duration::from_secs(60);

    #[must_use]
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            slots: Arc::default(),
        }
    }

    /// The snapshot for `key` that `app` has not used yet and is younger than the
    /// time-to-live, else the result of `read` (kept for the other apps when it
    /// succeeds, whether complete or not: its completeness travels with it).
    ///
    /// # Errors
    /// `read`'s error; nothing is kept then.
    pub(crate) async fn get_or_read<F>(
        &self,
        key: &ReadKey,
        app: &str,
        read: F,
    ) -> anyhow::Result<SharedRead>
    where
        F: Future<Output = anyhow::Result<(OktaSnapshot, ReadStats, Covered)>>,
    {
        self.purge();
        let slot = self.lock().entry(key.clone()).or_default().clone();
        let mut entry = slot.lock().await;
        if let Some(found) = entry.as_mut()
            && found.at.elapsed() < self.ttl
            && found.used_by.insert(app.to_owned())
        {
            return Ok(SharedRead {
                snapshot: found.snapshot.clone(),
                stats: found.stats.clone(),
                read_by: Some(found.reader.clone()),
                covered: found.covered.clone(),
            });
        }
        *entry = None;
        let (snapshot, stats, covered) = read.await?;
        let snapshot = Arc::new(snapshot);
        *entry = Some(Entry {
            snapshot: snapshot.clone(),
            stats: stats.clone(),
            covered: covered.clone(),
            reader: app.to_owned(),
            at: Instant::now(),
            used_by: BTreeSet::from([app.to_owned()]),
        });
        Ok(SharedRead {
            snapshot,
            stats,
            read_by: None,
            covered,
        })
    }

    /// Drops every expired snapshot not being read right now.
    pub fn purge(&self) {
        self.lock().retain(|_, slot| match slot.try_lock() {
            Ok(entry) => entry.as_ref().is_some_and(|e| e.at.elapsed() < self.ttl),
            Err(_) => true,
        });
    }

    /// How many snapshots are held (for tests and metrics).
    #[must_use]
    pub fn held(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ReadKey, Slot>> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use super::*;

    fn key(token: &str) -> ReadKey {
        let org = url::Url::parse("https://acme.okta.com").unwrap();
        let auth = OktaAuth::ApiToken(SecretString::from(token.to_owned()));
        ReadKey::new(&OktaIdentity::new(&org, &auth), &ReadScope::default())
    }

    async fn read(
        count: &std::sync::atomic::AtomicUsize,
    ) -> anyhow::Result<(OktaSnapshot, ReadStats, Covered)> {
        count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok((
            OktaSnapshot::empty(),
            ReadStats::default(),
            Covered::unseen(),
        ))
    }

    #[tokio::test]
    async fn a_second_app_reuses_the_read_and_the_first_app_asking_again_reads_afresh() {
        let shared = SharedReads::new(SharedReads::DEFAULT_TTL);
        let reads = std::sync::atomic::AtomicUsize::new(0);
        let first = shared.get_or_read(&key("t"), "jira", read(&reads)).await;
        let second = shared.get_or_read(&key("t"), "wiki", read(&reads)).await;
        let again = shared.get_or_read(&key("t"), "jira", read(&reads)).await;
        assert_eq!(first.unwrap().read_by, None);
        assert_eq!(second.unwrap().read_by.as_deref(), Some("jira"));
        assert_eq!(
            again.unwrap().read_by,
            None,
            "no app plans twice from one read"
        );
        assert_eq!(reads.load(std::sync::atomic::Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn apps_asking_at_the_same_time_wait_for_the_one_read_in_flight() {
        let shared = SharedReads::new(SharedReads::DEFAULT_TTL);
        let reads = std::sync::atomic::AtomicUsize::new(0);
        let slow = |name: &'static str| {
            let (shared, reads) = (&shared, &reads);
            async move {
                let read = async {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    read(reads).await
                };
                shared.get_or_read(&key("t"), name, read).await.unwrap()
            }
        };
        let (a, b) = tokio::join!(slow("jira"), slow("wiki"));
        assert_eq!(reads.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert_eq!(
            [a.read_by.is_none(), b.read_by.is_none()]
                .iter()
                .filter(|fresh| **fresh)
                .count(),
            1,
            "one read, one reuse"
        );
    }

    #[tokio::test]
    async fn another_credential_on_the_same_org_reads_for_itself() {
        let shared = SharedReads::new(SharedReads::DEFAULT_TTL);
        let reads = std::sync::atomic::AtomicUsize::new(0);
        shared
            .get_or_read(&key("a"), "jira", read(&reads))
            .await
            .unwrap();
        let other = shared.get_or_read(&key("b"), "wiki", read(&reads)).await;
        assert_eq!(other.unwrap().read_by, None);
        assert_eq!(reads.load(std::sync::atomic::Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn an_expired_read_is_dropped_and_not_reused() {
        let shared = SharedReads::new(Duration::ZERO);
        let reads = std::sync::atomic::AtomicUsize::new(0);
        shared
            .get_or_read(&key("t"), "jira", read(&reads))
            .await
            .unwrap();
        let late = shared.get_or_read(&key("t"), "wiki", read(&reads)).await;
        assert_eq!(late.unwrap().read_by, None);
        shared.purge();
        assert_eq!(shared.held(), 0, "expired snapshots are not kept");
    }

    #[test]
    fn a_read_key_never_shows_the_credential() {
        let shown = format!("{:?}", key("super-secret-token-123"));
        assert!(!shown.contains("super-secret"), "{shown}");
        assert!(shown.contains("acme.okta.com"), "{shown}");
    }
}
