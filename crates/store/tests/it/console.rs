//! Console data, event dedupe, scheduler state and checkpoints.

use chrono::{Duration, Utc};
use pretty_assertions::assert_eq;
use usersync_store::{AuditFilter, NewApiToken, NewSession, Scopes, StoreError};

use crate::common::{draft, temp_store};
use usersync_testkit::{Backend, on_both_stores};

async fn administrators_sessions_and_password_changes(backend: Backend) {
    let (_dir, store) = temp_store(backend).await;
    let admin = store
        .create_admin(
            "Alice",
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
            "setup",
        )
        .await
        .unwrap();
    assert!(!format!("{admin:?}").contains("argon2id"));
    let err = store
        .create_admin("alice", "$argon2id$x", "setup")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(
        store.admin_by_username("ALICE").await.unwrap().unwrap().id,
        admin.id
    );

    let now = Utc::now();
    let session = NewSession {
        id_hash: "sha256:session-1".into(),
        admin: admin.id,
        csrf_token: "csrf-1".into(),
        expires_at: now + Duration::hours(8),
    };
    store.create_session(&session).await.unwrap();
    let found = store
        .session("sha256:session-1", now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.admin.username, "Alice");
    assert_eq!(found.csrf_token, "csrf-1");
    assert!(
        store
            .session("sha256:session-1", now + Duration::hours(9))
            .await
            .unwrap()
            .is_none()
    );

    store
        .set_admin_password(admin.id, "$argon2id$new", "Alice")
        .await
        .unwrap();
    assert!(
        store
            .session("sha256:session-1", now)
            .await
            .unwrap()
            .is_none(),
        "password change ends sessions"
    );
    let actions: Vec<_> = store
        .audit_log(&AuditFilter::default(), 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, vec!["admin.password", "admin.create"]);
}

fn new_token(name: &str, hash: &str, scopes: &str) -> NewApiToken {
    NewApiToken {
        name: name.into(),
        token_hash: hash.into(),
        scopes: Scopes::parse(scopes).unwrap(),
        expires_at: None,
    }
}

async fn api_tokens_are_found_by_hash_with_their_scopes_and_revoked_by_name(backend: Backend) {
    let (_dir, store) = temp_store(backend).await;
    let now = Utc::now();
    let token = store
        .create_api_token(&new_token("ci", "sha256:abc", "read,sync"), "alice")
        .await
        .unwrap();
    assert_eq!(token.scopes.to_string(), "read sync");
    let err = store
        .create_api_token(&new_token("ci", "sha256:other", "read"), "alice")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("rotate"), "{err}");
    let found = store
        .api_token_by_hash("sha256:abc", now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, token.id);
    assert!(found.last_used_at.is_none());
    store.touch_api_token(token.id, Utc::now()).await.unwrap();
    assert!(
        store.list_api_tokens().await.unwrap()[0]
            .last_used_at
            .is_some()
    );
    store.revoke_api_token("ci", "alice").await.unwrap();
    assert!(
        store
            .api_token_by_hash("sha256:abc", now)
            .await
            .unwrap()
            .is_none()
    );
    let err = store.revoke_api_token("ci", "alice").await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
}

async fn an_expired_api_token_is_not_found_but_still_listed(backend: Backend) {
    let (_dir, store) = temp_store(backend).await;
    let now = Utc::now();
    let mut new = new_token("nightly", "sha256:n", "sync");
    new.expires_at = Some(now + Duration::days(1));
    store.create_api_token(&new, "alice").await.unwrap();
    let found = store.api_token_by_hash("sha256:n", now).await.unwrap();
    assert!(found.is_some());
    let later = now + Duration::days(2);
    assert!(
        store
            .api_token_by_hash("sha256:n", later)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.list_api_tokens().await.unwrap().len(), 1);
}

async fn rotating_a_token_replaces_its_value_keeps_its_scopes_and_is_audited(backend: Backend) {
    let (_dir, store) = temp_store(backend).await;
    let now = Utc::now();
    store
        .create_api_token(&new_token("ci", "sha256:old", "approve"), "cli:ops")
        .await
        .unwrap();
    let rotated = store
        .rotate_api_token("ci", "sha256:new", None, "token:root")
        .await
        .unwrap();
    assert_eq!(rotated.scopes.to_string(), "approve");
    assert!(
        store
            .api_token_by_hash("sha256:old", now)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .api_token_by_hash("sha256:new", now)
            .await
            .unwrap()
            .is_some()
    );
    let entries = store.audit_log(&AuditFilter::default(), 10).await.unwrap();
    let seen: Vec<_> = entries
        .iter()
        .map(|e| (e.actor.as_str(), e.action.as_str()))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("token:root", "api_token.rotate"),
            ("cli:ops", "api_token.create")
        ]
    );
}

