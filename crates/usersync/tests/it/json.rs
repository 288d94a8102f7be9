//! Every `--output json` of the binary in one envelope: a `version`, names rather
//! than internal ids, no Rust enum encodings, and the documented top-level shapes
//! (README "JSON output", `cli::report`).

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;
use tempfile::TempDir;
use usersync_testkit::Sims;

use crate::cli::{text, usersync_async, usersync_with};
use usersync_testkit::small_org;

/// Where `value` holds a Rust enum encoding: an object whose one key is a
/// CamelCase variant name (`{"Ok": "alice"}`, `{"Held": {...}}`), or the internal
/// id of an app (Okta's ids, such as `okta_id`, are what Okta calls them).
fn enum_encodings(value: &Value, at: &str, found: &mut Vec<String>) {
    match value {
        Value::Object(fields) => {
            if fields.len() == 1
                && let Some(key) = fields.keys().next()
                && is_variant_name(key)
            {
                found.push(format!("{at}: {{\"{key}\": ...}}"));
            }
            for (key, inner) in fields {
                if key == "app_id" {
                    found.push(format!("{at}.{key}: an internal id"));
                }
                enum_encodings(inner, &format!("{at}.{key}"), found);
            }
        }
        Value::Array(items) => {
            for (i, inner) in items.iter().enumerate() {
                enum_encodings(inner, &format!("{at}[{i}]"), found);
            }
        }
        _ => {}
    }
}

/// A Rust variant name as serde writes it: `Ok`, `Held`, `UniquenessUnknown`
/// (CamelCase), not data such as Okta's group type `OKTA_GROUP` used as a map key.
fn is_variant_name(key: &str) -> bool {
    key.starts_with(|c: char| c.is_ascii_uppercase())
        && key.chars().any(|c| c.is_ascii_lowercase())
        && key.chars().all(|c| c.is_ascii_alphanumeric())
}

/// Runs a command with `--output json`, asserting it worked and its JSON is in the
/// envelope; returns the document.
async fn json_of(dir: &Path, args: &[&str]) -> Value {
    let mut args = args.to_vec();
    args.extend(["--output", "json"]);
    let out = usersync_async(dir, &args).await;
    assert!(
        out.status.success(),
        "{args:?}: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e}): {}", text(&out.stdout)));
    assert_eq!(doc["version"], 1, "{args:?}: {doc}");
    let mut found = Vec::new();
    enum_encodings(&doc, "$", &mut found);
    assert!(found.is_empty(), "{args:?}: {found:?}\n{doc}");
    doc
}

fn keys(value: &Value) -> BTreeSet<&str> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .map(String::as_str)
        .collect()
}

fn set<'a>(names: &[&'a str]) -> BTreeSet<&'a str> {
    names.iter().copied().collect()
}

const RUN: &[&str] = &[
    "id",
    "app",
    "trigger",
    "status",
    "started_at",
    "finished_at",
    "work_seconds",
    "counts",
    "reason",
    "decided_by",
    "decided_at",
    "sync_kind",
    "sync_kind_reason",
];
const REPORT: &[&str] = &[
    "version", "app", "run_id", "mode", "status", "reasons", "plan", "results", "okta", "target",
    "seconds", "summary", "sync",
];

