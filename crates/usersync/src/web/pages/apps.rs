//! The apps list, the dry-run Preview (with JSON and CSV export), and
//! Synchronize with its live progress page fed by server-sent events.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;

use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use futures::Stream;
use serde::Deserialize;

use super::{Notice, Shell, flash_from_query, with_flash};
use crate::web::auth::Admin;
use crate::web::backend::{ProgressEvent, Trigger};
use crate::web::error::{PageError, render};
use crate::web::model::{AppSummary, PlanRow, PlanView, RunView};
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

#[derive(Template)]
#[template(path = "preview.html")]
struct PreviewPage<'a> {
    shell: &'a Shell,
    plan: &'a PlanView,
    counts: BTreeMap<String, usize>,
    groups: Vec<(String, Vec<&'a PlanRow>)>,
    q: &'a str,
    kind: &'a str,
}

#[derive(Debug, Deserialize)]
pub struct PreviewQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    kind: String,
}

fn row_matches(row: &PlanRow, q: &str, kind: &str) -> bool {
    let q = q.trim().to_lowercase();
    (kind.is_empty() || row.kind == kind)
        && (q.is_empty()
            || [&row.subject, &row.description, &row.rule, &row.kind]
                .iter()
                .any(|t| t.to_lowercase().contains(&q)))
}

/// `GET /apps/{name}/preview?q=&kind=`: the plan grouped by kind, filtered.
pub async fn preview(
    State(state): State<AppState>,
    Extension(admin): Extension<Admin>,
    Path(name): Path<String>,
    Query(q): Query<PreviewQuery>,
) -> Response {
    let shell = Shell::for_admin(&admin, "apps");
    let plan = match state.backend.plan(&name).await {
        Ok(plan) => plan,
        Err(e) => return PageError::new(&shell, e).into_response(),
    };
    let mut counts = BTreeMap::new();
    let mut grouped: BTreeMap<String, Vec<&PlanRow>> = BTreeMap::new();
    for row in &plan.operations {
        *counts.entry(row.kind.clone()).or_default() += 1;
        if row_matches(row, &q.q, &q.kind) {
            grouped.entry(row.kind.clone()).or_default().push(row);
        }
    }
    let groups = grouped.into_iter().collect();
    render(&PreviewPage {
        shell: &shell,
        plan: &plan,
        counts,
        groups,
        q: &q.q,
        kind: &q.kind,
    })
}

/// `GET /apps/{name}/preview.json`.
pub async fn preview_json(
    State(state): State<AppState>,
    Extension(admin): Extension<Admin>,
    Path(name): Path<String>,
) -> Response {
    export(&state, &admin, &name, "json", "application/json", |plan| {
        serde_json::to_string_pretty(plan).unwrap_or_default()
    })
    .await
}

/// `GET /apps/{name}/preview.csv`.
pub async fn preview_csv(
    State(state): State<AppState>,
    Extension(admin): Extension<Admin>,
    Path(name): Path<String>,
) -> Response {
    export(
        &state,
        &admin,
        &name,
        "csv",
        "text/csv; charset=utf-8",
        plan_csv,
    )
    .await
}

/// Plans `name` and sends the plan as a download `{name}-plan.{extension}`.
async fn export(
    state: &AppState,
    admin: &Admin,
    name: &str,
    extension: &str,
    content_type: &str,
    encode: fn(&PlanView) -> String,
) -> Response {
    match state.backend.plan(name).await {
        Ok(plan) => download(
            &format!("{name}-plan.{extension}"),
            content_type,
            encode(&plan),
        ),
        Err(e) => PageError::new(&Shell::for_admin(admin, "apps"), e).into_response(),
    }
}

/// The plan as CSV: one row per operation.
#[must_use]
pub fn plan_csv(plan: &PlanView) -> String {
    let mut out = String::from("kind,subject,description,rule,destructive\n");
    for row in &plan.operations {
        let cells = [
            row.kind.as_str(),
            &row.subject,
            &row.description,
            &row.rule,
            if row.destructive { "true" } else { "false" },
        ];
        out.push_str(
            &cells
                .iter()
                .map(|c| crate::csv::cell(c))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push('\n');
    }
    out
}

pub(super) fn download(filename: &str, content_type: &str, body: String) -> Response {
    let safe: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = format!("attachment; filename=\"{safe}\"");
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response()
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
            Err(e) => LiveState::Failed(e.to_string()),
        };
        tx.send_replace(end);
    });
    Redirect::to(&live_path).into_response()
}

