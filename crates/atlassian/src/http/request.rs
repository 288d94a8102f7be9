//! What one request is made of: the credential that signs it ([`AtlassianAuth`]),
//! the retry and concurrency settings ([`HttpSettings`]), and the [`Call`] itself.
//! Both the credential's and the call's `Debug` leave secrets out.

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use http::Method;
use secrecy::{ExposeSecret as _, SecretString};

/// How usersync proves who it is to an Atlassian product.
#[derive(Clone)]
pub enum AtlassianAuth {
    /// A personal access token, sent as `Authorization: Bearer`.
    Bearer(SecretString),
    /// A username and password, sent as HTTP basic auth.
    Basic {
        username: String,
        password: SecretString,
    },
}

impl fmt::Debug for AtlassianAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bearer(_) => f.write_str("Bearer([REDACTED])"),
            Self::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &"[REDACTED]")
                .finish(),
        }
    }
}

impl AtlassianAuth {
    pub(super) fn header_value(&self) -> String {
        match self {
            Self::Bearer(token) => format!("Bearer {}", token.expose_secret()),
            Self::Basic { username, password } => {
                let raw = format!("{username}:{}", password.expose_secret());
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(raw)
                )
            }
        }
    }
}

/// Retry, timeout and concurrency settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSettings {
    /// Most requests in flight at once.
    pub concurrency: usize,
    /// Attempts per call, the first included, for 5xx, 429 and transport failures.
    pub max_attempts: u32,
    /// First backoff; doubles each retry (with full jitter) up to `max_backoff`.
    pub base_backoff: Duration,
    pub max_backoff: Duration,
    /// The longest `Retry-After` usersync will wait before giving up with `RateLimited`.
    pub max_retry_after: Duration,
    /// Per-request timeout (connect, send and read the whole body).
    pub timeout: Duration,
    /// CA bundles trusted besides the built-in roots (`--ca-file`, the app's `target.ca_file`).
    pub trust: usersync_tls::TrustRoots,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            concurrency: 4,
            max_attempts: 5,
            base_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(120),
            timeout: Duration::from_secs(30),
            trust: usersync_tls::TrustRoots::none(),
        }
    }
}

/// One request to make: method, path below the base URL, query, JSON body, and
/// the action in words for error messages ("add alice to jira-users").
///
/// Its `Debug` leaves the body out: a create-user body carries a password.
#[derive(Clone)]
pub struct Call {
    pub(super) method: Method,
    pub(super) path: String,
    pub(super) query: Vec<(String, String)>,
    pub(super) body: Option<serde_json::Value>,
    pub(super) action: String,
}

impl std::fmt::Debug for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Call")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("body", &self.body.as_ref().map(|_| "<redacted>"))
            .field("action", &self.action)
            .finish()
    }
}

impl Call {
    /// A call to `path`, relative to the base URL (e.g. `rest/api/2/user`).
    #[must_use]
    pub fn new(method: Method, path: impl Into<String>, action: impl Into<String>) -> Self {
        Self {
            method,
            path: path.into(),
            query: Vec::new(),
            body: None,
            action: action.into(),
        }
    }

    #[must_use]
    pub fn get(path: impl Into<String>, action: impl Into<String>) -> Self {
        Self::new(Method::GET, path, action)
    }

    #[must_use]
    pub fn query(mut self, name: &str, value: impl ToString) -> Self {
        self.query.push((name.to_owned(), value.to_string()));
        self
    }

    #[must_use]
    pub fn json(mut self, body: serde_json::Value) -> Self {
        self.body = Some(body);
        self
    }

    #[must_use]
    pub fn action(&self) -> &str {
        &self.action
    }
}
