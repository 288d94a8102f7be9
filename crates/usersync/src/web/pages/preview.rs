//! Preview: the dry-run plan of an app, a filtered page at a time, with its JSON and
//! CSV exports streamed a batch of rows at a time.
//!
//! A preview is a plan computed on demand (a full read of both sides), so the plan is
//! kept for [`PREVIEW_TTL`] per app ([`PreviewCache`], at most [`PREVIEW_APPS`] apps)
//! and every page, filter and export of it reads the kept plan instead of reading Okta
//! again; the page says how old the plan is and offers to compute it afresh
//! (`?fresh=1`). Synchronizing or saving the app's settings forgets it.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use askama::Template;
use axum::Extension;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt as _};
use serde::Deserialize;

use super::Shell;
use super::paging::{ListQuery, PAGE_ROWS, Pager};
use crate::web::auth::Admin;
use crate::web::backend::BackendResult;
use crate::web::error::{PageError, render};
use crate::web::model::{PlanRow, PlanView, SkippedView};
use crate::web::state::AppState;

/// How long a computed preview is reused.
pub const PREVIEW_TTL: Duration = Duration::from_secs(300);
/// How many apps' previews are kept at once (the oldest goes first).
pub const PREVIEW_APPS: usize = 8;
/// Skipped users listed on the page (all of them are in the exports).
const SKIPPED_SHOWN: usize = 100;
/// Rows encoded per chunk of a streamed export.
const EXPORT_CHUNK: usize = 500;

/// A plan computed at `computed_at`.
#[derive(Debug, Clone)]
pub struct KeptPlan {
    pub plan: Arc<PlanView>,
    pub computed_at: DateTime<Utc>,
}

/// The previews computed lately, per app; bounded in age and in number.
#[derive(Debug, Default)]
pub struct PreviewCache {
    plans: Mutex<HashMap<String, KeptPlan>>,
    /// One computation at a time: a second request for the same preview waits and
    /// finds the first one's plan instead of reading Okta again.
    computing: tokio::sync::Mutex<()>,
}

impl PreviewCache {
    fn fresh(&self, app: &str) -> Option<KeptPlan> {
        let plans = self.plans.lock().unwrap_or_else(|e| e.into_inner());
        plans.get(app).filter(|k| age(k) < PREVIEW_TTL).cloned()
    }

    /// Keeps `plan` for `app`, forgetting expired plans and then the oldest beyond
    /// [`PREVIEW_APPS`].
    pub fn keep(&self, app: &str, plan: PlanView, computed_at: DateTime<Utc>) -> KeptPlan {
        let kept = KeptPlan {
            plan: Arc::new(plan),
            computed_at,
        };
        let mut plans = self.plans.lock().unwrap_or_else(|e| e.into_inner());
        plans.retain(|_, k| age(k) < PREVIEW_TTL);
        plans.insert(app.to_owned(), kept.clone());
        while plans.len() > PREVIEW_APPS {
            let oldest = plans
                .iter()
                .min_by_key(|(_, k)| k.computed_at)
                .map(|(name, _)| name.clone());
            match oldest {
                Some(name) => plans.remove(&name),
                None => break,
            };
        }
        kept
    }

    /// Forgets `app`'s preview (its settings changed, or it was synchronized).
    pub fn forget(&self, app: &str) {
        let mut plans = self.plans.lock().unwrap_or_else(|e| e.into_inner());
        plans.remove(app);
    }

    /// The kept plan of `app`, or a new one from `compute`.
    async fn get_or_compute<F>(&self, app: &str, fresh: bool, compute: F) -> BackendResult<KeptPlan>
    where
        F: Future<Output = BackendResult<PlanView>>,
    {
        if !fresh && let Some(kept) = self.fresh(app) {
            return Ok(kept);
        }
        let _one = self.computing.lock().await;
        if !fresh && let Some(kept) = self.fresh(app) {
            return Ok(kept);
        }
        let started = Utc::now();
        let plan = compute.await?;
        Ok(self.keep(app, plan, started))
    }
}

