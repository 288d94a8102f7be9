//! Sign-in, sign-out and the first-start "create administrator" page.
//!
//! These forms are used before there is a session, so their CSRF token is a
//! double-submit cookie (`usersync_csrf`) that the hidden form field must match;
//! with SameSite=Strict another site can neither read nor send it.

use std::net::{IpAddr, SocketAddr};

use askama::Template;
use axum::extract::connect_info::ConnectInfo;
use axum::extract::{Form, Query, State};
use axum::http::{Extensions, HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use secrecy::SecretString;
use serde::Deserialize;
use usersync_store::FirstAdmin;

use super::{
    Admin, SESSION_COOKIE, SESSION_HOURS, cookie, csrf, is_secure, password, set_cookie,
    sha256_hex, throttle,
};
use crate::web::error::{ApiError, render};
use crate::web::pages::Shell;
use crate::web::state::AppState;

#[derive(Template)]
#[template(path = "signin.html")]
struct SignInPage<'a> {
    shell: &'a Shell,
    form_csrf: &'a str,
    next: &'a str,
    username: &'a str,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage<'a> {
    shell: &'a Shell,
    form_csrf: &'a str,
    username: &'a str,
    error: Option<String>,
}

/// The pre-session CSRF token: the one already in the cookie, or a new one.
fn form_token(headers: &HeaderMap) -> String {
    cookie(headers, csrf::PRE_SESSION_COOKIE)
        .filter(|v| v.len() >= 32)
        .map_or_else(csrf::new_token, str::to_owned)
}

fn with_form_cookie(
    state: &AppState,
    headers: &HeaderMap,
    token: &str,
    status: StatusCode,
    body: Response,
) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(
            csrf::PRE_SESSION_COOKIE,
            token,
            3600,
            is_secure(state, headers),
        ),
    );
    response
}

fn sign_in_page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    next: &str,
    username: &str,
    error: Option<String>,
) -> Response {
    let token = form_token(headers);
    let page = SignInPage {
        shell: &Shell::anonymous(),
        form_csrf: &token,
        next,
        username,
        error,
    };
    with_form_cookie(state, headers, &token, status, render(&page))
}

/// Keeps redirects after sign-in on this site: only an absolute path, never `//host`,
/// and nothing a browser strips or rewrites into one (control characters such as the
/// tab in `/%09/evil`, backslashes); anything else goes to `/`.
fn safe_next(next: &str) -> &str {
    let same_site = next.starts_with('/')
        && !next.starts_with("//")
        && !next.chars().any(|c| c == '\\' || c.is_control());
    if same_site { next } else { "/" }
}

/// The answer to an anonymous request for a protected route: 401 with a JSON
/// error for the API, 401 with the sign-in form for pages (or, on first start
/// with no administrator yet, a redirect to the setup page).
pub async fn unauthenticated(
    state: &AppState,
    parts: &axum::http::request::Parts,
    api: bool,
) -> Response {
    if api {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "sign in or send an API token as `Authorization: Bearer <token>`",
        )
        .into_response();
    }
    if matches!(state.backend.admin_count().await, Ok(0)) {
        return Redirect::to("/setup").into_response();
    }
    let next = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let next = if parts.method == axum::http::Method::GET {
        next
    } else {
        "/"
    };
    sign_in_page(
        state,
        &parts.headers,
        StatusCode::UNAUTHORIZED,
        safe_next(next),
        "",
        None,
    )
}

#[derive(Debug, Deserialize)]
pub struct NextQuery {
    #[serde(default)]
    next: Option<String>,
}

/// `GET /signin` (or `/setup` when no administrator exists yet).
pub async fn sign_in_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
) -> Response {
    match state.backend.admin_count().await {
        Ok(0) => Redirect::to("/setup").into_response(),
        Ok(_) => sign_in_page(
            &state,
            &headers,
            StatusCode::OK,
            safe_next(q.next.as_deref().unwrap_or("/")),
            "",
            None,
        ),
        Err(e) => ApiError::from(e).into_response(),
    }
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: SecretString,
    #[serde(default)]
    next: String,
}

fn form_csrf_ok(headers: &HeaderMap, submitted: &str) -> bool {
    cookie(headers, csrf::PRE_SESSION_COOKIE).is_some_and(|c| csrf::matches(c, Some(submitted)))
}

/// The client's address for throttling (see [`throttle::client_address`]).
fn client_ip(state: &AppState, headers: &HeaderMap, extensions: &Extensions) -> Option<IpAddr> {
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let forwarded = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
    throttle::client_address(peer, forwarded, &state.trusted_proxies)
}

