//! HTTP plumbing shared by every Atlassian Data Center client.
//!
//! This module owns what Jira and Confluence have in common on the wire: the
//! credential ([`AtlassianAuth`]), base-URL validation, retries with backoff and
//! jitter for 5xx answers, timeouts and broken connections, `429` handling that
//! honours `Retry-After` and the `X-RateLimit-*` headers, a bound on concurrent
//! requests, the `X-Seraph-LoginReason` check (a dead credential may still get
//! `200` on anonymous-readable endpoints), and turning the products' error bodies
//! into [`TargetError`]. It knows no product's endpoints: each client passes its
//! product name and builds [`Call`]s.

use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use http::{HeaderMap, StatusCode};
use rand::Rng as _;
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;
use tokio::time::Instant;
use url::Url;

use crate::{TargetError, TargetResult};

mod identity;
mod reply;
mod request;

pub use identity::not_the_product;
pub use reply::{Reply, error_messages};
pub use request::{AtlassianAuth, Call, HttpSettings};

/// The header Atlassian's Seraph filter uses to say how authentication went.
pub const SERAPH_HEADER: &str = "x-seraph-loginreason";

/// An HTTP client for one Atlassian product instance.
#[derive(Clone)]
pub struct AtlassianHttp {
    product: &'static str,
    base: Url,
    auth: AtlassianAuth,
    client: reqwest::Client,
    settings: HttpSettings,
    permits: Arc<Semaphore>,
    /// Set by a 429: no request starts before this instant, so concurrent calls back off together.
    not_before: Arc<Mutex<Option<Instant>>>,
}

impl fmt::Debug for AtlassianHttp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AtlassianHttp")
            .field("product", &self.product)
            .field("base", &self.base.as_str())
            .field("auth", &self.auth)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// Checks a base URL: absolute, https (http only to a loopback host), no
