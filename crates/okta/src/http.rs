//! The request executor: every request to Okta goes through here exactly once.
//!
//! It owns the HTTP client, the credential header, the rate governor, the
//! concurrency bound, retries and the statistics, so the resource modules only
//! say what to fetch. It never sends a credential to a host other than the
//! configured org, even when a `next` link points elsewhere.

use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;
use url::Url;

use crate::auth::{Credential, OAuthErrorBody, ServiceApp, TokenResponse, oauth_hint};
use crate::config::{OktaConfig, OrgUrl, RetrySettings};
use crate::error::{Failure, OktaError};
use crate::governor::{RateGovernor, bucket_of};
use crate::link::next_link;
use crate::retry::{backoff, rate_headers, rate_limit_wait, request_id, transport_message};

/// Counters of what the client has done, for logs and progress displays.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OktaStats {
    /// API requests sent (each attempt counts; token requests are counted apart).
    pub requests: u64,
    /// Attempts that were retries (after a 429, 5xx, timeout or broken connection).
    pub retries: u64,
    /// 429 answers seen.
    pub rate_limited: u64,
    /// 5xx answers seen.
    pub server_errors: u64,
    /// Attempts that failed without a complete answer (timeouts, resets, truncated bodies).
    pub transport_errors: u64,
    /// Requests to the OAuth token endpoint.
    pub token_requests: u64,
}

#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    retries: AtomicU64,
    rate_limited: AtomicU64,
    server_errors: AtomicU64,
    transport_errors: AtomicU64,
    token_requests: AtomicU64,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// What to send: a method, a URL on the org, maybe a JSON body.
pub(crate) struct Request<'a> {
    pub method: Method,
    pub url: &'a str,
    pub body: Option<&'a serde_json::Value>,
    /// Whether sending it twice does no more than sending it once (retries allowed).
    pub idempotent: bool,
}

impl<'a> Request<'a> {
    pub(crate) fn get(url: &'a str) -> Self {
        Self {
            method: Method::GET,
            url,
            body: None,
            idempotent: true,
        }
    }
}

/// One page of a listing (or a single object) and the link to the next page.
pub(crate) struct Page<T> {
    pub items: T,
    pub next: Option<String>,
}

/// A complete answer: status, headers and the whole body.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

/// Retry bookkeeping of one logical request.
#[derive(Default)]
struct Attempts {
    transient: u32,
    limited: u32,
    refreshed_token: bool,
    /// Never retry after a 5xx or a transport failure (the request is not idempotent).
    once: bool,
    /// `X-Okta-Request-Id` of the last 429, echoed as `X-Okta-Retry-For`.
    retry_for: Option<String>,
}

impl Attempts {
    fn total(&self) -> u32 {
        1 + self.transient + self.limited + u32::from(self.refreshed_token)
    }
}

pub(crate) struct Executor {
    client: reqwest::Client,
    pub org: OrgUrl,
    pub host: String,
    credential: Credential,
    governor: RateGovernor,
    slots: Semaphore,
    pub retry: RetrySettings,
    counters: Counters,
}

impl Executor {
    pub(crate) fn new(config: &OktaConfig) -> Result<Self, OktaError> {
        let org = config.validate()?;
        let credential = Credential::from_config(&config.auth, org.join("/oauth2/v1/token"))?;
        let client = usersync_tls::client_builder(&config.trust)
            .user_agent(concat!("usersync-okta/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| OktaError::Config {
                field: "http client",
                problem: format!("could not be built: {e}"),
            })?;
        Ok(Self {
            client,
            host: org.host(),
            org,
            credential,
            governor: RateGovernor::new(config.rate_share),
            slots: Semaphore::new(config.concurrency()),
            retry: config.retry.clone(),
            counters: Counters::default(),
        })
    }

    pub(crate) fn credential_kind(&self) -> crate::CredentialKind {
        self.credential.kind()
    }

    pub(crate) fn stats(&self) -> OktaStats {
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        OktaStats {
            requests: get(&c.requests),
            retries: get(&c.retries),
            rate_limited: get(&c.rate_limited),
            server_errors: get(&c.server_errors),
            transport_errors: get(&c.transport_errors),
            token_requests: get(&c.token_requests),
        }
    }

    pub(crate) fn rate_limit_headroom(&self) -> Vec<crate::BucketHeadroom> {
        self.governor.headroom()
    }

    fn failure<'a>(&'a self, action: &'a str, attempts: &Attempts) -> Failure<'a> {
        Failure {
            org: &self.host,
            action,
            credential: self.credential.kind(),
            attempts: attempts.total(),
        }
    }

    /// Parses `url` (absolute, or a path on the org) and refuses other hosts.
    fn checked_url(&self, url: &str, action: &str) -> Result<Url, OktaError> {
        let absolute = if url.starts_with('/') {
            self.org.join(url)
        } else {
            url.to_owned()
        };
        let parsed = Url::parse(&absolute)
            .map_err(|e| self.decode(action, format!("bad URL {url:?}: {e}")))?;
        if !self.org.owns(&parsed) {
            return Err(self.decode(
                action,
                format!("a link points at {url:?}, outside the org; usersync will not send its credential there"),
            ));
        }
        Ok(parsed)
    }

