//! Tests of the Jira emulator over HTTP: Jira's shapes, status codes and error
//! bodies, the version differences, directories, Seraph, rate limiting and the
//! request log; and a client nobody here wrote (atlassian-python-api) driving it.

#[path = "jira_members.rs"]
mod members;

use std::path::PathBuf;
use std::process::Command;

use pretty_assertions::assert_eq;
use reqwest::StatusCode;
use serde_json::{Value, json};
use usersync_sim::jira::{JiraSim, JiraSimConfig, RateLimit, SeedUser};

pub(crate) async fn sim(version: &str) -> JiraSim {
    JiraSim::start(JiraSimConfig {
        version: version.into(),
        ..JiraSimConfig::default()
    })
    .await
    .unwrap()
}

/// Sends one request as the admin (PAT) and returns status, Seraph header and JSON body.
pub(crate) async fn call(
    sim: &JiraSim,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let url = format!("{}/rest/api/2/{path}", sim.base_url());
    let mut request = reqwest::Client::new()
        .request(method.parse().unwrap(), url)
        .bearer_auth(sim.pat());
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn create_user_answers_201_and_a_duplicate_gets_jiras_error_collection() {
    let sim = sim("9.12.0").await;
    let body =
        json!({"name": "Alice", "emailAddress": "alice@example.com", "displayName": "Alice A"});
    let (status, user) = call(&sim, "POST", "user", Some(body.clone())).await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(
        user["key"].as_str().unwrap().starts_with("JIRAUSER"),
        "{user}"
    );
    assert_eq!(user["active"], true);
    let (status, error) = call(
        &sim,
        "POST",
        "user",
        Some(json!({"name": "alice", "emailAddress": "a@x.io", "displayName": "A"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error,
        json!({"errorMessages": [], "errors": {"username": "A user with that username already exists."}})
    );
    let (status, found) = call(&sim, "GET", "user?username=ALICE&expand=groups", None).await;
    assert_eq!(
        (status, found["name"].clone()),
        (StatusCode::OK, json!("Alice"))
    );
    let (status, _) = call(&sim, "GET", "user?username=nobody", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn active_in_put_user_works_from_8_3_and_is_refused_before() {
    let old = sim("8.2.0").await;
    old.add_user(&SeedUser::new("bob")).unwrap();
    let (status, error) = call(
        &old,
        "PUT",
        "user?username=bob",
        Some(json!({"name": "bob", "active": false})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error["errorMessages"],
        json!(["error.no.value.found.to.be.changed"])
    );
    assert!(old.user("bob").unwrap().active);
    let new = sim("8.3.0").await;
    new.add_user(&SeedUser::new("bob")).unwrap();
    let (status, user) = call(
        &new,
        "PUT",
        "user?username=bob",
        Some(json!({"name": "bob", "active": "false"})),
    )
    .await;
    assert_eq!(
        (status, user["active"].clone()),
        (StatusCode::OK, json!(false))
    );
}

#[tokio::test]
async fn a_rename_keeps_the_user_key() {
    let sim = sim("9.12.0").await;
    let key = sim.add_user(&SeedUser::new("carol")).unwrap().key;
    let (status, user) = call(
        &sim,
        "PUT",
        "user?username=carol",
        Some(json!({"name": "carol2"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(user["key"], json!(key));
    assert!(sim.user("carol").is_none() && sim.user("CAROL2").is_some());
}

#[tokio::test]
async fn user_search_caps_follow_the_version() {
    for (version, reachable) in [("8.2.0", 1000), ("9.12.0", 1201), ("10.0.0", 100)] {
        let sim = sim(version).await;
        sim.add_users("user", 1200, false).unwrap();
        let mut seen = 0;
        loop {
            let path = format!("user/search?username=.&startAt={seen}&maxResults=1000");
            let (_, page) = call(&sim, "GET", &path, None).await;
            let n = page.as_array().unwrap().len();
            if n == 0 {
                break;
            }
            seen += n;
        }
        assert_eq!(seen, reachable, "{version}");
    }
}

#[tokio::test]
async fn user_list_streams_with_a_cursor_on_10_3_and_is_absent_before() {
    let sim = sim("10.3.0").await;
    sim.add_users("user", 2500, true).unwrap();
    let (_, first) = call(&sim, "GET", "user/list", None).await;
    assert_eq!(first["values"].as_array().unwrap().len(), 2000);
    assert_eq!(first["isLast"], false);
    let cursor = first["nextCursor"].as_str().unwrap().to_owned();
    let (_, second) = call(&sim, "GET", &format!("user/list?cursor={cursor}"), None).await;
    assert_eq!(second["values"].as_array().unwrap().len(), 501);
    assert_eq!(second["isLast"], true);
    let (status, bogus) = call(&sim, "GET", "user/list?cursor=not-a-cursor", None).await;
    assert_eq!(
        (status, bogus["values"].clone()),
        (StatusCode::OK, json!([]))
    );
    let old = self::sim("9.12.0").await;
    assert_eq!(
        call(&old, "GET", "user/list", None).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn group_members_page_50_at_a_time_and_hide_inactive_users_by_default() {
    let sim = sim("9.12.0").await;
    sim.add_users("dev", 60, true).unwrap();
    let (_, all) = call(
        &sim,
        "GET",
        "group/member?groupname=jira-software-users&includeInactiveUsers=true&maxResults=500",
        None,
    )
    .await;
    assert_eq!(
        (
            all["total"].clone(),
            all["maxResults"].clone(),
            all["isLast"].clone()
        ),
        (json!(61), json!(50), json!(false))
    );
    let (_, rest) = call(
        &sim,
        "GET",
        "group/member?groupname=jira-software-users&includeInactiveUsers=True&startAt=50",
        None,
    )
    .await;
    assert_eq!(rest["values"].as_array().unwrap().len(), 11);
    assert_eq!(rest["isLast"], true);
    let (_, active) = call(
        &sim,
        "GET",
        "group/member?groupname=JIRA-software-users",
        None,
    )
    .await;
    assert_eq!(active["total"], 41);
}

#[tokio::test]
async fn memberships_and_groups_answer_as_jira_does() {
    let sim = sim("9.12.0").await;
    sim.add_user(&SeedUser::new("dan")).unwrap();
    assert_eq!(
        call(&sim, "POST", "group", Some(json!({"name": "Ops"})))
            .await
            .0,
        StatusCode::CREATED
    );
    let (status, error) = call(&sim, "POST", "group", Some(json!({"name": "ops"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        error["errors"].to_string().contains("already exists"),
        "{error}"
    );
    let (status, group) = call(
        &sim,
        "POST",
        "group/user?groupname=ops",
        Some(json!({"name": "DAN"})),
    )
    .await;
    assert_eq!(
        (status, group["name"].clone()),
        (StatusCode::CREATED, json!("Ops"))
    );
    let (status, error) = call(
        &sim,
        "POST",
        "group/user?groupname=ops",
        Some(json!({"name": "dan"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        error["errorMessages"][0]
            .as_str()
            .unwrap()
            .contains("already a member")
    );
    let (_, picker) = call(&sim, "GET", "groups/picker?query=op", None).await;
    assert_eq!(picker["total"], 1);
    assert_eq!(picker["groups"][0]["html"], "<b>Op</b>s");
    let (_, mine) = call(&sim, "GET", "user?username=dan&expand=groups", None).await;
    assert_eq!(mine["groups"]["size"], 2);
    assert_eq!(
        call(
            &sim,
            "DELETE",
            "group/user?groupname=ops&username=dan",
            None
        )
        .await
        .0,
        StatusCode::OK
    );
    assert_eq!(
        call(&sim, "DELETE", "group?groupname=ops", None).await.0,
        StatusCode::OK
    );
    assert_eq!(
        call(&sim, "DELETE", "group?groupname=ops", None).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn ldap_users_and_the_protected_admin_cannot_be_changed() {
    let sim = JiraSim::start(JiraSimConfig {
        ldap_users: vec![SeedUser::new("lena")],
        ..JiraSimConfig::default()
    })
    .await
    .unwrap();
    let (status, error) = call(
        &sim,
        "PUT",
        "user?username=lena",
        Some(json!({"displayName": "L"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        error["errorMessages"][0]
            .as_str()
            .unwrap()
            .contains("read-only"),
        "{error}"
    );
    assert_eq!(
        call(&sim, "DELETE", "user?username=lena", None).await.0,
        StatusCode::BAD_REQUEST
    );
    let (status, _) = call(
        &sim,
        "PUT",
        "user?username=admin",
        Some(json!({"active": false})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(sim.user("admin").unwrap().active && sim.user("lena").is_some());
}

#[tokio::test]
async fn ldap_users_join_and_leave_internal_groups_but_ldap_groups_stay_read_only() {
    let sim = JiraSim::start(JiraSimConfig {
        ldap_users: vec![SeedUser::new("lena")],
        ..JiraSimConfig::default()
    })
    .await
    .unwrap();
    sim.add_group("all-staff").unwrap();
    let body = Some(json!({"name": "lena"}));
    let (status, _) = call(&sim, "POST", "group/user?groupname=all-staff", body.clone()).await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(sim.members("all-staff").iter().any(|m| m == "lena"));
    let (status, _) = call(
        &sim,
        "DELETE",
        "group/user?groupname=all-staff&username=lena",
        None,
    )
    .await;
    assert!(status.is_success(), "{status}");
    assert!(sim.members("all-staff").is_empty());
    let (status, error) = call(
        &sim,
        "POST",
        "group/user?groupname=ldap-users",
        Some(json!({"name": "admin"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error.to_string().contains("read-only"), "{error}");
}

#[tokio::test]
async fn a_bad_password_reads_anonymous_data_with_authenticated_failed() {
    let sim = sim("9.12.0").await;
    let client = reqwest::Client::new();
    let get = |path: &str| {
        client
            .get(format!("{}/rest/api/2/{path}", sim.base_url()))
            .basic_auth("admin", Some("wrong"))
    };
    let info = get("serverInfo").send().await.unwrap();
    assert_eq!(info.status(), StatusCode::OK);
    assert_eq!(
        info.headers()["x-seraph-loginreason"],
        "AUTHENTICATED_FAILED"
    );
    let me = get("myself").send().await.unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    let good = client
        .get(format!("{}/rest/api/2/myself", sim.base_url()))
        .basic_auth("admin", Some(sim.admin_password()))
        .send()
        .await
        .unwrap();
    assert_eq!(good.headers()["x-seraph-loginreason"], "OK");
}

#[tokio::test]
async fn rate_limiting_answers_429_with_jiras_headers_and_the_log_records_it() {
    let sim = sim("9.12.0").await;
    sim.set_rate_limit(Some(RateLimit {
        capacity: 2,
        per_second: 0.1,
    }));
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(call(&sim, "GET", "myself", None).await.0.as_u16());
    }
    assert_eq!(statuses, vec![200, 200, 429]);
    let response = reqwest::Client::new()
        .get(format!("{}/rest/api/2/myself", sim.base_url()))
        .bearer_auth(sim.pat())
        .send()
        .await
        .unwrap();
    let h = response.headers();
    let wait: u64 = h["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=10).contains(&wait), "retry-after {wait}");
    assert_eq!(h["x-ratelimit-limit"], "2");
    assert!(
        h.contains_key("x-ratelimit-remaining") && h.contains_key("x-ratelimit-interval-seconds")
    );
    let log = sim.requests();
    assert_eq!(log.len(), 4);
    assert_eq!(
        (log[2].method.as_str(), log[2].path.as_str(), log[2].status),
        ("GET", "/rest/api/2/myself", 429)
    );
}

#[tokio::test]
async fn injected_faults_use_a_jira_error_body() {
    let sim = sim("9.12.0").await;
    sim.faults().burst_503(1);
    let (status, body) = call(&sim, "GET", "serverInfo", None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        body["errorMessages"].is_array() && body["errors"].is_object(),
        "{body}"
    );
    assert_eq!(
        call(&sim, "GET", "serverInfo", None).await.0,
        StatusCode::OK
    );
}

fn python_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/jira_check.py")
}

/// True when python3 can import atlassian-python-api; in CI its absence is a failure.
fn python_ready() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import atlassian"])
        .status()
        .is_ok_and(|s| s.success());
    usersync_testkit::needed(
        "python3 with atlassian-python-api",
        ok,
        "run scripts/test.sh, which installs it",
    )
}

#[tokio::test]
async fn atlassian_python_api_creates_adds_reads_members_deactivates_and_reads_application_roles() {
    if !python_ready() {
        return;
    }
    let sim = sim("9.12.0").await;
    let (base, user, password) = (
        sim.base_url().to_owned(),
        sim.admin_username().to_owned(),
        sim.admin_password().to_owned(),
    );
    let output = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .arg(python_script())
            .args([&base, &user, &password])
            .output()
    })
    .await
    .unwrap()
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "jira_check.py failed:\n{stderr}");
    let stored = sim
        .user("py.user")
        .expect("the Python client created py.user");
    assert!(!stored.active);
    assert_eq!(sim.members("python-team"), vec!["py.user"]);
    assert!(sim.notified().is_empty(), "notification=False was honoured");
    let printed: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("jira_check.py prints JSON");
    assert_eq!(
        printed["roles"],
        serde_json::json!(["jira-core", "jira-servicedesk", "jira-software"])
    );
}
