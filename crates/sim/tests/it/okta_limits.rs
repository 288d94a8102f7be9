//! Rate limits, concurrency limits, authentication (SSWS and OAuth) and faults.

use std::time::Duration;

use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use serde_json::{Value, json};
use usersync_sim::faults::{FaultConfig, PathFault};
use usersync_sim::okta::{Bucket, OktaSimConfig, RateLimits};

use super::{Org, spec, start, start_with};

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("{name} is sent"))
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn every_response_carries_request_id_date_and_rate_limit_headers() {
    let org = start(Some(spec(10, 2))).await;
    for path in [
        "/api/v1/users",
        "/api/v1/users/nobody",
        "/api/v1/logs",
        "/api/v1/nothing-here",
    ] {
        let response = org.get(path).await;
        for name in [
            "x-okta-request-id",
            "date",
            "x-rate-limit-limit",
            "x-rate-limit-remaining",
            "x-rate-limit-reset",
        ] {
            assert!(response.headers().contains_key(name), "{path} lacks {name}");
        }
        // Okta may send several Reset fields; the smallest is the window's.
        let reset: i64 = response
            .headers()
            .get_all("x-rate-limit-reset")
            .iter()
            .map(|v| v.to_str().unwrap().parse::<i64>().unwrap())
            .min()
            .unwrap();
        let now = chrono::Utc::now().timestamp();
        assert!(
            reset > now - 5 && reset <= now + 65,
            "Reset is epoch seconds within the window"
        );
    }
    let unauthenticated = org.http.get(org.url("/api/v1/users")).send().await.unwrap();
    assert!(
        unauthenticated.headers().contains_key("x-rate-limit-limit"),
        "even a 401 has the headers"
    );
    let users = org.get("/api/v1/users").await;
    assert_eq!(
        header(&users, "x-rate-limit-limit"),
        "600",
        "the Workforce users-list bucket"
    );
    let logs = org.get("/api/v1/logs").await;
    assert_eq!(
        header(&logs, "x-rate-limit-limit"),
        "120",
        "the logs bucket"
    );
}

#[tokio::test]
async fn a_spent_bucket_answers_429_with_e0000047_until_its_window_resets() {
    let org = start(Some(spec(5, 1))).await;
    org.sim
        .set_rate_limits(RateLimits::default().with(Bucket::UsersList, 3));
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let r = org.get("/api/v1/users").await;
        assert_eq!(r.status(), 200);
        remaining.push(header(&r, "x-rate-limit-remaining"));
    }
    assert_eq!(remaining, vec!["2", "1", "0"]);
    let refused = org.get("/api/v1/users").await;
    assert_eq!(refused.status(), 429);
    assert_eq!(header(&refused, "x-rate-limit-limit"), "3");
    assert_eq!(header(&refused, "x-rate-limit-remaining"), "0");
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["errorCode"], "E0000047");
    assert_eq!(
        body["errorSummary"],
        "API call exceeded rate limit due to too many requests."
    );
    assert_eq!(
        org.get("/api/v1/groups").await.status(),
        200,
        "other buckets are unaffected"
    );
    let record = org
        .sim
        .requests()
        .into_iter()
        .rev()
        .find(|r| r.status == 429)
        .unwrap();
    assert_eq!(record.bucket, Bucket::UsersList);
}

#[tokio::test]
async fn a_short_window_refills_after_its_reset() {
    let org = start(None).await;
    org.sim.set_rate_limits(RateLimits {
        window_secs: 1,
        ..RateLimits::default().with(Bucket::Logs, 1)
    });
    assert_eq!(org.get("/api/v1/logs").await.status(), 200);
    let refused = org.get("/api/v1/logs").await;
    if refused.status() == 429 {
        let reset: i64 = header(&refused, "x-rate-limit-reset").parse().unwrap();
        let wait = (reset - chrono::Utc::now().timestamp()).clamp(0, 5) as u64;
        tokio::time::sleep(Duration::from_millis(wait * 1000 + 200)).await;
    }
    assert_eq!(
        org.get("/api/v1/logs").await.status(),
        200,
        "a new window has begun"
    );
}