#[derive(Template)]
#[template(path = "live.html")]
struct LivePage<'a> {
    shell: &'a Shell,
    app: &'a str,
    phase: &'a str,
    message: String,
    run: Option<RunView>,
}

/// `GET /apps/{name}/live`: the run started here, live until its summary.
pub async fn live(
    State(state): State<AppState>,
    Extension(admin): Extension<Admin>,
    Path(name): Path<String>,
    Query(q): Query<FlashQuery>,
) -> Response {
    let mut shell = Shell::for_admin(&admin, "apps");
    shell.flash = flash_from_query(q.flash.as_deref());
    let current = state.live.watch(&name).map(|rx| rx.borrow().clone());
    let (phase, message, run) = match current {
        Some(LiveState::Running(p)) => ("running", p.message, None),
        Some(LiveState::Finished(run)) => ("finished", String::new(), Some(*run)),
        Some(LiveState::Failed(message)) => ("failed", message, None),
        None => ("none", String::new(), None),
    };
    render(&LivePage {
        shell: &shell,
        app: &name,
        phase,
        message,
        run,
    })
}

/// `GET /apps/{name}/live/events`: `progress` events, then one `done`.
pub async fn live_events(State(state): State<AppState>, Path(name): Path<String>) -> Response {
    let Some(rx) = state.live.watch(&name) else {
        return (
            StatusCode::NOT_FOUND,
            "no run of this app was started from this console",
        )
            .into_response();
    };
    Sse::new(live_stream(rx))
        .keep_alive(KeepAlive::default())
        .into_response()
}

fn live_stream(
    rx: tokio::sync::watch::Receiver<LiveState>,
) -> impl Stream<Item = Result<Event, Infallible>> {
    futures::stream::unfold(Some((rx, true)), |state| async move {
        let (mut rx, first) = state?;
        if !first && rx.changed().await.is_err() {
            // The sender is gone without a final state: end the stream.
            return Some((Ok(Event::default().event("done").data("{}")), None));
        }
        let current = rx.borrow_and_update().clone();
        let event = match current {
            LiveState::Running(p) => Event::default()
                .event("progress")
                .json_data(&p)
                .unwrap_or_default(),
            LiveState::Finished(run) => {
                return Some((
                    Ok(Event::default()
                        .event("done")
                        .json_data(&*run)
                        .unwrap_or_default()),
                    None,
                ));
            }
            LiveState::Failed(message) => {
                return Some((
                    Ok(Event::default()
                        .event("done")
                        .json_data(serde_json::json!({ "error": message }))
                        .unwrap_or_default()),
                    None,
                ));
            }
        };
        Some((Ok(event), Some((rx, false))))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(kind: &str, subject: &str, rule: &str) -> PlanRow {
        PlanRow {
            kind: kind.into(),
            subject: subject.into(),
            description: format!("{kind} {subject}"),
            rule: rule.into(),
            destructive: false,
            op: serde_json::Value::Null,
        }
    }

    #[test]
    fn csv_export_quotes_commas_and_defuses_formulas() {
        let plan = PlanView {
            app: "a".into(),
            operations: vec![row("create_user", "=cmd()", "Import Users: ACTIVE, new")],
            skipped: vec![],
            incomplete: vec![],
            would_hold: None,
        };
        let csv = plan_csv(&plan);
        let line = csv.lines().nth(1).unwrap();
        assert_eq!(
            line,
            "create_user,'=cmd(),create_user =cmd(),\"Import Users: ACTIVE, new\",false"
        );
    }

    #[test]
    fn preview_filters_by_kind_and_by_text_in_any_column() {
        let r = row(
            "add_member",
            "alice",
            "Membership from Okta group Engineering",
        );
        assert!(row_matches(&r, "engineering", ""));
        assert!(row_matches(&r, "ALICE", "add_member"));
        assert!(!row_matches(&r, "alice", "create_user"));
        assert!(!row_matches(&r, "bob", ""));
    }
}
