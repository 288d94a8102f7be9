//! Secrets: encrypted at rest, write-only, references resolved when used.

use secrecy::ExposeSecret as _;
use tempfile::TempDir;
use usersync_store::{
    AuditFilter, MasterKey, OktaCredential, SecretInput, SecretSlot, SecretState, Store,
    StoreError, apps_to_toml,
};

use crate::common::{JIRA_PAT, OKTA_TOKEN, draft, temp_store};

/// Every byte of every database file (main, WAL, shared memory) in `dir`.
fn database_bytes(dir: &std::path::Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("usersync.db")
        {
            bytes.extend(std::fs::read(&path).unwrap());
        }
    }
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn secret_values_are_encrypted_in_the_database_files() {
    let (dir, store) = temp_store().await;
    let app = store.create_app(draft("Jira"), "test").await.unwrap();
    // Before closing (WAL not yet checkpointed) and after.
    let live = database_bytes(dir.path());
    assert!(
        contains(&live, "jira.example.com"),
        "the raw bytes are searched correctly"
    );
    assert!(!contains(&live, OKTA_TOKEN) && !contains(&live, JIRA_PAT));
    store.close().await;
    let closed = database_bytes(dir.path());
    assert!(!contains(&closed, OKTA_TOKEN) && !contains(&closed, JIRA_PAT));
    assert!(contains(&closed, "jira.example.com"));
    drop(app);
}

#[tokio::test]
async fn stored_values_are_resolved_only_through_resolve_secret() {
    let dir = TempDir::new().unwrap();
    let key = MasterKey::generate();
    let store = Store::open_with_key(dir.path(), key.clone()).await.unwrap();
    store.create_app(draft("Jira"), "test").await.unwrap();
    store.close().await;
    let store = Store::open_with_key(dir.path(), key).await.unwrap();
    let app = store.app_by_name("jira").await.unwrap();
    let token = store
        .resolve_secret(&app, SecretSlot::OktaApiToken)
        .await
        .unwrap();
    assert_eq!(token.expose_secret(), OKTA_TOKEN);
    let pat = store
        .resolve_secret(&app, SecretSlot::TargetToken)
        .await
        .unwrap();
    assert_eq!(pat.expose_secret(), JIRA_PAT);
    let err = store
        .resolve_secret(&app, SecretSlot::HookSecret)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn reads_debug_json_audit_and_exports_never_show_secret_values() {
    let (_dir, store) = temp_store().await;
    let mut d = draft("Jira");
    d.events.hook_enabled = true;
    d.events.hook_secret = SecretInput::from_text("hook-SECRET-value-998877");
    let draft_debug = format!("{d:?}");
    let app = store.create_app(d, "test").await.unwrap();
    let listed = store.list_apps().await.unwrap();
    let audit = store.audit_log(&AuditFilter::default(), 10).await.unwrap();
    let views = [
        draft_debug,
        format!("{app:?}"),
        format!("{listed:?}"),
        serde_json::to_string(&app).unwrap(),
        apps_to_toml(&listed),
        format!("{audit:?}"),
        format!("{store:?}"),
    ];
    for view in &views {
        for secret in [OKTA_TOKEN, JIRA_PAT, "hook-SECRET-value-998877"] {
            assert!(!view.contains(secret), "{secret} leaked into: {view}");
        }
    }
    assert_eq!(app.events.hook_secret, SecretState::Stored);
    assert!(
        serde_json::to_string(&app)
            .unwrap()
            .contains(r#""state":"stored""#)
    );
}

#[tokio::test]
async fn references_are_kept_as_references_and_resolved_when_used() {
    let (dir, store) = temp_store().await;
    let secret_file = dir.path().join("okta-token");
    std::fs::write(&secret_file, "token-from-a-file\n").unwrap();
    let mut d = draft("Jira");
    d.okta.credential = OktaCredential::ApiToken {
        token: SecretInput::from_text(&format!("file:{}", secret_file.display())),
    };
    d.target.credential = usersync_store::TargetCredential::Pat {
        token: SecretInput::from_text("env:USERSYNC_TEST_NOT_SET_ANYWHERE"),
    };
    let app = store.create_app(d, "test").await.unwrap();
    let OktaCredential::ApiToken { token } = &app.okta.credential else {
        panic!("api token expected");
    };
    assert_eq!(
        *token,
        SecretState::Reference(format!("file:{}", secret_file.display()))
    );
    let value = store
        .resolve_secret(&app, SecretSlot::OktaApiToken)
        .await
        .unwrap();
    assert_eq!(value.expose_secret(), "token-from-a-file");

    // A rotated file is read again on the next use.
    std::fs::write(&secret_file, "rotated").unwrap();
    let value = store
        .resolve_secret(&app, SecretSlot::OktaApiToken)
        .await
        .unwrap();
    assert_eq!(value.expose_secret(), "rotated");

    let err = store
        .resolve_secret(&app, SecretSlot::TargetToken)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::SecretReference { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("env:USERSYNC_TEST_NOT_SET_ANYWHERE"),
        "{err}"
    );
}
