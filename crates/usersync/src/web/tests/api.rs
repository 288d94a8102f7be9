//! `/api/v1/apps` CRUD without Okta or Jira: validation, write-only secrets, audit.

use axum::http::{Method, StatusCode};
use serde_json::json;

use super::{Harness, app_json, get, post, req};

const OKTA_SECRET: &str = "okta-SECRET-token-4711";
const JIRA_SECRET: &str = "jira-SECRET-password-0815";

fn body() -> serde_json::Value {
    app_json(
        "Jira prod",
        "https://example.okta.com",
        OKTA_SECRET,
        "https://jira.example.com",
        JIRA_SECRET,
    )
}

fn assert_no_secret(text: &str) {
    assert!(
        !text.contains(OKTA_SECRET) && !text.contains(JIRA_SECRET),
        "a secret leaked: {text}"
    );
}

#[tokio::test]
async fn apps_round_trip_through_the_api_and_secrets_are_only_ever_set() {
    let h = Harness::new().await;
    h.create_admin().await;
    let t = h.token().await;
    let created = h.call(post("/api/v1/apps").bearer(&t).json(&body())).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_no_secret(&created.body);
    let app = created.json();
    assert_eq!(
        app["okta"]["credential"]["token"],
        json!({ "state": "stored" })
    );
    assert_eq!(
        app["target"]["credential"]["password"],
        json!({ "state": "stored" })
    );
    assert_eq!(app["policy"]["username"]["regex"], "(.*)@.*");

    let mut update = body();
    update["okta"]["credential"]["token"] = json!(null);
    update["target"]["credential"]
        .as_object_mut()
        .unwrap()
        .remove("password");
    update["policy"]["toggles"] =
        json!({ "import_users": true, "update_users": false, "enable_disable_users": true });
    let updated = h
        .call(
            req(Method::PUT, "/api/v1/apps/jira%20prod")
                .bearer(&t)
                .json(&update),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert_eq!(
        updated.json()["okta"]["credential"]["token"],
        json!({ "state": "stored" }),
        "omitted secrets are kept"
    );
    assert_eq!(updated.json()["policy"]["toggles"]["update_users"], false);

    let list = h.call(get("/api/v1/apps").bearer(&t)).await;
    assert_eq!(list.json()[0]["name"], "Jira prod");
    let one = h.call(get("/api/v1/apps/Jira%20prod").bearer(&t)).await;
    for text in [&list.body, &one.body] {
        assert_no_secret(text);
    }
    let audit = h.store.audit_log(&Default::default(), 10).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.action == "app.create" && a.actor == "token:tests"),
        "{audit:?}"
    );

    let deleted = h
        .call(req(Method::DELETE, "/api/v1/apps/Jira%20prod").bearer(&t))
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let gone = h.call(get("/api/v1/apps/Jira%20prod").bearer(&t)).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.json()["code"], "not_found");
}

