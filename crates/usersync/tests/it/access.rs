//! `usersync admin list|delete|passwd` and `usersync token create|list|rotate|revoke`
//! through the real binary: scopes and expiry, the last administrator kept, and the
//! audit log naming `cli:<login name>`.

use pretty_assertions::assert_eq;
use tempfile::TempDir;
use usersync_store::{AuditFilter, Store};

use crate::cli::{text, usersync_with};

const PASSWORD: [(&str, &str); 2] = [
    ("USERSYNC_ADMIN_PASSWORD", "correct horse battery staple"),
    ("USER", "ops"),
];

fn run(dir: &TempDir, args: &[&str]) -> (bool, String, String) {
    let out = usersync_with(dir.path(), args, &PASSWORD);
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

#[test]
fn tokens_are_created_with_scopes_listed_rotated_and_revoked_from_the_command_line() {
    let dir = TempDir::new().unwrap();
    let (ok, value, err) = run(
        &dir,
        &[
            "token",
            "create",
            "ci",
            "--scope",
            "sync,read",
            "--expires-in",
            "90d",
        ],
    );
    assert!(ok, "{err}");
    let value = value.trim().to_owned();
    assert!(value.starts_with("ust_"), "{value}");
    let (ok, _, err) = run(&dir, &["token", "create", "ci", "--scope", "read"]);
    assert!(!ok);
    assert!(
        err.contains("already exists") && err.contains("rotate"),
        "{err}"
    );
    let (ok, _, err) = run(&dir, &["token", "create", "x", "--scope", "write"]);
    assert!(
        !ok && err.contains("--scope") && err.contains("\"write\""),
        "{err}"
    );
    let (ok, _, err) = run(
        &dir,
        &[
            "token",
            "create",
            "x",
            "--scope",
            "read",
            "--expires-in",
            "soon",
        ],
    );
    assert!(!ok && err.contains("--expires-in"), "{err}");

    let (ok, list, err) = run(&dir, &["token", "list"]);
    assert!(ok, "{err}");
    assert!(list.contains("ci") && list.contains("read sync"), "{list}");
    assert!(!list.contains(&value), "a listing never shows the value");
    let (ok, json, _) = run(&dir, &["token", "list", "--output", "json"]);
    assert!(ok);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        json["tokens"][0]["scopes"],
        serde_json::json!(["read", "sync"])
    );
    assert!(json["tokens"][0]["expires_at"].is_string(), "{json}");

    let (ok, rotated, err) = run(&dir, &["token", "rotate", "ci"]);
    assert!(ok, "{err}");
    assert_ne!(rotated.trim(), value);
    let (ok, _, err) = run(&dir, &["token", "revoke", "ci"]);
    assert!(ok, "{err}");
    let (ok, _, err) = run(&dir, &["token", "revoke", "ci"]);
    assert!(!ok && err.contains("not found"), "{err}");

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let entries = runtime.block_on(async {
        let store = Store::open(dir.path()).await.unwrap();
        store.audit_log(&AuditFilter::default(), 10).await.unwrap()
    });
    let seen: Vec<_> = entries
        .iter()
        .map(|e| (e.actor.as_str(), e.action.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            ("cli:ops", "api_token.revoke"),
            ("cli:ops", "api_token.rotate"),
            ("cli:ops", "api_token.create"),
        ]
    );
}

#[test]
fn administrators_are_listed_given_new_passwords_and_deleted_but_never_the_last() {
    let dir = TempDir::new().unwrap();
    for name in ["root", "alice"] {
        let (ok, _, err) = run(&dir, &["admin", "create", name]);
        assert!(ok, "{err}");
    }
    let (ok, list, _) = run(&dir, &["admin", "list"]);
    assert!(
        ok && list.contains("alice") && list.contains("root"),
        "{list}"
    );
    assert!(!list.contains("argon2"), "{list}");
    let (ok, out, err) = run(&dir, &["admin", "passwd", "alice"]);
    assert!(ok && out.contains("changed"), "{err}");
    let (ok, _, err) = run(&dir, &["admin", "passwd", "nobody"]);
    assert!(!ok && err.contains("not found"), "{err}");
    let (ok, _, err) = run(&dir, &["admin", "delete", "alice"]);
    assert!(ok, "{err}");
    let (ok, _, err) = run(&dir, &["admin", "delete", "root"]);
    assert!(!ok && err.contains("last administrator"), "{err}");
    let (_, list, _) = run(&dir, &["admin", "list"]);
    assert!(list.contains("root") && !list.contains("alice"), "{list}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sync_and_a_single_user_sync_from_the_command_line_are_audited_with_who_ran_them() {
    let sims = usersync_testkit::Sims::start(usersync_testkit::small_org(4, 1, 2)).await;
    let dir = TempDir::new().unwrap();
    let file = dir.path().join("apps.toml");
    std::fs::write(&file, sims.app("jira").to_string()).unwrap();
    let login = sims.okta.snapshot().users[0].login.clone();
    for args in [
        vec!["app", "apply", "-f", file.to_str().unwrap()],
        vec!["sync", "--app", "jira"],
        vec!["sync-user", "--app", "jira", &login],
    ] {
        let dir_path = dir.path().to_owned();
        let args: Vec<String> = args.into_iter().map(str::to_owned).collect();
        let (ok, _, err) = tokio::task::spawn_blocking(move || {
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = usersync_with(&dir_path, &refs, &PASSWORD);
            (out.status.success(), text(&out.stdout), text(&out.stderr))
        })
        .await
        .unwrap();
        assert!(ok, "{err}");
    }
    let store = Store::open(dir.path()).await.unwrap();
    let log = store.audit_log(&AuditFilter::default(), 50).await.unwrap();
    for action in ["run.sync", "run.sync_user"] {
        let entry = log
            .iter()
            .find(|e| e.action == action)
            .unwrap_or_else(|| panic!("no {action} in {log:?}"));
        assert_eq!(entry.actor, "cli:ops");
        assert_eq!(entry.app_name.as_deref(), Some("jira"), "{entry:?}");
    }
}
