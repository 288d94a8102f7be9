//! How to reach and treat an Okta org: base URL, credential, politeness and retry settings.
//!
//! This module owns validation of the configuration: an [`OktaConfig`] becomes an
//! [`OrgUrl`] (https only, loopback excepted) before any request is sent. Secrets stay
//! inside [`SecretString`], and the `Debug` output of everything here redacts them.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use secrecy::SecretString;
use url::Url;

use crate::error::OktaError;

/// Okta's documented default org-wide limit on requests in flight (Workforce and
/// Customer Identity; the Integrator Free plan allows 35).
pub const DEFAULT_ORG_CONCURRENCY_LIMIT: usize = 75;

/// The scopes a service app asks for by default: everything the reads need.
pub const DEFAULT_SCOPES: [&str; 3] = ["okta.users.read", "okta.groups.read", "okta.logs.read"];

/// How usersync proves who it is to Okta.
#[derive(Clone)]
pub enum OktaAuth {
    /// An API token, sent as `Authorization: SSWS {token}`.
    ApiToken(SecretString),
    /// An OAuth 2.0 service app: client credentials with a `private_key_jwt` assertion
    /// against the org authorization server (`{base}/oauth2/v1/token`).
    ServiceApp {
        client_id: String,
        /// The app's RSA private key in PEM form (PKCS#1 or PKCS#8).
        private_key_pem: SecretString,
        /// The `kid` of the key, needed when the app has more than one JWK.
        key_id: Option<String>,
        /// Scopes to request; [`DEFAULT_SCOPES`] when empty.
        scopes: Vec<String>,
    },
}

impl fmt::Debug for OktaAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ApiToken(_) => f.write_str("ApiToken([redacted])"),
            Self::ServiceApp {
                client_id,
                key_id,
                scopes,
                ..
            } => f
                .debug_struct("ServiceApp")
                .field("client_id", client_id)
                .field("private_key_pem", &"[redacted]")
                .field("key_id", key_id)
                .field("scopes", scopes)
                .finish(),
        }
    }
}

/// Retry behaviour. Every count is a bound: a request is never retried forever.
#[derive(Debug, Clone, PartialEq)]
pub struct RetrySettings {
    /// Retries after 5xx answers, timeouts, dropped connections and truncated bodies.
    pub max_retries: u32,
    /// First backoff; doubled on each retry, with full jitter.
    pub initial_backoff: Duration,
    /// Largest backoff between two attempts.
    pub max_backoff: Duration,
    /// Retries after 429 answers (Okta's SDKs use 2).
    pub max_rate_limit_retries: u32,
    /// Cap on one wait for a rate-limit window to reset.
    pub max_rate_limit_wait: Duration,
}

impl Default for RetrySettings {
    fn default() -> Self {
        Self {
            max_retries: 4,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(8),
            max_rate_limit_retries: 3,
            max_rate_limit_wait: Duration::from_secs(65),
        }
    }
}

/// Page sizes (`limit`) for each listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSizes {
    /// Users: Okta's documented maximum is 200.
    pub users: u32,
    /// Groups: Okta allows up to 10000 but recommends 200, and large group pages
    /// (with `expand=stats`) are slow to build server-side.
    pub groups: u32,
    /// Group members: 1000, the endpoint's own default and the most it serves. Okta
    /// calls that default "historical" and recommends 200, but member pages are the
    /// bulk of a full read and the group-members bucket is the one that binds: at
    /// 1000 a read needs up to five times fewer requests and rate-limit windows
    /// (measured in `bench/results/`). A 500 on this endpoint is usually a timeout of
    /// a page too large; the retries cover one, and a smaller size can be set.
    pub group_members: u32,
    /// System Log: default 100, maximum 1000.
    pub log_events: u32,
}

impl Default for PageSizes {
    fn default() -> Self {
        Self {
            users: 200,
            groups: 200,
            group_members: 1000,
            log_events: 1000,
        }
    }
}

/// Everything needed to build an [`OktaClient`](crate::OktaClient).
#[derive(Debug, Clone)]
pub struct OktaConfig {
    /// The org's base URL, e.g. `https://acme.okta.com`.
    pub base_url: String,
    pub auth: OktaAuth,
    /// Share (0 < share <= 1) of each rate-limit bucket usersync may use per window,
    /// so the org's other integrations are never starved. Okta gives each token 50%.
    pub rate_share: f64,
    /// Okta's org-wide limit on requests in flight, shared by every integration of
    /// the org ([`DEFAULT_ORG_CONCURRENCY_LIMIT`] unless the org's plan says otherwise).
    pub org_concurrency_limit: usize,
    /// A cap on requests in flight at once. The client keeps at most
    /// [`concurrency`](Self::concurrency) in flight: this cap or `rate_share` of
    /// `org_concurrency_limit`, whichever is lower, so usersync never takes more of
    /// the org's concurrency than of its rate limits.
    pub max_concurrency: usize,
    pub retry: RetrySettings,
    /// Time allowed to open a connection.
    pub connect_timeout: Duration,
    /// Time allowed for one whole request, body included.
    pub request_timeout: Duration,
    pub page_sizes: PageSizes,
    /// CA bundles trusted besides the built-in roots (`--ca-file`, the app's `okta.ca_file`).
    pub trust: usersync_tls::TrustRoots,
}

