//! Who may call: the org's API token (`Authorization: SSWS {token}`, with or without the
//! space, since Okta's Python SDK omits it) or an OAuth 2.0 access token (`Bearer`) from
//! the org authorization server's client_credentials flow with a `private_key_jwt`
//! assertion. Bearer tokens carry scopes; a call needing a scope the token lacks gets
//! 403 E0000006, and anything unauthenticated 401 E0000011.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, PoisonError};

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::json;

use super::error::ApiError;
use super::paging::Base;
use super::server::App;

/// The authenticated caller, put in the request's extensions.
#[derive(Debug, Clone)]
pub enum Principal {
    ApiToken,
    Client {
        client_id: String,
        scopes: Vec<String>,
    },
}

struct Client {
    key: DecodingKey,
    scopes: Vec<String>,
}

struct Issued {
    client_id: String,
    scopes: Vec<String>,
    expires: DateTime<Utc>,
}

/// Registered service apps and the tokens issued to them.
#[derive(Default)]
pub struct OAuth {
    clients: Mutex<HashMap<String, Client>>,
    tokens: Mutex<HashMap<String, Issued>>,
    used_jti: Mutex<HashSet<String>>,
}

impl OAuth {
    /// Registers a service app's public key (PEM, SPKI or PKCS#1) and granted scopes.
    ///
    /// # Errors
    /// When the PEM is not an RSA public key.
    pub fn register(
        &self,
        client_id: &str,
        public_key_pem: &str,
        scopes: &[&str],
    ) -> anyhow::Result<()> {
        let key = DecodingKey::from_rsa_pem(public_key_pem.as_bytes()).map_err(|e| {
            anyhow::anyhow!("the public key for OAuth client {client_id:?} is not an RSA public key in PEM form: {e}")
        })?;
        let scopes = scopes.iter().map(|s| (*s).to_owned()).collect();
        lock(&self.clients).insert(client_id.to_owned(), Client { key, scopes });
        Ok(())
    }

