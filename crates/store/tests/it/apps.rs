//! App validation, uniqueness, updates and their audit rows.

use pretty_assertions::assert_eq;
use usersync_store::{
    AppDraft, AuditFilter, OktaCredential, Schedule, SecretInput, SecretState, StoreError,
    TargetCredential, TargetKind,
};

use crate::common::{draft, temp_store};
use usersync_testkit::{Backend, on_both_stores};

fn refused_field(result: Result<usersync_store::App, StoreError>) -> (String, String) {
    match result {
        Err(StoreError::Validation { field, message }) => (field, message),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

type Mutation = fn(&mut AppDraft);

async fn each_invalid_field_is_refused_with_its_name(backend: Backend) {
    let (_dir, store) = temp_store(backend).await;
    let cases: Vec<(&str, Mutation)> = vec![
        ("name", |d| d.name = "   ".into()),
        ("okta.url", |d| {
            d.okta.url = "http://example.okta.com".into()
        }),
        ("okta.url", |d| d.okta.url = "not a url".into()),
        ("okta.credential.token", |d| {
            d.okta.credential = OktaCredential::ApiToken {
                token: SecretInput::Keep,
            }
        }),
        ("okta.credential.token", |d| {
            d.okta.credential = OktaCredential::ApiToken {
                token: SecretInput::from_text(""),
            }
        }),
        ("okta.credential.client_id", |d| {
            d.okta.credential = OktaCredential::OAuth {
                client_id: " ".into(),
                key_id: None,
                private_key: SecretInput::from_text("env:OKTA_KEY"),
            }
        }),
        ("okta.credential.private_key", |d| {
            d.okta.credential = OktaCredential::OAuth {
                client_id: "0oa1".into(),
                key_id: None,
                private_key: SecretInput::from_text("file:relative.pem"),
            }
        }),
        ("policy.username.regex", |d| {
            d.policy.username.regex = "([a-z".into()
        }),
        ("policy.username.replacement", |d| {
            d.policy.username.regex = "^([^@]+)@".into();
            d.policy.username.replacement = "$2".into();
        }),
        ("policy.username.replacement", |d| {
            d.policy.username.regex = "^(?P<user>[^@]+)@".into();
            d.policy.username.replacement = "${login}".into();
        }),
        ("target.kind", |d| d.target.kind = "bitbucket".into()),
        ("target.url", |d| {
            d.target.url = "ftp://jira.example.com".into()
        }),
        ("target.url", |d| {
            d.target.url = "http://jira.example.com".into()
        }),
        ("target.credential.password", |d| {
            d.target.credential = TargetCredential::Basic {
                username: "svc".into(),
                password: SecretInput::Keep,
            }
        }),
        ("target.credential.username", |d| {
            d.target.credential = TargetCredential::Basic {
                username: "".into(),
                password: SecretInput::from_text("pw"),
            }
        }),
        ("schedule.every_minutes", |d| {
            d.schedule = Schedule::EveryMinutes(0)
        }),
        ("schedule.cron", |d| {
            d.schedule = Schedule::Cron("every tuesday".into())
        }),
        ("events.hook_secret", |d| d.events.hook_enabled = true),
        ("events.poll_interval_seconds", |d| {
            d.events.poll_interval_seconds = 1
        }),
    ];
    for (expected, mutate) in cases {
        let mut d = draft("validation");
        mutate(&mut d);
        let (field, message) = refused_field(store.create_app(d, "test").await);
        assert_eq!(field, expected, "message was: {message}");
        assert!(!message.is_empty());
    }
    assert!(
        store.list_apps().await.unwrap().is_empty(),
        "nothing invalid was stored"
    );
}

async fn a_replacement_with_text_after_a_group_is_stored_as_the_engine_reads_it(backend: Backend) {
    let (_dir, store) = temp_store(backend).await;
    let mut d = draft("engine grammar");
    d.policy.username.regex = "^([^@]+)@".into();
    d.policy.username.replacement = "$1abc".into();
    let app = store.create_app(d, "test").await.unwrap();
    assert_eq!(app.policy.username.replacement, "$1abc");
}

async fn loopback_http_okta_urls_are_accepted_for_emulators(backend: Backend) {
    let (_dir, store) = temp_store(backend).await;
    let mut d = draft("emulated");
    d.okta.url = "http://127.0.0.1:18080".into();
    d.target.kind = "Confluence".into();
    d.schedule = Schedule::Cron("*/15 * * * *".into());
    d.policy.username.regex = "^(?P<user>[^@]+)@example\\.com$".into();
    d.policy.username.replacement = "${user}".into();
    let app = store.create_app(d, "test").await.expect("valid");
    assert_eq!(app.okta.url.as_str(), "http://127.0.0.1:18080/");
    assert_eq!(app.target.kind, TargetKind::Confluence);
    let now = chrono::Utc::now();
    let next = app.schedule.next_after(now).expect("cron fires");
    assert!(next > now && next <= now + chrono::Duration::minutes(15));
}

async fn app_names_are_unique_ignoring_case(backend: Backend) {
    let (_dir, store) = temp_store(backend).await;
    store.create_app(draft("Jira prod"), "test").await.unwrap();
    let err = store
        .create_app(draft("jira PROD"), "test")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::DuplicateName { .. }), "{err:?}");
    let other = store.create_app(draft("Confluence"), "test").await.unwrap();
    let err = store
        .update_app(other.id, draft("JIRA prod"), "test")
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::DuplicateName { .. }),
        "renaming onto a taken name: {err:?}"
    );
}

