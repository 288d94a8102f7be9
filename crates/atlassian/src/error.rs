//! The errors every target client returns, typed so the engine can branch on them.

use std::time::Duration;

/// A failed call to an Atlassian product.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// The credential was rejected (401, or 200 with `X-Seraph-LoginReason` saying so).
    #[error(
        "{product} at {url} rejected the credential ({detail}): check the username and password or create a new personal access token"
    )]
    Unauthenticated {
        product: &'static str,
        url: String,
        detail: String,
    },
    /// The credential works but lacks a permission.
    #[error("{product} refused {action}: the account needs {needed}")]
    Forbidden {
        product: &'static str,
        action: String,
        needed: String,
    },
    /// The server at the target URL does not answer like the product configured
    /// (another product, or a wrong context path); `hint` says what to try.
    #[error("{url} does not answer like {product}: {answer}; {hint}")]
    NotTheProduct {
        product: &'static str,
        url: String,
        answer: String,
        hint: String,
    },
    #[error("{what} was not found")]
    NotFound { what: String },
    /// The user, group or membership being created exists already (REST 409, or the
    /// product's "already exists" answer); creating callers treat it as success.
    #[error("{what} exists already")]
    AlreadyExists { what: String },
    /// The user or group lives in a read-only directory (e.g. LDAP).
    #[error("{what} is managed elsewhere (a read-only directory) and is left unchanged")]
    ManagedElsewhere { what: String },
    /// Confluence answered 402: no licence seat left for another active user.
    #[error("no licence seat is left to {action}: free a seat or raise the licence tier")]
    NoLicenceSeat { action: String },
    /// The server version cannot do this through any API usersync uses.
    #[error("{product} {version} cannot {action} ({hint})")]
    Unsupported {
        product: &'static str,
        version: String,
        action: String,
        hint: String,
    },
    /// The product refused the request's content (400 with its messages).
    #[error("{product} refused {action}: {message}")]
    Rejected {
        product: &'static str,
        action: String,
        message: String,
    },
    #[error("{product} is rate limiting usersync (retried {attempts} times)")]
    RateLimited {
        product: &'static str,
        attempts: u32,
        retry_after: Option<Duration>,
    },
    /// A 5xx after all retries.
    #[error("{product} failed to {action}: HTTP {status} after {attempts} attempts")]
    Server {
        product: &'static str,
        action: String,
        status: u16,
        attempts: u32,
    },
    /// The server's TLS certificate was refused (`problem`: unknown issuer, expired, another
    /// name...); `fix` names the setting (`target.ca_file`, `--ca-file`) or what to change.
    #[error("{product} at {url}: its TLS certificate was refused: {problem}; {fix}")]
    Tls {
        product: &'static str,
        url: String,
        problem: usersync_tls::CertProblem,
        fix: String,
    },
    #[error("could not reach {product} to {action}: {message}")]
    Transport {
        product: &'static str,
        action: String,
        message: String,
    },
    #[error(
        "{product} sent a response usersync could not read while trying to {action}: {message}"
    )]
    Decode {
        product: &'static str,
        action: String,
        message: String,
    },
    /// The configuration is unusable (bad base URL, missing credential).
    #[error("{0}")]
    Config(String),
}

impl TargetError {
    /// True when retrying the same call later might succeed.
    #[must_use]
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. } | Self::Server { .. } | Self::Transport { .. }
        )
    }
}

pub type TargetResult<T> = Result<T, TargetError>;
