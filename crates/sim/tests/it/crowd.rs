//! Tests of the Crowd emulator over HTTP: application authentication and remote
//! addresses, Crowd's status codes and `{"reason","message"}` bodies for every
//! resource usersync uses, `PUT /user` replacing, `start-index`/`max-results`
//! paging and the CQL subset; and python-crowd (a client nobody here wrote)
//! driving it.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::process::Command;

use pretty_assertions::assert_eq;
use reqwest::StatusCode;
use serde_json::{Value, json};
use usersync_sim::crowd::{CrowdSim, CrowdSimConfig};

async fn sim() -> CrowdSim {
    CrowdSim::start(CrowdSimConfig::default()).await.unwrap()
}

/// Sends one request as the application; returns status and JSON body (Null if none).
async fn call(
    sim: &CrowdSim,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    call_as(sim, sim.application_password(), method, path, body).await
}

async fn call_as(
    sim: &CrowdSim,
    password: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let url = format!("{}/rest/usermanagement/1/{path}", sim.base_url());
    let mut request = reqwest::Client::new()
        .request(method.parse().unwrap(), url)
        .basic_auth(sim.application(), Some(password))
        .header("Accept", "application/json");
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn reason(body: &Value) -> &str {
    body["reason"].as_str().unwrap_or_default()
}

fn new_user(name: &str) -> Value {
    json!({"name": name, "first-name": "A", "last-name": "B", "display-name": "A B",
           "email": format!("{name}@example.com"), "active": true, "password": {"value": "pw"}})
}

#[tokio::test]
async fn only_the_application_from_an_allowed_address_is_answered() {
    let sim = sim().await;
    let (status, _) = call_as(&sim, "wrong", "GET", "config/cookie", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = call(&sim, "GET", "config/cookie", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["name"], "crowd.token_key");
    let (status, _) = call(&sim, "GET", "no/such/resource", None).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a signed-in application gets 404"
    );

    sim.set_allowed_addresses(&[IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))]);
    let (status, body) = call(&sim, "GET", "config/cookie", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(reason(&body), "APPLICATION_ACCESS_DENIED");
    assert!(
        body["message"].as_str().unwrap().contains("\"127.0.0.1\""),
        "{body}"
    );
}

