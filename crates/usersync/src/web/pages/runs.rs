//! Run history, one run's operations with their outcomes (a filtered page at a time,
//! and a streamed CSV export), Approve and Reject of held runs, and the audit log of
//! configuration changes.

use std::collections::BTreeMap;

use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use futures::StreamExt as _;
use usersync_store::{OpOutcome, OperationQuery};

use super::paging::{ListQuery, PAGE_ROWS, Pager};
use super::{Notice, Shell, flash_from_query, with_flash};
use crate::web::auth::Admin;
use crate::web::error::{PageError, render};
use crate::web::model::{AuditView, OpCounts, OperationView, RunView};
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
    /// Every operation of the run per kind and outcome, whatever the filters.
    counts: BTreeMap<String, OpCounts>,
    outcomes: BTreeMap<&'static str, u64>,
    total: u64,
    query: &'a ListQuery,
    pager: Pager,
    base: String,
    /// The CSV export of what the filters select.
    export: String,
    outcome_choices: [&'static str; 4],
}

#[derive(Debug, Deserialize)]
pub struct FlashQuery {
    #[serde(default)]
    pub flash: Option<String>,
}

/// The store's query for a page (or an export) of what `q` asks.
fn operation_query(q: &ListQuery) -> OperationQuery {
    let text = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
    OperationQuery {
        kind: text(&q.kind),
        outcome: OpOutcome::parse(q.outcome.trim()),
        rule: text(&q.rule),
        text: text(&q.q),
        after_seq: None,
        offset: q.offset(),
        limit: PAGE_ROWS,
    }
}

/// `GET /runs/{id}?kind=&outcome=&rule=&q=&page=`: one page of the run's operations,
/// filtered and paged by the store; counts per kind and outcome always of the whole run.
pub async fn show(
    State(state): State<AppState>,
    Extension(admin): Extension<Admin>,
    Path(id): Path<i64>,
    Query(q): Query<ListQuery>,
) -> Response {
    let mut shell = Shell::for_admin(&admin, "runs");
    shell.flash = flash_from_query(q.flash.as_deref());
    let run = match state.backend.get_run(id).await {
        Ok(run) => run,
        Err(e) => return PageError::new(&shell, e).into_response(),
    };
    let query = operation_query(&q);
    let (page, counts) = match tokio::try_join!(
        state.backend.operations_page(id, &query),
        state.backend.operation_counts(id),
    ) {
        Ok(found) => found,
        Err(e) => return PageError::new(&shell, e).into_response(),
    };
    let mut outcomes = BTreeMap::new();
    for c in counts.values() {
        for (outcome, n) in [
            ("applied", c.applied),
            ("failed", c.failed),
            ("skipped", c.skipped),
            ("pending", c.planned - c.applied - c.failed - c.skipped),
        ] {
            if n > 0 {
                *outcomes.entry(outcome).or_default() += n;
            }
        }
    }
    let base = format!("/runs/{id}");
    render(&RunPage {
        shell: &shell,
        run: &run,
        operations: &page.operations,
        total: counts.values().map(|c| c.planned).sum(),
        counts,
        outcomes,
        query: &q,
        pager: Pager::new(&q, &base, page.matching, page.operations.len()),
        export: q.export(&format!("{base}/operations.csv")),
        base,
        outcome_choices: ["applied", "failed", "skipped", "pending"],
    })
}

/// `GET /runs/{id}/operations.csv?kind=&outcome=&rule=&q=`: the run's operations
/// matching the filters, streamed from the store a batch at a time.
pub async fn operations_csv(
    State(state): State<AppState>,
    Extension(admin): Extension<Admin>,
    Path(id): Path<i64>,
    Query(q): Query<ListQuery>,
) -> Response {
    if let Err(e) = state.backend.get_run(id).await {
        return PageError::new(&Shell::for_admin(&admin, "runs"), e).into_response();
    }
    let query = OperationQuery {
        offset: 0,
        limit: EXPORT_BATCH,
        ..operation_query(&q)
    };
    let header = "seq,kind,subject,description,rule,outcome,error\n";
    let batches = futures::stream::unfold(Some(query), move |query| {
        let backend = state.backend.clone();
        async move {
            let query = query?;
            match backend.operations_page(id, &query).await {
                Ok(page) if page.operations.is_empty() => None,
                Ok(page) => {
                    let next = OperationQuery {
                        after_seq: page
                            .operations
                            .last()
                            .and_then(|o| u32::try_from(o.seq).ok()),
                        ..query
                    };
                    Some((Ok(operations_csv_rows(&page.operations)), Some(next)))
                }
                // The response has begun: end it with an error the download shows as cut.
                Err(e) => Some((Err(std::io::Error::other(e.to_string())), None)),
            }
        }
    });
    let body = futures::stream::once(async move { Ok(header.to_owned()) }).chain(batches);
    super::preview::download_stream(
        &format!("run-{id}-operations.csv"),
        "text/csv; charset=utf-8",
        body,
    )
}

/// Operations read per batch of an export.
const EXPORT_BATCH: u32 = 1000;

fn operations_csv_rows(ops: &[OperationView]) -> String {
    let mut out = String::new();
    for op in ops {
        let cells = [
            op.seq.to_string(),
            op.kind.clone(),
            op.subject.clone(),
            op.description.clone(),
            op.rule.clone(),
            op.outcome.clone(),
            op.error.clone().unwrap_or_default(),
        ];
        let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
        out.push_str(&crate::csv::row(&cells));
    }
    out
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