/// credentials, query or fragment. Returns it with a trailing slash.
///
/// # Errors
/// [`TargetError::Config`] naming the product and what is wrong.
pub fn parse_base_url(product: &str, raw: &str) -> TargetResult<Url> {
    let bad = |why: &str| {
        TargetError::Config(format!(
            "{product} base URL {raw:?} {why}; give it as https://host[:port][/context]"
        ))
    };
    let mut url = Url::parse(raw.trim()).map_err(|e| bad(&format!("is not a URL ({e})")))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => return Err(bad("has no host")),
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(bad(
                "uses http to a non-loopback host (credentials would travel in clear text)",
            ));
        }
        _ => return Err(bad("must use https")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("contains credentials (configure them separately)"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("must not have a query or fragment"));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// What one attempt came to.
enum Attempt {
    Done(Reply),
    Retry { wait: Duration, last: TargetError },
}

impl AtlassianHttp {
    /// Builds a client for `product` at `base_url`.
    ///
    /// # Errors
    /// [`TargetError::Config`] for a bad base URL or settings.
    pub fn new(
        product: &'static str,
        base_url: &str,
        auth: AtlassianAuth,
        settings: HttpSettings,
    ) -> TargetResult<Self> {
        let base = parse_base_url(product, base_url)?;
        if settings.concurrency == 0 || settings.max_attempts == 0 {
            return Err(TargetError::Config(format!(
                "{product} concurrency and max_attempts must be at least 1"
            )));
        }
        let client = usersync_tls::client_builder(&settings.trust)
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::limited(3))
            .user_agent(concat!("usersync/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| TargetError::Config(format!("{product} HTTP client: {e}")))?;
        Ok(Self {
            product,
            base,
            auth,
            client,
            permits: Arc::new(Semaphore::new(settings.concurrency)),
            settings,
            not_before: Arc::new(Mutex::new(None)),
        })
    }

    #[must_use]
    pub fn product(&self) -> &'static str {
        self.product
    }

    #[must_use]
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    #[must_use]
    pub fn settings(&self) -> &HttpSettings {
        &self.settings
    }

    /// Sends a call, retrying 5xx, 429 and transport failures; returns any other reply.
    ///
    /// A `200` that carries a Seraph failure header is turned into
    /// [`TargetError::Unauthenticated`] here, so no caller can mistake anonymous
    /// data for the real thing.
    ///
    /// # Errors
    /// `Unauthenticated` (401 or Seraph), `RateLimited`, `Server`, `Transport` after retries.
    pub async fn send(&self, call: &Call) -> TargetResult<Reply> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.wait_turn().await;
            match self.attempt(call, attempt).await? {
                Attempt::Done(reply) => return self.check_auth(reply),
                Attempt::Retry { wait, last } => {
                    if attempt >= self.settings.max_attempts {
                        return Err(last);
                    }
                    tracing::debug!(product = self.product, action = %call.action, attempt, ?wait, "retrying");
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// Sends a call that must succeed and decodes its JSON body.
    ///
    /// # Errors
    /// See [`AtlassianHttp::send`] and [`Reply::into_error`].
    pub async fn json<T: DeserializeOwned>(&self, call: &Call) -> TargetResult<T> {
        self.send(call).await?.success_json()
    }

    async fn wait_turn(&self) {
        let until = *self
            .not_before
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(until) = until {
            tokio::time::sleep_until(until).await;
        }
    }

    async fn attempt(&self, call: &Call, attempt: u32) -> TargetResult<Attempt> {
        // Built before taking a slot: a slot is held only while the request is out.
        let request = match self.request(call).build() {
            Ok(request) => request,
            Err(e) => return Ok(self.transport_retry(call, attempt, &e)),
        };
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| self.transport(call, "closed"))?;
        let result = self.client.execute(request).await;
        let response = match result {
            Ok(r) => r,
            Err(e) => {
                // A refused certificate stays refused: no retry, the problem and the fix.
                if let Some(problem) = usersync_tls::CertProblem::of(&e) {
                    return Err(TargetError::Tls {
                        product: self.product,
                        url: self.base.to_string(),
                        fix: problem.fix("target.ca_file"),
                        problem,
                    });
                }
                return Ok(self.transport_retry(call, attempt, &e));
            }
        };
        let status = response.status();
        let headers = response.headers().clone();
        let body = match response.bytes().await {
            Ok(b) => b.to_vec(),
            Err(e) => return Ok(self.transport_retry(call, attempt, &e)),
        };
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Ok(self.rate_limited(&headers, attempt));
        }
        if status.is_server_error() {
            return Ok(Attempt::Retry {
                wait: self.backoff(attempt),
                last: TargetError::Server {
                    product: self.product,
                    action: call.action.clone(),
                    status: status.as_u16(),
                    attempts: attempt,
                },
            });
        }
        Ok(Attempt::Done(Reply {
            status,
            headers,
            body,
            product: self.product,
            base: self.base.to_string(),
            action: call.action.clone(),
        }))
    }

    fn request(&self, call: &Call) -> reqwest::RequestBuilder {
        let mut url = self.base.clone();
        url.set_path(&format!(
            "{}{}",
            self.base.path(),
            call.path.trim_start_matches('/')
        ));
        if !call.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&call.query);
        }
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::ACCEPT,
            http::HeaderValue::from_static("application/json"),
        );
        for (name, value) in &call.headers {
            if let Ok(value) = http::HeaderValue::from_str(value) {
                headers.insert(name.clone(), value);
            }
        }
        let mut builder = self
            .client
            .request(call.method.clone(), url)
            .header(http::header::AUTHORIZATION, self.auth.header_value())
            .headers(headers);
        if let Some(body) = &call.body {
            builder = builder.json(body);
        }
        builder
    }

    fn rate_limited(&self, headers: &HeaderMap, attempt: u32) -> Attempt {
        let retry_after = retry_after(headers);
        let wait = retry_after
            .unwrap_or_else(|| self.backoff(attempt))
            .min(self.settings.max_retry_after);
        *self
            .not_before
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Instant::now() + wait);
        let over_budget = retry_after.is_some_and(|r| r > self.settings.max_retry_after);
        let last = TargetError::RateLimited {
            product: self.product,
            attempts: attempt,
            retry_after,
        };
        if over_budget {
            // Waiting would take longer than we allow: let `send` give up now.
            return Attempt::Retry {
                wait: Duration::ZERO,
                last,
            };
        }
        Attempt::Retry { wait, last }
    }

    fn transport_retry(&self, call: &Call, attempt: u32, e: &reqwest::Error) -> Attempt {
        let what = if e.is_timeout() {
            "timed out"
        } else if e.is_connect() {
            "connection failed"
        } else {
            "connection broken"
        };
        Attempt::Retry {
            wait: self.backoff(attempt),
            last: self.transport(call, &format!("{what}: {}", without_url(e))),
        }
    }

    fn transport(&self, call: &Call, message: &str) -> TargetError {
        TargetError::Transport {
            product: self.product,
            action: call.action.clone(),
            message: message.to_owned(),
        }
    }

    /// Exponential backoff with full jitter: a random wait in [base/2, base * 2^(n-1)].
    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .settings
            .base_backoff
            .saturating_mul(1 << attempt.min(16).saturating_sub(1));
        let ceiling = exp.min(self.settings.max_backoff);
        let floor = ceiling / 2;
        let spread = ceiling.saturating_sub(floor).as_millis() as u64;
        floor + Duration::from_millis(rand::rng().random_range(0..=spread))
    }

    fn check_auth(&self, reply: Reply) -> TargetResult<Reply> {
        let reason = reply
            .headers
            .get(SERAPH_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let failed = matches!(
            reason.as_str(),
            "AUTHENTICATED_FAILED" | "AUTHENTICATION_DENIED"
        );
        if reply.status == StatusCode::UNAUTHORIZED || failed {
            let detail = match reason.as_str() {
                "AUTHENTICATION_DENIED" => "X-Seraph-LoginReason: AUTHENTICATION_DENIED; the account must pass a CAPTCHA in the browser first".to_owned(),
                "" => format!("HTTP {}", reply.status.as_u16()),
                other => format!("HTTP {} with X-Seraph-LoginReason: {other}", reply.status.as_u16()),
            };
            return Err(TargetError::Unauthenticated {
                product: self.product,
                url: self.base.to_string(),
                detail,
            });
        }
        Ok(reply)
    }
}