#[tokio::test(flavor = "multi_thread")]
async fn every_json_output_has_the_version_names_not_ids_and_no_enum_encodings() {
    let sims = Sims::start(small_org(12, 3, 5)).await;
    let snapshot = sims.okta.snapshot();
    let active = snapshot
        .users
        .iter()
        .find(|u| u.status == usersync_core::OktaStatus::Active)
        .unwrap();
    let login = active.login.clone();
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let file = d.join("apps.toml");
    std::fs::write(&file, sims.app("jira").to_string()).unwrap();
    let applied = usersync_async(d, &["app", "apply", "-f", file.to_str().unwrap()]).await;
    assert!(applied.status.success(), "{}", text(&applied.stderr));

    let plan = json_of(d, &["plan", "--app", "jira"]).await;
    assert_eq!(keys(&plan), set(REPORT));
    assert_eq!(plan["mode"], "dry_run");
    let sync = json_of(d, &["sync", "--app", "jira"]).await;
    assert_eq!(keys(&sync), set(REPORT));
    assert_eq!(
        (sync["app"].as_str(), sync["run_id"].as_i64()),
        (Some("jira"), Some(1))
    );
    let all = json_of(d, &["sync", "--all"]).await;
    assert_eq!(keys(&all), set(&["version", "runs"]));
    assert_eq!(keys(&all["runs"][0]), set(&REPORT[1..]), "{all}");
    let user = json_of(d, &["sync-user", "--app", "jira", &login]).await;
    assert_eq!(keys(&user), set(REPORT));

    let listed = json_of(d, &["run", "list"]).await;
    assert_eq!(keys(&listed), set(&["version", "runs"]));
    let runs = listed["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 3, "{listed}");
    for run in runs {
        assert_eq!(keys(run), set(RUN));
        assert_eq!(run["app"], "jira");
    }
    let shown = json_of(d, &["run", "show", "1"]).await;
    assert_eq!(keys(&shown), set(&["version", "run", "operations"]));
    assert_eq!(keys(&shown["run"]), set(RUN));
    assert_eq!(shown["run"]["status"], "succeeded");
    assert_eq!(
        keys(&shown["operations"][0]),
        set(&[
            "seq",
            "kind",
            "subject",
            "rule",
            "description",
            "outcome",
            "error"
        ])
    );

    let check = json_of(d, &["check", "--app", "jira"]).await;
    assert_eq!(keys(&check), set(&["version", "app", "ok", "lines"]));
    let explained = json_of(d, &["explain", "--app", "jira", &login]).await;
    assert_eq!(
        keys(&explained),
        set(&[
            "version",
            "attributes",
            "login",
            "okta",
            "target",
            "mapped_username",
            "in_scope",
            "scope",
            "status",
            "skipped",
            "ops",
            "guard",
            "group_notes",
        ])
    );
    assert_eq!(
        explained["mapped_username"]["state"], "usable",
        "{explained}"
    );
    assert_eq!(
        explained["mapped_username"]["username"],
        login.to_lowercase().as_str(),
        "{explained}"
    );

    let apps = json_of(d, &["app", "list"]).await;
    assert_eq!(keys(&apps), set(&["version", "apps"]));
    assert_eq!(apps["apps"][0]["name"], "jira");
    let app = json_of(d, &["app", "show", "jira"]).await;
    assert_eq!(app["name"], "jira");
    assert!(app.get("id").is_none(), "{app}");
    let env = [("USERSYNC_ADMIN_PASSWORD", "a long enough password")];
    assert!(
        usersync_with(d, &["admin", "create", "root"], &env)
            .status
            .success()
    );
    let admins = json_of(d, &["admin", "list"]).await;
    assert_eq!(admins["administrators"][0]["username"], "root");
    assert!(
        usersync_with(d, &["token", "create", "ci", "--scope", "read"], &[])
            .status
            .success()
    );
    let tokens = json_of(d, &["token", "list"]).await;
    assert_eq!(tokens["tokens"][0]["name"], "ci");
    let read = json_of(d, &["okta-read", "--users", "20", "--groups", "2"]).await;
    assert_eq!(
        (read["users"].as_u64(), read["complete"].as_bool()),
        (Some(20), Some(true))
    );
}

#[test]
fn the_enum_encoding_check_finds_rust_enums_and_internal_ids() {
    let mut found = Vec::new();
    let doc = serde_json::json!({
        "mapped": { "Ok": "alice" },
        "guard": { "Held": { "reasons": [] } },
        "fine": { "state": "usable", "username": "alice" },
        "list": [{ "app_id": 3 }],
        "groups_by_type": { "OKTA_GROUP": 2 },
        "run_id": 4,
    });
    enum_encodings(&doc, "$", &mut found);
    assert_eq!(
        found,
        vec![
            "$.guard: {\"Held\": ...}",
            "$.list[0].app_id: an internal id",
            "$.mapped: {\"Ok\": ...}",
        ]
    );
}
