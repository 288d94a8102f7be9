//! The live page follows the app's run whoever started it, from the store: here a
//! scheduled run started by the engine directly, with its own `Deps` (as another
//! process would), shows with its phase while Okta is slow, then its summary.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use usersync_store::{RunTrigger, apps_from_toml};
use usersync_testkit::{Sims, small_org};

use super::{Harness, get};
use crate::engine::{self, Deps, Mode};

#[tokio::test]
async fn a_run_started_elsewhere_shows_on_the_live_page_with_its_current_phase() {
    let sims = Sims::start(small_org(40, 4, 3)).await;
    let h = Harness::new().await;
    let draft = apps_from_toml(&sims.app("jira").to_string())
        .unwrap()
        .remove(0);
    h.store.create_app(draft, "test").await.unwrap();
    let b = h.admin().await;
    // Slow Okta: the read takes seconds, long enough to be seen.
    sims.okta.faults().update(|f| f.latency_ms = 1500);
    let elsewhere = Deps::new(h.store.clone());
    let run = tokio::spawn(async move {
        engine::run_sync_once(&elsewhere, "jira", RunTrigger::Scheduled, Mode::Apply).await
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let seen = loop {
        let page = h.call(get("/apps/jira/live").cookie(&b.cookie)).await;
        assert_eq!(page.status, StatusCode::OK);
        if page.body.contains("data-state=\"running\"") && page.body.contains("reading Okta") {
            break page.body;
        }
        assert!(
            Instant::now() < deadline,
            "never saw the run reading Okta: {}",
            page.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        seen.contains("running <span class=\"badge running\">scheduled</span>"),
        "{seen}"
    );
    assert!(seen.contains("data-run-events=\"/apps/jira/live/events\""));
    sims.okta.faults().update(|f| f.latency_ms = 0);
    let outcome = run.await.unwrap().unwrap();
    let events = h
        .call(get("/apps/jira/live/events").cookie(&b.cookie))
        .await;
    assert!(events.body.contains("event: done"), "{}", events.body);
    let page = h.call(get("/apps/jira/live").cookie(&b.cookie)).await;
    assert!(
        page.body.contains("data-state=\"finished\""),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains(&format!("Run #{} finished", outcome.run_id.unwrap()))
    );
}
