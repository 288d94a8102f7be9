//! Config as code: applying and exporting TOML files.

use pretty_assertions::assert_eq;
use secrecy::ExposeSecret as _;
use usersync_store::{
    ApplyReport, AuditFilter, SecretSlot, SecretState, StoreError, TargetCredential,
    apps_from_toml, apps_to_toml, unresolved_references,
};

use crate::common::temp_store;
use usersync_testkit::{Backend, on_both_stores};

const LITERAL_TOKEN: &str = "00literalOKTAtoken-abcdef123456";

fn apps_file() -> String {
    format!(
        r#"
[[app]]
name = "Jira production"
schedule = {{ every_minutes = 30 }}

[app.okta]
url = "https://example.okta.com"
credential = {{ type = "api_token", token = "{LITERAL_TOKEN}" }}

[app.target]
kind = "jira"
url = "https://jira.example.com"
credential = {{ type = "pat", token = "env:JIRA_PAT" }}

[app.policy]
default_groups_new_users = ["jira-software-users"]
protected_accounts = ["admin"]

[app.policy.toggles]
import_users = true
update_users = true
enable_disable_users = false

[app.policy.username]
regex = '^([^@]+)@example\.com$'
replacement = "$1"

[[app]]
name = "Wiki"
schedule = {{ cron = "0 */2 * * *" }}

[app.okta]
url = "https://example.okta.com"
credential = {{ type = "oauth", client_id = "0oa1service", key_id = "kid-1", private_key = "file:/etc/usersync/okta.pem" }}

[app.target]
kind = "confluence"
url = "https://wiki.example.com/confluence"
credential = {{ type = "basic", username = "svc-usersync", password = "env:WIKI_PASSWORD" }}

[app.events]
hook_enabled = true
hook_secret = "env:OKTA_HOOK_SECRET"
poll_system_log = true
poll_interval_seconds = 60
"#
    )
}

async fn apply_then_export_round_trips_a_toml_file(backend: Backend) {
    let (_dir, store) = temp_store(backend).await;
    let report = store
        .apply_apps(apps_from_toml(&apps_file()).unwrap(), "cli:ops")
        .await
        .unwrap();
    assert_eq!(
        report.created,
        vec!["Jira production".to_owned(), "Wiki".to_owned()]
    );

    let apps = store.list_apps().await.unwrap();
    let exported = apps_to_toml(&apps);
    assert!(!exported.contains(LITERAL_TOKEN), "{exported}");
    assert!(exported.contains("env:JIRA_PAT") && exported.contains("file:/etc/usersync/okta.pem"));
    assert!(exported.contains("env:OKTA_HOOK_SECRET"));
    assert!(
        exported.contains("# Jira production: stored (not exported): okta.credential.token"),
        "{exported}"
    );

    // Applying the export changes nothing, and the stored token is kept.
    let again = store
        .apply_apps(apps_from_toml(&exported).unwrap(), "cli:ops")
        .await
        .unwrap();
    let expected = ApplyReport {
        unchanged: vec!["Jira production".to_owned(), "Wiki".to_owned()],
        ..ApplyReport::default()
    };
    assert_eq!(again, expected);
    let jira = store.app_by_name("Jira production").await.unwrap();
    let token = store
        .resolve_secret(&jira, SecretSlot::OktaApiToken)
        .await
        .unwrap();
    assert_eq!(token.expose_secret(), LITERAL_TOKEN);
    assert!(!jira.policy.toggles.enable_disable_users);
    assert_eq!(jira.policy.username.replacement, "$1");
    assert_eq!(
        jira.policy.default_groups_new_users,
        vec!["jira-software-users".to_owned()]
    );
    assert_eq!(apps_to_toml(&store.list_apps().await.unwrap()), exported);

    let wiki = store.app_by_name("wiki").await.unwrap();
    let TargetCredential::Basic { username, password } = &wiki.target.credential else {
        panic!("basic credential expected");
    };
    assert_eq!(username, "svc-usersync");
    assert_eq!(
        *password,
        SecretState::Reference("env:WIKI_PASSWORD".into())
    );
    assert_eq!(wiki.events.poll_interval_seconds, 60);
}

async fn reapplying_a_changed_file_updates_and_audits_only_what_changed(backend: Backend) {
    let (_dir, store) = temp_store(backend).await;
    store
        .apply_apps(apps_from_toml(&apps_file()).unwrap(), "cli:ops")
        .await
        .unwrap();
    let changed = apps_file()
        .replace("every_minutes = 30", "every_minutes = 15")
        .replace(LITERAL_TOKEN, "00rotatedOKTAtoken-999");
    let report = store
        .apply_apps(apps_from_toml(&changed).unwrap(), "cli:ops")
        .await
        .unwrap();
    assert_eq!(report.updated, vec!["Jira production".to_owned()]);
    assert_eq!(report.unchanged, vec!["Wiki".to_owned()]);
    let log = store.audit_log(&AuditFilter::default(), 1).await.unwrap();
    assert_eq!(
        log[0].fields,
        vec!["schedule".to_owned(), "okta.credential.token".to_owned()]
    );
    assert!(!format!("{log:?}").contains("00rotatedOKTAtoken"));
}

async fn an_invalid_file_changes_nothing_and_names_the_app_and_field(backend: Backend) {
    let (_dir, store) = temp_store(backend).await;
    let broken = apps_file().replace(r#"kind = "confluence""#, r#"kind = "bamboo""#);
    let err = store
        .apply_apps(apps_from_toml(&broken).unwrap(), "cli:ops")
        .await
        .unwrap_err();
    match err {
        StoreError::Validation { field, message } => {
            assert_eq!(field, "app[1].target.kind");
            assert!(message.contains("bamboo"), "{message}");
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
    assert!(
        store.list_apps().await.unwrap().is_empty(),
        "the valid first app was not applied either"
    );

    let twice = format!(
        "{}\n{}",
        apps_file(),
        apps_file().replace("Jira production", "Other")
    );
    let err = store
        .apply_apps(apps_from_toml(&twice).unwrap(), "cli:ops")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("appears twice"), "{err}");
}

#[test]
fn toml_mistakes_are_reported_with_their_place() {
    let err = apps_from_toml("[[app]]\nname = \"x\"\nnmae = 1\n").unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("toml:"), "{text}");
    assert!(text.contains("nmae") || text.contains("line 3"), "{text}");
    assert!(apps_from_toml("").unwrap().is_empty());
}

#[test]
fn references_that_cannot_be_resolved_here_are_listed_by_field_without_values() {
    let text = apps_file()
        .replace("env:JIRA_PAT", "env:USERSYNC_TEST_SURELY_UNSET_PAT")
        .replace(LITERAL_TOKEN, "file:/nonexistent/usersync-okta-token");
    let drafts = apps_from_toml(&text).unwrap();
    let unresolved = unresolved_references(&drafts[0]);
    let fields: Vec<&str> = unresolved.iter().map(|(field, _)| *field).collect();
    assert_eq!(fields, ["okta.credential.token", "target.credential.token"]);
    assert!(
        unresolved[1]
            .1
            .contains("USERSYNC_TEST_SURELY_UNSET_PAT is not set"),
        "{unresolved:?}"
    );
    let literal = apps_from_toml(&apps_file().replace("env:JIRA_PAT", LITERAL_TOKEN)).unwrap();
    assert!(unresolved_references(&literal[0]).is_empty());
}

on_both_stores!(
    apply_then_export_round_trips_a_toml_file,
    reapplying_a_changed_file_updates_and_audits_only_what_changed,
    an_invalid_file_changes_nothing_and_names_the_app_and_field,
);
