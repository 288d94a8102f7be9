//! The Okta Management API client of usersync: reads an org completely, quickly and politely.
//!
//! [`OktaClient`] reads users (every status), groups, group members and the System
//! Log, following Okta's `Link` headers verbatim at the documented page sizes. One
//! executor holds auth (SSWS API token or an OAuth service app), a rate governor
//! that keeps usersync within its share of every rate-limit bucket, bounded
//! concurrency and bounded retries. [`OktaClient::read_org`] returns an
//! [`OktaSnapshot`](usersync_core::OktaSnapshot) whose completeness flag is only
//! `Complete` when every page of every listing was read.
//!
//! Modules: `config` (settings and base URL rules), `error` (typed errors), `http`
//! (the executor), `governor` and `retry` (politeness), `auth` (credentials), `link`
//! (pagination), `wire` (JSON shapes), and one module per resource: `users`,
//! `groups`, `org` (the full read), `logs` and `changes` (what changed since a moment: an incremental cycle's reads); `probe` proves an org is Okta;
//! `hooks` registers and verifies usersync's event hook (the one write usersync makes in Okta).

mod auth;
mod changes;
mod config;
mod error;
mod governor;
mod groups;
#[cfg(test)]
mod har_tests;
mod hooks;
mod http;
mod link;
mod logs;
mod longest_first;
mod org;
mod probe;
#[cfg(test)]
mod props;
mod retry;
mod schema;
mod users;
mod wire;

use std::fmt;
use std::sync::Arc;

use serde::de::DeserializeOwned;

pub use changes::{CHANGE_EVENTS_FILTER, GroupChange, UserChange};
pub use config::{
    DEFAULT_ORG_CONCURRENCY_LIMIT, DEFAULT_SCOPES, OktaAuth, OktaConfig, OrgUrl, PageSizes,
    RetrySettings, concurrency_within_share,
};
pub use error::{CredentialKind, OktaError};
pub use governor::BucketHeadroom;
pub use hooks::{
    EVENT_HOOKS_SCOPE, EventHook, EventHookSpec, HookChange, HookRegistration, Verification,
};
pub use http::OktaStats;
pub use logs::{LogActor, LogCheckpoint, LogEvent, LogOutcome, LogPoll, LogQuery, LogTarget};
pub use org::{ReadPhase, ReadProgress, ReadScope};
pub use users::Listing;

/// The Okta client. Cheap to clone: clones share the connection pool, the rate
/// governor, the token cache and the statistics.
#[derive(Clone)]
pub struct OktaClient {
    inner: Arc<http::Executor>,
    page_sizes: PageSizes,
    /// Requests in flight at most ([`OktaConfig::concurrency`]).
    concurrency: usize,
}

impl fmt::Debug for OktaClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OktaClient")
            .field("org", &self.inner.org.origin())
            .field("credential", &self.inner_credential_kind())
            .field("page_sizes", &self.page_sizes)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl OktaClient {
    /// Builds a client after checking every setting. Sends nothing.
    ///
    /// # Errors
    /// [`OktaError::Config`] naming the unusable setting (for example a non-https
    /// base URL, or a private key that is not an RSA PEM key).
    pub fn new(config: &OktaConfig) -> Result<Self, OktaError> {
        Ok(Self {
            inner: Arc::new(http::Executor::new(config)?),
            page_sizes: config.page_sizes,
            concurrency: config.concurrency(),
        })
    }

    /// The org's host, as used in messages (`acme.okta.com`).
    #[must_use]
    pub fn org_host(&self) -> &str {
        &self.inner.host
    }

    /// Requests this client keeps in flight at most: the configured cap or its share
    /// of Okta's org-wide concurrency limit, whichever is lower.
    #[must_use]
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// What this client has sent so far.
    #[must_use]
    pub fn stats(&self) -> OktaStats {
        self.inner.stats()
    }

    /// What Okta's answers so far said about each rate-limit bucket this client
    /// used (sorted by bucket), for metrics and logs. Empty before any answer.
    #[must_use]
    pub fn rate_limit_headroom(&self) -> Vec<BucketHeadroom> {
        self.inner.rate_limit_headroom()
    }

    fn inner_credential_kind(&self) -> CredentialKind {
        self.inner.credential_kind()
    }

    /// Reads every page of a listing, handing each page to `on_page` as it arrives,
    /// so a failure midway still leaves the pages read so far with the caller.
    async fn paginate<T: DeserializeOwned>(
        &self,
        first: String,
        action: &str,
        mut on_page: impl FnMut(Vec<T>),
    ) -> Result<(), OktaError> {
        let mut url = Some(first);
        while let Some(current) = url {
            let page = self.inner.get::<Vec<T>>(&current, action).await?;
            on_page(page.items);
            url = page.next;
        }
        Ok(())
    }

    /// Reads every page of a listing into one vector.
    async fn collect_all<T: DeserializeOwned>(
        &self,
        first: String,
        action: &str,
    ) -> Result<Vec<T>, OktaError> {
        let mut all = Vec::new();
        self.paginate(first, action, |page| all.extend(page))
            .await?;
        Ok(all)
    }
}

/// Builds `/path?k=v&...` with form encoding (spaces as `+`, as Okta's own links do).
fn path_with_query(path: &str, pairs: &[(&str, String)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        query.append_pair(k, v);
    }
    format!("{path}?{}", query.finish())
}

/// Quotes a value for an Okta filter expression (`"` becomes `\"`).
fn quoted(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}
