//! Who may use the console: administrators signed in with a session cookie, and
//! automation with an API token (`Authorization: Bearer`).
//!
//! [`guard`] is the one middleware in front of every protected route: it finds
//! the caller, refuses anonymous requests (401), and refuses state-changing
//! requests made with a session cookie unless they echo the session's CSRF token
//! (403). Handlers read the caller from the [`Admin`] request extension. Which
//! scope each route needs is declared where it is added ([`access::Routes`]) and
//! checked after the guard.

pub mod access;
pub mod accounts;
pub mod csrf;
pub mod pages;
pub mod password;
pub mod throttle;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use usersync_store::Scopes;

use super::backend::BackendError;
use super::error::ApiError;
use super::state::AppState;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "usersync_session";
/// How long a session lasts after sign-in.
pub const SESSION_HOURS: i64 = 12;
/// The largest form body the CSRF check reads.
const MAX_FORM_BYTES: usize = 1024 * 1024;

/// How the caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Session,
    Token,
}

/// The signed-in caller of a protected route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admin {
    /// The administrator's username, or `token:<name>` for an API token.
    pub actor: String,
    /// The session's CSRF token (empty for API tokens).
    pub csrf: String,
    /// Hash of the session id, to sign out.
    pub session_hash: Option<String>,
    pub via: Via,
    /// What the caller may do: every scope for an administrator, the token's own otherwise.
    pub scopes: Scopes,
}

/// SHA-256 in hex: how session ids and API tokens are stored (they are long
/// random values, so a fast hash is enough; no one can guess their preimage).
#[must_use]
pub fn sha256_hex(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

/// The value of one cookie in the request.
#[must_use]
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// True when cookies must carry `Secure`: the flag is set or a proxy says TLS.
#[must_use]
pub fn is_secure(state: &AppState, headers: &HeaderMap) -> bool {
    state.secure_cookies
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// A `Set-Cookie` value: always HttpOnly and SameSite=Strict; `Secure` behind TLS.
#[must_use]
pub fn set_cookie(name: &str, value: &str, max_age_secs: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text = format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}"
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

/// Finds the caller from a bearer token or the session cookie.
///
/// # Errors
/// Backend failures.
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Admin>, BackendError> {
    if let Some(auth) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        // A present but unusable Authorization header is refused outright, never
        // silently replaced by a cookie.
        let Some(token) = auth.strip_prefix("Bearer ").map(str::trim) else {
            return Ok(None);
        };
        return Ok(state
            .backend
            .api_token(&sha256_hex(token))
            .await?
            .map(|(name, scopes)| Admin {
                actor: format!("token:{name}"),
                csrf: String::new(),
                session_hash: None,
                via: Via::Token,
                scopes,
            }));
    }
    let Some(id) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let hash = sha256_hex(id);
    Ok(state.backend.session(&hash).await?.map(|s| Admin {
        actor: s.username,
        csrf: s.csrf_token,
        session_hash: Some(hash),
        via: Via::Session,
        scopes: Scopes::all(),
    }))
}

fn is_api(request: &Request) -> bool {
    request.uri().path().starts_with("/api/")
}

/// The protected routes' middleware: authentication, then CSRF for unsafe methods;
/// every answer is marked `Cache-Control: no-store`.
pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let api = is_api(&request);
    let admin = match authenticate(&state, request.headers()).await {
        Ok(Some(admin)) => admin,
        Ok(None) => {
            let (parts, _) = request.into_parts();
            return pages::unauthenticated(&state, &parts, api).await;
        }
        Err(e) => return ApiError::from(e).into_response(),
    };
    let unsafe_method = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    let mut request = request;
    if unsafe_method && admin.via == Via::Session {
        let (ok, rebuilt) = csrf_echoed(request, &admin.csrf).await;
        if !ok {
            return csrf_refused(api);
        }
        request = rebuilt;
    }
    request.extensions_mut().insert(admin);
    let mut response = next.run(request).await;
    // What an administrator sees (apps, runs, exports) must not outlive the session
    // in a browser's or a proxy's cache.
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    response
}

/// Checks the CSRF token in the header or, for forms, the `csrf` field; gives the
/// request back with its body intact.
async fn csrf_echoed(request: Request, expected: &str) -> (bool, Request) {
    if let Some(value) = request
        .headers()
        .get(csrf::HEADER)
        .and_then(|v| v.to_str().ok())
    {
        let ok = csrf::matches(expected, Some(value));
        return (ok, request);
    }
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return (false, request);
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_FORM_BYTES).await else {
        return (false, Request::from_parts(parts, Body::empty()));
    };
    let submitted = form_urlencoded_field(&bytes, csrf::FIELD);
    let ok = csrf::matches(expected, submitted.as_deref());
    (ok, Request::from_parts(parts, Body::from(bytes)))
}

/// One field of a urlencoded body.
#[must_use]
pub fn form_urlencoded_field(body: &[u8], name: &str) -> Option<String> {
    url::form_urlencoded::parse(body)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn csrf_refused(api: bool) -> Response {
    let message =
        "the request did not carry this session's CSRF token: reload the page and try again";
    if api {
        ApiError::new(StatusCode::FORBIDDEN, "csrf_refused", message).into_response()
    } else {
        (StatusCode::FORBIDDEN, message).into_response()
    }
}

/// Logs, while no administrator exists, where to create one and the one-time setup
/// code the setup page asks for (only whoever reads the server's log can claim it).
pub async fn announce_setup(store: &usersync_store::Store, url: &str) {
    match store.setup_code().await {
        Ok(Some(code)) => tracing::info!(
            "no administrator exists yet: open {url}/setup and enter the setup code {code}, \
             or run `usersync admin create`"
        ),
        Ok(None) => {}
        Err(err) => tracing::warn!("could not prepare the first start's setup code: {err}"),
    }
}
