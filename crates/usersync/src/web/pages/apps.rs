//! The apps list and Synchronize (the run's live page is `live`, Preview is `preview`).

use std::sync::Arc;

use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{Notice, Shell, flash_from_query, with_flash};
use crate::web::auth::Admin;
use crate::web::backend::{ProgressEvent, Trigger};
use crate::web::error::{PageError, render};
use crate::web::model::AppSummary;
use crate::web::state::{AppState, LiveState};

#[derive(Template)]
#[template(path = "apps.html")]
struct AppsPage<'a> {
    shell: &'a Shell,
    apps: &'a [AppSummary],
}

#[derive(Debug, Deserialize)]
pub struct FlashQuery {
    #[serde(default)]
    flash: Option<String>,
}

/// `GET /`: the apps list.
pub async fn list(
    State(state): State<AppState>,
    Extension(admin): Extension<Admin>,
    Query(q): Query<FlashQuery>,
) -> Response {
    let mut shell = Shell::for_admin(&admin, "apps");
    shell.flash = flash_from_query(q.flash.as_deref());
    match state.backend.list_apps().await {
        Ok(apps) => render(&AppsPage {
            shell: &shell,
            apps: &apps,
        }),
        Err(e) => PageError::new(&shell, e).into_response(),
    }
}

/// `POST /apps/{name}/sync`: starts a run in the background and shows its progress.
pub async fn start_sync(
    State(state): State<AppState>,
    Extension(admin): Extension<Admin>,
    Path(name): Path<String>,
) -> Response {
    let shell = Shell::for_admin(&admin, "apps");
    let app = match state.backend.get_app(&name).await {
        Ok(app) => app.name,
        Err(e) => return PageError::new(&shell, e).into_response(),
    };
    let live_path = format!("{}/live", super::settings::app_path(&app));
    // What the sync changes, the kept preview no longer shows.
    state.previews.forget(&app);
    let Some(tx) = state.live.begin(&app) else {
        return Redirect::to(&with_flash(&live_path, Notice::RunInProgress)).into_response();
    };
    let (backend, actor) = (state.backend.clone(), admin.actor.clone());
    let sink_tx = tx.clone();
    let sink: crate::web::backend::ProgressSink = Arc::new(move |p: ProgressEvent| {
        sink_tx.send_replace(LiveState::Running(p));
    });
    state.tasks.spawn(async move {
        let end = match backend.sync(&app, Trigger::Manual, &actor, sink).await {
            Ok(run) => LiveState::Finished(Box::new(run)),
            Err(e) => LiveState::Failed(e.to_string(), chrono::Utc::now()),
        };
        tx.send_replace(end);
    });
    Redirect::to(&live_path).into_response()
}
