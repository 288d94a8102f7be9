//! The console at scale: a 100,000-operation run and a 100,000-operation preview
//! render one bounded page (rows and bytes), filtered and paged on the server with
//! shareable links, counts per kind always shown, and exports streamed in full.
//! How fast a page renders is the bench's to measure; these bound its size.

use axum::http::StatusCode;
use usersync_store::{NewOperation, OpOutcome, OutcomeUpdate, RunTrigger, apps_from_toml};
use usersync_testkit::AppToml;

use super::{Browser, Harness, get};
use crate::web::model::{PlanRow, PlanView};

const OPS: u32 = 100_000;
/// What one page may weigh, whatever the plan's size.
const MAX_PAGE_BYTES: usize = 200 * 1024;
const MAX_PAGE_ROWS: usize = 200;

async fn world() -> (Harness, Browser) {
    let h = Harness::new().await;
    let toml = AppToml::new(
        "jira",
        "http://127.0.0.1:9",
        "okta-token-never-used",
        "http://127.0.0.1:9",
    )
    .to_string();
    let draft = apps_from_toml(&toml).unwrap().remove(0);
    h.store.create_app(draft, "test").await.unwrap();
    let b = h.admin().await;
    (h, b)
}

fn kind_of(i: u32) -> &'static str {
    [
        "create_user",
        "add_member",
        "deactivate_user",
        "update_user",
    ][i as usize % 4]
}

fn rows(body: &str) -> usize {
    body.matches("<tr data-kind=").count()
}

/// Records a run of [`OPS`] operations; every 50th failed.
async fn big_run(h: &Harness) -> i64 {
    let app = h.store.find_app("jira").await.unwrap().unwrap().id;
    let run = h
        .store
        .start_run(app, RunTrigger::Scheduled)
        .await
        .unwrap()
        .id;
    let ops: Vec<NewOperation> = (1..=OPS)
        .map(|seq| NewOperation {
            seq,
            kind: kind_of(seq).into(),
            subject: format!("user{seq:06}"),
            rule: format!("Import Users: ACTIVE ({})", seq % 7),
            payload: "{}".into(),
        })
        .collect();
    h.store
        .record_plan(run, &ops[..10_000], "{}")
        .await
        .unwrap();
    for chunk in ops[10_000..].chunks(10_000) {
        h.store.record_operations(run, chunk).await.unwrap();
    }
    let failed: Vec<OutcomeUpdate> = (1..=OPS)
        .filter(|seq| seq % 50 == 0)
        .map(|seq| OutcomeUpdate {
            seq,
            outcome: OpOutcome::Failed,
            error: Some(format!("HTTP 500 for user{seq:06}")),
        })
        .collect();
    h.store.record_outcomes(run, &failed).await.unwrap();
    run.0
}