/// `Retry-After` in seconds (Atlassian sends seconds, not dates); falls back to the
/// bucket's refill interval when only the `X-RateLimit-*` family is present.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let number = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|v| v.is_finite() && *v >= 0.0)
    };
    if let Some(secs) = number("retry-after") {
        return Some(Duration::from_secs_f64(secs));
    }
    let interval = number("x-ratelimit-interval-seconds")
        .or_else(|| number("x-ratelimiting-interval-seconds"));
    interval.map(Duration::from_secs_f64)
}

/// reqwest's message without the URL (which may carry usernames in the query).
fn without_url(e: &reqwest::Error) -> String {
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    let mut text = String::new();
    while let Some(s) = source {
        text = s.to_string();
        source = s.source();
    }
    if text.is_empty() {
        "no detail".into()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use http::Method;
    use secrecy::SecretString;

    use super::*;

    #[test]
    fn base_urls_must_be_https_unless_they_point_at_loopback() {
        assert!(parse_base_url("Jira", "https://jira.example.com").is_ok());
        assert_eq!(
            parse_base_url("Jira", "http://127.0.0.1:8080/jira")
                .unwrap()
                .as_str(),
            "http://127.0.0.1:8080/jira/"
        );
        let err = parse_base_url("Jira", "http://jira.example.com")
            .unwrap_err()
            .to_string();
        assert!(err.contains("non-loopback"), "{err}");
        let err = parse_base_url("Jira", "https://u:p@jira.example.com")
            .unwrap_err()
            .to_string();
        assert!(err.contains("contains credentials"), "{err}");
        assert!(parse_base_url("Jira", "ftp://x").is_err());
        assert!(parse_base_url("Jira", "not a url").is_err());
    }

    #[test]
    fn a_call_s_debug_output_leaves_its_body_out() {
        let call = Call::new(Method::POST, "rest/api/2/user", "create alice")
            .json(serde_json::json!({"name": "alice", "password": "s3cret-pw"}));
        let shown = format!("{call:?}");
        assert!(!shown.contains("s3cret-pw"), "{shown}");
        assert!(shown.contains("create alice"), "{shown}");
    }

    #[test]
    fn debug_output_never_shows_a_secret() {
        let auth = AtlassianAuth::Basic {
            username: "admin".into(),
            password: SecretString::from("hunter2"),
        };
        let bearer = AtlassianAuth::Bearer(SecretString::from("NjI4MzQ"));
        let text = format!("{auth:?} {bearer:?}");
        assert!(
            !text.contains("hunter2") && !text.contains("NjI4MzQ"),
            "{text}"
        );
        assert!(text.contains("admin"));
    }

    #[test]
    fn jira_and_confluence_error_bodies_become_messages() {
        let jira = br#"{"errorMessages":["error.no.value.found.to.be.changed"],"errors":{"username":"A user with that username already exists."}}"#;
        assert_eq!(
            error_messages(jira),
            vec![
                "error.no.value.found.to.be.changed".to_owned(),
                "username: A user with that username already exists.".to_owned()
            ]
        );
        assert_eq!(
            error_messages(br#"{"statusCode":409,"message":"exists"}"#),
            vec!["exists"]
        );
        assert_eq!(
            error_messages(b"<html>oops</html>"),
            vec!["<html>oops</html>"]
        );
    }

    #[test]
    fn retry_after_prefers_the_header_and_falls_back_to_the_interval() {
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-interval-seconds", "2".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert("retry-after", "1".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(1)));
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }
}