#[tokio::test]
async fn every_answer_names_crowd_and_its_version() {
    let sim = sim().await;
    let response = reqwest::Client::new()
        .get(format!(
            "{}/rest/usermanagement/1/config/cookie",
            sim.base_url()
        ))
        .basic_auth(sim.application(), Some(sim.application_password()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["x-embedded-crowd-version"],
        "Crowd/6.0.3"
    );
}

#[tokio::test]
async fn users_are_created_with_201_and_refused_as_crowd_refuses_them() {
    let sim = sim().await;
    let response = reqwest::Client::new()
        .post(format!("{}/rest/usermanagement/1/user", sim.base_url()))
        .basic_auth(sim.application(), Some(sim.application_password()))
        .json(&new_user("ada"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert!(
        response.headers()["location"]
            .to_str()
            .unwrap()
            .ends_with("/user?username=ada")
    );

    let (status, body) = call(&sim, "POST", "user", Some(new_user("ADA"))).await;
    assert_eq!(
        (status, reason(&body)),
        (StatusCode::BAD_REQUEST, "INVALID_USER")
    );
    let mut no_password = new_user("bob");
    no_password.as_object_mut().unwrap().remove("password");
    let (status, body) = call(&sim, "POST", "user", Some(no_password)).await;
    assert_eq!(
        (status, reason(&body)),
        (StatusCode::BAD_REQUEST, "INVALID_CREDENTIAL")
    );
    let (status, body) = call(&sim, "GET", "user?username=nobody", None).await;
    assert_eq!(
        (status, reason(&body)),
        (StatusCode::NOT_FOUND, "USER_NOT_FOUND")
    );
    let (status, body) = call(&sim, "GET", "user?username=Ada", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (body["name"].as_str(), body["active"].as_bool()),
        (Some("ada"), Some(true))
    );
    assert!(
        body.get("password").and_then(|p| p.get("value")).is_none(),
        "never sent back"
    );
}

#[tokio::test]
async fn put_user_replaces_the_whole_user_and_checks_the_name() {
    let sim = sim().await;
    call(&sim, "POST", "user", Some(new_user("ada"))).await;
    let (status, _) = call(
        &sim,
        "PUT",
        "user?username=ada",
        Some(json!({"name": "ADA", "display-name": "Ada", "active": false})),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let stored = sim.user("ada").unwrap();
    assert!(!stored.active);
    assert_eq!(stored.email, "", "an omitted e-mail is cleared");
    let (status, body) = call(
        &sim,
        "PUT",
        "user?username=ada",
        Some(json!({"name": "bob"})),
    )
    .await;
    assert_eq!(
        (status, reason(&body)),
        (StatusCode::BAD_REQUEST, "ILLEGAL_ARGUMENT")
    );
    let (status, body) = call(
        &sim,
        "PUT",
        "user?username=zed",
        Some(json!({"name": "zed"})),
    )
    .await;
    assert_eq!(
        (status, reason(&body)),
        (StatusCode::NOT_FOUND, "USER_NOT_FOUND")
    );
}

#[tokio::test]
async fn a_rename_keeps_the_key_and_the_memberships() {
    let sim = sim().await;
    call(&sim, "POST", "user", Some(new_user("ada"))).await;
    sim.add_group("devs").unwrap();
    sim.add_member("devs", "ada").unwrap();
    let key = sim.user("ada").unwrap().key;
    let (status, body) = call(
        &sim,
        "POST",
        "user/rename?username=ada",
        Some(json!({"new-name": "ada.l"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["name"], "ada.l");
    assert_eq!(sim.user("ada.l").unwrap().key, key);
    assert_eq!(sim.members("devs"), vec!["ada.l"]);
    call(&sim, "POST", "user", Some(new_user("bob"))).await;
    let (status, body) = call(
        &sim,
        "POST",
        "user/rename?username=bob",
        Some(json!({"new-name": "ADA.L"})),
    )
    .await;
    assert_eq!(
        (status, reason(&body)),
        (StatusCode::BAD_REQUEST, "INVALID_USER")
    );
}

#[tokio::test]
async fn memberships_answer_400_for_a_missing_body_entity_404_for_a_missing_path_entity_and_409_for_a_repeat()
 {
    let sim = sim().await;
    call(&sim, "POST", "user", Some(new_user("ada"))).await;
    let (status, _) = call(
        &sim,
        "POST",
        "group",
        Some(json!({"name": "devs", "type": "GROUP"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = call(
        &sim,
        "POST",
        "group",
        Some(json!({"name": "DEVS", "type": "GROUP"})),
    )
    .await;
    assert_eq!(
        (status, reason(&body)),
        (StatusCode::BAD_REQUEST, "INVALID_GROUP")
    );

    let add = |group: &str, user: &str| {
        (
            format!("group/user/direct?groupname={group}"),
            json!({"name": user}),
        )
    };
    let (path, body) = add("devs", "ghost");
    let (status, answer) = call(&sim, "POST", &path, Some(body)).await;
    assert_eq!(
        (status, reason(&answer)),
        (StatusCode::BAD_REQUEST, "USER_NOT_FOUND")
    );
    let (path, body) = add("nogroup", "ada");
    let (status, answer) = call(&sim, "POST", &path, Some(body)).await;
    assert_eq!(
        (status, reason(&answer)),
        (StatusCode::NOT_FOUND, "GROUP_NOT_FOUND")
    );
    let (path, body) = add("devs", "ada");
    assert_eq!(
        call(&sim, "POST", &path, Some(body.clone())).await.0,
        StatusCode::CREATED
    );
    let (status, answer) = call(&sim, "POST", &path, Some(body)).await;
    assert_eq!(
        (status, reason(&answer)),
        (StatusCode::CONFLICT, "MEMBERSHIP_ALREADY_EXISTS")
    );
    let (status, answer) = call(
        &sim,
        "POST",
        "user/group/direct?username=ada",
        Some(json!({"name": "nogroup"})),
    )
    .await;
    assert_eq!(
        (status, reason(&answer)),
        (StatusCode::BAD_REQUEST, "GROUP_NOT_FOUND")
    );

    let (status, answer) = call(&sim, "GET", "user/group/direct?username=ada", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["groups"][0]["name"], "devs");
    let remove = "group/user/direct?groupname=devs&username=ada";
    assert_eq!(
        call(&sim, "DELETE", remove, None).await.0,
        StatusCode::NO_CONTENT
    );
    let (status, answer) = call(&sim, "DELETE", remove, None).await;
    assert_eq!(
        (status, reason(&answer)),
        (StatusCode::NOT_FOUND, "MEMBERSHIP_NOT_FOUND")
    );
    assert_eq!(
        call(&sim, "DELETE", "group?groupname=devs", None).await.0,
        StatusCode::NO_CONTENT
    );
    let (status, answer) = call(&sim, "DELETE", "group?groupname=devs", None).await;
    assert_eq!(
        (status, reason(&answer)),
        (StatusCode::NOT_FOUND, "GROUP_NOT_FOUND")
    );
    assert_eq!(
        call(&sim, "DELETE", "user?username=ada", None).await.0,
        StatusCode::NO_CONTENT
    );
    let (status, answer) = call(&sim, "DELETE", "user?username=ada", None).await;
    assert_eq!(
        (status, reason(&answer)),
        (StatusCode::NOT_FOUND, "USER_NOT_FOUND")
    );
}

#[tokio::test]
async fn search_pages_by_start_index_and_max_results_and_filters_by_cql() {
    let sim = sim().await;
    for i in 0..5 {
        sim.add_user(
            &format!("u{i}"),
            "U U",
            &format!("u{i}@example.com"),
            i != 2,
        )
        .unwrap();
    }
    let mut seen = Vec::new();
    for start in [0, 2, 4] {
        let path = format!("search?entity-type=user&start-index={start}&max-results=2");
        let (status, body) = call(&sim, "GET", &path, None).await;
        assert_eq!(status, StatusCode::OK);
        let names: Vec<String> = body["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["name"].as_str().unwrap().to_owned())
            .collect();
        assert!(
            body["users"][0].get("email").is_none(),
            "names only without expand"
        );
        seen.extend(names);
    }
    assert_eq!(seen, ["u0", "u1", "u2", "u3", "u4"]);
    let (_, body) = call(
        &sim,
        "GET",
        "search?entity-type=user&expand=user&restriction=active%3Dfalse",
        None,
    )
    .await;
    assert_eq!(body["users"].as_array().unwrap().len(), 1);
    assert_eq!(body["users"][0]["name"], "u2");
    assert_eq!(body["users"][0]["active"], false);
    let (status, body) = call(&sim, "GET", "search?restriction=", None).await;
    assert_eq!(
        (status, reason(&body)),
        (StatusCode::BAD_REQUEST, "ILLEGAL_ARGUMENT")
    );
    let (status, body) = call(
        &sim,
        "GET",
        "search?entity-type=user&max-results=lots",
        None,
    )
    .await;
    assert_eq!(
        (status, reason(&body)),
        (StatusCode::BAD_REQUEST, "ILLEGAL_ARGUMENT")
    );
}

#[tokio::test]
async fn injected_faults_use_crowds_error_body() {
    let sim = sim().await;
    sim.faults().burst_503(1);
    let (status, body) = call(&sim, "GET", "config/cookie", None).await;
    assert_eq!(
        (status, reason(&body)),
        (StatusCode::SERVICE_UNAVAILABLE, "OPERATION_FAILED")
    );
}

fn python_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/crowd_check.py")
}

/// True when python3 can import python-crowd; in CI its absence is a failure.
fn python_ready() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import crowd; crowd.CrowdServer"])
        .status()
        .is_ok_and(|s| s.success());
    usersync_testkit::needed(
        "python3 with the crowd package (python-crowd)",
        ok,
        "run scripts/test.sh, which installs it",
    )
}

#[tokio::test]
async fn python_crowd_creates_adds_reads_deactivates_and_removes() {
    if !python_ready() {
        return;
    }
    let sim = sim().await;
    let (base, app, password) = (
        sim.base_url().to_owned(),
        sim.application().to_owned(),
        sim.application_password().to_owned(),
    );
    let output = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .arg(python_script())
            .args([&base, &app, &password])
            .output()
    })
    .await
    .unwrap()
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "crowd_check.py failed:\n{stderr}");
    let stored = sim
        .user("py.user")
        .expect("the Python client created py.user");
    assert!(!stored.active);
    assert_eq!(stored.password, "n3w-Pw!");
    assert!(sim.groups().is_empty());
}
