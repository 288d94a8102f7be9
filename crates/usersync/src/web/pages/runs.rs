//! Run history, one run's operations with their outcomes, Approve and Reject of
//! held runs, and the audit log of configuration changes.

use std::collections::BTreeMap;

use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{Notice, Shell, flash_from_query, with_flash};
use crate::web::auth::Admin;
use crate::web::error::{PageError, render};
use crate::web::model::{AuditView, OperationView, RunView};
use crate::web::state::AppState;

/// How many runs and audit entries a page shows.
const PAGE_LIMIT: u32 = 200;

#[derive(Template)]
#[template(path = "runs.html")]
struct RunsPage<'a> {
    shell: &'a Shell,
    app: Option<&'a str>,
    runs: &'a [RunView],
}

#[derive(Debug, Deserialize)]
pub struct RunsQuery {
    #[serde(default)]
    app: Option<String>,
}

/// `GET /runs?app=`.
pub async fn list(
    State(state): State<AppState>,
    Extension(admin): Extension<Admin>,
    Query(q): Query<RunsQuery>,
) -> Response {
    let shell = Shell::for_admin(&admin, "runs");
    let app = q.app.as_deref().filter(|a| !a.is_empty());
    match state.backend.list_runs(app, PAGE_LIMIT).await {
        Ok(runs) => render(&RunsPage {
            shell: &shell,
            app,
            runs: &runs,
        }),
        Err(e) => PageError::new(&shell, e).into_response(),
    }
}

#[derive(Template)]
#[template(path = "run.html")]
struct RunPage<'a> {
    shell: &'a Shell,
    run: &'a RunView,
    operations: &'a [OperationView],
    outcomes: BTreeMap<&'a str, usize>,
}

#[derive(Debug, Deserialize)]
pub struct FlashQuery {
    #[serde(default)]
    pub flash: Option<String>,
}

/// `GET /runs/{id}`.
pub async fn show(
    State(state): State<AppState>,
    Extension(admin): Extension<Admin>,
    Path(id): Path<i64>,
    Query(q): Query<FlashQuery>,
) -> Response {
    let mut shell = Shell::for_admin(&admin, "runs");
    shell.flash = flash_from_query(q.flash.as_deref());
    let run = match state.backend.get_run(id).await {
        Ok(run) => run,
        Err(e) => return PageError::new(&shell, e).into_response(),
    };
    let operations = match state.backend.run_operations(id).await {
        Ok(ops) => ops,
        Err(e) => return PageError::new(&shell, e).into_response(),
    };
    let mut outcomes = BTreeMap::new();
    for op in &operations {
        *outcomes.entry(op.outcome.as_str()).or_default() += 1;
    }
    render(&RunPage {
        shell: &shell,
        run: &run,
        operations: &operations,
        outcomes,
    })
}

/// `POST /runs/{id}/approve`: applies the held plan.
pub async fn approve(
    State(state): State<AppState>,
    Extension(admin): Extension<Admin>,
    Path(id): Path<i64>,
) -> Response {
    match state.backend.approve_run(id, &admin.actor).await {
        Ok(run) => Redirect::to(&with_flash(
            &format!("/runs/{}", run.id),
            Notice::RunApproved,
        ))
        .into_response(),
        Err(e) => PageError::new(&Shell::for_admin(&admin, "runs"), e).into_response(),
    }
}

/// `POST /runs/{id}/reject`.
pub async fn reject(
    State(state): State<AppState>,
    Extension(admin): Extension<Admin>,
    Path(id): Path<i64>,
) -> Response {
    match state.backend.reject_run(id, &admin.actor).await {
        Ok(run) => Redirect::to(&with_flash(
            &format!("/runs/{}", run.id),
            Notice::RunRejected,
        ))
        .into_response(),
        Err(e) => PageError::new(&Shell::for_admin(&admin, "runs"), e).into_response(),
    }
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage<'a> {
    shell: &'a Shell,
    entries: &'a [AuditView],
}

/// `GET /audit`.
pub async fn audit(State(state): State<AppState>, Extension(admin): Extension<Admin>) -> Response {
    let shell = Shell::for_admin(&admin, "audit");
    match state.backend.list_audit(PAGE_LIMIT).await {
        Ok(entries) => render(&AuditPage {
            shell: &shell,
            entries: &entries,
        }),
        Err(e) => PageError::new(&shell, e).into_response(),
    }
}