fn age(kept: &KeptPlan) -> Duration {
    (Utc::now() - kept.computed_at).to_std().unwrap_or_default()
}

/// `?fresh=1` computes the plan again; the rest are the list's filters.
#[derive(Debug, Deserialize)]
pub struct PreviewQuery {
    #[serde(default)]
    fresh: Option<String>,
    #[serde(flatten)]
    list: ListQuery,
}

#[derive(Template)]
#[template(path = "preview.html")]
struct PreviewPage<'a> {
    shell: &'a Shell,
    plan: &'a PlanView,
    counts: BTreeMap<String, usize>,
    rows: Vec<&'a PlanRow>,
    skipped: &'a [SkippedView],
    query: &'a ListQuery,
    pager: Pager,
    base: String,
    export_json: String,
    export_csv: String,
    /// How old the plan is, in words.
    age: String,
}

/// Whether `row` passes the filters of `q` (kind exactly; rule and text contained,
/// case-insensitive).
fn row_matches(row: &PlanRow, q: &ListQuery) -> bool {
    let contains = |hay: &str, needle: &str| hay.to_lowercase().contains(needle);
    let (text, rule, kind) = (
        q.q.trim().to_lowercase(),
        q.rule.trim().to_lowercase(),
        q.kind.trim(),
    );
    (kind.is_empty() || row.kind == kind)
        && (rule.is_empty() || contains(&row.rule, &rule))
        && (text.is_empty()
            || [&row.subject, &row.description, &row.rule, &row.kind]
                .iter()
                .any(|t| contains(t, &text)))
}

/// Words for an age: "12 s", "3 min 5 s".
fn age_words(since: DateTime<Utc>) -> String {
    let seconds = (Utc::now() - since).num_seconds().max(0);
    if seconds < 60 {
        format!("{seconds} s")
    } else {
        format!("{} min {} s", seconds / 60, seconds % 60)
    }
}

async fn kept_plan(state: &AppState, name: &str, fresh: bool) -> BackendResult<KeptPlan> {
    let app = state.backend.get_app(name).await?.name;
    let backend = state.backend.clone();
    let compute = async move { backend.plan(&app).await };
    state.previews.get_or_compute(name, fresh, compute).await
}

/// `GET /apps/{name}/preview?kind=&rule=&q=&page=&fresh=`: one page of the plan.
pub async fn preview(
    State(state): State<AppState>,
    Extension(admin): Extension<Admin>,
    Path(name): Path<String>,
    Query(q): Query<PreviewQuery>,
) -> Response {
    let shell = Shell::for_admin(&admin, "apps");
    let kept = match kept_plan(&state, &name, q.fresh.is_some()).await {
        Ok(kept) => kept,
        Err(e) => return PageError::new(&shell, e).into_response(),
    };
    let plan = &kept.plan;
    let mut counts = BTreeMap::new();
    let mut matching = 0u64;
    let mut rows = Vec::new();
    let (skip, take) = (q.list.offset(), u64::from(PAGE_ROWS));
    for row in &plan.operations {
        *counts.entry(row.kind.clone()).or_default() += 1;
        if row_matches(row, &q.list) {
            if matching >= skip && matching < skip + take {
                rows.push(row);
            }
            matching += 1;
        }
    }
    let base = format!("/apps/{}/preview", urlencoding::encode(&plan.app));
    render(&PreviewPage {
        shell: &shell,
        plan,
        counts,
        pager: Pager::new(&q.list, &base, matching, rows.len()),
        rows,
        skipped: &plan.skipped[..plan.skipped.len().min(SKIPPED_SHOWN)],
        query: &q.list,
        export_json: q.list.export(&format!("{base}.json")),
        export_csv: q.list.export(&format!("{base}.csv")),
        base,
        age: age_words(kept.computed_at),
    })
}

