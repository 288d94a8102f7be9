//! The Okta emulator's event hook delivery, seen from a receiver: Okta's envelope and
//! headers, one retry on 5xx and none on 4xx, and the drop knob.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use secrecy::SecretString;
use serde_json::{Value, json};
use usersync_okta::{EventHookSpec, OktaAuth, OktaClient, OktaConfig, Verification};
use usersync_sim::okta::{DeliveryKnobs, DeliveryOutcome, NewUser, OktaSim, OktaSimConfig};

use crate::world::within;

/// A receiver that answers deliveries with a set status and keeps what it got.
#[derive(Clone, Default)]
struct Receiver {
    status: Arc<Mutex<u16>>,
    got: Arc<Mutex<Vec<(HeaderMap, Value)>>>,
}

async fn challenge(headers: HeaderMap) -> axum::Json<Value> {
    let value = headers
        .get("x-okta-verification-challenge")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    axum::Json(json!({ "verification": value }))
}

async fn delivery(
    State(r): State<Receiver>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> StatusCode {
    r.got.lock().unwrap().push((headers, body));
    StatusCode::from_u16(*r.status.lock().unwrap()).unwrap()
}

async fn receiver() -> (Receiver, String) {
    let r = Receiver {
        status: Arc::new(Mutex::new(200)),
        ..Receiver::default()
    };
    let app = Router::new()
        .route("/hook", get(challenge).post(delivery))
        .with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://127.0.0.1:{}/hook",
        listener.local_addr().unwrap().port()
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (r, url)
}

/// The Okta emulator with a hook to `url` registered and verified through usersync's
/// Okta client, with a custom header and the shared secret.
async fn okta_with_hook(url: &str) -> (OktaSim, String) {
    let okta = OktaSim::start(OktaSimConfig::default()).await.unwrap();
    let client = OktaClient::new(&OktaConfig::new(
        okta.base_url(),
        OktaAuth::ApiToken(SecretString::from(okta.api_token().to_owned())),
    ))
    .unwrap();
    let spec = EventHookSpec {
        name: "receiver".into(),
        uri: url.to_owned(),
        event_types: vec!["user.lifecycle.create".into(), "user.session.start".into()],
        secret: SecretString::from("shared-secret".to_owned()),
        headers: vec![("X-Extra".into(), "extra-value".into())],
    };
    let registered = client.register_event_hook(&spec, None).await.unwrap();
    assert_eq!(
        registered.verification,
        Verification::Verified,
        "{registered:?}"
    );
    (okta, registered.hook.id)
}

#[tokio::test]
async fn deliveries_carry_oktas_envelope_the_auth_header_and_only_subscribed_events() {
    let (r, url) = receiver().await;
    let (okta, hook_id) = okta_with_hook(&url).await;
    let id = okta
        .add_user(
            NewUser::new("env@example.com", "Env", "Lope")
                .status(usersync_core::OktaStatus::Staged),
        )
        .unwrap();
    okta.login(id.as_str()).unwrap();
    let events = || {
        r.got
            .lock()
            .unwrap()
            .iter()
            .map(|(_, b)| b["data"]["events"].as_array().unwrap().len())
            .sum::<usize>()
    };
    within(Duration::from_secs(5), "both events delivered", || async {
        events() >= 2
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    let got = r.got.lock().unwrap().clone();
    let (headers, body) = &got[0];
    assert_eq!(headers["authorization"], "shared-secret");
    assert_eq!(headers["x-extra"], "extra-value");
    assert_eq!(body["eventType"], "com.okta.event_hook");
    assert_eq!(body["cloudEventsVersion"], "0.1");
    assert_eq!(body["contentType"], "application/json");
    assert_eq!(
        body["source"],
        format!("{}/api/v1/eventHooks/{hook_id}", okta.base_url())
    );
    assert!(body["eventId"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(body["eventTime"].as_str().is_some());
    let types: Vec<&str> = got
        .iter()
        .flat_map(|(_, b)| b["data"]["events"].as_array().unwrap().iter())
        .map(|e| e["eventType"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        ["user.lifecycle.create", "user.session.start"],
        "SSO is not subscribed"
    );
    assert_eq!(body["data"]["events"][0]["target"][0]["id"], id.as_str());
}

#[tokio::test]
async fn a_5xx_is_retried_once_a_4xx_never_and_dropped_deliveries_are_not_sent() {
    let (r, url) = receiver().await;
    let (okta, _) = okta_with_hook(&url).await;

    *r.status.lock().unwrap() = 503;
    okta.add_user(
        NewUser::new("retry@example.com", "Re", "Try").status(usersync_core::OktaStatus::Staged),
    )
    .unwrap();
    within(Duration::from_secs(5), "the retry", || async {
        okta.hook_deliveries().len() == 1
    })
    .await;
    assert_eq!(
        okta.hook_deliveries()[0].outcome,
        DeliveryOutcome::Failed {
            status: Some(503),
            attempts: 2
        }
    );
    assert_eq!(r.got.lock().unwrap().len(), 2);
    let ids: Vec<Value> = r
        .got
        .lock()
        .unwrap()
        .iter()
        .map(|(_, b)| b["eventId"].clone())
        .collect();
    assert_eq!(ids[0], ids[1], "a retry repeats the eventId");

    *r.status.lock().unwrap() = 400;
    okta.add_user(
        NewUser::new("noretry@example.com", "No", "Retry")
            .status(usersync_core::OktaStatus::Staged),
    )
    .unwrap();
    within(Duration::from_secs(5), "the refused delivery", || async {
        okta.hook_deliveries().len() == 2
    })
    .await;
    assert_eq!(
        okta.hook_deliveries()[1].outcome,
        DeliveryOutcome::Failed {
            status: Some(400),
            attempts: 1
        }
    );
    assert_eq!(r.got.lock().unwrap().len(), 3);

    okta.set_hook_delivery(DeliveryKnobs {
        drop_rate: 1.0,
        ..DeliveryKnobs::default()
    });
    okta.add_user(
        NewUser::new("lost@example.com", "Lo", "St").status(usersync_core::OktaStatus::Staged),
    )
    .unwrap();
    within(Duration::from_secs(5), "the dropped delivery", || async {
        okta.hook_deliveries().len() == 3
    })
    .await;
    assert_eq!(okta.hook_deliveries()[2].outcome, DeliveryOutcome::Dropped);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(r.got.lock().unwrap().len(), 3, "nothing was sent");
}