async fn an_update_keeps_omitted_secrets_and_audits_only_the_changed_fields(backend: Backend) {
    let (_dir, store) = temp_store(backend).await;
    let app = store.create_app(draft("Jira"), "alice").await.unwrap();
    let mut d = draft("Jira");
    d.okta.credential = OktaCredential::ApiToken {
        token: SecretInput::Keep,
    };
    d.target.credential = TargetCredential::Pat {
        token: SecretInput::Keep,
    };
    d.policy.toggles.enable_disable_users = false;
    // Another path at the same origin: the kept secrets stay bound to it.
    d.target.url = "https://jira.example.com/jira".into();
    let updated = store.update_app(app.id, d, "bob").await.unwrap();
    assert_eq!(updated.target.url.as_str(), "https://jira.example.com/jira");
    assert!(!updated.policy.toggles.enable_disable_users);
    assert!(matches!(
        updated.okta.credential,
        OktaCredential::ApiToken {
            token: SecretState::Stored
        }
    ));

    let log = store.audit_log(&AuditFilter::default(), 10).await.unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].actor, "bob");
    assert_eq!(log[0].action, "app.update");
    assert_eq!(
        log[0].fields,
        vec!["target.url".to_owned(), "policy.toggles".to_owned()]
    );
    assert_eq!(log[1].action, "app.create");
    assert!(log[1].fields.contains(&"okta.credential.token".to_owned()));

    // Saving the same configuration again changes nothing and writes no audit row.
    let mut same = draft("Jira");
    same.policy.toggles.enable_disable_users = false;
    same.target.url = "https://jira.example.com/jira".into();
    store.update_app(app.id, same, "carol").await.unwrap();
    assert_eq!(
        store
            .audit_log(&AuditFilter::default(), 10)
            .await
            .unwrap()
            .len(),
        2
    );
}

async fn switching_credential_type_drops_the_old_secret(backend: Backend) {
    let (_dir, store) = temp_store(backend).await;
    let app = store.create_app(draft("Jira"), "test").await.unwrap();
    let mut d = draft("Jira");
    d.target.credential = TargetCredential::Basic {
        username: "svc-usersync".into(),
        password: SecretInput::from_text("env:JIRA_PASSWORD"),
    };
    let updated = store.update_app(app.id, d, "test").await.unwrap();
    match &updated.target.credential {
        TargetCredential::Basic { username, password } => {
            assert_eq!(username, "svc-usersync");
            assert_eq!(
                *password,
                SecretState::Reference("env:JIRA_PASSWORD".into())
            );
        }
        other => panic!("expected basic, got {other:?}"),
    }
    let err = store
        .resolve_secret(&updated, usersync_store::SecretSlot::TargetToken)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
}

