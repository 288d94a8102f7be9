//! The administrator's whole journey through the console in Chromium.

use usersync_core::OktaStatus;

use crate::harness::{JIRA_PASSWORD, World, browser_binaries};

const ADMIN: &str = "ada";
const PASSWORD: &str = "a long and unguessable passphrase";

async fn create_first_admin_and_sign_in(w: &World) {
    w.goto("/").await;
    w.wait_for_text("h1", "Welcome to usersync").await;
    w.fill("code", &w.setup_code).await;
    w.fill("username", ADMIN).await;
    w.fill("password", PASSWORD).await;
    w.fill("confirm", PASSWORD).await;
    w.screenshot("01-create-administrator").await;
    w.click("button.primary").await;
    w.wait_for_text("main", "Add the first app").await;
    w.click("header form button").await; // sign out
    w.wait_for_text("h1", "Sign in").await;
    w.fill("username", ADMIN).await;
    w.fill("password", PASSWORD).await;
    w.screenshot("02-sign-in").await;
    w.click("button.primary").await;
    w.wait_for_text("main", "Add the first app").await;
}

async fn fill_app(w: &World, regex: &str) {
    w.fill("name", "Jira production").await;
    w.fill("schedule.every_minutes", "30").await;
    w.fill("okta.url", &w.okta.base_url()).await;
    w.fill("okta.credential.token", w.okta.api_token()).await;
    w.fill("policy.username.regex", regex).await;
    w.fill("policy.username.replacement", "$1").await;
    w.fill("policy.default_groups_new_users", "jira-software-users")
        .await;
    w.fill("target.url", w.jira.base_url()).await;
    w.click("input[name='target.credential.type'][value=basic]")
        .await;
    w.fill("target.credential.username", "admin").await;
    w.fill("target.credential.password", JIRA_PASSWORD).await;
}

async fn create_app_seeing_the_regex_error_first(w: &World) {
    w.click("a.button.primary[href='/new-app']").await;
    w.wait_for_text("h1", "New app").await;
    fill_app(w, "(.*@.*").await;
    w.click("form button.primary[type=submit]:not([form])")
        .await;
    w.wait_for("[id='policy.username.regex-error']").await;
    let error = w
        .wait_for_text("[id='policy.username.regex-error']", "")
        .await;
    assert!(
        error.len() > 5,
        "the regex error says what is wrong: {error}"
    );
    w.client
        .execute(
            "document.getElementById('policy.username.regex').scrollIntoView({block: 'center'})",
            vec![],
        )
        .await
        .expect("scrolls");
    w.screenshot("03-settings-regex-error").await;
    let source = w.source().await;
    assert!(
        !source.contains(w.okta.api_token()) && !source.contains(JIRA_PASSWORD),
        "secrets are not sent back"
    );
    fill_app(w, "(.*)@.*").await;
    w.fill("sample_login", "demouser@example.com").await;
    w.wait_for_text("#regex-result", "becomes demouser").await;
    w.click("form button.primary[type=submit]:not([form])")
        .await;
    w.wait_for_text(".flash.ok", "App created.").await;
    let source = w.source().await;
    assert!(source.contains("data-secret-state=\"okta.credential.token\">set<"));
    assert!(!source.contains(w.okta.api_token()) && !source.contains(JIRA_PASSWORD));
}

async fn test_connection_preview_and_synchronize(w: &World) -> String {
    w.click("button[hx-post$='/check']").await;
    w.wait_for_text("#check-result", "all checks passed").await;
    w.screenshot("04-settings-test-connection").await;
    w.click("a.button[href$='/preview']").await;
    w.wait_for_text("h1", "Preview").await;
    w.wait_for("#plan tr[data-kind=create_user]").await;
    w.screenshot("05-preview").await;
    w.click(".page-head form button.primary").await;
    w.wait_for("#live-run[data-state=finished]").await;
    let status = w.wait_for_text("[data-run-status]", "succeeded").await;
    w.screenshot("06-synchronize-finished").await;
    w.click("#live-run a.button.primary").await;
    w.wait_for("#operations").await;
    w.wait_for_text("#operations", "applied").await;
    w.screenshot("07-run-operations").await;
    // At 768 px the rule and outcome columns keep a readable width (the "What" column yields).
    let widths = w
        .widths_at(
            768,
            &[
                "#operations th.col-rule",
                "#operations th.col-outcome",
                "#operations th.col-what",
            ],
        )
        .await;
    assert!(
        widths[0] >= 120.0 && widths[1] >= 80.0,
        "rule and outcome at 768 px: {widths:?}"
    );
    assert!(
        widths[2] < 1.0,
        "the What column is hidden at 768 px: {widths:?}"
    );
    status
}