/// `GET /apps/{name}/preview.json?kind=&rule=&q=`: the kept plan's matching
/// operations, in the shape of the API's plan, streamed.
pub async fn preview_json(
    State(state): State<AppState>,
    Extension(admin): Extension<Admin>,
    Path(name): Path<String>,
    Query(q): Query<ListQuery>,
) -> Response {
    match kept_plan(&state, &name, false).await {
        Ok(kept) => download_stream(
            &format!("{name}-plan.json"),
            "application/json",
            json_chunks(kept.plan, q),
        ),
        Err(e) => PageError::new(&Shell::for_admin(&admin, "apps"), e).into_response(),
    }
}

/// `GET /apps/{name}/preview.csv?kind=&rule=&q=`: one row per matching operation, streamed.
pub async fn preview_csv(
    State(state): State<AppState>,
    Extension(admin): Extension<Admin>,
    Path(name): Path<String>,
    Query(q): Query<ListQuery>,
) -> Response {
    match kept_plan(&state, &name, false).await {
        Ok(kept) => download_stream(
            &format!("{name}-plan.csv"),
            "text/csv; charset=utf-8",
            csv_chunks(kept.plan, q),
        ),
        Err(e) => PageError::new(&Shell::for_admin(&admin, "apps"), e).into_response(),
    }
}

type Chunk = Result<String, std::io::Error>;

/// The matching rows of `plan`, [`EXPORT_CHUNK`] at a time, each encoded by `encode`.
fn row_chunks(
    plan: Arc<PlanView>,
    q: ListQuery,
    encode: fn(&PlanRow, bool) -> String,
) -> impl Stream<Item = Chunk> + Send + 'static {
    futures::stream::unfold((0usize, true), move |(at, first)| {
        let (plan, q) = (plan.clone(), q.clone());
        async move {
            if at >= plan.operations.len() {
                return None;
            }
            let end = (at + EXPORT_CHUNK).min(plan.operations.len());
            let mut out = String::new();
            let mut first = first;
            for row in plan.operations[at..end]
                .iter()
                .filter(|r| row_matches(r, &q))
            {
                out.push_str(&encode(row, first));
                first = false;
            }
            Some((Ok(out), (end, first)))
        }
    })
}

fn csv_chunks(plan: Arc<PlanView>, q: ListQuery) -> impl Stream<Item = Chunk> + Send + 'static {
    let head = futures::stream::once(async {
        Ok("kind,subject,description,rule,destructive\n".to_owned())
    });
    head.chain(row_chunks(plan, q, |row, _| plan_csv_row(row)))
}

fn json_chunks(plan: Arc<PlanView>, q: ListQuery) -> impl Stream<Item = Chunk> + Send + 'static {
    let head = format!(
        "{{\"app\":{},\"operations\":[",
        serde_json::Value::from(plan.app.as_str())
    );
    let tail = format!(
        "],\"skipped\":{},\"incomplete\":{},\"would_hold\":{}}}",
        serde_json::to_string(&plan.skipped).unwrap_or_else(|_| "[]".into()),
        serde_json::to_string(&plan.incomplete).unwrap_or_else(|_| "[]".into()),
        serde_json::to_string(&plan.would_hold).unwrap_or_else(|_| "null".into()),
    );
    futures::stream::once(async move { Ok(head) })
        .chain(row_chunks(plan, q, |row, first| {
            let json = serde_json::to_string(row).unwrap_or_else(|_| "null".into());
            if first { json } else { format!(",{json}") }
        }))
        .chain(futures::stream::once(async move { Ok(tail) }))
}

/// One operation as a CSV line.
fn plan_csv_row(row: &PlanRow) -> String {
    crate::csv::row(&[
        row.kind.as_str(),
        &row.subject,
        &row.description,
        &row.rule,
        if row.destructive { "true" } else { "false" },
    ])
}

/// A download named `filename` whose whole body is `body`.
pub fn download(filename: &str, content_type: &str, body: String) -> Response {
    download_stream(
        filename,
        content_type,
        futures::stream::once(async move { Chunk::Ok(body) }),
    )
}