async fn deleting_an_app_keeps_its_audit_history_and_unknown_ids_are_not_found(backend: Backend) {
    let (_dir, store) = temp_store(backend).await;
    let app = store
        .create_app(draft("Short-lived"), "alice")
        .await
        .unwrap();
    store.delete_app(app.id, "bob").await.unwrap();
    assert!(matches!(
        store.get_app(app.id).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store.delete_app(app.id, "bob").await,
        Err(StoreError::NotFound { .. })
    ));
    let filter = AuditFilter {
        app: Some(app.id),
        actor: None,
    };
    let log = store.audit_log(&filter, 10).await.unwrap();
    let actions: Vec<_> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, vec!["app.delete", "app.create"]);
    assert_eq!(log[0].app_name.as_deref(), Some("Short-lived"));
    assert!(store.find_app("short-lived").await.unwrap().is_none());
}

async fn an_oauth_private_key_value_must_look_like_a_key(backend: Backend) {
    let (_dir, store) = temp_store(backend).await;
    let oauth = |key: &str| OktaCredential::OAuth {
        client_id: "0oa1service".into(),
        key_id: Some("kid-1".into()),
        private_key: SecretInput::from_text(key),
    };
    let mut d = draft("OAuth");
    d.okta.credential = oauth("just-some-text");
    let (field, _) = refused_field(store.create_app(d, "test").await);
    assert_eq!(field, "okta.credential.private_key");
    let mut d = draft("OAuth");
    d.okta.credential = oauth("-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n");
    let app = store.create_app(d, "test").await.unwrap();
    assert!(matches!(
        app.okta.credential,
        OktaCredential::OAuth {
            private_key: SecretState::Stored,
            ..
        }
    ));
}

async fn a_crowd_app_keeps_its_application_name_and_its_password_as_the_target_password(
    backend: Backend,
) {
    let (_dir, store) = temp_store(backend).await;
    let mut d = draft("Crowd");
    d.target.kind = "crowd".into();
    d.target.url = "https://crowd.example.com/crowd".into();
    d.target.credential = TargetCredential::Application {
        name: "usersync".into(),
        password: SecretInput::from_text("crowd-app-s3cret"),
    };
    store.create_app(d, "test").await.unwrap();
    let app = store.app_by_name("crowd").await.unwrap();
    assert_eq!(app.target.kind, TargetKind::Crowd);
    match &app.target.credential {
        TargetCredential::Application { name, password } => {
            assert_eq!(name, "usersync");
            assert_eq!(
                *password,
                SecretState::Stored,
                "write-only: only that it is set"
            );
        }
        other => panic!("expected an application credential, got {other:?}"),
    }
    let secret = store
        .resolve_secret(&app, usersync_store::SecretSlot::TargetPassword)
        .await
        .unwrap();
    assert_eq!(
        secrecy::ExposeSecret::expose_secret(&secret),
        "crowd-app-s3cret"
    );
    assert!(!format!("{app:?}").contains("crowd-app-s3cret"));
}

on_both_stores!(
    each_invalid_field_is_refused_with_its_name,
    a_replacement_with_text_after_a_group_is_stored_as_the_engine_reads_it,
    loopback_http_okta_urls_are_accepted_for_emulators,
    app_names_are_unique_ignoring_case,
    an_update_keeps_omitted_secrets_and_audits_only_the_changed_fields,
    switching_credential_type_drops_the_old_secret,
    deleting_an_app_keeps_its_audit_history_and_unknown_ids_are_not_found,
    an_oauth_private_key_value_must_look_like_a_key,
    a_crowd_app_keeps_its_application_name_and_its_password_as_the_target_password,
);
