//! Credentials on the wire: the SSWS header, and the OAuth 2.0 service-app flow.
//!
//! For a service app this module signs a `private_key_jwt` client assertion
//! (RS256), exchanges it at the org authorization server's token endpoint
//! (`{base}/oauth2/v1/token`, the only one that mints Okta API scopes) and caches
//! the access token until shortly before it expires. Concurrent callers share one
//! token request. Secrets never leave a [`SecretString`] except to build a header.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::config::{DEFAULT_SCOPES, OktaAuth};
use crate::error::{CredentialKind, OktaError};

/// How long a client assertion is valid (Okta allows at most one hour).
const ASSERTION_LIFETIME: Duration = Duration::from_secs(300);
/// Refresh this long before the access token expires (or at half-life for short tokens).
const REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// The credential of a client, ready to produce `Authorization` headers.
pub(crate) enum Credential {
    Ssws(SecretString),
    ServiceApp(ServiceApp),
}

impl Credential {
    pub(crate) fn from_config(auth: &OktaAuth, token_url: String) -> Result<Self, OktaError> {
        match auth {
            OktaAuth::ApiToken(token) => {
                if token.expose_secret().trim().is_empty() {
                    return Err(OktaError::Config {
                        field: "api_token",
                        problem: "is empty; create a token under Security > API > Tokens".into(),
                    });
                }
                Ok(Self::Ssws(token.clone()))
            }
            OktaAuth::ServiceApp {
                client_id,
                private_key_pem,
                key_id,
                scopes,
            } => ServiceApp::new(
                client_id,
                private_key_pem,
                key_id.clone(),
                scopes,
                token_url,
            )
            .map(Self::ServiceApp),
        }
    }

    pub(crate) fn kind(&self) -> CredentialKind {
        match self {
            Self::Ssws(_) => CredentialKind::ApiToken,
            Self::ServiceApp(_) => CredentialKind::ServiceApp,
        }
    }
}

/// A service app's signing key and its cached access token.
pub(crate) struct ServiceApp {
    pub client_id: String,
    key: EncodingKey,
    key_id: Option<String>,
    pub scopes: String,
    pub token_url: String,
    cached: Mutex<Option<CachedToken>>,
}

struct CachedToken {
    value: SecretString,
    refresh_at: Instant,
}

#[derive(Serialize)]
struct AssertionClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
    jti: String,
}

/// The token endpoint's success body.
#[derive(Deserialize)]
pub(crate) struct TokenResponse {
    pub access_token: String,
    #[serde(default)]
    pub expires_in: Option<u64>,
}

/// RFC 6749 error body.
#[derive(Deserialize, Default)]
pub(crate) struct OAuthErrorBody {
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub error_description: Option<String>,
}

impl ServiceApp {
    fn new(
        client_id: &str,
        pem: &SecretString,
        key_id: Option<String>,
        scopes: &[String],
        token_url: String,
    ) -> Result<Self, OktaError> {
        let key = EncodingKey::from_rsa_pem(pem.expose_secret().as_bytes()).map_err(|_| {
            OktaError::Config {
                field: "private_key_pem",
                problem: "is not an RSA private key in PEM form (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----)".into(),
            }
        })?;
        let scopes = if scopes.is_empty() {
            DEFAULT_SCOPES.join(" ")
        } else {
            scopes.join(" ")
        };
        Ok(Self {
            client_id: client_id.trim().to_owned(),
            key,
            key_id,
            scopes,
            token_url,
            cached: Mutex::new(None),
        })
    }

    /// A freshly signed client assertion.
    pub(crate) fn assertion(&self) -> Result<String, OktaError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let claims = AssertionClaims {
            iss: &self.client_id,
            sub: &self.client_id,
            aud: &self.token_url,
            iat: now,
            exp: now + ASSERTION_LIFETIME.as_secs(),
            jti: uuid::Uuid::new_v4().to_string(),
        };
        let mut header = Header::new(Algorithm::RS256);
        header.kid.clone_from(&self.key_id);
        jsonwebtoken::encode(&header, &claims, &self.key).map_err(|e| OktaError::Config {
            field: "private_key_pem",
            problem: format!("could not sign the client assertion: {e}"),
        })
    }

    /// The form body of a token request.
    pub(crate) fn token_form(&self) -> Result<Vec<(&'static str, String)>, OktaError> {
        Ok(vec![
            ("grant_type", "client_credentials".to_owned()),
            ("scope", self.scopes.clone()),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_owned(),
            ),
            ("client_assertion", self.assertion()?),
        ])
    }

    /// The cached token, when still fresh.
    pub(crate) async fn cached(&self) -> Option<SecretString> {
        let guard = self.cached.lock().await;
        guard
            .as_ref()
            .filter(|t| Instant::now() < t.refresh_at)
            .map(|t| t.value.clone())
    }

    /// Returns a fresh token, calling `fetch` at most once even when many callers
    /// ask at the same time.
    pub(crate) async fn token_with<F, Fut>(&self, fetch: F) -> Result<SecretString, OktaError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<TokenResponse, OktaError>>,
    {
        let mut guard = self.cached.lock().await;
        if let Some(token) = guard.as_ref().filter(|t| Instant::now() < t.refresh_at) {
            return Ok(token.value.clone());
        }
        let response = fetch().await?;
        let lifetime = Duration::from_secs(response.expires_in.unwrap_or(3600));
        let margin = REFRESH_MARGIN.min(lifetime / 2);
        let value = SecretString::from(response.access_token);
        *guard = Some(CachedToken {
            value: value.clone(),
            refresh_at: Instant::now() + lifetime - margin,
        });
        Ok(value)
    }

    /// Forgets the cached token (after a 401 that says it no longer works).
    pub(crate) async fn invalidate(&self) {
        *self.cached.lock().await = None;
    }
}

/// The hint for a token-endpoint error code (RFC 6749 names).
pub(crate) fn oauth_hint(error: &str) -> &'static str {
    match error {
        "invalid_client" => {
            "check client_id, that the app uses public key / private key authentication, and that its registered public key matches private_key_pem (and key_id)"
        }
        "invalid_scope" => {
            "grant the requested scopes to the service app on its Okta API Scopes tab"
        }
        "unauthorized_client" => "enable the Client Credentials grant for the service app",
        "invalid_dpop_proof" | "use_dpop_nonce" => {
            "the app requires DPoP, which usersync does not send: turn off 'Require Demonstrating Proof of Possession' for this app"
        }
        _ => "check the service app's settings in the Okta Admin Console",
    }
}
