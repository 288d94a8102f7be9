//! Issue 13's attacks on stored secrets through the API, and what every answer may show.
//!
//! A stored secret is bound to the origin it was given for: moving an app's URLs to a host
//! the caller controls and keeping the secrets is refused, and `check` then sends them only
//! where they belong. References (`env:`, `file:`) read the server's own environment and
//! files, so the API refuses them unless the server allows their prefix, and never accepts
//! one into the data directory. Every answer is scanned for the secrets.

use std::sync::{Arc, Mutex};

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;
use usersync_core::app::SecretRefAllowList;
use usersync_testkit::DataDir;

use super::{Harness, Reply, app_json, post, req};

const OKTA_SECRET: &str = "okta-SECRET-token-bound-4711";
const JIRA_SECRET: &str = "jira-SECRET-password-bound-0815";

/// A host on loopback that records each request's head and answers 401.
struct Host {
    url: String,
    heads: Arc<Mutex<Vec<String>>>,
}

impl Host {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let heads = Arc::new(Mutex::new(Vec::new()));
        let seen = heads.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let seen = seen.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 16 * 1024];
                    let n = socket.read(&mut buf).await.unwrap_or(0);
                    seen.lock()
                        .unwrap()
                        .push(String::from_utf8_lossy(&buf[..n]).into_owned());
                    let answer = "HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
                    let _ = socket.write_all(answer.as_bytes()).await;
                });
            }
        });
        Self { url, heads }
    }

    fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }
}

/// Fails when an answer shows a secret value (or any of `more`).
fn clean(reply: Reply, more: &[&str]) -> Reply {
    for secret in [OKTA_SECRET, JIRA_SECRET].iter().chain(more) {
        assert!(
            !reply.body.contains(secret),
            "a secret leaked into {}",
            reply.body
        );
    }
    reply
}

async fn send(h: &Harness, token: &str, method: Method, path: &str, body: Option<&Value>) -> Reply {
    let mut r = req(method, path).bearer(token);
    if let Some(body) = body {
        r = r.json(body);
    }
    clean(h.call(r).await, &[])
}

fn assert_field_error(reply: &Reply, field: &str, says: &str) {
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    let body = reply.json();
    assert_eq!(body["field"], field, "{}", reply.body);
    assert!(reply.body.contains(says), "{}", reply.body);
}

#[tokio::test]
async fn moving_an_apps_urls_over_the_api_never_sends_its_stored_secrets_to_the_new_host() {
    let honest = Host::start().await;
    let attacker = Host::start().await;
    let h = Harness::new().await;
    h.create_admin().await;
    let t = h.token().await;
    let app = app_json("jira", &honest.url, OKTA_SECRET, &honest.url, JIRA_SECRET);
    let created = send(&h, &t, Method::POST, "/api/v1/apps", Some(&app)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);

    // The attack: only the URLs change, the secrets are omitted ("keep").
    let mut moved = app.clone();
    moved["okta"]["url"] = json!(attacker.url);
    moved["target"]["url"] = json!(attacker.url);
    moved["okta"]["credential"]["token"] = Value::Null;
    moved["target"]["credential"]["password"] = Value::Null;
    let put = send(&h, &t, Method::PUT, "/api/v1/apps/jira", Some(&moved)).await;
    assert_field_error(
        &put,
        "okta.credential.token",
        &format!(
            "the Okta URL changed from {} to {}; enter the token again",
            honest.url, attacker.url
        ),
    );
    let mut target_only = app.clone();
    target_only["target"]["url"] = json!(format!("{}/jira", attacker.url));
    target_only["okta"]["credential"]["token"] = Value::Null;
    target_only["target"]["credential"]["password"] = Value::Null;
    let put = send(&h, &t, Method::PUT, "/api/v1/apps/jira", Some(&target_only)).await;
    assert_field_error(
        &put,
        "target.credential.password",
        "enter the password again",
    );

    let check = send(&h, &t, Method::POST, "/api/v1/apps/jira/check", None).await;
    assert_eq!(check.status, StatusCode::OK, "{}", check.body);
    assert!(
        attacker.heads().is_empty(),
        "the attacker's host was called: {:?}",
        attacker.heads()
    );
    let sent = honest.heads().join("\n");
    assert!(
        sent.contains(&format!("SSWS {OKTA_SECRET}")),
        "the token still goes where it was given for: {sent}"
    );
}

#[tokio::test]
async fn the_api_refuses_secret_references_the_server_does_not_allow() {
    let h = Harness::new().await;
    h.create_admin().await;
    let t = h.token().await;
    for reference in [
        "env:HOME",
        "file:/etc/passwd",
        "file:/var/lib/usersync/master.key",
    ] {
        let app = app_json(
            "jira",
            "https://example.okta.com",
            reference,
            "https://jira.example.com",
            JIRA_SECRET,
        );
        let reply = send(&h, &t, Method::POST, "/api/v1/apps", Some(&app)).await;
        assert_field_error(&reply, "okta.credential.token", "is not accepted here");
        assert!(reply.body.contains("allows none"), "{}", reply.body);
    }
    let apps = send(&h, &t, Method::GET, "/api/v1/apps", None).await;
    assert_eq!(apps.json(), json!([]));
}

#[tokio::test]
async fn an_allow_list_admits_its_prefixes_but_never_the_data_directory() {
    let data = DataDir::new();
    let store = data.open().await;
    let parent = data.path().parent().unwrap().display().to_string();
    let allowed: SecretRefAllowList = format!("file:{parent}/,env:USERSYNC_TEST_")
        .parse()
        .unwrap();
    let h = Harness::allowing(store, allowed);
    h.create_admin().await;
    let t = h.token().await;
    let key = std::fs::read_to_string(data.path().join("master.key")).unwrap_or_default();
    let master = format!("file:{}", data.path().join("master.key").display());
    let refused = [
        (master.as_str(), "inside usersync's data directory"),
        ("env:HOME", "allows only"),
        ("env:USERSYNC_MASTER_KEY", "allows only"),
    ];
    for (reference, says) in refused {
        let app = app_json(
            "jira",
            "https://example.okta.com",
            reference,
            "https://jira.example.com",
            JIRA_SECRET,
        );
        let reply = clean(
            h.call(post("/api/v1/apps").bearer(&t).json(&app)).await,
            &[key.trim()]
                .into_iter()
                .filter(|k| !k.is_empty())
                .collect::<Vec<_>>(),
        );
        assert_field_error(&reply, "okta.credential.token", says);
    }
    let app = app_json(
        "jira",
        "https://example.okta.com",
        "env:USERSYNC_TEST_OKTA_TOKEN",
        "https://jira.example.com",
        JIRA_SECRET,
    );
    let created = send(&h, &t, Method::POST, "/api/v1/apps", Some(&app)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(
        created.json()["okta"]["credential"]["token"],
        json!({ "state": "reference", "reference": "env:USERSYNC_TEST_OKTA_TOKEN" })
    );
}