#[tokio::test]
async fn a_replacement_with_text_after_a_group_is_accepted_on_create_and_update() {
    let h = Harness::new().await;
    h.create_admin().await;
    let t = h.token().await;
    let mut app = body();
    app["policy"]["username"]["regex"] = json!("^([^@]+)@.*$");
    app["policy"]["username"]["replacement"] = json!("$1abc");
    let created = h.call(post("/api/v1/apps").bearer(&t).json(&app)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.json()["policy"]["username"]["replacement"], "$1abc");

    app["policy"]["username"]["replacement"] = json!("${1}x$1abc");
    let updated = h
        .call(
            req(Method::PUT, "/api/v1/apps/Jira%20prod")
                .bearer(&t)
                .json(&app),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert_eq!(
        updated.json()["policy"]["username"]["replacement"],
        "${1}x$1abc"
    );
}

#[tokio::test]
async fn bad_settings_are_refused_with_a_stable_code_naming_the_field() {
    let h = Harness::new().await;
    h.create_admin().await;
    let t = h.token().await;
    let mut bad_regex = body();
    bad_regex["policy"]["username"]["regex"] = json!("(.*@");
    let reply = h
        .call(post("/api/v1/apps").bearer(&t).json(&bad_regex))
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert_eq!(reply.json()["code"], "validation_failed");
    assert_eq!(reply.json()["field"], "policy.username.regex");

    let mut http_okta = body();
    http_okta["okta"]["url"] = json!("http://example.okta.com");
    let reply = h
        .call(post("/api/v1/apps").bearer(&t).json(&http_okta))
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert_eq!(reply.json()["field"], "okta.url");
    assert_no_secret(&reply.body);

    assert_eq!(
        h.call(post("/api/v1/apps").bearer(&t).json(&body()))
            .await
            .status,
        StatusCode::CREATED
    );
    let dup = h.call(post("/api/v1/apps").bearer(&t).json(&body())).await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    assert_eq!(dup.json()["code"], "conflict");

    let garbage = h
        .call(
            post("/api/v1/apps")
                .bearer(&t)
                .header("content-type", "application/json"),
        )
        .await;
    assert_eq!(garbage.status, StatusCode::BAD_REQUEST);
    assert_eq!(garbage.json()["code"], "bad_request");
    let mut kept_on_create = body();
    kept_on_create["name"] = json!("Jira without a token");
    kept_on_create["okta"]["credential"]["token"] = json!(null);
    let reply = h
        .call(post("/api/v1/apps").bearer(&t).json(&kept_on_create))
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a new app has no secret to keep: {}",
        reply.body
    );
    assert_eq!(reply.json()["field"], "okta.credential.token");

    let mut wrong_type = body();
    wrong_type["policy"]["limits"] = json!({ "max_destructive": "many" });
    let reply = h
        .call(post("/api/v1/apps").bearer(&t).json(&wrong_type))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    let message = reply.json()["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        message.contains("at policy.limits.max_destructive:"),
        "{message}"
    );
    let missing = h.call(get("/api/v1/nothing-here").bearer(&t)).await;
    assert_eq!(missing.json()["code"], "not_found");
}

#[tokio::test]
async fn runs_of_an_unknown_id_are_not_found_and_an_empty_history_is_an_empty_list() {
    let h = Harness::new().await;
    h.create_admin().await;
    let t = h.token().await;
    assert_eq!(
        h.call(get("/api/v1/runs").bearer(&t)).await.json(),
        json!([])
    );
    for path in ["/api/v1/runs/99", "/api/v1/runs/99/operations"] {
        let reply = h.call(get(path).bearer(&t)).await;
        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "{path}: {}",
            reply.body
        );
    }
    let reply = h.call(post("/api/v1/runs/99/approve").bearer(&t)).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.body);
}

#[tokio::test]
async fn event_settings_left_out_of_an_update_keep_their_stored_values() {
    let h = Harness::new().await;
    h.create_admin().await;
    let t = h.token().await;
    let mut app = body();
    app["events"] = json!({
        "hook_enabled": true,
        "hook_secret": "hook-SECRET-1234567890",
        "poll_interval_seconds": 120
    });
    let created = h.call(post("/api/v1/apps").bearer(&t).json(&app)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert!(!created.body.contains("hook-SECRET"), "{}", created.body);

    let updated = h
        .call(
            req(Method::PUT, "/api/v1/apps/Jira%20prod")
                .bearer(&t)
                .json(&body()),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    let events = &updated.json()["events"];
    assert_eq!(events["hook_enabled"], true, "{events}");
    assert_eq!(events["poll_interval_seconds"], 120, "{events}");
    assert_eq!(events["hook_secret"], json!({ "state": "stored" }));
}

#[tokio::test]
async fn a_sides_ca_file_is_checked_on_save_and_shown_by_the_api() {
    let h = Harness::new().await;
    h.create_admin().await;
    let t = h.token().await;
    let ca = usersync_testkit::TestCa::new("Corp Root CA");
    let not_pem = ca.ca_file().with_file_name("notes.txt");
    std::fs::write(&not_pem, "hello").expect("write");
    let mut bad = body();
    bad["target"]["ca_file"] = json!(not_pem.display().to_string());
    let reply = h.call(post("/api/v1/apps").bearer(&t).json(&bad)).await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert_eq!(reply.json()["field"], "target.ca_file");
    assert!(reply.body.contains("no certificate"), "{}", reply.body);

    let mut good = body();
    good["target"]["ca_file"] = json!(ca.ca_path());
    let reply = h.call(post("/api/v1/apps").bearer(&t).json(&good)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.json()["target"]["ca_file"], json!(ca.ca_path()));
    assert!(
        reply.json()["okta"].get("ca_file").is_none(),
        "{}",
        reply.body
    );
}
