//! Test connection on the settings page: the same checks as `usersync check`, run on
//! the values the form holds now, saved or not, so a URL or secret can be tried
//! before it is saved. The form is parsed exactly as saving parses it
//! (`draft_from_form`); blank secrets stand for the stored ones, and only for the
//! origin they were saved for (`engine::check_draft`). Nothing is saved.

use askama::Template;
use axum::extract::{Form, Path, State};
use axum::response::Response;

use super::settings_form::draft_from_form;
use crate::web::backend::BackendError;
use crate::web::error::render;
use crate::web::model::{CheckItem, CheckReport};
use crate::web::state::AppState;

#[derive(Template)]
#[template(path = "check_result.html")]
struct CheckFragment<'a> {
    report: &'a CheckReport,
}

/// `POST /apps/{name}/check` (htmx, with the form's fields).
pub async fn check(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    // A request carrying no field of the form (only its CSRF token) checks the saved app.
    let report = if pairs.iter().all(|(key, _)| key == "csrf") {
        state
            .backend
            .check(&name)
            .await
            .unwrap_or_else(|e| failed("Check", e.to_string()))
    } else {
        match state.backend.get_app(&name).await {
            Ok(saved) => check_form(&state, &name, &pairs, &saved).await,
            Err(e) => failed("Check", e.to_string()),
        }
    };
    render(&CheckFragment { report: &report })
}

async fn check_form(
    state: &AppState,
    name: &str,
    pairs: &[(String, String)],
    saved: &usersync_core::app::App,
) -> CheckReport {
    let draft = match draft_from_form(pairs, Some(saved)) {
        Ok(draft) => draft,
        Err(problem) => return failed(&problem.field, problem.message),
    };
    match state.backend.check_values(name, draft).await {
        Ok(report) => report,
        Err(BackendError::Validation { field, message }) => failed(&field, message),
        Err(e) => failed("Check", e.to_string()),
    }
}

fn failed(name: &str, detail: String) -> CheckReport {
    CheckReport {
        ok: false,
        items: vec![CheckItem {
            name: name.to_owned(),
            ok: false,
            detail,
        }],
    }
}
