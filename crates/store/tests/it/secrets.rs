//! Secrets: encrypted at rest, write-only, references resolved when used.

use secrecy::ExposeSecret as _;
use tempfile::TempDir;
use usersync_store::{
    AuditFilter, MasterKey, OktaCredential, SecretInput, SecretSlot, SecretState, Store,
    StoreError, apps_to_toml,
};

use crate::common::{JIRA_PAT, OKTA_TOKEN, draft, temp_sqlite_store, temp_store};
use usersync_testkit::{Backend, on_both_stores};

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
    let (dir, store) = temp_sqlite_store().await;
    let app = store.create_app(draft("Jira"), "test").await.unwrap();
    // Before closing (WAL not yet checkpointed) and after.
    // A refused move to another origin writes nothing either.
    let mut moved = draft("Jira");
    moved.target.url = "https://elsewhere.example".into();
    moved.target.credential = usersync_store::TargetCredential::Pat {
        token: SecretInput::Keep,
    };
    assert!(store.update_app(app.id, moved, "test").await.is_err());
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

async fn reads_debug_json_audit_and_exports_never_show_secret_values(backend: Backend) {
    let (_dir, store) = temp_store(backend).await;
    let mut d = draft("Jira");
    d.events.hook_enabled = true;
    d.events.hook_secret = SecretInput::from_text("hook-SECRET-value-998877");
    let draft_debug = format!("{d:?}");
    let app = store.create_app(d, "test").await.unwrap();
    // The new paths: refusals of a moved URL and of a reference, and a stale resolve.
    let mut moved = draft("Jira");
    moved.okta.url = "https://elsewhere.example".into();
    moved.okta.credential = OktaCredential::ApiToken {
        token: SecretInput::Keep,
    };
    let moved_err = store.update_app(app.id, moved, "test").await.unwrap_err();
    let mut referring = draft("Jira");
    referring.target.credential = usersync_store::TargetCredential::Pat {
        token: SecretInput::from_text("env:USERSYNC_MASTER_KEY"),
    };
    let reference_err = store
        .update_app(app.id, referring, "test")
        .await
        .unwrap_err();
    let listed = store.list_apps().await.unwrap();
    let audit = store.audit_log(&AuditFilter::default(), 10).await.unwrap();
    let views = [
        format!("{moved_err} {moved_err:?}"),
        format!("{reference_err} {reference_err:?}"),
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

async fn references_are_kept_as_references_and_resolved_when_used(backend: Backend) {
    let (_dir, store) = temp_store(backend).await;
    let secrets = TempDir::new().unwrap();
    let secret_file = secrets.path().join("okta-token");
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

/// The draft with every secret left out ("keep what is stored").
fn keeping(name: &str) -> usersync_store::AppDraft {
    let mut d = draft(name);
    d.okta.credential = OktaCredential::ApiToken {
        token: SecretInput::Keep,
    };
    d.target.credential = usersync_store::TargetCredential::Pat {
        token: SecretInput::Keep,
    };
    d
}

async fn moving_a_url_to_another_origin_requires_that_sides_secret_again(backend: Backend) {
    let (_dir, store) = temp_store(backend).await;
    let app = store.create_app(draft("Jira"), "test").await.unwrap();
    let mut moved = keeping("Jira");
    moved.okta.url = "https://attacker.example.net".into();
    let err = store.update_app(app.id, moved, "test").await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "okta.credential.token: the Okta URL changed from https://example.okta.com to \
         https://attacker.example.net; enter the token again"
    );
    let mut moved = keeping("Jira");
    moved.target.url = "https://attacker.example.net:8443/jira".into();
    let err = store.update_app(app.id, moved, "test").await.unwrap_err();
    assert!(
        err.to_string().starts_with(
            "target.credential.token: the target URL changed from https://jira.example.com to \
             https://attacker.example.net:8443; enter the token again"
        ),
        "{err}"
    );
    // Nothing was saved, and the secrets still resolve for the original origins.
    let stored = store.get_app(app.id).await.unwrap();
    assert_eq!(stored.okta.url.as_str(), "https://example.okta.com/");
    let token = store
        .resolve_secret(&stored, SecretSlot::OktaApiToken)
        .await
        .unwrap();
    assert_eq!(token.expose_secret(), OKTA_TOKEN);
}

async fn a_secret_given_again_with_the_new_url_is_bound_to_the_new_origin(backend: Backend) {
    let (_dir, store) = temp_store(backend).await;
    let app = store.create_app(draft("Jira"), "test").await.unwrap();
    let mut moved = keeping("Jira");
    moved.okta.url = "https://new.okta.com".into();
    moved.okta.credential = OktaCredential::ApiToken {
        token: SecretInput::from_text("new-org-token"),
    };
    let moved = store.update_app(app.id, moved, "test").await.unwrap();
    let token = store
        .resolve_secret(&moved, SecretSlot::OktaApiToken)
        .await
        .unwrap();
    assert_eq!(token.expose_secret(), "new-org-token");
    // Moving back without the token is refused as well, and a stale copy of the app (still
    // pointing at the old origin) gets no secret.
    let back = store.update_app(app.id, keeping("Jira"), "test").await;
    assert!(
        back.is_err(),
        "the old org's token is gone; it must be given again"
    );
    let err = store
        .resolve_secret(&app, SecretSlot::OktaApiToken)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("enter the token again"), "{err}");
}

async fn an_unused_hook_secret_for_the_old_okta_org_is_dropped_when_the_okta_url_moves(
    backend: Backend,
) {
    let (_dir, store) = temp_store(backend).await;
    let mut d = draft("Jira");
    d.events.hook_secret = SecretInput::from_text("hook-secret-of-the-old-org");
    let app = store.create_app(d, "test").await.unwrap();
    assert_eq!(app.events.hook_secret, SecretState::Stored);
    let mut moved = draft("Jira");
    moved.okta.url = "https://new.okta.com".into();
    let moved = store.update_app(app.id, moved, "test").await.unwrap();
    assert_eq!(moved.events.hook_secret, SecretState::Unset);
    let mut hooked = keeping("Jira");
    hooked.okta.url = "https://other.okta.com".into();
    hooked.okta.credential = OktaCredential::ApiToken {
        token: SecretInput::from_text("t"),
    };
    hooked.events.hook_enabled = true;
    let err = store.update_app(app.id, hooked, "test").await.unwrap_err();
    assert!(err.to_string().starts_with("events.hook_secret:"), "{err}");
}

#[tokio::test]
async fn references_into_the_data_directory_or_to_the_master_key_are_refused_on_save() {
    let (dir, store) = temp_sqlite_store().await;
    for reference in [
        format!("file:{}", dir.path().join("master.key").display()),
        format!("file:{}", dir.path().join("usersync.db").display()),
        "env:USERSYNC_MASTER_KEY".to_owned(),
    ] {
        let mut d = draft("Jira");
        d.okta.credential = OktaCredential::ApiToken {
            token: SecretInput::from_text(&reference),
        };
        let err = store.create_app(d, "test").await.unwrap_err();
        assert!(
            err.to_string().starts_with("okta.credential.token:"),
            "{reference}: {err}"
        );
    }
    assert!(store.list_apps().await.unwrap().is_empty());
}

on_both_stores!(
    reads_debug_json_audit_and_exports_never_show_secret_values,
    references_are_kept_as_references_and_resolved_when_used,
    moving_a_url_to_another_origin_requires_that_sides_secret_again,
    a_secret_given_again_with_the_new_url_is_bound_to_the_new_origin,
    an_unused_hook_secret_for_the_old_okta_org_is_dropped_when_the_okta_url_moves,
);
