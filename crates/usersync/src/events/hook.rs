//! The Okta Event Hook endpoint, `/hooks/okta/{app}`: the one-time verification `GET`
//! (echo `x-okta-verification-challenge` as `{"verification": ...}`) and the delivery
//! `POST`s. Both require the app's hook secret, verbatim, in the `Authorization`
//! header, compared in constant time; an unknown app, a switched-off hook, an unset
//! secret and a wrong one are all answered 401 alike, so the endpoint tells a stranger
//! nothing. A delivery is answered as soon as it is queued (Okta waits 3 s at most);
//! the syncs happen afterwards. A full queue answers 503, which Okta retries once.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use secrecy::ExposeSecret as _;
use serde_json::json;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use usersync_store::{App, SecretSlot, Store, StoreError};

use super::okta_event::parse_delivery;
use super::queue::{AppRef, EventQueue};

/// The path the endpoint is mounted at.
pub const HOOK_PATH: &str = "/hooks/okta/{app}";
/// The header Okta's verification request carries.
pub const CHALLENGE_HEADER: &str = "x-okta-verification-challenge";

/// What the hook handlers need.
#[derive(Clone)]
pub struct HookState {
    pub store: Store,
    pub queue: EventQueue,
    /// For telling the app's people about refused calls (`notify::refused_hook`).
    pub deps: crate::engine::Deps,
}

/// The hook routes, ready to merge into any router (they carry their own state).
pub fn router<S: Clone + Send + Sync + 'static>(state: HookState) -> Router<S> {
    Router::new()
        .route(HOOK_PATH, get(verify).post(deliver))
        .with_state(state)
}

fn answer(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"code": code, "message": message})),
    )
        .into_response()
}

fn refused() -> Response {
    answer(
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        "this event hook needs the app's hook secret in the Authorization header",
    )
}

/// Equal by SHA-256 digest, compared in constant time (lengths are not revealed either).
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    let given = Sha256::digest(given);
    let expected = Sha256::digest(expected);
    given.ct_eq(&expected).into()
}

/// The app, when the request carries its hook secret; otherwise the answer to send.
async fn authorize(state: &HookState, name: &str, headers: &HeaderMap) -> Result<App, Response> {
    let store = &state.store;
    let unavailable = |e: StoreError| {
        tracing::error!(app = name, "event hook: the store failed: {e}");
        answer(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "usersync cannot read its store right now; Okta will retry",
        )
    };
    let app = store.find_app(name).await.map_err(unavailable)?;
    let Some(app) = app.filter(|a| a.events.hook_enabled) else {
        tracing::warn!(
            app = name,
            "event hook call for an unknown app or one whose hook is off"
        );
        return Err(refused());
    };
    let Some(given) = headers.get(header::AUTHORIZATION) else {
        tracing::warn!(
            app = name,
            "event hook call without an Authorization header"
        );
        return Err(refused());
    };
    let secret = match store.resolve_secret(&app, SecretSlot::HookSecret).await {
        Ok(secret) => secret,
        Err(e) => {
            tracing::warn!(
                app = name,
                "event hook call refused: the app's hook secret is unusable: {e}"
            );
            return Err(refused());
        }
    };
    if same_secret(given.as_bytes(), secret.expose_secret().as_bytes()) {
        Ok(app)
    } else {
        tracing::warn!(app = name, "event hook call with a wrong secret");
        // A caller with the wrong secret: Okta after a secret change not registered
        // again, or someone guessing. Either way the app's people hear of it (rate-limited).
        crate::notify::refused_hook(&state.deps, app).await;
        Err(refused())
    }
}

/// `GET /hooks/okta/{app}`: Okta's one-time verification.
async fn verify(
    State(state): State<HookState>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(answer) = authorize(&state, &name, &headers).await {
        return answer;
    }
    let Some(challenge) = headers.get(CHALLENGE_HEADER).and_then(|v| v.to_str().ok()) else {
        return answer(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "the verification request has no x-okta-verification-challenge header",
        );
    };
    tracing::info!(app = %name, "event hook verified by Okta");
    axum::Json(json!({ "verification": challenge })).into_response()
}

/// `POST /hooks/okta/{app}`: one delivery of events.
async fn deliver(
    State(state): State<HookState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let app = match authorize(&state, &name, &headers).await {
        Ok(app) => app,
        Err(answer) => return answer,
    };
    let delivery = match parse_delivery(&body) {
        Ok(d) => d,
        Err(e) => return answer(StatusCode::BAD_REQUEST, "bad_request", &e.to_string()),
    };
    let count = delivery.data.events.len();
    match state
        .queue
        .offer(AppRef::of(&app), delivery.event_id, delivery.data.events)
    {
        Ok(()) => {
            tracing::debug!(app = %name, "event hook delivery of {count} events queued");
            StatusCode::OK.into_response()
        }
        Err(full) => answer(StatusCode::SERVICE_UNAVAILABLE, "busy", &full.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::same_secret;

    #[test]
    fn secrets_match_only_when_every_byte_and_the_length_match() {
        assert!(same_secret(b"s3cret", b"s3cret"));
        assert!(!same_secret(b"s3cre", b"s3cret"));
        assert!(!same_secret(b"s3cret ", b"s3cret"));
        assert!(!same_secret(b"S3cret", b"s3cret"));
    }
}
