//! The app settings page: create, edit, save with errors beside their fields,
//! delete, Test connection, the live username-regex tester and Explain.

use askama::Template;
use axum::Extension;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use usersync_core::app::{App, labels};
use usersync_core::mapping::{CompiledPolicy, TargetConstraints};
use usersync_core::policy::SyncPolicy;
use usersync_core::snapshot::OktaStatus;

use super::login_sync::{self, LoginSyncView};
use super::settings_form::{FormState, draft_from_form};
use super::{Notice, Shell, with_flash};
use crate::web::adapter::convert::problem_error;
use crate::web::auth::Admin;
use crate::web::backend::BackendError;
use crate::web::error::{PageError, render};
use crate::web::model::ExplainView;
use crate::web::state::AppState;

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage<'a> {
    shell: &'a Shell,
    is_new: bool,
    original_name: &'a str,
    f: &'a FormState,
    /// The Okta statuses "Import users with these Okta statuses" offers.
    statuses: Vec<&'static str>,
    login: &'a LoginSyncView,
}

/// The settings page, with the Login-time sync section's hook URL and results.
pub(super) fn page(
    shell: &Shell,
    original: Option<&str>,
    f: &FormState,
    login: &LoginSyncView,
    status: StatusCode,
) -> Response {
    let page = SettingsPage {
        shell,
        is_new: original.is_none(),
        original_name: original.unwrap_or(""),
        f,
        statuses: OktaStatus::ALL.iter().map(|s| s.as_str()).collect(),
        login,
    };
    (status, render(&page)).into_response()
}

/// `GET /new-app`.
pub async fn new_form(
    State(state): State<AppState>,
    Extension(admin): Extension<Admin>,
    headers: HeaderMap,
) -> Response {
    page(
        &Shell::for_admin(&admin, "apps"),
        None,
        &FormState::for_new(),
        &login_sync::view(&state, &headers, "APP"),
        StatusCode::OK,
    )
}

/// `POST /new-app`.
pub async fn create(
    State(state): State<AppState>,
    Extension(admin): Extension<Admin>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let shell = Shell::for_admin(&admin, "apps");
    let login = login_sync::view(&state, &headers, "APP");
    let saved = match draft_from_form(&pairs, None) {
        Ok(draft) => state.backend.create_app(draft, &admin.actor).await,
        Err(problem) => Err(problem_error(problem)),
    };
    match saved {
        Ok(app) => {
            Redirect::to(&with_flash(&app_path(&app.name), Notice::AppCreated)).into_response()
        }
        Err(e) => refused(&shell, None, FormState::submitted(pairs, None), &login, e),
    }
}

/// The page path of an app.
#[must_use]
pub fn app_path(name: &str) -> String {
    format!("/apps/{}", urlencoding::encode(name))
}

/// Shows a refused save: validation beside its field (with every other problem of
/// the form beside its own, so one submit shows them all), anything else as a banner.
fn refused(
    shell: &Shell,
    stored: Option<&App>,
    mut f: FormState,
    login: &LoginSyncView,
    err: BackendError,
) -> Response {
    let original = stored.map(|a| a.name.as_str());
    match err {
        BackendError::Validation { field, message } => {
            f.problem(&field, message);
            for other in super::form_problems::all_problems(f.pairs(), stored) {
                if f.err(&other.field).is_none() {
                    f.problem(&other.field, other.message);
                }
            }
            page(shell, original, &f, login, StatusCode::UNPROCESSABLE_ENTITY)
        }
        BackendError::Conflict(message) => {
            f.problem("name", message);
            page(shell, original, &f, login, StatusCode::CONFLICT)
        }
        other => PageError::new(shell, other).into_response(),
    }
}

#[derive(Debug, Deserialize)]
pub struct FlashQuery {
    #[serde(default)]
    flash: Option<String>,
}

/// `GET /apps/{name}`.
pub async fn edit_form(
    State(state): State<AppState>,
    Extension(admin): Extension<Admin>,
    Path(name): Path<String>,
    Query(q): Query<FlashQuery>,
    headers: HeaderMap,
) -> Response {
    let mut shell = Shell::for_admin(&admin, "apps");
    shell.flash = super::flash_from_query(q.flash.as_deref());
    match state.backend.get_app(&name).await {
        Ok(app) => page(
            &shell,
            Some(&app.name),
            &FormState::for_app(&app),
            &login_sync::view(&state, &headers, &app.name),
            StatusCode::OK,
        ),
        Err(e) => PageError::new(&shell, e).into_response(),
    }
}

