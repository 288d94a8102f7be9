//! Credentials: API tokens, the OAuth service-app flow, refused base URLs, and
//! secrets kept out of errors and Debug output.

use std::sync::LazyLock;

use pretty_assertions::assert_eq;
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use secrecy::SecretString;
use usersync_okta::{OktaAuth, OktaClient, OktaConfig, OktaError, ReadScope};
use usersync_sim::okta::RateLimits;

use crate::helpers::{config_for, fast_retries, normalised, spec, start};

/// rand 0.9's generator behind the rand_core 0.6 traits the rsa crate expects.
struct TestRng;

impl rsa::rand_core::RngCore for TestRng {
    fn next_u32(&mut self) -> u32 {
        rand::random()
    }
    fn next_u64(&mut self) -> u64 {
        rand::random()
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        rand::fill(dest);
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rsa::rand_core::Error> {
        rand::fill(dest);
        Ok(())
    }
}

impl rsa::rand_core::CryptoRng for TestRng {}

/// A service app's key pair: (private PKCS#8 PEM, public SPKI PEM).
fn key_pair() -> (String, String) {
    let key = rsa::RsaPrivateKey::new(&mut TestRng, 2048).expect("an RSA key");
    let private = key.to_pkcs8_pem(LineEnding::LF).expect("PEM").to_string();
    let public = rsa::RsaPublicKey::from(&key)
        .to_public_key_pem(LineEnding::LF)
        .expect("PEM");
    (private, public)
}

/// Generated once: RSA key generation is slow in debug builds.
pub static KEYS: LazyLock<[(String, String); 2]> = LazyLock::new(|| [key_pair(), key_pair()]);

pub fn service_app_config(base_url: String, client_id: &str, private_pem: &str) -> OktaConfig {
    let mut config = OktaConfig::new(
        base_url,
        OktaAuth::ServiceApp {
            client_id: client_id.to_owned(),
            private_key_pem: SecretString::from(private_pem.to_owned()),
            key_id: None,
            scopes: Vec::new(),
        },
    );
    config.retry = fast_retries();
    config
}

#[tokio::test]
async fn a_wrong_token_yields_the_typed_error_and_its_message() {
    let sim = start(Some(spec(20, 3)), RateLimits::default()).await;
    let mut config = config_for(&sim);
    config.auth = OktaAuth::ApiToken(SecretString::from("00wrong-token-value"));
    let client = OktaClient::new(&config).unwrap();

    let err = client.read_org(&ReadScope::default()).await.unwrap_err();

    assert!(matches!(err, OktaError::InvalidToken { .. }), "{err:?}");
    assert_eq!(err.code(), Some("E0000011"));
    let host = sim.base_url().trim_start_matches("http://").to_owned();
    assert_eq!(
        err.to_string(),
        format!(
            "the API token was rejected by {host} (E0000011): create a new token under Security > API > Tokens"
        )
    );
    assert!(!format!("{err} {err:?}").contains("00wrong-token-value"));
    assert_eq!(client.stats().retries, 0, "a 401 is not retried");
}

#[tokio::test]
async fn a_base_url_that_is_not_https_is_refused_before_any_request() {
    let token = || OktaAuth::ApiToken(SecretString::from("00token"));
    for url in [
        "http://acme.okta.com",
        "http://10.0.0.5:8080",
        "ftp://acme.okta.com",
    ] {
        let err = OktaClient::new(&OktaConfig::new(url, token())).unwrap_err();
        assert!(
            matches!(
                err,
                OktaError::Config {
                    field: "base_url",
                    ..
                }
            ),
            "{url}: {err:?}"
        );
        assert!(err.to_string().contains("https://"), "{err}");
    }
    for url in [
        "https://acme.okta.com/",
        "http://127.0.0.1:9",
        "http://localhost:9",
    ] {
        assert!(
            OktaClient::new(&OktaConfig::new(url, token())).is_ok(),
            "{url}"
        );
    }
}

#[tokio::test]
async fn a_service_app_reads_the_org_with_one_cached_bearer_token() {
    let sim = start(Some(spec(120, 6)), RateLimits::default()).await;
    let (private, public) = &KEYS[0];
    sim.register_oauth_client(
        "0oaservice",
        public,
        &["okta.users.read", "okta.groups.read", "okta.logs.read"],
    )
    .unwrap();
    let client =
        OktaClient::new(&service_app_config(sim.base_url(), "0oaservice", private)).unwrap();

    let snapshot = client.read_org(&ReadScope::default()).await.unwrap();

    assert!(
        snapshot.completeness.is_complete(),
        "{:?}",
        snapshot.completeness
    );
    assert_eq!(normalised(snapshot), normalised(sim.snapshot()));
    let records = sim.requests();
    let token_calls = records
        .iter()
        .filter(|r| r.path == "/oauth2/v1/token")
        .count();
    assert_eq!(token_calls, 1, "the access token is cached");
    assert_eq!(client.stats().token_requests, 1);
    assert!(
        records
            .iter()
            .filter(|r| r.path.starts_with("/api/"))
            .all(|r| r.auth_scheme.as_deref() == Some("Bearer"))
    );
}

#[tokio::test]
async fn a_service_app_with_an_unknown_key_gets_an_actionable_oauth_error() {
    let sim = start(Some(spec(10, 2)), RateLimits::default()).await;
    let (_, registered_public) = &KEYS[0];
    let (other_private, _) = &KEYS[1];
    sim.register_oauth_client("0oaservice", registered_public, &["okta.users.read"])
        .unwrap();
    let client = OktaClient::new(&service_app_config(
        sim.base_url(),
        "0oaservice",
        other_private,
    ))
    .unwrap();

    let err = client.read_org(&ReadScope::default()).await.unwrap_err();

    let OktaError::OAuth { error, .. } = &err else {
        panic!("expected an OAuth error, got {err:?}");
    };
    assert_eq!(error, "invalid_client");
    let text = err.to_string();
    assert!(
        text.contains("0oaservice") && text.contains("public key"),
        "{text}"
    );
    assert!(!text.contains("PRIVATE KEY"), "{text}");
}

#[tokio::test]
async fn a_service_app_missing_the_groups_scope_reads_an_incomplete_snapshot_naming_it() {
    let sim = start(Some(spec(30, 3)), RateLimits::default()).await;
    let (private, public) = &KEYS[0];
    sim.register_oauth_client("0oausersonly", public, &["okta.users.read"])
        .unwrap();
    let mut config = service_app_config(sim.base_url(), "0oausersonly", private);
    config.auth = match config.auth {
        OktaAuth::ServiceApp {
            client_id,
            private_key_pem,
            key_id,
            ..
        } => OktaAuth::ServiceApp {
            client_id,
            private_key_pem,
            key_id,
            scopes: vec!["okta.users.read".into()],
        },
        other => other,
    };
    let client = OktaClient::new(&config).unwrap();

    let snapshot = client.read_org(&ReadScope::default()).await.unwrap();

    assert_eq!(snapshot.users.len(), 30);
    let usersync_core::Completeness::Incomplete { reasons } = &snapshot.completeness else {
        panic!("the group listing was refused, so the read is incomplete");
    };
    assert!(
        reasons[0].contains("group listing") && reasons[0].contains("E0000006"),
        "{reasons:?}"
    );
    assert!(reasons[0].contains("okta.groups.read"), "{reasons:?}");
}

#[tokio::test]
async fn debug_output_of_the_config_and_client_shows_no_secret() {
    let (private, _) = &KEYS[0];
    let token_config = OktaConfig::new(
        "https://acme.okta.com",
        OktaAuth::ApiToken(SecretString::from("00supersecret-api-token")),
    );
    let app_config = service_app_config("https://acme.okta.com".into(), "0oa1", private);
    let key_body = private.lines().nth(1).unwrap();
    for shown in [
        format!("{token_config:?}"),
        format!("{:?}", OktaClient::new(&token_config).unwrap()),
        format!("{app_config:?}"),
        format!("{:?}", OktaClient::new(&app_config).unwrap()),
    ] {
        assert!(!shown.contains("supersecret"), "{shown}");
        assert!(!shown.contains(key_body), "{shown}");
        assert!(shown.contains("acme.okta.com"), "{shown}");
    }
}