#[tokio::test]
async fn disabled_rate_limits_still_send_headers_but_refuse_nothing() {
    let org = start(None).await;
    org.sim.set_rate_limits(RateLimits {
        enabled: false,
        duplicate_reset_header: true,
        ..RateLimits::default().with(Bucket::Logs, 1)
    });
    for _ in 0..3 {
        let r = org.get("/api/v1/logs").await;
        assert_eq!(r.status(), 200);
        assert_eq!(
            r.headers().get_all("x-rate-limit-reset").iter().count(),
            2,
            "duplicate Reset headers on request"
        );
    }
}

#[tokio::test]
async fn too_many_requests_in_flight_get_a_concurrency_429_with_zero_limit() {
    let org = start_with(OktaSimConfig {
        faults: FaultConfig {
            latency_ms: 400,
            ..FaultConfig::default()
        },
        rate_limits: RateLimits {
            concurrency: 2,
            ..RateLimits::default()
        },
        ..OktaSimConfig::default()
    })
    .await;
    let calls = (0..6).map(|_| org.get("/api/v1/groups"));
    let responses = futures::future::join_all(calls).await;
    let refused: Vec<_> = responses.iter().filter(|r| r.status() == 429).collect();
    assert!(
        !refused.is_empty(),
        "some of 6 simultaneous requests exceed a concurrency limit of 2"
    );
    assert!(responses.iter().any(|r| r.status() == 200));
    for r in refused {
        assert_eq!(header(r, "x-rate-limit-limit"), "0");
        assert_eq!(header(r, "x-rate-limit-remaining"), "0");
    }
}

