//! `/api/v1/runs`: run history, one run, its operations, and the decision on a held run.

use axum::Extension;
use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;

use crate::web::auth::Admin;
use crate::web::error::{ApiError, ErrorBody};
use crate::web::model::{OperationView, RunView};
use crate::web::state::AppState;

type ApiResult<T> = Result<T, ApiError>;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct RunsQuery {
    /// Only this app's runs.
    app: Option<String>,
    /// At most this many, newest first (default 50, at most 1000).
    limit: Option<u32>,
}

/// List runs, newest first.
#[utoipa::path(get, path = "/api/v1/runs", tag = "runs", params(RunsQuery),
    responses((status = 200, body = [RunView]), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_runs(
    State(state): State<AppState>,
    Query(q): Query<RunsQuery>,
) -> ApiResult<Json<Vec<RunView>>> {
    let limit = q.limit.unwrap_or(50).clamp(1, 1000);
    Ok(Json(
        state.backend.list_runs(q.app.as_deref(), limit).await?,
    ))
}

/// Read one run.
#[utoipa::path(get, path = "/api/v1/runs/{id}", tag = "runs", params(("id" = i64, Path, description = "Run id")),
    responses((status = 200, body = RunView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_run(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<Json<RunView>> {
    Ok(Json(state.backend.get_run(id).await?))
}

/// Every operation of a run, with its outcome and error.
#[utoipa::path(get, path = "/api/v1/runs/{id}/operations", tag = "runs", params(("id" = i64, Path, description = "Run id")),
    responses((status = 200, body = [OperationView]), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn run_operations(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<Json<Vec<OperationView>>> {
    Ok(Json(state.backend.run_operations(id).await?))
}

/// Approve a held run: its stored plan is applied.
#[utoipa::path(post, path = "/api/v1/runs/{id}/approve", tag = "runs", params(("id" = i64, Path, description = "Run id")),
    responses((status = 200, body = RunView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "The run is not held")))]
pub async fn approve(
    State(state): State<AppState>,
    Extension(admin): Extension<Admin>,
    Path(id): Path<i64>,
) -> ApiResult<Json<RunView>> {
    Ok(Json(state.backend.approve_run(id, &admin.actor).await?))
}

/// Reject a held run: nothing is applied.
#[utoipa::path(post, path = "/api/v1/runs/{id}/reject", tag = "runs", params(("id" = i64, Path, description = "Run id")),
    responses((status = 200, body = RunView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "The run is not held")))]
pub async fn reject(
    State(state): State<AppState>,
    Extension(admin): Extension<Admin>,
    Path(id): Path<i64>,
) -> ApiResult<Json<RunView>> {
    Ok(Json(state.backend.reject_run(id, &admin.actor).await?))
}