/// `POST /signin`.
pub async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    extensions: Extensions,
    Form(form): Form<SignInForm>,
) -> Response {
    let next = safe_next(&form.next).to_owned();
    if !form_csrf_ok(&headers, &form.csrf) {
        let msg = "The form expired or did not come from this site. Try again.".to_owned();
        return sign_in_page(
            &state,
            &headers,
            StatusCode::FORBIDDEN,
            &next,
            &form.username,
            Some(msg),
        );
    }
    let attempt = throttle::Attempt::new(&form.username, client_ip(&state, &headers, &extensions));
    let verdict = match state.throttle.verdict(&attempt).await {
        Ok(verdict) => verdict,
        Err(e) => return ApiError::from(e).into_response(),
    };
    match verdict {
        throttle::Verdict::Refused(wait) => {
            let msg = format!(
                "Too many failed sign-ins from here. Try again in {} seconds.",
                wait.as_secs().max(1)
            );
            return sign_in_page(
                &state,
                &headers,
                StatusCode::TOO_MANY_REQUESTS,
                &next,
                &form.username,
                Some(msg),
            );
        }
        // Slows guessing from many places without refusing the right password.
        throttle::Verdict::After(delay) => tokio::time::sleep(delay).await,
    }
    let stored = match state
        .backend
        .admin_password_hash(form.username.trim())
        .await
    {
        Ok(stored) => stored,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let phc = stored
        .clone()
        .unwrap_or_else(|| password::decoy_hash().to_owned());
    let pw = form.password;
    let verified = tokio::task::spawn_blocking(move || password::verify_password(&pw, &phc))
        .await
        .unwrap_or(false);
    if !(verified && stored.is_some()) {
        if let Err(e) = state.throttle.record_failure(&attempt).await {
            return ApiError::from(e).into_response();
        }
        let msg = "Wrong username or password.".to_owned();
        return sign_in_page(
            &state,
            &headers,
            StatusCode::UNAUTHORIZED,
            &next,
            &form.username,
            Some(msg),
        );
    }
    if let Err(e) = state.throttle.record_success(&attempt).await {
        return ApiError::from(e).into_response();
    }
    start_session(&state, &headers, form.username.trim(), &next).await
}

async fn start_session(
    state: &AppState,
    headers: &HeaderMap,
    username: &str,
    next: &str,
) -> Response {
    let id = csrf::random_token(32);
    let expires = Utc::now() + chrono::Duration::hours(SESSION_HOURS);
    if let Err(e) = state
        .backend
        .create_session(&sha256_hex(&id), username, &csrf::new_token(), expires)
        .await
    {
        return ApiError::from(e).into_response();
    }
    let mut response = Redirect::to(next).into_response();
    let secure = is_secure(state, headers);
    let h = response.headers_mut();
    h.append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, &id, SESSION_HOURS * 3600, secure),
    );
    h.append(
        header::SET_COOKIE,
        set_cookie(csrf::PRE_SESSION_COOKIE, "", 0, secure),
    );
    response
}

/// `POST /signout` (protected: needs the session's CSRF token).
pub async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::Extension(admin): axum::Extension<Admin>,
) -> Response {
    if let Some(hash) = &admin.session_hash
        && let Err(e) = state.backend.delete_session(hash).await
    {
        return ApiError::from(e).into_response();
    }
    let mut response = Redirect::to("/signin").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", 0, is_secure(&state, &headers)),
    );
    response
}

/// `GET /setup`: only while no administrator exists.
pub async fn setup_form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match state.backend.admin_count().await {
        Ok(0) => {
            let token = form_token(&headers);
            let page = SetupPage {
                shell: &Shell::anonymous(),
                form_csrf: &token,
                username: "",
                error: None,
            };
            with_form_cookie(&state, &headers, &token, StatusCode::OK, render(&page))
        }
        Ok(_) => Redirect::to("/signin").into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

#[derive(Deserialize)]
pub struct SetupForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: SecretString,
    #[serde(default)]
    confirm: SecretString,
    /// The one-time setup code `serve` printed in its log.
    #[serde(default)]
    code: SecretString,
}

fn setup_error(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    username: &str,
    msg: String,
) -> Response {
    let token = form_token(headers);
    let page = SetupPage {
        shell: &Shell::anonymous(),
        form_csrf: &token,
        username,
        error: Some(msg),
    };
    with_form_cookie(state, headers, &token, status, render(&page))
}

/// `POST /setup`: creates the first administrator, given the setup code from the
/// server's log, and signs them in.
pub async fn setup(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<SetupForm>,
) -> Response {
    use secrecy::ExposeSecret;
    if !form_csrf_ok(&headers, &form.csrf) {
        return setup_error(
            &state,
            &headers,
            StatusCode::FORBIDDEN,
            &form.username,
            "The form expired or did not come from this site. Try again.".into(),
        );
    }
    match state.backend.admin_count().await {
        Ok(0) => {}
        Ok(_) => return Redirect::to("/signin").into_response(),
        Err(e) => return ApiError::from(e).into_response(),
    }
    let username = form.username.trim().to_owned();
    if form.password.expose_secret() != form.confirm.expose_secret() {
        return setup_error(
            &state,
            &headers,
            StatusCode::UNPROCESSABLE_ENTITY,
            &username,
            "The two passwords differ. Type the same password twice.".into(),
        );
    }
    let created = super::accounts::create_first_admin_with(
        &state.backend,
        &username,
        form.password,
        form.code.expose_secret(),
    )
    .await;
    match created {
        Ok(FirstAdmin::Created(_)) => {}
        Ok(FirstAdmin::SetupClosed) => return Redirect::to("/signin").into_response(),
        Ok(FirstAdmin::WrongCode) => {
            return setup_error(
                &state,
                &headers,
                StatusCode::FORBIDDEN,
                &username,
                "The setup code is missing or wrong. `usersync serve` wrote it to its log \
                 when it started (\"enter the setup code ...\")."
                    .into(),
            );
        }
        Err(e) => {
            return setup_error(
                &state,
                &headers,
                StatusCode::UNPROCESSABLE_ENTITY,
                &username,
                e.to_string(),
            );
        }
    }
    start_session(&state, &headers, &username, "/").await
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_same_site_paths_without_control_characters_or_backslashes_are_followed() {
        for good in ["/", "/runs/7", "/apps/Jira%20prod?flash=app-created"] {
            assert_eq!(safe_next(good), good);
        }
        for bad in [
            "/\t/evil.example",
            "/\n/evil.example",
            "//evil.example",
            "/\\evil.example",
            "\\/evil.example",
            "https://evil.example",
            "evil",
            "",
        ] {
            assert_eq!(safe_next(bad), "/", "{bad:?}");
        }
    }
}
