//! The Confluence emulator's request log when it is capped.

use reqwest::StatusCode;
use usersync_sim::confluence::{ConfluenceSim, ConfluenceSimConfig};

use super::Api;

#[tokio::test]
async fn a_capped_request_log_keeps_the_newest_requests_and_counts_them_all() {
    let sim = ConfluenceSim::start(ConfluenceSimConfig {
        request_log_capacity: 2,
        ..ConfluenceSimConfig::default()
    })
    .await
    .unwrap();
    let api = Api::new(&sim);
    let (status, _) = api.call("GET", "/rest/api/group", None).await;
    assert_eq!(status, StatusCode::OK);
    api.call("GET", "/rest/api/user?username=admin", None).await;
    let (status, _) = api.call("GET", "/rest/api/group/nobody/member", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let kept: Vec<(String, u16)> = sim
        .requests()
        .into_iter()
        .map(|r| (r.path, r.status))
        .collect();
    assert_eq!(
        kept,
        vec![
            ("/rest/api/user".to_owned(), 200),
            ("/rest/api/group/nobody/member".to_owned(), 404),
        ]
    );
    assert_eq!(sim.request_count(), 3);
    let totals = sim.request_totals();
    assert_eq!(
        (totals.with_method("GET"), totals.with_status_at_least(400)),
        (3, 1)
    );
}
