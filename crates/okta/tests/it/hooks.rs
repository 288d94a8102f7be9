//! Registering usersync's event hook through the Event Hooks API of the emulator:
//! created, then updated in place (found by name or by its id), verified by a real
//! challenge to a loopback receiver, and refusals naming the permission to grant.

use std::sync::{Arc, Mutex};

use axum::http::HeaderMap;
use axum::routing::get;
use pretty_assertions::assert_eq;
use secrecy::SecretString;
use serde_json::json;
use usersync_okta::{
    DEFAULT_SCOPES, EVENT_HOOKS_SCOPE, EventHookSpec, HookChange, OktaAuth, OktaClient, OktaError,
    Verification,
};
use usersync_sim::okta::RateLimits;

use crate::auth::{KEYS, service_app_config};
use crate::helpers::{client_for, start};

/// A hook endpoint on loopback that answers Okta's verification challenge and keeps
/// the `Authorization` header of each call.
async fn receiver() -> (String, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let kept = seen.clone();
    let app = axum::Router::new().route(
        "/hooks/okta/jira",
        get(move |headers: HeaderMap| async move {
            let auth = headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            kept.lock().unwrap().push(auth.to_owned());
            let challenge = headers
                .get("x-okta-verification-challenge")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            axum::Json(json!({ "verification": challenge }))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://127.0.0.1:{}/hooks/okta/jira",
        listener.local_addr().unwrap().port()
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

fn spec(uri: &str, secret: &str, events: &[&str]) -> EventHookSpec {
    EventHookSpec {
        name: "usersync jira".into(),
        uri: uri.to_owned(),
        event_types: events.iter().map(|e| (*e).to_owned()).collect(),
        secret: SecretString::from(secret.to_owned()),
        headers: Vec::new(),
    }
}

#[tokio::test]
async fn registering_creates_the_hook_and_registering_again_updates_it_found_by_name_or_id() {
    let sim = start(None, RateLimits::default()).await;
    let (uri, seen) = receiver().await;
    let client = client_for(&sim);

    let first = client
        .register_event_hook(&spec(&uri, "first-secret", &["user.session.start"]), None)
        .await
        .unwrap();
    assert_eq!(first.change, HookChange::Created);
    assert_eq!(first.verification, Verification::Verified);
    assert!(first.hook.active && first.hook.verified, "{first:?}");
    assert_eq!(seen.lock().unwrap().as_slice(), ["first-secret"]);

    let by_name = client
        .register_event_hook(
            &spec(
                &uri,
                "second-secret",
                &["user.session.start", "user.lifecycle.suspend"],
            ),
            None,
        )
        .await
        .unwrap();
    assert_eq!(by_name.change, HookChange::Updated);
    assert_eq!(by_name.hook.id, first.hook.id);
    let hooks = sim.event_hooks();
    assert_eq!(hooks.len(), 1, "updated in place, not created twice");
    assert_eq!(
        hooks[0].event_types,
        ["user.session.start", "user.lifecycle.suspend"]
    );
    assert_eq!(
        hooks[0].auth,
        Some(("Authorization".to_owned(), "second-secret".to_owned()))
    );

    let mut renamed = spec(&uri, "second-secret", &["user.session.start"]);
    renamed.name = "usersync jira (renamed)".into();
    let by_id = client
        .register_event_hook(&renamed, Some(&first.hook.id))
        .await
        .unwrap();
    assert_eq!(by_id.change, HookChange::Updated);
    assert_eq!(sim.event_hooks().len(), 1);
    assert_eq!(sim.event_hooks()[0].name, "usersync jira (renamed)");

    let listed = client.event_hooks().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].uri, uri);
}

#[tokio::test]
async fn a_hook_whose_address_does_not_answer_is_registered_unverified_with_the_reason() {
    let sim = start(None, RateLimits::default()).await;
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let uri = format!("http://{}/hooks/okta/jira", closed.local_addr().unwrap());
    drop(closed);

    let outcome = client_for(&sim)
        .register_event_hook(&spec(&uri, "s", &["user.session.start"]), None)
        .await
        .unwrap();

    assert_eq!(outcome.change, HookChange::Created);
    let Verification::Failed(reason) = &outcome.verification else {
        panic!("nothing answers at {uri}: {outcome:?}");
    };
    assert!(
        reason.contains(&uri) && reason.contains("HTTPS"),
        "{reason}"
    );
    assert!(!outcome.hook.verified);
    assert_eq!(sim.event_hooks().len(), 1);
}

fn service_app(sim_url: String, client_id: &str, scopes: &[&str]) -> OktaClient {
    let mut config = service_app_config(sim_url, client_id, &KEYS[1].0);
    if let OktaAuth::ServiceApp { scopes: wanted, .. } = &mut config.auth {
        *wanted = scopes.iter().map(|s| (*s).to_owned()).collect();
    }
    OktaClient::new(&config).unwrap()
}

#[tokio::test]
async fn a_token_that_may_only_read_hooks_is_refused_naming_the_manage_scope() {
    let sim = start(None, RateLimits::default()).await;
    let mut granted: Vec<&str> = DEFAULT_SCOPES.to_vec();
    granted.push("okta.eventHooks.read");
    sim.register_oauth_client("0oahooksread", &KEYS[1].1, &granted)
        .unwrap();
    let client = service_app(sim.base_url(), "0oahooksread", &granted);

    let err = client
        .register_event_hook(
            &spec(
                "https://usersync.example.com/hooks/okta/jira",
                "s",
                &["user.session.start"],
            ),
            None,
        )
        .await
        .unwrap_err();

    assert!(matches!(err, OktaError::Forbidden { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("E0000006") && text.contains(EVENT_HOOKS_SCOPE),
        "{text}"
    );
    assert!(sim.event_hooks().is_empty());
}

#[tokio::test]
async fn a_service_app_not_granted_the_manage_scope_is_told_to_grant_it() {
    let sim = start(None, RateLimits::default()).await;
    sim.register_oauth_client("0oareadonly", &KEYS[1].1, &DEFAULT_SCOPES)
        .unwrap();
    let mut wanted: Vec<&str> = DEFAULT_SCOPES.to_vec();
    wanted.push(EVENT_HOOKS_SCOPE);
    let client = service_app(sim.base_url(), "0oareadonly", &wanted);

    let err = client
        .register_event_hook(
            &spec(
                "https://usersync.example.com/hooks/okta/jira",
                "s",
                &["user.session.start"],
            ),
            None,
        )
        .await
        .unwrap_err();

    let text = err.to_string();
    assert!(matches!(err, OktaError::OAuth { .. }), "{err:?}");
    assert!(
        text.contains("invalid_scope") && text.contains(EVENT_HOOKS_SCOPE),
        "{text}"
    );
}

#[test]
fn the_hook_spec_never_shows_its_secret_in_debug_output() {
    let shown = format!("{:?}", spec("https://x.example.com/h", "hush-hush", &["a"]));
    assert!(!shown.contains("hush-hush"), "{shown}");
}
