//! Explain reads what a single-user sync reads, not the org, and says where each
//! fact came from.

use axum::http::StatusCode;
use usersync_core::OktaStatus;
use usersync_store::apps_from_toml;
use usersync_testkit::{Sims, small_org};

use super::{Harness, get};

#[tokio::test]
async fn explain_on_a_2000_user_org_sends_a_handful_of_okta_requests_and_names_its_sources() {
    let sims = Sims::start(small_org(2000, 40, 8)).await;
    let h = Harness::new().await;
    let draft = apps_from_toml(&sims.app("jira").to_string())
        .unwrap()
        .remove(0);
    h.store.create_app(draft, "test").await.unwrap();
    let b = h.admin().await;
    let login = sims
        .okta
        .snapshot()
        .users
        .iter()
        .find(|u| u.status == OktaStatus::Active)
        .unwrap()
        .login
        .clone();
    sims.okta.clear_requests();
    let path = format!("/apps/jira/explain?login={}", urlencoding::encode(&login));
    let page = h.call(get(&path).cookie(&b.cookie)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let requests = sims.okta.request_count();
    // The user, their groups, and the search for namesakes; a full read would be
    // over a hundred (2,000 users in pages, 40 groups and their members).
    assert!(
        requests <= 5,
        "{requests} Okta requests: {:?}",
        sims.okta.requests()
    );
    assert!(page.body.contains("What a sync would do"), "{}", page.body);
    for source in [
        &format!("Okta user {login}: read by"),
        "Okta groups of the user: ",
        "Target account ",
        "none for this user",
        "Okta request(s) in all; nothing was written",
    ] {
        assert!(
            page.body.contains(source),
            "{source:?} missing: {}",
            page.body
        );
    }
}
