//! `/Users`: Okta's lookups (`filter=userName eq "..."`), creates, reads, replaces,
//! PATCHes (`replace active false` is a deactivation) and deletes. Each write is
//! stored, then synced to the target by `source::sync_pushed` before answering.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse as _, Response};
use serde_json::Value;
use usersync_store::{ScimKind, ScimRecord};

use super::error::ScimError;
use super::wire::{self, Input};
use super::{Ctx, check_if_match, json_body, patch as patching, query, resource, source};
use crate::web::AppState;

type Pairs = Query<Vec<(String, String)>>;

fn answer(result: Result<Response, ScimError>) -> Response {
    result.unwrap_or_else(|e| e.into_response())
}

async fn user_view(ctx: &Ctx, record: &ScimRecord) -> Result<Value, ScimError> {
    let groups = ctx
        .store()
        .scim_user_groups(ctx.app.id, &record.id)
        .await
        .map_err(ScimError::store)?;
    Ok(wire::user_json(record, &groups, &ctx.base))
}

async fn existing(ctx: &Ctx, id: &str) -> Result<ScimRecord, ScimError> {
    ctx.store()
        .scim_resource(ctx.app.id, ScimKind::User, id)
        .await
        .map_err(ScimError::store)?
        .ok_or_else(|| ScimError::not_found(format!("no user with id {id:?}")))
}

pub(super) async fn list(
    State(state): State<AppState>,
    Path(app): Path<String>,
    headers: HeaderMap,
    Query(pairs): Pairs,
) -> Response {
    answer(
        async {
            let ctx = Ctx::new(state, &app, &headers).await?;
            super::list_page(&ctx, ScimKind::User, &pairs, user_view).await
        }
        .await,
    )
}

pub(super) async fn create(
    State(state): State<AppState>,
    Path(app): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    answer(
        async {
            let ctx = Ctx::new(state, &app, &headers).await?;
            let input = wire::user_input(json_body(body).await?)?;
            let body = super::body_text(&input)?;
            let id = uuid::Uuid::new_v4().to_string();
            let record = ctx
                .store()
                .create_scim_resource(
                    ctx.app.id,
                    ScimKind::User,
                    &id,
                    &super::to_write(&input, &body),
                )
                .await
                .map_err(ScimError::store)?;
            source::sync_pushed(&ctx.state.backend.deps, &ctx.app, &record, false, &[]).await;
            let view = user_view(&ctx, &record).await?;
            Ok(resource(StatusCode::CREATED, &record, &view))
        }
        .await,
    )
}

pub(super) async fn get(
    State(state): State<AppState>,
    Path((app, id)): Path<(String, String)>,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    answer(
        async {
            let ctx = Ctx::new(state, &app, &headers).await?;
            let record = existing(&ctx, &id).await?;
            let mut view = user_view(&ctx, &record).await?;
            query::Projection::parse(&pairs).apply(&mut view);
            Ok(resource(StatusCode::OK, &record, &view))
        }
        .await,
    )
}

/// Stores `input` over user `id` and syncs it.
async fn store_and_sync(ctx: &Ctx, id: &str, input: &Input) -> Result<Response, ScimError> {
    let body = super::body_text(input)?;
    let record = ctx
        .store()
        .replace_scim_resource(
            ctx.app.id,
            ScimKind::User,
            id,
            &super::to_write(input, &body),
        )
        .await
        .map_err(ScimError::store)?;
    source::sync_pushed(&ctx.state.backend.deps, &ctx.app, &record, false, &[]).await;
    let view = user_view(ctx, &record).await?;
    Ok(resource(StatusCode::OK, &record, &view))
}

pub(super) async fn replace(
    State(state): State<AppState>,
    Path((app, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    answer(
        async {
            let ctx = Ctx::new(state, &app, &headers).await?;
            let record = existing(&ctx, &id).await?;
            check_if_match(&headers, &record)?;
            let input = wire::user_input(json_body(body).await?)?;
            store_and_sync(&ctx, &id, &input).await
        }
        .await,
    )
}

pub(super) async fn patch(
    State(state): State<AppState>,
    Path((app, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    answer(
        async {
            let ctx = Ctx::new(state, &app, &headers).await?;
            let record = existing(&ctx, &id).await?;
            check_if_match(&headers, &record)?;
            let request = json_body(body).await?;
            let mut current = wire::body_of(&record);
            patching::apply(&request, &mut current, None)?;
            let input = wire::user_input(Value::Object(current))?;
            store_and_sync(&ctx, &id, &input).await
        }
        .await,
    )
}

pub(super) async fn delete(
    State(state): State<AppState>,
    Path((app, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    answer(
        async {
            let ctx = Ctx::new(state, &app, &headers).await?;
            let record = existing(&ctx, &id).await?;
            check_if_match(&headers, &record)?;
            // Deletion deactivates in the target (per Enable/Disable Users), then forgets.
            source::sync_pushed(&ctx.state.backend.deps, &ctx.app, &record, true, &[]).await;
            ctx.store()
                .delete_scim_resource(ctx.app.id, ScimKind::User, &id)
                .await
                .map_err(ScimError::store)?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        .await,
    )
}
