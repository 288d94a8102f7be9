//! `/api/v1/apps`: app CRUD (secrets write-only) and the engine's actions on one
//! app: check, plan, sync, sync one user, explain.

use std::sync::Arc;

use axum::Extension;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;

use super::ApiJson;
use crate::web::auth::Admin;
use crate::web::backend::{BackendError, Trigger};
use crate::web::error::{ApiError, ErrorBody};
use crate::web::model::{
    AppInput, AppSummary, AppView, CheckReport, ExplainView, PlanView, RunView, SyncUserRequest,
};
use crate::web::state::AppState;

type ApiResult<T> = Result<T, ApiError>;

/// List apps.
#[utoipa::path(get, path = "/api/v1/apps", tag = "apps",
    responses((status = 200, body = [AppSummary]), (status = 401, body = ErrorBody)))]
pub async fn list_apps(State(state): State<AppState>) -> ApiResult<Json<Vec<AppSummary>>> {
    Ok(Json(state.backend.list_apps().await?))
}

/// Create an app.
#[utoipa::path(post, path = "/api/v1/apps", tag = "apps", request_body = AppInput,
    responses((status = 201, body = AppView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_app(
    State(state): State<AppState>,
    Extension(admin): Extension<Admin>,
    ApiJson(input): ApiJson<AppInput>,
) -> ApiResult<impl IntoResponse> {
    let app = state.backend.create_app(input, &admin.actor).await?;
    Ok((StatusCode::CREATED, Json(app)))
}

/// Read an app (secrets appear only as their state).
#[utoipa::path(get, path = "/api/v1/apps/{app}", tag = "apps", params(("app" = String, Path, description = "App name")),
    responses((status = 200, body = AppView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_app(
    State(state): State<AppState>,
    Path(app): Path<String>,
) -> ApiResult<Json<AppView>> {
    Ok(Json(state.backend.get_app(&app).await?))
}

/// Replace an app's settings; absent or empty secrets keep their stored values.
#[utoipa::path(put, path = "/api/v1/apps/{app}", tag = "apps", params(("app" = String, Path, description = "App name")), request_body = AppInput,
    responses((status = 200, body = AppView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_app(
    State(state): State<AppState>,
    Extension(admin): Extension<Admin>,
    Path(app): Path<String>,
    ApiJson(input): ApiJson<AppInput>,
) -> ApiResult<Json<AppView>> {
    Ok(Json(
        state.backend.update_app(&app, input, &admin.actor).await?,
    ))
}

/// Delete an app with its links and run history.
#[utoipa::path(delete, path = "/api/v1/apps/{app}", tag = "apps", params(("app" = String, Path, description = "App name")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_app(
    State(state): State<AppState>,
    Extension(admin): Extension<Admin>,
    Path(app): Path<String>,
) -> ApiResult<StatusCode> {
    state.backend.delete_app(&app, &admin.actor).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Check both connections and the permissions the app needs (as `usersync check`).
#[utoipa::path(post, path = "/api/v1/apps/{app}/check", tag = "actions", params(("app" = String, Path, description = "App name")),
    responses((status = 200, body = CheckReport), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn check(
    State(state): State<AppState>,
    Path(app): Path<String>,
) -> ApiResult<Json<CheckReport>> {
    Ok(Json(state.backend.check(&app).await?))
}

/// The dry-run plan: what a sync would change now.
#[utoipa::path(get, path = "/api/v1/apps/{app}/plan", tag = "actions", params(("app" = String, Path, description = "App name")),
    responses((status = 200, body = PlanView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn plan(
    State(state): State<AppState>,
    Path(app): Path<String>,
) -> ApiResult<Json<PlanView>> {
    Ok(Json(state.backend.plan(&app).await?))
}

/// Run a full sync and answer with the recorded run once it ends (or is held).
#[utoipa::path(post, path = "/api/v1/apps/{app}/sync", tag = "actions", params(("app" = String, Path, description = "App name")),
    responses((status = 200, body = RunView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "A run of the app is in progress"), (status = 502, body = ErrorBody)))]
pub async fn sync(
    State(state): State<AppState>,
    Extension(admin): Extension<Admin>,
    Path(app): Path<String>,
) -> ApiResult<Json<RunView>> {
    let sink = Arc::new(|_| {});
    Ok(Json(
        state
            .backend
            .sync(&app, Trigger::Api, &admin.actor, sink)
            .await?,
    ))
}

/// Sync one user by Okta login.
#[utoipa::path(post, path = "/api/v1/apps/{app}/sync-user", tag = "actions", params(("app" = String, Path, description = "App name")), request_body = SyncUserRequest,
    responses((status = 200, body = RunView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn sync_user(
    State(state): State<AppState>,
    Extension(admin): Extension<Admin>,
    Path(app): Path<String>,
    ApiJson(req): ApiJson<SyncUserRequest>,
) -> ApiResult<Json<RunView>> {
    if req.login.trim().is_empty() {
        return Err(BackendError::Validation {
            field: "login".into(),
            message: "give the user's Okta login".into(),
        }
        .into());
    }
    Ok(Json(
        state
            .backend
            .sync_user(&app, req.login.trim(), &admin.actor)
            .await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct LoginQuery {
    /// The user's Okta login.
    login: String,
}

/// Why usersync would or would not change one user.
#[utoipa::path(get, path = "/api/v1/apps/{app}/explain", tag = "actions", params(("app" = String, Path, description = "App name"), LoginQuery),
    responses((status = 200, body = ExplainView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn explain(
    State(state): State<AppState>,
    Path(app): Path<String>,
    Query(q): Query<LoginQuery>,
) -> ApiResult<Json<ExplainView>> {
    Ok(Json(state.backend.explain(&app, q.login.trim()).await?))
}
