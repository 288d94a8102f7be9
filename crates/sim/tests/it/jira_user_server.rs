//! Jira as a user server: with an application configured, the Jira emulator serves
//! Crowd's usermanagement API (`config/cookie`, `GET/PUT /user`) over its own users,
//! behind Crowd's application check and with Crowd's error bodies; without one, the
//! path does not exist.

use pretty_assertions::assert_eq;
use reqwest::StatusCode;
use serde_json::{Value, json};
use usersync_sim::jira::{JiraSim, JiraSimConfig, SeedUser, UserServerApp};

const PASSWORD: &str = "app-password";

async fn sim_with_app() -> JiraSim {
    JiraSim::start(JiraSimConfig {
        version: "8.2.0".into(),
        user_server_app: Some(UserServerApp {
            name: "usersync".into(),
            password: PASSWORD.into(),
        }),
        ldap_users: vec![SeedUser::new("ldap0001")],
        ..JiraSimConfig::default()
    })
    .await
    .unwrap()
}

async fn call(
    sim: &JiraSim,
    method: &str,
    path: &str,
    (name, password): (&str, &str),
    body: Option<Value>,
) -> (StatusCode, Value) {
    let url = format!("{}/rest/usermanagement/1/{path}", sim.base_url());
    let mut request = reqwest::Client::new()
        .request(method.parse().unwrap(), url)
        .basic_auth(name, Some(password))
        .header("Accept", "application/json");
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

const APP: (&str, &str) = ("usersync", PASSWORD);

#[tokio::test]
async fn without_an_application_jira_serves_no_usermanagement_api() {
    let sim = JiraSim::start(JiraSimConfig {
        version: "8.2.0".into(),
        ..JiraSimConfig::default()
    })
    .await
    .unwrap();
    let (status, _) = call(&sim, "GET", "config/cookie", APP, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn only_the_configured_application_is_answered_not_a_jira_user() {
    let sim = sim_with_app().await;
    let (status, cookie) = call(&sim, "GET", "config/cookie", APP, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(cookie["name"], "crowd.token_key");
    for wrong in [("usersync", "nope"), ("admin", "admin")] {
        let (status, _) = call(&sim, "GET", "config/cookie", wrong, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{wrong:?}");
    }
}

#[tokio::test]
async fn get_user_answers_crowds_entity_of_a_jira_user_or_user_not_found() {
    let sim = sim_with_app().await;
    let (status, user) = call(&sim, "GET", "user?username=ADMIN", APP, None).await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["name"], "admin");
    assert_eq!(user["active"], true);
    assert_eq!(user["email"], "admin@example.com");
    assert_eq!(user["display-name"], "Administrator");
    let (status, error) = call(&sim, "GET", "user?username=ghost", APP, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error["reason"], "USER_NOT_FOUND");
}

#[tokio::test]
async fn put_user_deactivates_in_jira_and_refuses_a_mismatched_name_or_a_read_only_user() {
    let sim = sim_with_app().await;
    sim.add_user(&SeedUser::new("alice")).unwrap();
    let (_, mut user) = call(&sim, "GET", "user?username=alice", APP, None).await;
    user["active"] = json!(false);
    let (status, _) = call(&sim, "PUT", "user?username=alice", APP, Some(user.clone())).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let alice = sim.user("alice").unwrap();
    assert!(!alice.active, "Jira's own user is deactivated");
    assert_eq!(alice.email, "alice@example.com", "the rest is kept");

    let (status, error) = call(&sim, "PUT", "user?username=bob", APP, Some(user)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["reason"], "ILLEGAL_ARGUMENT");

    let (_, mut ldap) = call(&sim, "GET", "user?username=ldap0001", APP, None).await;
    ldap["active"] = json!(false);
    let (status, error) = call(&sim, "PUT", "user?username=ldap0001", APP, Some(ldap)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{error}");
    assert_eq!(error["reason"], "OPERATION_FAILED");
    assert!(sim.user("ldap0001").unwrap().active);
}
