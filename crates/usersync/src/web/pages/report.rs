//! The console's Report page (`/apps/{name}/report`): what the target holds that
//! Okta does not explain, with JSON and CSV downloads. Read-only, `read` scope.

use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};

use super::Shell;
use super::preview::download;
use crate::web::auth::Admin;
use crate::web::error::{PageError, render};
use crate::web::model::ReportView;
use crate::web::state::AppState;

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage<'a> {
    shell: &'a Shell,
    report: &'a ReportView,
}

/// `GET /apps/{name}/report`.
pub async fn page(
    State(state): State<AppState>,
    Extension(admin): Extension<Admin>,
    Path(name): Path<String>,
) -> Response {
    let shell = Shell::for_admin(&admin, "apps");
    match state.backend.report(&name).await {
        Ok(report) => render(&ReportPage {
            shell: &shell,
            report: &ReportView::of(&report),
        }),
        Err(e) => PageError::new(&shell, e).into_response(),
    }
}

/// `GET /apps/{name}/report.json`: the API's `ReportView`.
pub async fn json(
    State(state): State<AppState>,
    Extension(admin): Extension<Admin>,
    Path(name): Path<String>,
) -> Response {
    match state.backend.report(&name).await {
        Ok(report) => download(
            &format!("{name}-report.json"),
            "application/json",
            serde_json::to_string_pretty(&ReportView::of(&report)).unwrap_or_default(),
        ),
        Err(e) => PageError::new(&Shell::for_admin(&admin, "apps"), e).into_response(),
    }
}

/// `GET /apps/{name}/report.csv`: one row per finding, as `usersync report --output csv`.
pub async fn csv(
    State(state): State<AppState>,
    Extension(admin): Extension<Admin>,
    Path(name): Path<String>,
) -> Response {
    match state.backend.report(&name).await {
        Ok(report) => download(
            &format!("{name}-report.csv"),
            "text/csv; charset=utf-8",
            report.csv(),
        ),
        Err(e) => PageError::new(&Shell::for_admin(&admin, "apps"), e).into_response(),
    }
}