async fn the_last_administrator_cannot_be_deleted(backend: Backend) {
    let (_dir, store) = temp_store(backend).await;
    let alice = store
        .create_admin("alice", "$argon2id$a", "setup")
        .await
        .unwrap();
    let err = store.delete_admin(alice.id, "alice").await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert!(err.to_string().contains("last administrator"), "{err}");
    let bob = store
        .create_admin("bob", "$argon2id$b", "alice")
        .await
        .unwrap();
    store.delete_admin(alice.id, "bob").await.unwrap();
    assert_eq!(store.list_admins().await.unwrap()[0].id, bob.id);
    assert!(store.delete_admin(bob.id, "bob").await.is_err());
}

async fn failed_sign_ins_are_counted_per_key_locked_cleared_and_forgotten(backend: Backend) {
    let (_dir, store) = temp_store(backend).await;
    let now = Utc::now();
    let forget = now - Duration::hours(1);
    let keys = ["user:alice", "addr:192.0.2.1", "pair:user:alice|192.0.2.1"];
    assert_eq!(
        store
            .record_sign_in_failure(&keys, now, forget)
            .await
            .unwrap(),
        [1, 1, 1]
    );
    assert_eq!(
        store
            .record_sign_in_failure(&keys[..1], now, forget)
            .await
            .unwrap(),
        [2]
    );
    let until = now + Duration::seconds(30);
    store.lock_sign_ins(keys[2], until).await.unwrap();
    let seen = store.sign_in_failures(&keys, forget).await.unwrap();
    assert_eq!(seen["user:alice"].failures, 2);
    assert_eq!(seen[keys[1]].failures, 1);
    assert_eq!(
        seen[keys[2]].locked_until.map(|t| t.timestamp_millis()),
        Some(until.timestamp_millis())
    );
    assert_eq!(seen[keys[1]].locked_until, None);

    // A success clears the username and the pair; the address keeps its count.
    store
        .clear_sign_in_failures(&[keys[0], keys[2]])
        .await
        .unwrap();
    let seen = store.sign_in_failures(&keys, forget).await.unwrap();
    assert_eq!(seen.keys().collect::<Vec<_>>(), [&keys[1].to_owned()]);

    // Two hours on, the address's failure is past the horizon: not read, counted from one
    // again, and every other key untouched since is deleted by the next failure.
    let later = now + Duration::hours(2);
    let later_forget = later - Duration::hours(1);
    assert!(
        store
            .sign_in_failures(&keys, later_forget)
            .await
            .unwrap()
            .is_empty()
    );
    store
        .record_sign_in_failure(&["user:bob"], now, forget)
        .await
        .unwrap();
    assert_eq!(
        store
            .record_sign_in_failure(&[keys[1]], later, later_forget)
            .await
            .unwrap(),
        [1]
    );
    let everything = store
        .sign_in_failures(&["user:bob", keys[1]], now - Duration::days(1))
        .await
        .unwrap();
    assert_eq!(everything.keys().collect::<Vec<_>>(), [&keys[1].to_owned()]);
}

async fn events_are_seen_once_and_old_ones_are_pruned(backend: Backend) {
    let (_dir, store) = temp_store(backend).await;
    let app = store.create_app(draft("Jira"), "test").await.unwrap();
    let then = Utc::now() - Duration::days(3);
    assert!(store.remember_event(app.id, "evt-1", then).await.unwrap());
    assert!(
        !store
            .remember_event(app.id, "evt-1", Utc::now())
            .await
            .unwrap()
    );
    assert!(
        store
            .remember_event(app.id, "evt-2", Utc::now())
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .prune_seen_events(Utc::now() - Duration::days(1))
            .await
            .unwrap(),
        1
    );
    assert!(
        store
            .remember_event(app.id, "evt-1", Utc::now())
            .await
            .unwrap(),
        "pruned ids are new again"
    );
}

