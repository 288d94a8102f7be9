//! Notification settings: stored beside the app, their secrets sealed, write-only and
//! bound to where they are sent.

use usersync_store::{SecretSlot, SecretState, apps_from_toml, apps_to_toml};

use crate::common::temp_store;
use usersync_testkit::{Backend, on_both_stores};

const WEBHOOK: &str = "https://hooks.example.com/services/T0/B0/webhookSECRET-3e1a";
const SMTP_PASSWORD: &str = "smtpSECRET-pass-77c1";

fn file(smtp_host: &str, password: Option<&str>) -> String {
    let password = password.map_or(String::new(), |p| format!(", password = \"{p}\""));
    format!(
        r#"
[[app]]
name = "Jira"
[app.okta]
url = "https://example.okta.com"
credential = {{ type = "api_token", token = "00oktaSECRETtoken-6f1e2d3c4b5a" }}
[app.target]
kind = "jira"
url = "https://jira.example.com"
credential = {{ type = "pat", token = "jiraPATsecret-NDU2Nzg5MDEyMzQ1" }}
[app.notify]
on = ["held", "login_refused"]
webhook = {{ url = "{WEBHOOK}" }}
[app.notify.email]
to = ["ops@example.com"]
from = "usersync@example.com"
smtp = {{ host = "{smtp_host}", username = "usersync"{password} }}
"#
    )
}

async fn notification_settings_round_trip_and_their_secrets_are_never_exported(backend: Backend) {
    let (_dir, store) = temp_store(backend).await;
    let drafts = apps_from_toml(&file("smtp.example.com", Some(SMTP_PASSWORD))).unwrap();
    store.apply_apps(drafts, "test").await.unwrap();
    let app = store.app_by_name("Jira").await.unwrap();

    let email = app.notify.email.as_ref().unwrap();
    assert_eq!(email.smtp.port, 587, "submission is the default port");
    assert!(email.smtp.starttls, "STARTTLS is on by default");
    assert_eq!(
        app.notify.webhook.as_ref().unwrap().url,
        SecretState::Stored
    );
    let password = store.resolve_secret(&app, SecretSlot::SmtpPassword).await;
    assert_eq!(
        secrecy::ExposeSecret::expose_secret(&password.unwrap()),
        SMTP_PASSWORD
    );
    let exported = apps_to_toml(std::slice::from_ref(&app));
    assert!(
        !exported.contains(WEBHOOK) && !exported.contains(SMTP_PASSWORD),
        "{exported}"
    );
    assert!(exported.contains("notify.webhook.url"), "{exported}");

    // The export applied again keeps the stored secrets and changes nothing.
    let again = store
        .apply_apps(apps_from_toml(&exported).unwrap(), "test")
        .await
        .unwrap();
    assert_eq!(again.unchanged, ["Jira"]);
    let api_json = serde_json::to_string(&store.app_by_name("Jira").await.unwrap()).unwrap();
    assert!(!api_json.contains("webhookSECRET") && !api_json.contains(SMTP_PASSWORD));
}

async fn moving_the_smtp_server_asks_for_its_password_again(backend: Backend) {
    let (_dir, store) = temp_store(backend).await;
    let drafts = apps_from_toml(&file("smtp.example.com", Some(SMTP_PASSWORD))).unwrap();
    store.apply_apps(drafts, "test").await.unwrap();

    let moved = apps_from_toml(&file("smtp.attacker.example", None)).unwrap();
    let err = store.apply_apps(moved, "test").await.unwrap_err();

    let text = err.to_string();
    assert!(text.contains("notify.email.smtp.password"), "{text}");
    assert!(text.contains("smtp://smtp.attacker.example:587"), "{text}");
    let app = store.app_by_name("Jira").await.unwrap();
    assert_eq!(app.notify.email.unwrap().smtp.host, "smtp.example.com");
}

async fn plain_smtp_to_a_remote_server_is_refused_with_the_field_and_the_fix(backend: Backend) {
    let text = file("smtp.example.com", Some(SMTP_PASSWORD)).replace(
        "username = \"usersync\"",
        "username = \"usersync\", starttls = false",
    );
    let (_dir, store) = temp_store(backend).await;
    let err = store
        .apply_apps(apps_from_toml(&text).unwrap(), "test")
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("app[0].notify.email.smtp.starttls"), "{text}");
    assert!(text.contains("starttls = true"), "{text}");
}

on_both_stores!(
    notification_settings_round_trip_and_their_secrets_are_never_exported,
    moving_the_smtp_server_asks_for_its_password_again,
    plain_smtp_to_a_remote_server_is_refused_with_the_field_and_the_fix,
);