    fn bearer(&self, token: &str) -> Option<Principal> {
        let tokens = lock(&self.tokens);
        let issued = tokens.get(token).filter(|t| t.expires > Utc::now())?;
        Some(Principal::Client {
            client_id: issued.client_id.clone(),
            scopes: issued.scopes.clone(),
        })
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The scopes that allow a call: the read scope for GETs, and the manage scope always.
fn scopes_for(method: &Method, path: &str) -> Option<[&'static str; 2]> {
    let resource = path.strip_prefix("/api/v1/")?.split('/').next()?;
    let (read, manage) = match resource {
        "users" => ("okta.users.read", "okta.users.manage"),
        "groups" => ("okta.groups.read", "okta.groups.manage"),
        "logs" => ("okta.logs.read", "okta.logs.read"),
        "eventHooks" => ("okta.eventHooks.read", "okta.eventHooks.manage"),
        _ => return None,
    };
    Some(if method == Method::GET {
        [read, manage]
    } else {
        [manage, manage]
    })
}

/// The middleware: authenticates every `/api/v1` call.
pub async fn layer(State(app): State<App>, mut request: Request, next: Next) -> Response {
    if request.uri().path().starts_with("/oauth2/") {
        return next.run(request).await;
    }
    let header = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let principal = if let Some(token) = header.strip_prefix("SSWS") {
        (token.trim() == app.api_token).then_some(Principal::ApiToken)
    } else if let Some(token) = header.strip_prefix("Bearer ") {
        app.oauth.bearer(token.trim())
    } else {
        None
    };
    let Some(principal) = principal else {
        return ApiError::invalid_token().into_response();
    };
    if let Principal::Client { scopes, .. } = &principal
        && let Some(allowed) = scopes_for(request.method(), request.uri().path())
        && !allowed.iter().any(|s| scopes.iter().any(|have| have == s))
    {
        return ApiError::forbidden()
            .with_cause(format!(
                "The access token is missing the {} scope",
                allowed[0]
            ))
            .into_response();
    }
    request.extensions_mut().insert(principal);
    next.run(request).await
}

/// The token request's form fields (no Debug: the assertion is a credential).
#[derive(Default)]
struct TokenForm {
    grant_type: Option<String>,
    scope: Option<String>,
    client_assertion_type: Option<String>,
    client_assertion: Option<String>,
}

impl TokenForm {
    /// Reads an `application/x-www-form-urlencoded` body (unknown fields are ignored).
    fn parse(body: &[u8]) -> Self {
        let mut form = Self::default();
        for (key, value) in url::form_urlencoded::parse(body) {
            let slot = match key.as_ref() {
                "grant_type" => &mut form.grant_type,
                "scope" => &mut form.scope,
                "client_assertion_type" => &mut form.client_assertion_type,
                "client_assertion" => &mut form.client_assertion,
                _ => continue,
            };
            *slot = Some(value.into_owned());
        }
        form
    }
}

#[derive(Debug, Deserialize)]
struct AssertionClaims {
    iss: String,
    sub: String,
    exp: i64,
    jti: Option<String>,
}

fn oauth_error(status: StatusCode, error: &str, description: impl Into<String>) -> Response {
    let body = json!({"error": error, "error_description": description.into()});
    (status, axum::Json(body)).into_response()
}

/// The unverified `iss` of a JWT, to find whose key verifies it.
fn claimed_issuer(jwt: &str) -> Option<String> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    value.get("iss")?.as_str().map(str::to_owned)
}

/// `POST /oauth2/v1/token`: client_credentials with a `private_key_jwt` assertion.
pub async fn token(State(app): State<App>, base: Base, body: bytes::Bytes) -> Response {
    let form = TokenForm::parse(&body);
    if form.grant_type.as_deref() != Some("client_credentials") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "The grant_type must be client_credentials.",
        );
    }
    if form.client_assertion_type.as_deref()
        != Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer (private_key_jwt).",
        );
    }
    let Some(assertion) = form.client_assertion.as_deref() else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            "The client_assertion is missing.",
        );
    };
    let claims = match verify_assertion(&app, &base, assertion) {
        Ok(claims) => claims,
        Err(why) => return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", why),
    };
    let granted = lock(&app.oauth.clients)
        .get(&claims.iss)
        .map(|c| c.scopes.clone())
        .unwrap_or_default();
    let requested: Vec<String> = form
        .scope
        .as_deref()
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    if requested.is_empty() {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "The scope parameter is required for client_credentials.",
        );
    }
    if let Some(missing) = requested.iter().find(|s| !granted.contains(s)) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            format!("The following scopes are not granted to the client: {missing}"),
        );
    }
    let access_token = format!("eyJsim.{}", uuid::Uuid::new_v4().simple());
    let lifetime = app.token_lifetime;
    lock(&app.oauth.tokens).insert(
        access_token.clone(),
        Issued {
            client_id: claims.iss,
            scopes: requested.clone(),
            expires: Utc::now() + Duration::from_std(lifetime).unwrap_or(Duration::hours(1)),
        },
    );
    axum::Json(json!({
        "token_type": "Bearer",
        "expires_in": lifetime.as_secs(),
        "access_token": access_token,
        "scope": requested.join(" "),
    }))
    .into_response()
}

fn verify_assertion(app: &App, base: &Base, assertion: &str) -> Result<AssertionClaims, String> {
    let header = jsonwebtoken::decode_header(assertion)
        .map_err(|e| format!("The client_assertion is not a JWT: {e}"))?;
    if !matches!(
        header.alg,
        Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512
    ) {
        return Err(format!(
            "The client_assertion algorithm {:?} is not supported for this client (use RS256).",
            header.alg
        ));
    }
    let client_id = claimed_issuer(assertion).ok_or("The client_assertion has no iss claim.")?;
    let clients = lock(&app.oauth.clients);
    let client = clients
        .get(&client_id)
        .ok_or_else(|| format!("The client {client_id:?} is not registered."))?;
    let mut validation = Validation::new(header.alg);
    let audiences = [
        format!("{}/oauth2/v1/token", base.0),
        format!("{}/oauth2/v1/token", app.base_url),
    ];
    validation.set_audience(&audiences);
    validation.set_issuer(&[&client_id]);
    validation.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
    let data = jsonwebtoken::decode::<AssertionClaims>(assertion, &client.key, &validation)
        .map_err(|e| format!("The client_assertion was rejected: {e}"))?;
    let claims = data.claims;
    if claims.sub != claims.iss {
        return Err("The client_assertion sub must equal iss (the client id).".into());
    }
    if claims.exp > Utc::now().timestamp() + 3600 + 60 {
        return Err("The client_assertion exp is more than one hour in the future.".into());
    }
    if let Some(jti) = &claims.jti
        && !lock(&app.oauth.used_jti).insert(jti.clone())
    {
        return Err("The client_assertion jti has already been used.".into());
    }
    Ok(claims)
}
