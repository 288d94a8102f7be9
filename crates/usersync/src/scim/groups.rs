//! `/Groups`: Okta's group push (create with members, PATCH members add/remove and
//! `displayName` replace, PUT, DELETE). Members are SCIM user ids of this app; after
//! each write every user whose groups changed (or, on a rename, every member) is
//! synced by `source::sync_pushed`, one by one, before answering.

use std::collections::BTreeSet;

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

fn answer(result: Result<Response, ScimError>) -> Response {
    result.unwrap_or_else(|e| e.into_response())
}

async fn members_of(ctx: &Ctx, id: &str) -> Result<Vec<ScimRecord>, ScimError> {
    ctx.store()
        .scim_members(ctx.app.id, id)
        .await
        .map_err(ScimError::store)
}

async fn view(ctx: &Ctx, record: &ScimRecord) -> Result<Value, ScimError> {
    let members = members_of(ctx, &record.id).await?;
    Ok(wire::group_json(record, &members, &ctx.base))
}

async fn existing(ctx: &Ctx, id: &str) -> Result<ScimRecord, ScimError> {
    ctx.store()
        .scim_resource(ctx.app.id, ScimKind::Group, id)
        .await
        .map_err(ScimError::store)?
        .ok_or_else(|| ScimError::not_found(format!("no group with id {id:?}")))
}

/// Refuses member ids that are no user of this app.
async fn check_members(ctx: &Ctx, ids: &[String]) -> Result<(), ScimError> {
    for (i, id) in ids.iter().enumerate() {
        let found = ctx
            .store()
            .scim_resource(ctx.app.id, ScimKind::User, id)
            .await
            .map_err(ScimError::store)?;
        if found.is_none() {
            return Err(ScimError::invalid_value(format!(
                "members[{i}].value: {id:?} is not the id of a user pushed to this app; push the user first"
            )));
        }
    }
    Ok(())
}

/// Syncs each of `ids` (SCIM user ids) from what is stored now; `group` is the
/// group pushed (as it was), so users who left it are removed from it.
async fn sync_users(
    ctx: &Ctx,
    ids: &BTreeSet<String>,
    group: &ScimRecord,
) -> Result<(), ScimError> {
    let left: Vec<usersync_core::OktaGroup> = source::okta_group(group).into_iter().collect();
    for id in ids {
        let user = ctx
            .store()
            .scim_resource(ctx.app.id, ScimKind::User, id)
            .await
            .map_err(ScimError::store)?;
        if let Some(user) = user {
            source::sync_pushed(&ctx.state.backend.deps, &ctx.app, &user, false, &left).await;
        }
    }
    Ok(())
}

pub(super) async fn list(
    State(state): State<AppState>,
    Path(app): Path<String>,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    answer(
        async {
            let ctx = Ctx::new(state, &app, &headers).await?;
            super::list_page(&ctx, ScimKind::Group, &pairs, view).await
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
            let input = wire::group_input(json_body(body).await?)?;
            let members = input.members.clone().unwrap_or_default();
            check_members(&ctx, &members).await?;
            let text = super::body_text(&input)?;
            let id = uuid::Uuid::new_v4().to_string();
            let record = ctx
                .store()
                .create_scim_resource(
                    ctx.app.id,
                    ScimKind::Group,
                    &id,
                    &super::to_write(&input, &text),
                )
                .await
                .map_err(ScimError::store)?;
            ctx.store()
                .set_scim_members(ctx.app.id, &id, &members)
                .await
                .map_err(ScimError::store)?;
            sync_users(&ctx, &members.into_iter().collect(), &record).await?;
            let answer = view(&ctx, &record).await?;
            Ok(resource(StatusCode::CREATED, &record, &answer))
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
            let mut answer = view(&ctx, &record).await?;
            query::Projection::parse(&pairs).apply(&mut answer);
            Ok(resource(StatusCode::OK, &record, &answer))
        }
        .await,
    )
}

/// Stores `input` and `members` over group `record`, then syncs the users affected.
async fn store_and_sync(
    ctx: &Ctx,
    record: &ScimRecord,
    input: &Input,
    members: Vec<String>,
) -> Result<Response, ScimError> {
    check_members(ctx, &members).await?;
    let before: BTreeSet<String> = members_of(ctx, &record.id)
        .await?
        .into_iter()
        .map(|u| u.id)
        .collect();
    let text = super::body_text(input)?;
    let stored = ctx
        .store()
        .replace_scim_resource(
            ctx.app.id,
            ScimKind::Group,
            &record.id,
            &super::to_write(input, &text),
        )
        .await
        .map_err(ScimError::store)?;
    ctx.store()
        .set_scim_members(ctx.app.id, &record.id, &members)
        .await
        .map_err(ScimError::store)?;
    let after: BTreeSet<String> = members.into_iter().collect();
    let affected = if stored.name == record.name {
        before.symmetric_difference(&after).cloned().collect()
    } else {
        before.union(&after).cloned().collect()
    };
    sync_users(ctx, &affected, &stored).await?;
    let answer = view(ctx, &stored).await?;
    Ok(resource(StatusCode::OK, &stored, &answer))
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
            let input = wire::group_input(json_body(body).await?)?;
            // PUT replaces the whole group: no `members` means none.
            let members = input.members.clone().unwrap_or_default();
            store_and_sync(&ctx, &record, &input, members).await
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
            let mut members: Vec<String> = members_of(&ctx, &id)
                .await?
                .into_iter()
                .map(|u| u.id)
                .collect();
            patching::apply(&request, &mut current, Some(&mut members))?;
            let input = wire::group_input(Value::Object(current))?;
            store_and_sync(&ctx, &record, &input, members).await
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
            let former: BTreeSet<String> = members_of(&ctx, &id)
                .await?
                .into_iter()
                .map(|u| u.id)
                .collect();
            ctx.store()
                .delete_scim_resource(ctx.app.id, ScimKind::Group, &id)
                .await
                .map_err(ScimError::store)?;
            // The former members leave the group in the target; the group itself stays.
            sync_users(&ctx, &former, &record).await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        .await,
    )
}
