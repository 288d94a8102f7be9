//! Sign-in, first start, sessions, API tokens, CSRF and throttling.

use axum::http::{StatusCode, header};

use super::{ADMIN, Harness, PASSWORD, get, post};
use crate::web::auth::{SESSION_COOKIE, csrf};

#[tokio::test]
async fn api_tokens_need_no_csrf_token_and_are_stored_only_as_hashes() {
    let h = Harness::new().await;
    h.create_admin().await;
    let token = h.token().await;
    let reply = h.call(get("/api/v1/apps").bearer(&token)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json(), serde_json::json!([]));
    let reply = h.call(post("/api/v1/apps/nope/check").bearer(&token)).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.body);
    let stored = h.store.list_api_tokens().await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0].token_hash, token);
    assert!(stored[0].last_used_at.is_some(), "use is recorded");
}

#[tokio::test]
async fn the_first_start_asks_for_an_administrator_and_then_signs_them_in() {
    let h = Harness::new().await;
    let reply = h.call(get("/signin")).await;
    assert_eq!(
        (reply.status, reply.location()),
        (StatusCode::SEE_OTHER, "/setup")
    );
    let form = h.call(get("/setup")).await;
    assert_eq!(form.status, StatusCode::OK);
    let pre = form.cookie(csrf::PRE_SESSION_COOKIE).unwrap();
    let cookie = format!("{}={pre}", csrf::PRE_SESSION_COOKIE);
    let forged = h
        .call(post("/setup").cookie(&cookie).form(&[
            ("csrf", "other"),
            ("username", ADMIN),
            ("password", PASSWORD),
            ("confirm", PASSWORD),
        ]))
        .await;
    assert_eq!(
        forged.status,
        StatusCode::FORBIDDEN,
        "a cross-site setup is refused"
    );
    let short = h
        .call(post("/setup").cookie(&cookie).form(&[
            ("csrf", &pre),
            ("username", ADMIN),
            ("password", "short"),
            ("confirm", "short"),
        ]))
        .await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        short.body.contains("at least 12 characters"),
        "{}",
        short.body
    );
    for wrong in ["", "AAAA-BBBB-CCCC"] {
        let refused = h
            .call(post("/setup").cookie(&cookie).form(&[
                ("csrf", &pre),
                ("code", wrong),
                ("username", ADMIN),
                ("password", PASSWORD),
                ("confirm", PASSWORD),
            ]))
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "code {wrong:?}");
        assert!(
            refused.body.contains("setup code is missing or wrong"),
            "{}",
            refused.body
        );
    }
    assert!(h.store.list_admins().await.unwrap().is_empty());
    let code = h.store.setup_code().await.unwrap().expect("a setup code");
    let made = h
        .call(post("/setup").cookie(&cookie).form(&[
            ("csrf", &pre),
            ("code", &code),
            ("username", ADMIN),
            ("password", PASSWORD),
            ("confirm", PASSWORD),
        ]))
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    let session = made.cookie(SESSION_COOKIE).expect("signed in");
    let home = h
        .call(get("/").cookie(&format!("{SESSION_COOKIE}={session}")))
        .await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("Add the first app"));
    let admins = h.store.list_admins().await.unwrap();
    assert!(admins[0].password_hash.starts_with("$argon2id$"));
    let again = h.call(get("/setup")).await;
    assert_eq!(
        (again.status, again.location()),
        (StatusCode::SEE_OTHER, "/signin"),
        "setup closes once an admin exists"
    );
}

#[tokio::test]
async fn session_cookies_are_http_only_strict_and_secure_behind_tls() {
    let h = Harness::new().await;
    h.create_admin().await;
    let form = h
        .call(get("/signin").header("x-forwarded-proto", "https"))
        .await;
    let pre = form.cookie(csrf::PRE_SESSION_COOKIE).unwrap();
    assert!(form.set_cookies()[0].contains("Secure"));
    let cookie = format!("{}={pre}", csrf::PRE_SESSION_COOKIE);
    let reply = h
        .call(
            post("/signin")
                .header("x-forwarded-proto", "https")
                .cookie(&cookie)
                .form(&[("csrf", &pre), ("username", ADMIN), ("password", PASSWORD)]),
        )
        .await;
    let set = reply
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with(SESSION_COOKIE))
        .unwrap();
    for flag in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
        assert!(set.contains(flag), "{set} has {flag}");
    }
    let plain = h.sign_in().await;
    assert!(!plain.cookie.is_empty());
    let reply = h.call(get("/signin")).await;
    assert!(
        !reply.set_cookies()[0].contains("Secure"),
        "plain HTTP on loopback works without Secure"
    );
}

