//! Settings → Access: the administrators and the API tokens, and what an
//! administrator can do to them (the same as `usersync admin|token ...`): add an
//! administrator, set a password, delete one (never the last), create a token with
//! scopes and an expiry, rotate or revoke one. A new token's value is shown once, in
//! the answer to the form that made it, and never put in a URL.

use askama::Template;
use axum::Extension;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use secrecy::SecretString;
use serde::Deserialize;
use usersync_store::{Admin as StoredAdmin, ApiToken, Scope, Scopes};

use super::runs::FlashQuery;
use super::{Notice, Shell, flash_from_query, with_flash};
use crate::web::auth::Admin;
use crate::web::auth::access::{Access, Routes};
use crate::web::auth::accounts::{self, TokenRequest};
use crate::web::backend::BackendError;
use crate::web::error::{PageError, render};
use crate::web::state::AppState;

const PAGE: &str = "/settings/access";

/// The Access page's routes: all need the `admin` scope.
pub fn routes() -> Routes {
    let admin = Access::Needs(Scope::Admin);
    Routes::new()
        .get(PAGE, admin, show)
        .post("/settings/access/tokens", admin, create_token)
        .post("/settings/access/tokens/{name}/rotate", admin, rotate_token)
        .post("/settings/access/tokens/{name}/revoke", admin, revoke_token)
        .post("/settings/access/admins", admin, create_admin)
        .post(
            "/settings/access/admins/{name}/password",
            admin,
            set_password,
        )
        .post("/settings/access/admins/{name}/delete", admin, delete_admin)
}

#[derive(Template)]
#[template(path = "access.html")]
struct AccessPage<'a> {
    shell: &'a Shell,
    admins: &'a [StoredAdmin],
    tokens: &'a [ApiToken],
    scopes: [Scope; 4],
    /// A token just created or rotated: its name and value, shown this once.
    new_token: Option<(String, String)>,
    error: Option<String>,
}

async fn page(
    state: &AppState,
    shell: &Shell,
    status: StatusCode,
    new_token: Option<(String, String)>,
    error: Option<String>,
) -> Response {
    let admins = match accounts::list_admins(&state.backend).await {
        Ok(admins) => admins,
        Err(e) => return PageError::new(shell, e).into_response(),
    };
    let tokens = match accounts::list_api_tokens(&state.backend).await {
        Ok(tokens) => tokens,
        Err(e) => return PageError::new(shell, e).into_response(),
    };
    let page = AccessPage {
        shell,
        admins: &admins,
        tokens: &tokens,
        scopes: Scope::ALL,
        new_token,
        error,
    };
    (status, render(&page)).into_response()
}

/// A refused change: the page again with the reason; other failures as error pages.
async fn refused(state: &AppState, shell: &Shell, err: BackendError) -> Response {
    match err {
        BackendError::Validation { .. } | BackendError::Conflict(_) | BackendError::NotFound(_) => {
            let status = match err {
                BackendError::NotFound(_) => StatusCode::NOT_FOUND,
                BackendError::Conflict(_) => StatusCode::CONFLICT,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            page(state, shell, status, None, Some(err.to_string())).await
        }
        other => PageError::new(shell, other).into_response(),
    }
}

/// `GET /settings/access`.
pub async fn show(
    State(state): State<AppState>,
    Extension(admin): Extension<Admin>,
    Query(q): Query<FlashQuery>,
) -> Response {
    let mut shell = Shell::for_admin(&admin, "access");
    shell.flash = flash_from_query(q.flash.as_deref());
    page(&state, &shell, StatusCode::OK, None, None).await
}

/// The token form: `name`, one `scope` field per ticked box, `expires_in` (may be empty).
fn token_request(fields: &[(String, String)]) -> Result<TokenRequest, BackendError> {
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    };
    let ticked: Vec<&str> = fields
        .iter()
        .filter(|(k, _)| k == "scope")
        .map(|(_, v)| v.as_str())
        .collect();
    let scopes = Scopes::parse(&ticked.join(",")).map_err(|message| BackendError::Validation {
        field: "scopes".into(),
        message,
    })?;
    let expires_in = match field("expires_in").trim() {
        "" => None,
        text => Some(accounts::parse_expiry(text)?),
    };
    Ok(TokenRequest {
        name: field("name").to_owned(),
        scopes,
        expires_in,
    })
}