async fn scheduler_state_and_checkpoints_persist_per_app(backend: Backend) {
    let (_dir, store) = temp_store(backend).await;
    let app = store.create_app(draft("Jira"), "test").await.unwrap();
    assert_eq!(
        store.scheduler_state(app.id).await.unwrap(),
        Default::default()
    );
    let next = Utc::now() + Duration::minutes(60);
    store.set_next_run(app.id, Some(next)).await.unwrap();
    assert_eq!(
        store.scheduler_state(app.id).await.unwrap().next_run_at,
        Some(next)
    );
    let run = store
        .start_run(app.id, usersync_store::RunTrigger::Scheduled)
        .await
        .unwrap();
    let later = next + Duration::minutes(60);
    store
        .record_scheduled_run(app.id, run.id, next, Some(later))
        .await
        .unwrap();
    let states = store.scheduler_states().await.unwrap();
    assert_eq!(states.len(), 1);
    assert_eq!(states[0].1.last_run_id, Some(run.id));
    assert_eq!(states[0].1.next_run_at, Some(later));

    store
        .set_checkpoint(
            app.id,
            "system_log.next",
            "https://example.okta.com/api/v1/logs?after=1",
        )
        .await
        .unwrap();
    store
        .set_checkpoint(
            app.id,
            "system_log.next",
            "https://example.okta.com/api/v1/logs?after=2",
        )
        .await
        .unwrap();
    let value = store.checkpoint(app.id, "system_log.next").await.unwrap();
    assert_eq!(
        value.as_deref(),
        Some("https://example.okta.com/api/v1/logs?after=2")
    );
    assert_eq!(store.checkpoints(app.id).await.unwrap().len(), 1);
    store
        .clear_checkpoint(app.id, "system_log.next")
        .await
        .unwrap();
    assert!(
        store
            .checkpoint(app.id, "system_log.next")
            .await
            .unwrap()
            .is_none()
    );
    let err = store
        .set_checkpoint(usersync_store::AppId(777), "k", "v")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
}

const PHC: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA";

async fn of_twelve_simultaneous_first_administrators_exactly_one_is_created(backend: Backend) {
    let (_dir, store) = temp_store(backend).await;
    let code = store.setup_code().await.unwrap().expect("no admin yet");
    let attempts = (0..12).map(|i| {
        let store = store.clone();
        let code = code.clone();
        tokio::spawn(async move {
            store
                .create_first_admin(&format!("admin{i}"), PHC, &code)
                .await
                .unwrap()
        })
    });
    let mut created = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            usersync_store::FirstAdmin::Created(_) => created += 1,
            usersync_store::FirstAdmin::SetupClosed => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(created, 1);
    assert_eq!(store.list_admins().await.unwrap().len(), 1);
    assert_eq!(store.setup_code().await.unwrap(), None, "the code is spent");
}

async fn the_first_administrator_needs_the_setup_code(backend: Backend) {
    let (_dir, store) = temp_store(backend).await;
    let code = store.setup_code().await.unwrap().unwrap();
    assert_eq!(
        store.setup_code().await.unwrap().as_deref(),
        Some(code.as_str()),
        "the code stays the same until it is used"
    );
    for wrong in ["", "AAAA-BBBB-CCCC"] {
        let attempt = store.create_first_admin("eve", PHC, wrong).await.unwrap();
        assert!(
            matches!(attempt, usersync_store::FirstAdmin::WrongCode),
            "{attempt:?}"
        );
    }
    assert!(store.list_admins().await.unwrap().is_empty());
    // Typed in lower case without dashes, it still counts.
    let typed = code.replace('-', "").to_lowercase();
    let attempt = store.create_first_admin("ann", PHC, &typed).await.unwrap();
    assert!(
        matches!(attempt, usersync_store::FirstAdmin::Created(ref a) if a.username == "ann"),
        "{attempt:?}"
    );
}

on_both_stores!(
    administrators_sessions_and_password_changes,
    api_tokens_are_found_by_hash_with_their_scopes_and_revoked_by_name,
    an_expired_api_token_is_not_found_but_still_listed,
    rotating_a_token_replaces_its_value_keeps_its_scopes_and_is_audited,
    the_last_administrator_cannot_be_deleted,
    failed_sign_ins_are_counted_per_key_locked_cleared_and_forgotten,
    events_are_seen_once_and_old_ones_are_pruned,
    scheduler_state_and_checkpoints_persist_per_app,
    of_twelve_simultaneous_first_administrators_exactly_one_is_created,
    the_first_administrator_needs_the_setup_code,
);
