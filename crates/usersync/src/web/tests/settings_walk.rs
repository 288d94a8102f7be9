//! Every setting an app has is on the settings form: a fully populated app (no value
//! left at its default) is rendered, every path of its draft has a label in the one
//! label table and a field in the page, and submitting the page as a browser would
//! leaves the app exactly as it was. A setting added to the draft without its field
//! fails here.

use axum::http::StatusCode;
use pretty_assertions::assert_eq;
use serde_json::Value;
use usersync_core::app::SecretSlot;
use usersync_core::app::labels::{SETTINGS, setting};

use super::form::submitted;
use super::{Harness, get, post};
use crate::web::adapter::convert::{draft_json, new_draft_json, pointer};

/// An app with every setting away from its default.
const FULL: &str = r#"
[[app]]
name = "Jira everything"
schedule = { cron = "0 */2 * * *" }

[app.okta]
url = "https://acme.okta.com"
credential = { type = "oauth", client_id = "0oa123", key_id = "kid-1", private_key = "-----BEGIN PRIVATE KEY-----" }

[app.target]
kind = "confluence"
url = "https://wiki.example.com/confluence"
credential = { type = "basic", username = "svc-sync", password = "target-pw" }

[app.policy]
default_groups_new_users = ["confluence-users", "staff"]
default_groups_all_users = ["everyone-synced"]
departed = "delete"
adopt_existing = false
protected_accounts = ["admin", "svc-backup"]
delete_groups = true
group_renames = "recreate"
full_reconcile_hours = 6

[[app.policy.group_map]]
okta_group_id = "00g1eng"
okta_group_name = "Engineering"
target_group = "confluence-users"

[[app.policy.group_map]]
okta_group_id = "00g2docs"
okta_group_name = "Docs & Writers"
target_group = "confluence-users"

[app.policy.toggles]
import_users = false
update_users = false
enable_disable_users = false

[app.policy.username]
regex = '^([^@]+)@acme\.com$'
replacement = "$1"

[app.policy.attributes]
display_name = "{nickName} ({costCenter})"
email = "secondEmail"

[app.policy.scope]
only_members_of = ["Engineering", "Sales & Marketing"]
group_types = ["APP_GROUP", "BUILT_IN"]
group_include = "^team-"
group_exclude = "-old$"
# In the order the form lists statuses (Okta's), as a set has no other.
import_statuses = ["STAGED", "ACTIVE"]

[app.policy.group_naming]
prefix = "okta-"
regex = '^team-(.*)$'
replacement = "$1"

[app.policy.limits]
max_destructive = 7
max_destructive_percent = 2.5
percent_applies_above = 11
window_minutes = 45

[app.events]
hook_enabled = true
event_types = ["user.session.start", "group.lifecycle.create", "user.account.lock"]
hook_secret = "hook-secret-value"
poll_system_log = true
poll_interval_seconds = 120

[app.notify]
on = ["failed", "login_refused"]
webhook = { url = "https://hooks.example.com/services/T0/B0/xyz" }

[app.notify.email]
to = ["ops@example.com", "lead@example.com"]
from = "usersync@example.com"
# STARTTLS off (away from its default) is allowed only for a relay on loopback.
smtp = { host = "localhost", port = 2525, username = "relay-user", password = "smtp-pw", starttls = false }
"#;

/// Every leaf path of a draft's JSON (list entries under their list's path).
fn leaves(value: &Value, path: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(fields) => {
            for (key, field) in fields {
                let next = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                leaves(field, &next, out);
            }
        }
        Value::Null => {}
        _ => out.push(path.to_owned()),
    }
}

#[tokio::test]
async fn every_setting_of_a_fully_populated_app_has_a_labelled_field_and_the_form_round_trips_it() {
    let h = Harness::new().await;
    let b = h.admin().await;
    let drafts = usersync_store::apps_from_toml(FULL).expect("the TOML is valid");
    h.store.apply_apps(drafts, "tests").await.expect("stored");
    let before = h.store.app_by_name("Jira everything").await.unwrap();
    let draft = draft_json(&before);

    let mut paths = Vec::new();
    leaves(&draft, "", &mut paths);
    paths.extend(SecretSlot::ALL.iter().map(|s| s.field().to_owned()));
    let defaults = new_draft_json();
    for path in &paths {
        assert!(
            setting(path).is_some(),
            "{path} has no label in usersync_core::app::labels"
        );
        if let Some(value) = draft.pointer(&pointer(path)) {
            assert_ne!(
                Some(value),
                defaults.pointer(&pointer(path)),
                "{path} is at its default: the test app must set every setting"
            );
        }
    }

    let page = h
        .call(get("/apps/Jira%20everything").cookie(&b.cookie))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let fields = submitted(&page.body, "app-form");
    for s in SETTINGS {
        assert!(
            page.body.contains(&format!("name=\"{}\"", s.path)),
            "the form has no field for {} ({})",
            s.path,
            s.label
        );
        assert!(
            page.body.contains(s.label) || page.body.contains(&s.label.replace('&', "&amp;")),
            "{} is not labelled {:?}",
            s.path,
            s.label
        );
    }
    for path in paths.iter().filter(|p| SecretSlot::from_field(p).is_none()) {
        assert!(
            fields.iter().any(|(k, _)| k == path),
            "the form submits no value for {path}"
        );
    }

    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let saved = h
        .call(
            post("/apps/Jira%20everything")
                .cookie(&b.cookie)
                .form(&pairs),
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let after = h.store.app_by_name("Jira everything").await.unwrap();
    assert_eq!(
        draft_json(&after),
        draft,
        "submitting the form unchanged changes nothing"
    );
    let states = |app: &usersync_store::App| -> Vec<String> {
        app.secret_states()
            .iter()
            .map(|(slot, state)| format!("{}={state:?}", slot.field()))
            .collect()
    };
    assert_eq!(states(&after), states(&before), "secrets are kept");
}