/// `POST /apps/{name}`: Save Settings.
pub async fn save(
    State(state): State<AppState>,
    Extension(admin): Extension<Admin>,
    Path(name): Path<String>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let shell = Shell::for_admin(&admin, "apps");
    let current: App = match state.backend.get_app(&name).await {
        Ok(app) => app,
        Err(e) => return PageError::new(&shell, e).into_response(),
    };
    let saved = match draft_from_form(&pairs, Some(&current)) {
        Ok(draft) => {
            state
                .backend
                .update_app(current.id, draft, &admin.actor)
                .await
        }
        Err(problem) => Err(problem_error(problem)),
    };
    match saved {
        Ok(app) => {
            // The kept preview was computed with the old settings.
            state.previews.forget(&current.name);
            Redirect::to(&with_flash(&app_path(&app.name), Notice::SettingsSaved)).into_response()
        }
        Err(e) => refused(
            &shell,
            Some(&current),
            FormState::submitted(pairs, Some(&current)),
            &login_sync::view(&state, &headers, &current.name),
            e,
        ),
    }
}

/// `POST /apps/{name}/delete`.
pub async fn delete(
    State(state): State<AppState>,
    Extension(admin): Extension<Admin>,
    Path(name): Path<String>,
) -> Response {
    let shell = Shell::for_admin(&admin, "apps");
    match state.backend.delete_app(&name, &admin.actor).await {
        Ok(()) => Redirect::to(&with_flash("/", Notice::AppDeleted)).into_response(),
        Err(e) => PageError::new(&shell, e).into_response(),
    }
}

#[derive(Template)]
#[template(path = "regex_result.html")]
struct RegexFragment<'a> {
    login: &'a str,
    outcome: Result<String, String>,
}

/// The tester's inputs, named as the settings form names them.
#[derive(Debug, Deserialize)]
pub struct RegexForm {
    #[serde(default, rename = "policy.username.regex")]
    username_regex: String,
    #[serde(default, rename = "policy.username.replacement")]
    username_replacement: String,
    #[serde(default)]
    sample_login: String,
    #[serde(default, rename = "target.kind")]
    target_kind: String,
}

/// What "Regex on Username" makes of a login, using the planner's own mapping
/// (so the tester can never disagree with a sync).
pub fn try_regex(
    regex: &str,
    replacement: &str,
    login: &str,
    target_kind: &str,
) -> Result<String, String> {
    let mut policy = SyncPolicy::default();
    policy.username.regex = regex.trim().to_owned();
    policy.username.replacement = replacement.trim().to_owned();
    let compiled = CompiledPolicy::compile(&policy).map_err(|e| {
        e.problems
            .iter()
            .map(|p| {
                format!(
                    "{}: {}",
                    labels::label(&format!("policy.{}", p.field)),
                    p.message
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    })?;
    let mapped = compiled.map_login(login.trim());
    let constraints = TargetConstraints::for_kind(
        usersync_core::app::TargetKind::parse(target_kind)
            .unwrap_or(usersync_core::app::TargetKind::Jira),
    );
    constraints
        .username(&mapped)
        .map(|u| u.as_str().to_owned())
        .map_err(|problem| format!("{mapped:?} cannot be a username: it {problem}"))
}

/// `POST /regex-test` (htmx): the live tester.
pub async fn regex_test(Form(form): Form<RegexForm>) -> Response {
    let outcome = try_regex(
        &form.username_regex,
        &form.username_replacement,
        &form.sample_login,
        &form.target_kind,
    );
    render(&RegexFragment {
        login: form.sample_login.trim(),
        outcome,
    })
}

#[derive(Template)]
#[template(path = "explain.html")]
struct ExplainPage<'a> {
    shell: &'a Shell,
    app: &'a str,
    login: &'a str,
    explain: Option<ExplainView>,
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    login: String,
}

/// `GET /apps/{name}/explain?login=`.
pub async fn explain(
    State(state): State<AppState>,
    Extension(admin): Extension<Admin>,
    Path(name): Path<String>,
    Query(q): Query<LoginQuery>,
) -> Response {
    let shell = Shell::for_admin(&admin, "apps");
    let login = q.login.trim();
    let (explain, error) = if login.is_empty() {
        (None, None)
    } else {
        match state.backend.explain(&name, login).await {
            Ok(x) => (Some(x), None),
            Err(BackendError::NotFound(what)) if what.starts_with("app") => {
                return PageError::new(&shell, BackendError::NotFound(what)).into_response();
            }
            Err(e) => (None, Some(e.to_string())),
        }
    };
    render(&ExplainPage {
        shell: &shell,
        app: &name,
        login,
        explain,
        error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_regex_tester_applies_the_seed_example_and_reports_bad_regexes() {
        assert_eq!(
            try_regex("(.*)@.*", "$1", "demouser@example.com", "jira"),
            Ok("demouser".into())
        );
        assert_eq!(
            try_regex("", "", "Bob@x.io", "confluence"),
            Ok("bob@x.io".into())
        );
        let err = try_regex("(.*@", "$1", "a@b", "jira").unwrap_err();
        assert!(err.starts_with("Regex on Username: "), "{err}");
        let err = try_regex("(.*)@.*", "$1 x", "a@b", "jira").unwrap_err();
        assert!(err.contains("whitespace"), "{err}");
    }
}
