//! The REST API under `/api/v1`: JSON in and out, errors as [`ErrorBody`] with a
//! stable code, and an OpenAPI document generated from these handlers' own
//! annotations (utoipa), served at `/api/v1/openapi.json`. Each route declares the
//! token scope it needs where it is added (see [`super::auth::access`]).

pub mod apps;
pub mod runs;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::auth::access::{Access, Routes};
use super::error::{ApiError, ErrorBody};
use super::model;
use usersync_store::Scope;

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
    info(title = "usersync", description = "Keeps Atlassian users and groups in step with Okta. Send an API token as `Authorization: Bearer <token>` (create one with `usersync token create NAME --scope SCOPES`). Scopes: `read` for reads, `sync` to start syncs, `approve` to approve or reject held runs, `admin` to change apps (it allows everything); a token without the scope a route needs gets 403 with the code `insufficient_scope`."),
    paths(
        apps::list_apps, apps::create_app, apps::get_app, apps::update_app, apps::delete_app,
        apps::check, apps::plan, apps::sync, apps::sync_user, apps::explain, apps::report,
        runs::list_runs, runs::get_run, runs::run_operations, runs::approve, runs::reject,
    ),
    components(schemas(
        ErrorBody, model::AppDraftSchema, model::AppSchema, model::AppSummary, model::RunView, model::OpCounts, model::OperationView,
        model::PlanRow, model::PlanView, model::SkippedView, model::CheckReport, model::CheckItem,
        model::ExplainView, model::SyncUserRequest, model::ReportView, model::OrphanView,
        model::InactiveInOktaView, model::UnmanagedMemberView, model::SeatsView, model::NeverSignedInView,
    )),
    modifiers(&Security),
    security(("bearer" = []), ("session" = [])),
)]
pub struct ApiDoc;

async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// Every `/api/v1` route with the scope it needs (the caller adds the guard layer).
pub fn routes() -> Routes {
    let (read, sync, approve, admin) = (
        Access::Needs(Scope::Read),
        Access::Needs(Scope::Sync),
        Access::Needs(Scope::Approve),
        Access::Needs(Scope::Admin),
    );
    Routes::new()
        .get("/api/v1/openapi.json", read, openapi_json)
        .get("/api/v1/apps", read, apps::list_apps)
        .post("/api/v1/apps", admin, apps::create_app)
        .get("/api/v1/apps/{app}", read, apps::get_app)
        .put("/api/v1/apps/{app}", admin, apps::update_app)
        .delete("/api/v1/apps/{app}", admin, apps::delete_app)
        .post("/api/v1/apps/{app}/check", read, apps::check)
        .get("/api/v1/apps/{app}/plan", read, apps::plan)
        .post("/api/v1/apps/{app}/sync", sync, apps::sync)
        .post("/api/v1/apps/{app}/sync-user", sync, apps::sync_user)
        .get("/api/v1/apps/{app}/explain", read, apps::explain)
        .get("/api/v1/apps/{app}/report", read, apps::report)
        .get("/api/v1/runs", read, runs::list_runs)
        .get("/api/v1/runs/{id}", read, runs::get_run)
        .get("/api/v1/runs/{id}/operations", read, runs::run_operations)
        .post("/api/v1/runs/{id}/approve", approve, runs::approve)
        .post("/api/v1/runs/{id}/reject", approve, runs::reject)
}
