//! `check` proves the far side is what the app says it is: an Okta org at the Okta URL,
//! the configured product at the target URL, with a hint for a wrong context path.

use usersync::engine::{CheckReport, Deps, Silent, check};
use usersync_testkit::{AppToml, DataDir, Sims, small_org, start_confluence};

/// The report of `check` for the one app in `app`.
async fn check_of(app: &AppToml) -> CheckReport {
    usersync::telemetry::init_for_tests();
    let dir = DataDir::new();
    let store = dir.store_with_apps(&app.to_string(), "test").await;
    let deps = Deps::new(store).with_progress(std::sync::Arc::new(Silent));
    check(&deps, "jira").await.expect("the app exists")
}

/// The detail of the first failed line, with its label.
fn first_failure(report: &CheckReport) -> String {
    let line = report
        .lines
        .iter()
        .find(|l| !l.ok)
        .unwrap_or_else(|| panic!("a line fails: {report:#?}"));
    format!("{}: {}", line.what, line.detail)
}

#[tokio::test]
async fn the_check_of_emulators_that_are_what_the_app_says_passes() {
    let sims = Sims::start(small_org(5, 1, 1)).await;
    let report = check_of(&sims.app("jira")).await;
    assert!(report.ok, "{report:#?}");
    assert!(
        report
            .lines
            .iter()
            .any(|l| l.what.ends_with("product and version") && l.detail.starts_with("jira ")),
        "{report:#?}"
    );
}

#[tokio::test]
async fn an_okta_url_pointing_at_jira_fails_the_check_saying_it_is_not_okta() {
    let sims = Sims::start(small_org(5, 1, 1)).await;
    let jira = sims.jira.base_url().to_owned();
    let app = AppToml::new("jira", &jira, sims.okta.api_token(), &jira)
        .basic(sims.jira.admin_username(), sims.jira.admin_password());
    let report = check_of(&app).await;
    assert!(!report.ok, "{report:#?}");
    let failure = first_failure(&report);
    assert!(failure.contains("read users"), "{failure}");
    assert!(
        failure.contains("does not look like an Okta org"),
        "{failure}"
    );
    assert!(failure.contains("https://example.okta.com"), "{failure}");
}

#[tokio::test]
async fn a_jira_url_pointing_at_confluence_fails_the_check_saying_it_is_not_jira() {
    let sims = Sims::start(small_org(5, 1, 1)).await;
    let wiki = start_confluence("10.2.0").await;
    let app = AppToml::new(
        "jira",
        &sims.okta.base_url(),
        sims.okta.api_token(),
        &wiki.base_url(),
    );
    let report = check_of(&app).await;
    assert!(!report.ok, "{report:#?}");
    let failure = first_failure(&report);
    assert!(failure.contains("product and version"), "{failure}");
    assert!(failure.contains("does not answer like Jira"), "{failure}");
}

#[tokio::test]
async fn a_confluence_app_pointing_at_jira_fails_the_check_saying_it_is_not_confluence() {
    let sims = Sims::start(small_org(5, 1, 1)).await;
    let app = sims.app("jira").kind("confluence");
    let failure = first_failure(&check_of(&app).await);
    assert!(
        failure.contains("does not answer like Confluence"),
        "{failure}"
    );
}

#[tokio::test]
async fn a_target_url_going_on_to_rest_gets_a_context_path_hint() {
    let sims = Sims::start(small_org(5, 1, 1)).await;
    let jira = sims.jira.base_url().trim_end_matches('/').to_owned();
    let app = AppToml::new(
        "jira",
        &sims.okta.base_url(),
        sims.okta.api_token(),
        &format!("{jira}/rest/api/2"),
    )
    .basic(sims.jira.admin_username(), sims.jira.admin_password());
    let failure = first_failure(&check_of(&app).await);
    assert!(failure.contains("does not answer like Jira"), "{failure}");
    assert!(
        failure.contains(&format!(
            "must stop before /rest (usersync adds the REST paths): try {jira}"
        )),
        "{failure}"
    );
}

#[tokio::test]
async fn a_scim_app_passes_the_check_against_a_scim_service_and_fails_against_jira() {
    let sims = Sims::start(small_org(5, 1, 1)).await;
    let scim = usersync_testkit::start_scim(usersync_sim::scim::Profile::AtlassianCloud).await;
    let good = usersync_testkit::scim_app(
        "jira",
        &sims.okta,
        "atlassian-cloud",
        scim.base_url(),
        scim.token(),
    );
    let report = check_of(&good).await;
    assert!(report.ok, "{report:#?}");
    assert!(
        report
            .lines
            .iter()
            .any(|l| l.detail.starts_with("atlassian-cloud SCIM 2.0")),
        "{report:#?}"
    );
    // A Jira URL with a token Jira accepts: the URL is not a SCIM service.
    let wrong = usersync_testkit::scim_app(
        "jira",
        &sims.okta,
        "scim",
        sims.jira.base_url(),
        "jira-sim-admin-pat",
    );
    let failure = first_failure(&check_of(&wrong).await);
    assert!(
        failure.contains("does not answer like SCIM service"),
        "{failure}"
    );
    assert!(failure.contains("/ServiceProviderConfig"), "{failure}");
}