#[tokio::test]
async fn a_wrong_or_missing_token_gets_401_e0000011_and_ssws_without_a_space_works() {
    let org = start(Some(spec(3, 1))).await;
    let url = org.url("/api/v1/users");
    for auth in [
        None,
        Some("SSWS wrong-token".to_owned()),
        Some(format!("Basic {}", org.sim.api_token())),
    ] {
        let mut request = org.http.get(&url);
        if let Some(a) = &auth {
            request = request.header("Authorization", a);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401, "{auth:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["errorCode"], "E0000011");
        assert_eq!(body["errorSummary"], "Invalid token provided");
    }
    let sdk_style = org
        .http
        .get(&url)
        .header("Authorization", format!("SSWS{}", org.sim.api_token()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        sdk_style.status(),
        200,
        "the Python SDK's SSWS<token> form is accepted"
    );
    let records = org.sim.requests();
    assert!(
        records
            .iter()
            .all(|r| !r.path.contains(org.sim.api_token()))
    );
    assert_eq!(records.last().unwrap().auth_scheme.as_deref(), Some("SSWS"));
    let config = OktaSimConfig::default();
    assert!(
        !format!("{config:?}").contains(&config.api_token),
        "Debug hides the token"
    );
    assert!(!format!("{:?}", org.sim).contains(org.sim.api_token()));
}

fn rsa_keys() -> (String, String) {
    struct Rng(rand_chacha::ChaCha8Rng);
    impl rsa::rand_core::RngCore for Rng {
        fn next_u32(&mut self) -> u32 {
            rand::RngCore::next_u32(&mut self.0)
        }
        fn next_u64(&mut self) -> u64 {
            rand::RngCore::next_u64(&mut self.0)
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            rand::RngCore::fill_bytes(&mut self.0, dest);
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rsa::rand_core::Error> {
            rand::RngCore::fill_bytes(&mut self.0, dest);
            Ok(())
        }
    }
    impl rsa::rand_core::CryptoRng for Rng {}
    let mut rng = Rng(rand::SeedableRng::seed_from_u64(42));
    let key = rsa::RsaPrivateKey::new(&mut rng, 2048).expect("an RSA key");
    let private = key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
    let public = key
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap();
    (private, public)
}

fn assertion(private_pem: &str, client_id: &str, audience: &str, jti: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({"iss": client_id, "sub": client_id, "aud": audience, "iat": now, "exp": now + 300, "jti": jti});
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(private_pem.as_bytes()).unwrap();
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        &claims,
        &key,
    )
    .unwrap()
}

async fn token_request(org: &Org, scope: &str, assertion: &str) -> reqwest::Response {
    let form = [
        ("grant_type", "client_credentials"),
        ("scope", scope),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        ("client_assertion", assertion),
    ];
    org.http
        .post(org.url("/oauth2/v1/token"))
        .form(&form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_oauth_client_credentials_flow_issues_bearer_tokens_limited_to_their_scopes() {
    let org = start(Some(spec(5, 2))).await;
    let (private, public) = rsa_keys();
    org.sim
        .register_oauth_client(
            "0oaservice",
            &public,
            &["okta.users.read", "okta.groups.read"],
        )
        .unwrap();
    let aud = org.url("/oauth2/v1/token");
    let response = token_request(
        &org,
        "okta.users.read",
        &assertion(&private, "0oaservice", &aud, "j1"),
    )
    .await;
    assert_eq!(response.status(), 200);
    let token: Value = response.json().await.unwrap();
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(token["expires_in"], 3600);
    assert_eq!(token["scope"], "okta.users.read");
    let bearer = format!("Bearer {}", token["access_token"].as_str().unwrap());
    let users = org
        .http
        .get(org.url("/api/v1/users"))
        .header("Authorization", &bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(users.status(), 200);
    let groups = org
        .http
        .get(org.url("/api/v1/groups"))
        .header("Authorization", &bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(
        groups.status(),
        403,
        "the token was not issued okta.groups.read"
    );
    assert_eq!(
        groups.json::<Value>().await.unwrap()["errorCode"],
        "E0000006"
    );

    let replay = token_request(
        &org,
        "okta.users.read",
        &assertion(&private, "0oaservice", &aud, "j1"),
    )
    .await;
    assert_eq!(replay.status(), 401, "a jti is used once");
    let not_granted = token_request(
        &org,
        "okta.logs.read",
        &assertion(&private, "0oaservice", &aud, "j2"),
    )
    .await;
    assert_eq!(
        not_granted.json::<Value>().await.unwrap()["error"],
        "invalid_scope"
    );
    let wrong_aud = token_request(
        &org,
        "okta.users.read",
        &assertion(
            &private,
            "0oaservice",
            "https://x/oauth2/default/v1/token",
            "j3",
        ),
    )
    .await;
    assert_eq!(
        wrong_aud.json::<Value>().await.unwrap()["error"],
        "invalid_client"
    );
    let unknown = token_request(
        &org,
        "okta.users.read",
        &assertion(&private, "0oaother", &aud, "j4"),
    )
    .await;
    assert_eq!(unknown.status(), 401);
    let expired = org
        .http
        .get(org.url("/api/v1/users"))
        .header("Authorization", "Bearer not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(
        expired.json::<Value>().await.unwrap()["errorCode"],
        "E0000011"
    );
}

#[tokio::test]
async fn faults_answer_with_okta_shaped_errors_and_path_rules_hit_one_endpoint() {
    let org = start(Some(spec(20, 3))).await;
    let group = org.sim.snapshot().groups[0].id.clone();
    org.sim.faults().update(|f| {
        f.path_faults.push(PathFault {
            path_contains: format!("/groups/{group}/users"),
            status: 500,
            remaining: None,
        });
    });
    let broken = org.get(&format!("/api/v1/groups/{group}/users")).await;
    assert_eq!(broken.status(), 500);
    assert!(broken.headers().contains_key("x-okta-request-id"));
    assert_eq!(
        broken.json::<Value>().await.unwrap()["errorCode"],
        "E0000009"
    );
    assert_eq!(org.get("/api/v1/groups").await.status(), 200);
    org.sim.faults().clear();
    org.sim.faults().burst_503(2);
    let statuses: Vec<u16> = futures::future::join_all(
        (0..3).map(|_| async { org.get("/api/v1/users").await.status().as_u16() }),
    )
    .await;
    assert_eq!(statuses.iter().filter(|s| **s == 503).count(), 2);
    assert_eq!(
        org.sim
            .requests()
            .iter()
            .filter(|r| r.status == 503)
            .count(),
        2,
        "the request log records statuses"
    );
}