/// `POST /settings/access/tokens`: shows the new value once.
pub async fn create_token(
    State(state): State<AppState>,
    Extension(admin): Extension<Admin>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let shell = Shell::for_admin(&admin, "access");
    let made = match token_request(&fields) {
        Ok(request) => accounts::create_api_token_with(&state.backend, &request, &admin.actor)
            .await
            .map(|value| (request.name.trim().to_owned(), value)),
        Err(e) => Err(e),
    };
    match made {
        Ok(new_token) => page(&state, &shell, StatusCode::OK, Some(new_token), None).await,
        Err(e) => refused(&state, &shell, e).await,
    }
}

/// `POST /settings/access/tokens/{name}/rotate`: shows the new value once.
pub async fn rotate_token(
    State(state): State<AppState>,
    Extension(admin): Extension<Admin>,
    Path(name): Path<String>,
) -> Response {
    let shell = Shell::for_admin(&admin, "access");
    match accounts::rotate_api_token_with(&state.backend, &name, None, &admin.actor).await {
        Ok(value) => page(&state, &shell, StatusCode::OK, Some((name, value)), None).await,
        Err(e) => refused(&state, &shell, e).await,
    }
}

/// `POST /settings/access/tokens/{name}/revoke`.
pub async fn revoke_token(
    State(state): State<AppState>,
    Extension(admin): Extension<Admin>,
    Path(name): Path<String>,
) -> Response {
    let shell = Shell::for_admin(&admin, "access");
    match accounts::revoke_api_token_with(&state.backend, &name, &admin.actor).await {
        Ok(()) => Redirect::to(&with_flash(PAGE, Notice::TokenRevoked)).into_response(),
        Err(e) => refused(&state, &shell, e).await,
    }
}

#[derive(Deserialize)]
pub struct AdminForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: SecretString,
}

/// `POST /settings/access/admins`.
pub async fn create_admin(
    State(state): State<AppState>,
    Extension(admin): Extension<Admin>,
    Form(form): Form<AdminForm>,
) -> Response {
    let shell = Shell::for_admin(&admin, "access");
    match accounts::create_admin_with(&state.backend, &form.username, form.password, &admin.actor)
        .await
    {
        Ok(()) => Redirect::to(&with_flash(PAGE, Notice::AdminCreated)).into_response(),
        Err(e) => refused(&state, &shell, e).await,
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    password: SecretString,
}

/// `POST /settings/access/admins/{name}/password`: also ends their sessions.
pub async fn set_password(
    State(state): State<AppState>,
    Extension(admin): Extension<Admin>,
    Path(name): Path<String>,
    Form(form): Form<PasswordForm>,
) -> Response {
    let shell = Shell::for_admin(&admin, "access");
    match accounts::set_admin_password_with(&state.backend, &name, form.password, &admin.actor)
        .await
    {
        Ok(()) => Redirect::to(&with_flash(PAGE, Notice::PasswordChanged)).into_response(),
        Err(e) => refused(&state, &shell, e).await,
    }
}

/// `POST /settings/access/admins/{name}/delete`.
pub async fn delete_admin(
    State(state): State<AppState>,
    Extension(admin): Extension<Admin>,
    Path(name): Path<String>,
) -> Response {
    let shell = Shell::for_admin(&admin, "access");
    match accounts::delete_admin_with(&state.backend, &name, &admin.actor).await {
        Ok(()) => Redirect::to(&with_flash(PAGE, Notice::AdminDeleted)).into_response(),
        Err(e) => refused(&state, &shell, e).await,
    }
}