async fn approve_a_held_run(w: &World) {
    let snapshot = w.okta.snapshot();
    for user in snapshot
        .users
        .iter()
        .filter(|u| u.status == OktaStatus::Active)
        .take(10)
    {
        w.okta
            .set_status(user.id.as_str(), OktaStatus::Suspended)
            .expect("suspended in Okta");
    }
    w.goto("/").await;
    w.wait_for_text("table", "Jira production").await;
    w.screenshot("08-apps").await;
    w.click("button[aria-label='Synchronize Jira production']")
        .await;
    w.wait_for("#live-run[data-state=finished]").await;
    w.wait_for_text("[data-run-status]", "held").await;
    w.click("#live-run a.button.primary").await;
    w.wait_for_text(".flash.warn", "held for approval").await;
    w.screenshot("09-held-run").await;
    let pending = w.source().await.matches("badge pending").count();
    assert_eq!(pending, 10, "the ten deactivations wait for approval");
    w.click(".page-head form[action$='/approve'] button").await;
    w.accept_confirmation().await;
    w.wait_for_text(".flash.ok", "Approved. The run's outcome is shown below.")
        .await;
    w.wait_for_text("[data-run-status]", "succeeded").await;
    let deactivated = w.jira.users().into_iter().filter(|u| !u.active).count();
    assert!(
        deactivated >= 10,
        "the approved deactivations were applied ({deactivated})"
    );
    w.goto("/runs").await;
    w.wait_for_text("table", "succeeded").await;
    w.screenshot("10-runs").await;
    w.goto("/audit").await;
    w.wait_for_text("table", "app.create").await;
    w.screenshot("11-audit").await;
}

/// Login-time sync from the app's page: Generate secret (shown once), switch the hook on
/// and save with Enter (Enter saves; it never presses a section's action), then Register
/// in Okta, which the emulated Okta verifies against this very server.
async fn set_up_login_time_sync(w: &World) {
    w.goto("/apps/Jira%20production").await;
    w.wait_for_text("#section-login-sync legend", "Login-time sync")
        .await;
    w.click("button[formaction$='/hook-secret']").await;
    let secret = w.wait_for_text("#new-hook-secret pre", "").await;
    assert!(
        secret.trim().len() >= 43,
        "the secret is shown once: {secret:?}"
    );
    w.screenshot("12-login-time-sync-secret").await;
    w.click("[id='events.hook_enabled']").await;
    let name = w
        .client
        .find(fantoccini::Locator::Id("name"))
        .await
        .expect("the name field");
    name.send_keys("\u{E007}").await.expect("Enter");
    w.wait_for_text(".flash.ok", "Settings saved.").await;
    assert!(
        !w.source().await.contains(secret.trim()),
        "never shown again"
    );
    w.click("button[formaction$='/hook-register']").await;
    w.wait_for_text("#hook-result", "verified").await;
    w.screenshot("13-login-time-sync-registered").await;
    let hooks = w.okta.event_hooks();
    assert_eq!(hooks.len(), 1);
    assert!(
        hooks[0].verified && hooks[0].uri.ends_with("/hooks/okta/Jira%20production"),
        "{hooks:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_sets_up_an_app_previews_synchronizes_and_approves_a_held_run() {
    let Some((chromium, chromedriver)) = browser_binaries() else {
        return;
    };
    let w = World::start(&chromium, &chromedriver).await;
    create_first_admin_and_sign_in(&w).await;
    create_app_seeing_the_regex_error_first(&w).await;
    let status = test_connection_preview_and_synchronize(&w).await;
    assert!(status.contains("succeeded"));
    approve_a_held_run(&w).await;
    set_up_login_time_sync(&w).await;
    w.stop().await;
}
