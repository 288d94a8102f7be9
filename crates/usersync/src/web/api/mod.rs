//! The REST API under `/api/v1`: JSON in and out, errors as [`ErrorBody`] with a
//! stable code, and an OpenAPI document generated from these handlers' own
//! annotations (utoipa), served at `/api/v1/openapi.json`.

pub mod apps;
pub mod runs;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::error::{ApiError, ErrorBody};
use super::model;
use super::state::AppState;

/// A JSON body whose rejection is an [`ApiError`] (`bad_request`) like every other error.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(bad_json(&rejection)),
        }
    }
}

fn bad_json(rejection: &JsonRejection) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "bad_request",
        format!(
            "the request body is not the expected JSON: {}",
            rejection.body_text()
        ),
    )
}

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                super::auth::SESSION_COOKIE,
            ))),
        );
    }
}

/// The OpenAPI document of the REST API.
#[derive(OpenApi)]
#[openapi(
    info(title = "usersync", description = "Keeps Atlassian users and groups in step with Okta. Send an API token as `Authorization: Bearer <token>` (create one with `usersync token create`)."),
    paths(
        apps::list_apps, apps::create_app, apps::get_app, apps::update_app, apps::delete_app,
        apps::check, apps::plan, apps::sync, apps::sync_user, apps::explain,
        runs::list_runs, runs::get_run, runs::run_operations, runs::approve, runs::reject,
    ),
    components(schemas(
        ErrorBody, model::AppDraftSchema, model::AppSchema, model::AppSummary, model::RunView, model::OpCounts, model::OperationView,
        model::PlanRow, model::PlanView, model::SkippedView, model::CheckReport, model::CheckItem,
        model::ExplainView, model::SyncUserRequest,
    )),
    modifiers(&Security),
    security(("bearer" = []), ("session" = [])),
)]
pub struct ApiDoc;

async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// Every `/api/v1` route (all protected by the caller's guard layer).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi_json))
        .route("/api/v1/apps", get(apps::list_apps).post(apps::create_app))
        .route(
            "/api/v1/apps/{app}",
            get(apps::get_app)
                .put(apps::update_app)
                .delete(apps::delete_app),
        )
        .route("/api/v1/apps/{app}/check", post(apps::check))
        .route("/api/v1/apps/{app}/plan", get(apps::plan))
        .route("/api/v1/apps/{app}/sync", post(apps::sync))
        .route("/api/v1/apps/{app}/sync-user", post(apps::sync_user))
        .route("/api/v1/apps/{app}/explain", get(apps::explain))
        .route("/api/v1/runs", get(runs::list_runs))
        .route("/api/v1/runs/{id}", get(runs::get_run))
        .route("/api/v1/runs/{id}/operations", get(runs::run_operations))
        .route("/api/v1/runs/{id}/approve", post(runs::approve))
        .route("/api/v1/runs/{id}/reject", post(runs::reject))
}
