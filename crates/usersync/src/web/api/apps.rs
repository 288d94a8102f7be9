//! `/api/v1/apps`: app CRUD (secrets write-only) and the engine's actions on one
//! app: check, plan, sync, sync one user, explain.

use std::sync::Arc;

use axum::Extension;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::Value;
use usersync_core::app::App;

use super::ApiJson;
use crate::web::adapter::convert::draft_from_json;
use crate::web::auth::Admin;
use crate::web::backend::{BackendError, Trigger};
use crate::web::error::{ApiError, ErrorBody};
use crate::web::model::{
    AppDraftSchema, AppSchema, AppSummary, CheckReport, ExplainView, PlanView, RunView,
    SyncUserRequest,
};
use crate::web::state::AppState;

type ApiResult<T> = Result<T, ApiError>;

/// List apps.
#[utoipa::path(get, path = "/api/v1/apps", tag = "apps",
    responses((status = 200, body = [AppSummary]), (status = 401, body = ErrorBody)))]
pub async fn list_apps(State(state): State<AppState>) -> ApiResult<Json<Vec<AppSummary>>> {
    Ok(Json(state.backend.list_apps().await?))
}

/// Create an app from a draft in the TOML file's shape.
#[utoipa::path(post, path = "/api/v1/apps", tag = "apps", request_body = AppDraftSchema,
    responses((status = 201, body = AppSchema), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_app(
    State(state): State<AppState>,
    Extension(admin): Extension<Admin>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<impl IntoResponse> {
    let draft = draft_from_json(body, None).map_err(bad_shape)?;
    let app = state.backend.create_app(draft, &admin.actor).await?;
    Ok((StatusCode::CREATED, Json(app)))
}

/// Read an app (secrets appear only as their state).
#[utoipa::path(get, path = "/api/v1/apps/{app}", tag = "apps", params(("app" = String, Path, description = "App name")),
    responses((status = 200, body = AppSchema), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_app(
    State(state): State<AppState>,
    Path(app): Path<String>,
) -> ApiResult<Json<App>> {
    Ok(Json(state.backend.get_app(&app).await?))
}

/// Replace an app's settings; secrets left out or null, and event settings left out,
/// keep their stored values.
#[utoipa::path(put, path = "/api/v1/apps/{app}", tag = "apps", params(("app" = String, Path, description = "App name")), request_body = AppDraftSchema,
    responses((status = 200, body = AppSchema), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_app(
    State(state): State<AppState>,
    Extension(admin): Extension<Admin>,
    Path(app): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Json<App>> {
    let stored = state.backend.get_app(&app).await?;
    let draft = draft_from_json(body, Some(&stored)).map_err(bad_shape)?;
    Ok(Json(
        state
            .backend
            .update_app(stored.id, draft, &admin.actor)
            .await?,
    ))
}

/// A body that is JSON but not a draft: `bad_request`, naming where it went wrong.
fn bad_shape(problem: usersync_core::FieldProblem) -> ApiError {
    let at = if problem.field.is_empty() {
        String::new()
    } else {
        format!(" at {}", problem.field)
    };
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "bad_request",
        format!(
            "the request body is not an app draft{at}: {}",
            problem.message
        ),
    )
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

/// What the target holds that Okta does not explain: orphans, users inactive in
/// Okta but active in the target, unmanaged members of managed groups, licence
/// seats. Read-only.
#[utoipa::path(get, path = "/api/v1/apps/{app}/report", tag = "actions", params(("app" = String, Path, description = "App name")),
    responses((status = 200, body = crate::web::model::ReportView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn report(
    State(state): State<AppState>,
    Path(app): Path<String>,
) -> ApiResult<Json<crate::web::model::ReportView>> {
    let report = state.backend.report(&app).await?;
    Ok(Json(crate::web::model::ReportView::of(&report)))
}