impl OktaConfig {
    /// A configuration with the defaults: 50% rate share, at most half of Okta's
    /// default concurrency limit of 75 in flight (37), documented page sizes.
    #[must_use]
    pub fn new(base_url: impl Into<String>, auth: OktaAuth) -> Self {
        Self {
            base_url: base_url.into(),
            auth,
            rate_share: 0.5,
            org_concurrency_limit: DEFAULT_ORG_CONCURRENCY_LIMIT,
            max_concurrency: DEFAULT_ORG_CONCURRENCY_LIMIT,
            retry: RetrySettings::default(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            page_sizes: PageSizes::default(),
            trust: usersync_tls::TrustRoots::none(),
        }
    }

    /// Checks every setting, naming the field that is wrong.
    ///
    /// # Errors
    /// [`OktaError::Config`] for the first unusable setting.
    pub fn validate(&self) -> Result<OrgUrl, OktaError> {
        let org = OrgUrl::parse(&self.base_url)?;
        if !(self.rate_share > 0.0 && self.rate_share <= 1.0) {
            return Err(config_error(
                "rate_share",
                format!(
                    "is {}; it must be above 0 and at most 1 (0.5 = half of each rate-limit bucket)",
                    self.rate_share
                ),
            ));
        }
        if self.max_concurrency == 0 {
            return Err(config_error("max_concurrency", "must be at least 1"));
        }
        if self.org_concurrency_limit == 0 {
            return Err(config_error(
                "org_concurrency_limit",
                "must be at least 1 (Okta's default is 75, 35 on the Integrator Free plan)",
            ));
        }
        self.validate_page_sizes()?;
        if let OktaAuth::ServiceApp { client_id, .. } = &self.auth
            && client_id.trim().is_empty()
        {
            return Err(config_error(
                "client_id",
                "is empty; copy the service app's Client ID from the Okta Admin Console",
            ));
        }
        Ok(org)
    }

    /// Requests the client keeps in flight at most: `max_concurrency`, but never more
    /// than `rate_share` of `org_concurrency_limit` (and at least one).
    #[must_use]
    pub fn concurrency(&self) -> usize {
        concurrency_within_share(
            self.max_concurrency,
            self.rate_share,
            self.org_concurrency_limit,
        )
    }

    fn validate_page_sizes(&self) -> Result<(), OktaError> {
        let p = self.page_sizes;
        for (field, value, max) in [
            ("page_sizes.users", p.users, 200),
            ("page_sizes.groups", p.groups, 10_000),
            ("page_sizes.group_members", p.group_members, 1000),
            ("page_sizes.log_events", p.log_events, 1000),
        ] {
            if value == 0 || value > max {
                return Err(config_error(
                    field,
                    format!("is {value}; it must be between 1 and {max} (Okta's maximum)"),
                ));
            }
        }
        Ok(())
    }
}

fn config_error(field: &'static str, problem: impl Into<String>) -> OktaError {
    OktaError::Config {
        field,
        problem: problem.into(),
    }
}

/// A validated org base URL: `https` (or `http` on a loopback host), no path, no query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgUrl {
    url: Url,
}

impl OrgUrl {
    /// Parses and checks a base URL, normalising a trailing slash away.
    ///
    /// # Errors
    /// [`OktaError::Config`] naming `base_url` and what to change.
    pub fn parse(raw: &str) -> Result<Self, OktaError> {
        let bad = |problem: String| config_error("base_url", problem);
        let url = Url::parse(raw.trim()).map_err(|e| {
            bad(format!(
                "{raw:?} is not a URL ({e}); use https://<org>.okta.com"
            ))
        })?;
        let host = url
            .host_str()
            .ok_or_else(|| bad(format!("{raw:?} has no host; use https://<org>.okta.com")))?;
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(host) => {}
            scheme => {
                return Err(bad(format!(
                    "{raw:?} uses {scheme}://; Okta is only reached over https:// (plain http is allowed for loopback test servers only)"
                )));
            }
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad(format!(
                "{raw:?} contains credentials; put the token in the auth settings instead"
            )));
        }
        if !matches!(url.path(), "" | "/") || url.query().is_some() || url.fragment().is_some() {
            return Err(bad(format!(
                "{raw:?} has a path, query or fragment; give only the org address, e.g. https://acme.okta.com"
            )));
        }
        Ok(Self { url })
    }

    /// The org's host (and port, when not the default), for messages: `acme.okta.com`.
    #[must_use]
    pub fn host(&self) -> String {
        match (self.url.host_str(), self.url.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_owned(),
            (None, _) => String::new(),
        }
    }

    /// An absolute URL for a path such as `/api/v1/users`.
    #[must_use]
    pub fn join(&self, path_and_query: &str) -> String {
        format!("{}{}", self.origin(), path_and_query)
    }

    /// `scheme://host[:port]` without a trailing slash.
    #[must_use]
    pub fn origin(&self) -> String {
        self.url.origin().ascii_serialization()
    }

    /// True when `url` points at this org (same scheme, host and port), so the
    /// credential may be sent to it.
    #[must_use]
    pub fn owns(&self, url: &Url) -> bool {
        url.origin() == self.url.origin()
    }
}

fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// At most `max` requests in flight, never more than `share` of Okta's org-wide
/// `org_limit`, and at least one: the rule of [`OktaConfig::concurrency`].
#[must_use]
pub fn concurrency_within_share(max: usize, share: f64, org_limit: usize) -> usize {
    // The share is validated to (0, 1] and the limit is small, so this fits.
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let allowed = (org_limit as f64 * share).floor() as usize;
    max.min(allowed).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token() -> OktaAuth {
        OktaAuth::ApiToken(SecretString::from("00abc-secret-token"))
    }

    #[test]
    fn https_urls_are_accepted_and_their_trailing_slash_dropped() {
        let org = OrgUrl::parse("https://acme.okta.com/").unwrap();
        assert_eq!(org.origin(), "https://acme.okta.com");
        assert_eq!(
            org.join("/api/v1/users"),
            "https://acme.okta.com/api/v1/users"
        );
        assert_eq!(org.host(), "acme.okta.com");
    }

    #[test]
    fn plain_http_is_refused_except_on_loopback_hosts() {
        let err = OrgUrl::parse("http://acme.okta.com").unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("base_url") && text.contains("https://"),
            "{text}"
        );
        for ok in [
            "http://127.0.0.1:8080",
            "http://127.9.9.9",
            "http://localhost:1",
            "http://[::1]:9000/",
        ] {
            assert!(OrgUrl::parse(ok).is_ok(), "{ok}");
        }
        assert!(OrgUrl::parse("http://128.0.0.1").is_err());
        assert!(OrgUrl::parse("ftp://acme.okta.com").is_err());
    }

    #[test]
    fn paths_queries_and_credentials_in_the_base_url_are_refused() {
        for bad in [
            "https://acme.okta.com/api/v1",
            "https://acme.okta.com/?x=1",
            "https://user:pw@acme.okta.com",
            "acme.okta.com",
        ] {
            let err = OrgUrl::parse(bad).unwrap_err();
            assert!(err.to_string().contains("base_url"), "{bad}: {err}");
        }
    }

    #[test]
    fn the_org_owns_only_urls_on_its_own_origin() {
        let org = OrgUrl::parse("https://acme.okta.com").unwrap();
        assert!(org.owns(&Url::parse("https://acme.okta.com/api/v1/users?after=x").unwrap()));
        assert!(!org.owns(&Url::parse("https://evil.example.com/api/v1/users").unwrap()));
        assert!(!org.owns(&Url::parse("http://acme.okta.com/api/v1/users").unwrap()));
    }

    #[test]
    fn settings_out_of_range_are_refused_with_the_field_named() {
        let mut config = OktaConfig::new("https://acme.okta.com", token());
        config.rate_share = 1.5;
        assert!(
            config
                .validate()
                .unwrap_err()
                .to_string()
                .contains("rate_share")
        );
        config.rate_share = 0.5;
        config.page_sizes.users = 500;
        let text = config.validate().unwrap_err().to_string();
        assert!(
            text.contains("page_sizes.users") && text.contains("200"),
            "{text}"
        );
        config.page_sizes.users = 200;
        config.max_concurrency = 0;
        assert!(
            config
                .validate()
                .unwrap_err()
                .to_string()
                .contains("max_concurrency")
        );
    }

    #[test]
    fn the_client_keeps_at_most_its_share_of_the_org_concurrency_limit_in_flight() {
        let mut config = OktaConfig::new("https://acme.okta.com", token());
        assert_eq!(config.concurrency(), 37, "half of Okta's default 75");
        config.rate_share = 0.2;
        assert_eq!(config.concurrency(), 15);
        config.org_concurrency_limit = 35;
        config.rate_share = 0.5;
        assert_eq!(config.concurrency(), 17, "the Integrator Free plan's 35");
        config.max_concurrency = 8;
        assert_eq!(config.concurrency(), 8, "a lower cap wins");
        config.org_concurrency_limit = 1;
        assert_eq!(config.concurrency(), 1, "never less than one");
        config.org_concurrency_limit = 0;
        let text = config.validate().unwrap_err().to_string();
        assert!(text.contains("org_concurrency_limit"), "{text}");
    }

    #[test]
    fn debug_of_the_auth_settings_shows_no_secret() {
        let shown = format!("{:?}", OktaConfig::new("https://acme.okta.com", token()));
        assert!(!shown.contains("secret-token"), "{shown}");
        let app = OktaAuth::ServiceApp {
            client_id: "0oa1".into(),
            private_key_pem: SecretString::from("-----BEGIN PRIVATE KEY-----MIIsecret"),
            key_id: None,
            scopes: vec![],
        };
        let shown = format!("{app:?}");
        assert!(
            shown.contains("0oa1") && !shown.contains("MIIsecret"),
            "{shown}"
        );
    }
}