/// A download named `filename` whose body is sent as `body` yields it.
pub fn download_stream<S>(filename: &str, content_type: &str, body: S) -> Response
where
    S: Stream<Item = Chunk> + Send + 'static,
{
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
        Body::from_stream(body),
    )
        .into_response()
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

    fn plan(rows: Vec<PlanRow>) -> PlanView {
        PlanView {
            app: "a".into(),
            operations: rows,
            skipped: vec![],
            incomplete: vec![],
            would_hold: None,
        }
    }

    async fn collect(stream: impl Stream<Item = Chunk>) -> String {
        stream
            .map(|c| c.unwrap())
            .collect::<Vec<_>>()
            .await
            .concat()
    }

    #[tokio::test]
    async fn csv_export_quotes_commas_and_defuses_formulas() {
        let plan = Arc::new(plan(vec![row(
            "create_user",
            "=cmd()",
            "Import Users: ACTIVE, new",
        )]));
        let csv = collect(csv_chunks(plan, ListQuery::default())).await;
        let line = csv.lines().nth(1).unwrap();
        assert_eq!(
            line,
            "create_user,'=cmd(),create_user =cmd(),\"Import Users: ACTIVE, new\",false"
        );
    }

    #[tokio::test]
    async fn the_streamed_json_export_is_the_plan_with_the_matching_operations() {
        let rows = (0..1234)
            .map(|i| {
                row(
                    if i % 2 == 0 {
                        "create_user"
                    } else {
                        "add_member"
                    },
                    &format!("u{i}"),
                    "r",
                )
            })
            .collect();
        let plan = Arc::new(plan(rows));
        let all: PlanView =
            serde_json::from_str(&collect(json_chunks(plan.clone(), ListQuery::default())).await)
                .unwrap();
        assert_eq!(all.operations, plan.operations);
        let q = ListQuery {
            kind: "add_member".into(),
            ..ListQuery::default()
        };
        let some: PlanView = serde_json::from_str(&collect(json_chunks(plan, q)).await).unwrap();
        assert_eq!(some.operations.len(), 617);
        assert!(some.operations.iter().all(|r| r.kind == "add_member"));
    }

    #[test]
    fn preview_filters_by_kind_rule_and_by_text_in_any_column() {
        let r = row(
            "add_member",
            "alice",
            "Membership from Okta group Engineering",
        );
        let q = |kind: &str, rule: &str, text: &str| ListQuery {
            kind: kind.into(),
            rule: rule.into(),
            q: text.into(),
            ..ListQuery::default()
        };
        assert!(row_matches(&r, &q("", "", "engineering")));
        assert!(row_matches(&r, &q("add_member", "", "ALICE")));
        assert!(row_matches(&r, &q("", "okta group", "")));
        assert!(!row_matches(&r, &q("", "import", "")));
        assert!(!row_matches(&r, &q("create_user", "", "alice")));
        assert!(!row_matches(&r, &q("", "", "bob")));
    }

    #[test]
    fn the_cache_keeps_at_most_its_bound_of_apps_and_forgets_on_request() {
        let cache = PreviewCache::default();
        for i in 0..PREVIEW_APPS + 3 {
            let at = Utc::now() - chrono::Duration::seconds(100 - i as i64);
            cache.keep(&format!("app{i}"), plan(vec![]), at);
        }
        let plans = cache.plans.lock().unwrap();
        assert_eq!(plans.len(), PREVIEW_APPS);
        assert!(!plans.contains_key("app0") && plans.contains_key("app10"));
        drop(plans);
        cache.forget("app10");
        assert!(cache.fresh("app10").is_none());
        let old = Utc::now() - chrono::Duration::seconds(PREVIEW_TTL.as_secs() as i64 + 1);
        cache.keep("stale", plan(vec![]), old);
        assert!(
            cache.fresh("stale").is_none(),
            "an expired preview is computed again"
        );
    }
}