#[tokio::test]
async fn the_first_page_of_a_100000_operation_run_is_bounded_and_filtered_in_the_store() {
    let (h, b) = world().await;
    let run = big_run(&h).await;
    let page = h.call(get(&format!("/runs/{run}")).cookie(&b.cookie)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(rows(&page.body) <= MAX_PAGE_ROWS && rows(&page.body) > 0);
    assert!(
        page.body.len() < MAX_PAGE_BYTES,
        "{} bytes",
        page.body.len()
    );
    // Counts per kind and outcome are of the whole run.
    assert!(
        page.body
            .contains("data-kind-count=\"create_user\"><b>25000</b>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("data-outcome=\"failed\"><b>2000</b>"));
    assert!(page.body.contains("data-matching=\"100000\""));
    assert!(page.body.contains(&format!("href=\"/runs/{run}?page=2\"")));

    // Filtered by outcome and kind: a shareable link, and the page says how many match.
    let failed = h
        .call(
            get(&format!(
                "/runs/{run}?kind=create_user&outcome=failed&page=2"
            ))
            .cookie(&b.cookie),
        )
        .await;
    assert!(
        failed.body.contains("data-matching=\"1000\""),
        "{}",
        failed.body
    );
    assert_eq!(rows(&failed.body), 100);
    assert!(failed.body.contains("Operations 101–200 of 1000 matching"));
    assert!(failed.body.contains("HTTP 500 for user"));
    assert!(
        failed.body.contains(&format!(
            "href=\"/runs/{run}?kind=create_user&#38;outcome=failed&#38;page=3\""
        )),
        "the next page keeps the filters"
    );
    let text = h
        .call(get(&format!("/runs/{run}?q=USER042")).cookie(&b.cookie))
        .await;
    assert!(
        text.body.contains("data-matching=\"1000\""),
        "user042000 to user042999"
    );
    let rule = h
        .call(get(&format!("/runs/{run}?rule=(3)")).cookie(&b.cookie))
        .await;
    assert!(
        rule.body.contains("data-matching=\"14286\""),
        "{}",
        rule.body.len()
    );

    // The export streams every matching operation.
    let csv = h
        .call(get(&format!("/runs/{run}/operations.csv?outcome=failed")).cookie(&b.cookie))
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(
        csv.body.lines().count(),
        2001,
        "a header and 2,000 failed operations"
    );
    let all = h
        .call(get(&format!("/runs/{run}/operations.csv")).cookie(&b.cookie))
        .await;
    assert_eq!(all.body.lines().count(), OPS as usize + 1);
}

fn big_plan() -> PlanView {
    PlanView {
        app: "jira".into(),
        operations: (1..=OPS)
            .map(|i| PlanRow {
                kind: kind_of(i).into(),
                subject: format!("user{i:06}"),
                description: format!("{} user{i:06}", kind_of(i)),
                rule: "Import Users: ACTIVE".into(),
                destructive: kind_of(i) == "deactivate_user",
                op: serde_json::Value::Null,
            })
            .collect(),
        skipped: vec![],
        incomplete: vec![],
        would_hold: None,
    }
}

#[tokio::test]
async fn the_first_page_of_a_100000_operation_preview_is_bounded_and_its_exports_stream_every_row()
{
    let (h, b) = world().await;
    // The plan as a Preview keeps it: the app's emulators are not even running, so
    // every page below is proof that paging reads the kept plan, not Okta.
    h.state
        .previews
        .keep("jira", big_plan(), chrono::Utc::now());
    let page = h.call(get("/apps/jira/preview").cookie(&b.cookie)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(rows(&page.body) <= MAX_PAGE_ROWS && rows(&page.body) > 0);
    assert!(
        page.body.len() < MAX_PAGE_BYTES,
        "{} bytes",
        page.body.len()
    );
    assert!(
        page.body
            .contains("data-kind-count=\"deactivate_user\"><b>25000</b>")
    );
    assert!(
        page.body.contains("data-plan-age>Computed "),
        "the page says the plan's age"
    );

    let filtered = h
        .call(get("/apps/jira/preview?kind=update_user&q=user099&page=2").cookie(&b.cookie))
        .await;
    assert!(
        filtered.body.contains("data-matching=\"250\""),
        "{}",
        filtered.body
    );
    assert!(filtered.body.contains("Operations 101–200 of 250 matching"));
    assert!(
        filtered
            .body
            .contains("data-kind-count=\"create_user\"><b>25000</b>"),
        "counts stay whole"
    );
    assert!(
        filtered
            .body
            .contains("href=\"/apps/jira/preview.csv?kind=update_user&#38;q=user099\"")
    );

    let csv = h
        .call(get("/apps/jira/preview.csv").cookie(&b.cookie))
        .await;
    assert_eq!(csv.body.lines().count(), OPS as usize + 1);
    let json = h
        .call(get("/apps/jira/preview.json?kind=create_user").cookie(&b.cookie))
        .await;
    let plan: PlanView = serde_json::from_str(&json.body).unwrap();
    assert_eq!(plan.operations.len(), 25_000);
}

#[tokio::test]
async fn operations_tables_keep_rule_and_outcome_columns_readable_at_768_px() {
    let (h, b) = world().await;
    let css = h.call(get("/static/app.css")).await.body;
    for rule in [
        "table.ops { table-layout: fixed; }",
        "table.ops .col-rule { width: 28%; min-width: 12rem; }",
        "table.ops .col-outcome { width: 8rem; }",
        "@media (max-width: 900px) { table.ops .col-what { display: none; }",
    ] {
        assert!(css.contains(rule), "{rule:?} missing from the stylesheet");
    }
    let run = big_run(&h).await;
    let page = h
        .call(get(&format!("/runs/{run}")).cookie(&b.cookie))
        .await
        .body;
    assert!(page.contains("<table class=\"plain ops\" id=\"operations\">"));
    for column in ["col-rule", "col-outcome", "col-what"] {
        assert!(
            page.contains(&format!("<th scope=\"col\" class=\"{column}\">")),
            "{column}"
        );
        assert!(page.contains(&format!("<td class=\"{column}")), "{column}");
    }
}