    pub(crate) fn decode(&self, action: &str, message: String) -> OktaError {
        OktaError::Decode {
            org: self.host.clone(),
            action: action.to_owned(),
            message,
        }
    }

    /// GETs `url` and decodes its JSON body, with every retry the settings allow.
    pub(crate) async fn get<T: DeserializeOwned>(
        &self,
        url: &str,
        action: &str,
    ) -> Result<Page<T>, OktaError> {
        self.send(Request::get(url), action).await
    }

    /// Sends one request and decodes its JSON body. 429s are always waited out and
    /// retried (Okta refused the request, so nothing happened); 5xx and transport
    /// failures are retried only for an idempotent request, since a create that timed
    /// out may have been made.
    pub(crate) async fn send<T: DeserializeOwned>(
        &self,
        request: Request<'_>,
        action: &str,
    ) -> Result<Page<T>, OktaError> {
        let url = self.checked_url(request.url, action)?;
        let bucket = bucket_of(&request.method, url.path());
        let mut attempts = Attempts {
            once: !request.idempotent,
            ..Attempts::default()
        };
        loop {
            self.governor.acquire(&bucket).await;
            let authorization = match self.authorization().await {
                Ok(value) => value,
                Err(e) => {
                    // Nothing was sent: free the admission (it may have been the probe).
                    self.governor.observe(&bucket, None);
                    return Err(e);
                }
            };
            let outcome = {
                let _slot = self.slots.acquire().await;
                self.send_once(&request, &url, authorization, &attempts)
                    .await
            };
            let answer = match outcome {
                Ok(answer) => answer,
                Err(e) => {
                    self.governor.observe(&bucket, None);
                    bump(&self.counters.transport_errors);
                    self.refuse_certificate(&e)?;
                    self.transient_retry(&mut attempts, action, || transport_message(&e))
                        .await?;
                    continue;
                }
            };
            self.governor
                .observe(&bucket, rate_headers(&answer.headers));
            if let Some(page) = self.handle(answer, &bucket, action, &mut attempts).await? {
                return Ok(page);
            }
        }
    }

    /// Decides what one answer means: a page, a retry (`None`), or a final error.
    async fn handle<T: DeserializeOwned>(
        &self,
        answer: Answer,
        bucket: &str,
        action: &str,
        attempts: &mut Attempts,
    ) -> Result<Option<Page<T>>, OktaError> {
        let status = answer.status;
        if status.is_success() {
            return match serde_json::from_slice::<T>(&answer.body) {
                Ok(items) => Ok(Some(Page {
                    items,
                    next: next_link(&answer.headers),
                })),
                // A cut-off body that still arrived "complete" is treated like a broken connection.
                Err(e) => {
                    self.transient_retry(attempts, action, || format!("unreadable JSON: {e}"))
                        .await
                        .map_err(|_| self.decode(action, format!("unreadable JSON: {e}")))?;
                    Ok(None)
                }
            };
        }
        if status == StatusCode::TOO_MANY_REQUESTS {
            bump(&self.counters.rate_limited);
            if attempts.limited >= self.retry.max_rate_limit_retries {
                return Err(self.failure(action, attempts).error_for(429, &answer.body));
            }
            let wait = rate_limit_wait(&self.retry, &answer.headers, attempts.limited);
            // A concurrency refusal (Limit 0) says nothing about the bucket's window:
            // only this request waits, the bucket's budget stays usable.
            if rate_headers(&answer.headers).is_none_or(|h| h.limit > 0) {
                self.governor.exhausted(bucket, wait);
            }
            attempts.retry_for = request_id(&answer.headers);
            attempts.limited += 1;
            bump(&self.counters.retries);
            tracing::debug!(org = %self.host, action, ?wait, "rate limited by Okta; waiting for the window to reset");
            tokio::time::sleep(wait).await;
            return Ok(None);
        }
        if status == StatusCode::UNAUTHORIZED
            && !attempts.refreshed_token
            && let Credential::ServiceApp(app) = &self.credential
        {
            // The cached access token may have been revoked: fetch a new one once.
            app.invalidate().await;
            attempts.refreshed_token = true;
            return Ok(None);
        }
        if status.is_server_error() {
            bump(&self.counters.server_errors);
            let error = self
                .failure(action, attempts)
                .error_for(status.as_u16(), &answer.body);
            self.transient_retry(attempts, action, || error.to_string())
                .await
                .map_err(|_| {
                    self.failure(action, attempts)
                        .error_for(status.as_u16(), &answer.body)
                })?;
            return Ok(None);
        }
        Err(self
            .failure(action, attempts)
            .error_for(status.as_u16(), &answer.body))
    }