/// Posts the sign-in form from `peer`, with an optional `X-Forwarded-For`.
async fn sign_in_from(
    h: &Harness,
    peer: &str,
    forwarded: Option<&str>,
    password: &str,
) -> super::Reply {
    let form = h.call(get("/signin")).await;
    let pre = form.cookie(csrf::PRE_SESSION_COOKIE).unwrap();
    let mut r = post("/signin")
        .peer(peer)
        .cookie(&format!("{}={pre}", csrf::PRE_SESSION_COOKIE));
    if let Some(hops) = forwarded {
        r = r.header("x-forwarded-for", hops);
    }
    h.call(r.form(&[("csrf", &pre), ("username", ADMIN), ("password", password)]))
        .await
}

#[tokio::test]
async fn a_client_guessing_passwords_is_refused_but_the_administrator_elsewhere_still_signs_in() {
    let h = Harness::new().await;
    h.create_admin().await;
    for attempt in 1..=5 {
        let reply = sign_in_from(&h, "203.0.113.9:5000", None, "wrong password!").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
        assert!(reply.body.contains("Wrong username or password"));
    }
    let reply = sign_in_from(&h, "203.0.113.9:5001", None, PASSWORD).await;
    assert_eq!(
        reply.status,
        StatusCode::TOO_MANY_REQUESTS,
        "the guessing client waits"
    );
    assert!(reply.body.contains("Too many failed sign-ins"));
    let owner = sign_in_from(&h, "198.51.100.7:6000", None, PASSWORD).await;
    assert_eq!(owner.status, StatusCode::SEE_OTHER, "{}", owner.body);
    let form = h.call(get("/signin")).await;
    let pre = form.cookie(csrf::PRE_SESSION_COOKIE).unwrap();
    let unknown = h
        .call(
            post("/signin")
                .peer("198.51.100.7:6001")
                .cookie(&format!("{}={pre}", csrf::PRE_SESSION_COOKIE))
                .form(&[
                    ("csrf", &pre),
                    ("username", "nobody"),
                    ("password", PASSWORD),
                ]),
        )
        .await;
    assert_eq!(
        unknown.status,
        StatusCode::UNAUTHORIZED,
        "an unknown user gets the same answer"
    );
    assert!(unknown.body.contains("Wrong username or password"));
}

#[tokio::test]
async fn forwarded_for_names_the_client_only_behind_a_trusted_proxy() {
    let h = Harness::new().await;
    h.create_admin().await;
    for _ in 0..5 {
        sign_in_from(&h, "10.0.0.2:1", Some("203.0.113.9"), "wrong password!").await;
    }
    // Untrusted, the proxy's own address was counted: a forged header changes nothing.
    let spoofed = sign_in_from(&h, "10.0.0.2:1", Some("198.51.100.7"), PASSWORD).await;
    assert_eq!(spoofed.status, StatusCode::TOO_MANY_REQUESTS);

    let mut h2 = Harness::new().await;
    h2.create_admin().await;
    h2.state.trusted_proxies = vec!["10.0.0.2".parse().unwrap()].into();
    h2.app = crate::web::router(h2.state.clone());
    for _ in 0..5 {
        sign_in_from(
            &h2,
            "10.0.0.2:1",
            Some("6.6.6.6, 203.0.113.9"),
            "wrong password!",
        )
        .await;
    }
    let attacker = sign_in_from(&h2, "10.0.0.2:1", Some("203.0.113.9"), PASSWORD).await;
    assert_eq!(attacker.status, StatusCode::TOO_MANY_REQUESTS);
    let owner = sign_in_from(&h2, "10.0.0.2:1", Some("198.51.100.7"), PASSWORD).await;
    assert_eq!(owner.status, StatusCode::SEE_OTHER, "{}", owner.body);
}

#[tokio::test]
async fn a_redirect_after_sign_in_never_leaves_the_site() {
    let h = Harness::new().await;
    h.create_admin().await;
    let form = h.call(get("/signin?next=/%09/evil.example")).await;
    assert!(
        !form.body.contains("evil.example"),
        "the form does not carry it on"
    );
    let pre = form.cookie(csrf::PRE_SESSION_COOKIE).unwrap();
    for next in ["/\t/evil.example", "/\\evil.example", "//evil.example"] {
        let reply = h
            .call(
                post("/signin")
                    .cookie(&format!("{}={pre}", csrf::PRE_SESSION_COOKIE))
                    .form(&[
                        ("csrf", &pre),
                        ("username", ADMIN),
                        ("password", PASSWORD),
                        ("next", next),
                    ]),
            )
            .await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(reply.location(), "/", "{next:?}");
    }
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    let h = Harness::new().await;
    let b = h.admin().await;
    assert_eq!(
        h.call(get("/").cookie(&b.cookie)).await.status,
        StatusCode::OK
    );
    let out = h
        .call(
            post("/signout")
                .cookie(&b.cookie)
                .form(&[("csrf", &b.csrf)]),
        )
        .await;
    assert_eq!(
        (out.status, out.location()),
        (StatusCode::SEE_OTHER, "/signin")
    );
    assert_eq!(
        h.call(get("/").cookie(&b.cookie)).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn readiness_is_refused_when_the_store_cannot_write() {
    let store = usersync_store::Store::open_in_memory().await.unwrap();
    let h = Harness::over(store.clone());
    assert_eq!(h.call(get("/readyz")).await.status, StatusCode::OK);
    store.close().await;
    let reply = h.call(get("/readyz")).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reply.body, "the store cannot write");
}

#[tokio::test]
async fn health_is_public_and_metrics_need_a_caller_and_speak_prometheus() {
    let h = Harness::new().await;
    assert_eq!(h.call(get("/healthz")).await.body, "ok");
    assert_eq!(h.call(get("/readyz")).await.status, StatusCode::OK);
    let b = h.admin().await;
    h.call(get("/").cookie(&b.cookie)).await;
    let metrics = h.call(get("/metrics").cookie(&b.cookie)).await;
    assert_eq!(metrics.status, StatusCode::OK);
    assert!(
        metrics.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    assert!(
        metrics
            .body
            .contains("# TYPE usersync_http_request_duration_seconds histogram"),
        "{}",
        metrics.body
    );
    assert!(
        metrics.body.contains("route=\"/\",status=\"200\""),
        "{}",
        metrics.body
    );
    for name in [
        "usersync_runs",
        "usersync_operations",
        "usersync_okta_rate_limit_remaining",
    ] {
        assert!(
            metrics.body.contains(&format!("# TYPE {name} gauge")),
            "{name}"
        );
    }
}

#[tokio::test]
async fn static_files_are_served_from_the_binary_without_signing_in() {
    let h = Harness::new().await;
    let css = h.call(get("/static/app.css")).await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(
        css.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    let js = h.call(get("/static/vendor/htmx.min.js")).await;
    assert!(js.body.contains("htmx"));
    assert_eq!(
        h.call(get("/static/../Cargo.toml")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twelve_simultaneous_setups_create_exactly_one_administrator() {
    let h = Harness::new().await;
    let code = h.store.setup_code().await.unwrap().expect("a setup code");
    let form = h.call(get("/setup")).await;
    let pre = form.cookie(csrf::PRE_SESSION_COOKIE).unwrap();
    let cookie = format!("{}={pre}", csrf::PRE_SESSION_COOKIE);
    let names: Vec<String> = (0..12).map(|i| format!("admin{i}")).collect();
    let attempts = names.iter().map(|name| {
        h.call(post("/setup").cookie(&cookie).form(&[
            ("csrf", &pre),
            ("code", &code),
            ("username", name),
            ("password", PASSWORD),
            ("confirm", PASSWORD),
        ]))
    });
    let replies = futures::future::join_all(attempts).await;
    let signed_in = replies
        .iter()
        .filter(|r| r.cookie(SESSION_COOKIE).is_some())
        .count();
    assert_eq!(signed_in, 1, "one attempt won and was signed in");
    assert_eq!(h.store.list_admins().await.unwrap().len(), 1);
}

#[tokio::test]
async fn before_the_first_administrator_exists_every_page_leads_to_setup() {
    let h = Harness::new().await;
    let reply = h.call(get("/runs")).await;
    assert_eq!(
        (reply.status, reply.location()),
        (StatusCode::SEE_OTHER, "/setup")
    );
    let api = h.call(get("/api/v1/apps")).await;
    assert_eq!(
        api.status,
        StatusCode::UNAUTHORIZED,
        "the API still answers 401"
    );
}

#[tokio::test]
async fn authenticated_answers_are_never_stored_by_a_browser_or_proxy() {
    let h = Harness::new().await;
    let b = h.admin().await;
    let token = h.token().await;
    let page = h.call(get("/").cookie(&b.cookie)).await;
    let api = h.call(get("/api/v1/apps").bearer(&token)).await;
    let missing = h.call(get("/api/v1/apps/nope").bearer(&token)).await;
    for (what, reply) in [("page", &page), ("API", &api), ("API error", &missing)] {
        assert_eq!(
            reply
                .headers
                .get(header::CACHE_CONTROL)
                .and_then(|v| v.to_str().ok()),
            Some("no-store"),
            "the {what} answer ({}) may be cached",
            reply.status
        );
    }
}