    /// Sleeps before the next transient retry, or fails with a transport error when
    /// the retries are used up.
    async fn transient_retry(
        &self,
        attempts: &mut Attempts,
        action: &str,
        message: impl FnOnce() -> String,
    ) -> Result<(), OktaError> {
        if attempts.once || attempts.transient >= self.retry.max_retries {
            return Err(OktaError::Transport {
                org: self.host.clone(),
                action: action.to_owned(),
                message: message(),
                attempts: attempts.total(),
            });
        }
        let wait = backoff(&self.retry, attempts.transient);
        attempts.transient += 1;
        bump(&self.counters.retries);
        tokio::time::sleep(wait).await;
        Ok(())
    }

    async fn send_once(
        &self,
        what: &Request<'_>,
        url: &Url,
        authorization: HeaderValue,
        attempts: &Attempts,
    ) -> Result<Answer, reqwest::Error> {
        bump(&self.counters.requests);
        let mut request = self
            .client
            .request(what.method.clone(), url.clone())
            .header(http::header::ACCEPT, "application/json")
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::AUTHORIZATION, authorization);
        if let Some(body) = what.body {
            request = request.body(serde_json::to_vec(body).unwrap_or_default());
        }
        if attempts.limited > 0 {
            if let Some(id) = &attempts.retry_for {
                request = request.header("X-Okta-Retry-For", id.as_str());
            }
            request = request.header("X-Okta-Retry-Count", attempts.limited.to_string());
        }
        let response = request.send().await?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await?;
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    /// The `Authorization` header value, marked sensitive so it is never logged.
    async fn authorization(&self) -> Result<HeaderValue, OktaError> {
        let text = match &self.credential {
            Credential::Ssws(token) => format!("SSWS {}", token.expose_secret()),
            Credential::ServiceApp(app) => {
                let token = match app.cached().await {
                    Some(token) => token,
                    None => app.token_with(|| self.fetch_token(app)).await?,
                };
                format!("Bearer {}", token.expose_secret())
            }
        };
        let mut value = HeaderValue::from_str(&text).map_err(|_| OktaError::Config {
            field: "api_token",
            problem:
                "contains characters that cannot be sent in an HTTP header; paste the token again"
                    .into(),
        })?;
        value.set_sensitive(true);
        Ok(value)
    }

    /// Exchanges a fresh client assertion for an access token, with bounded retries.
    async fn fetch_token(&self, app: &ServiceApp) -> Result<TokenResponse, OktaError> {
        let action = "get an OAuth access token";
        let bucket = bucket_of(&Method::POST, "/oauth2/v1/token");
        let mut attempts = Attempts::default();
        loop {
            self.governor.acquire(&bucket).await;
            bump(&self.counters.token_requests);
            let sent = self
                .client
                .post(&app.token_url)
                .header(http::header::ACCEPT, "application/json")
                .form(&app.token_form()?)
                .send()
                .await;
            let answer = match sent {
                Ok(r) => {
                    let (status, headers) = (r.status(), r.headers().clone());
                    r.bytes().await.map(|body| Answer {
                        status,
                        headers,
                        body,
                    })
                }
                Err(e) => Err(e),
            };
            let answer = match answer {
                Ok(a) => a,
                Err(e) => {
                    self.governor.observe(&bucket, None);
                    self.refuse_certificate(&e)?;
                    self.transient_retry(&mut attempts, action, || transport_message(&e))
                        .await?;
                    continue;
                }
            };
            self.governor
                .observe(&bucket, rate_headers(&answer.headers));
            if answer.status.is_success() {
                return serde_json::from_slice(&answer.body)
                    .map_err(|e| self.decode(action, format!("unreadable token response: {e}")));
            }
            if answer.status == StatusCode::TOO_MANY_REQUESTS
                && attempts.limited < self.retry.max_rate_limit_retries
            {
                attempts.limited += 1;
                tokio::time::sleep(rate_limit_wait(
                    &self.retry,
                    &answer.headers,
                    attempts.limited,
                ))
                .await;
                continue;
            }
            if answer.status.is_server_error() {
                let status = answer.status.as_u16();
                self.transient_retry(&mut attempts, action, || format!("HTTP {status}"))
                    .await?;
                continue;
            }
            return Err(self.oauth_error(app, &answer.body));
        }
    }

    /// A certificate refusal is final (retrying cannot change the certificate): it is
    /// returned as [`OktaError::Tls`], naming the problem and the setting that fixes it.
    fn refuse_certificate(&self, e: &reqwest::Error) -> Result<(), OktaError> {
        match usersync_tls::CertProblem::of(e) {
            Some(problem) => Err(OktaError::Tls {
                org: self.host.clone(),
                fix: problem.fix("okta.ca_file"),
                problem,
            }),
            None => Ok(()),
        }
    }

    fn oauth_error(&self, app: &ServiceApp, body: &[u8]) -> OktaError {
        let parsed: OAuthErrorBody = serde_json::from_slice(body).unwrap_or_default();
        let error = parsed.error.unwrap_or_else(|| "unknown_error".into());
        OktaError::OAuth {
            org: self.host.clone(),
            client_id: app.client_id.clone(),
            hint: oauth_hint(&error),
            description: parsed
                .error_description
                .unwrap_or_else(|| "no description".into()),
            error,
        }
    }
}
