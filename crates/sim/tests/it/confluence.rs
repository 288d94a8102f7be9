//! Tests of the Confluence emulator over HTTP: shapes, status codes, version
//! differences, directories, licence seats, asynchronous delete, auth, rate
//! limiting, faults, and a client nobody here wrote (atlassian-python-api).

#[path = "confluence_log.rs"]
mod log;
#[path = "confluence_rpc.rs"]
mod rpc;

use std::path::PathBuf;
use std::process::Command;

use reqwest::StatusCode;
use serde_json::{Value, json};
use usersync_sim::confluence::{ConfluenceSim, ConfluenceSimConfig, RateLimit, SeedUser};

async fn sim(version: &str) -> ConfluenceSim {
    ConfluenceSim::start(ConfluenceSimConfig {
        version: version.into(),
        pat: Some("pat-123".into()),
        ..ConfluenceSimConfig::default()
    })
    .await
    .unwrap()
}

pub(crate) struct Api {
    base: String,
    http: reqwest::Client,
}

impl Api {
    pub(crate) fn new(sim: &ConfluenceSim) -> Self {
        Self {
            base: sim.base_url(),
            http: reqwest::Client::new(),
        }
    }

    pub(crate) async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .basic_auth("admin", Some("admin"));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

fn new_user(name: &str) -> Value {
    json!({"userName": name, "fullName": "New Person", "email": format!("{name}@example.com"), "password": "pw-1"})
}

#[tokio::test]
async fn create_user_answers_201_with_a_user_key_and_refuses_upper_case_and_duplicates() {
    let sim = sim("9.2.0").await;
    let api = Api::new(&sim);
    let (status, body) = api
        .call("POST", "/rest/api/admin/user", Some(new_user("carol")))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(body["userKey"].as_str().unwrap().len(), 32);
    let (status, body) = api
        .call("POST", "/rest/api/admin/user", Some(new_user("Dave")))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["message"].as_str().unwrap().contains("upper-case"),
        "{body}"
    );
    assert_eq!(body["statusCode"], 400);
    let (status, _) = api
        .call("POST", "/rest/api/admin/user", Some(new_user("carol")))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let mut no_password = new_user("erin");
    no_password.as_object_mut().unwrap().remove("password");
    let (status, body) = api
        .call("POST", "/rest/api/admin/user", Some(no_password))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let created = sim.user("carol").unwrap();
    assert!(created.active);
    assert_eq!(
        sim.members("confluence-users")
            .iter()
            .filter(|u| *u == "carol")
            .count(),
        1
    );
    let logged = sim
        .requests()
        .into_iter()
        .find(|r| r.method == "POST")
        .unwrap();
    assert_eq!(logged.body.unwrap()["password"], "<redacted>");
}

#[tokio::test]
async fn creating_an_active_user_with_no_licence_seat_left_answers_402() {
    let sim = ConfluenceSim::start(ConfluenceSimConfig {
        licence_seats: Some(2),
        ..ConfluenceSimConfig::default()
    })
    .await
    .unwrap();
    let api = Api::new(&sim);
    let (status, _) = api
        .call("POST", "/rest/api/admin/user", Some(new_user("one")))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = api
        .call("POST", "/rest/api/admin/user", Some(new_user("two")))
        .await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED, "{body}");
    assert_eq!(body["reason"], "Payment Required");
    // A disabled user frees its seat.
    let (status, _) = api
        .call("PUT", "/rest/api/admin/user/one/disable", None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = api
        .call("POST", "/rest/api/admin/user", Some(new_user("two")))
        .await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn endpoints_exist_only_from_the_release_that_introduced_them() {
    let old = sim("7.19.0").await;
    let api = Api::new(&old);
    assert_eq!(
        api.call("GET", "/rest/api/user/list", None).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api.call("PUT", "/rest/api/admin/user/admin/disable", None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let (status, manifest) = api.call("GET", "/rest/applinks/1.0/manifest", None).await;
    assert_eq!(
        (status, manifest["version"].as_str()),
        (StatusCode::OK, Some("7.19.0"))
    );
    assert_eq!(
        api.call("GET", "/rest/api/server-information", None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );

    let mid = sim("8.5.0").await;
    let api = Api::new(&mid);
    old.add_user("x", "X", "x@example.com");
    mid.add_user("alice", "Alice", "alice@example.com");
    assert_eq!(
        api.call("GET", "/rest/api/user/list", None).await.0,
        StatusCode::OK
    );
    let (status, body) = api
        .call("PUT", "/rest/api/user/alice/group/confluence-users", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("null for uri")
    );

    let new = sim("9.2.0").await;
    let api = Api::new(&new);
    let (status, info) = api.call("GET", "/rest/api/server-information", None).await;
    assert_eq!(
        (status, info["version"].as_str()),
        (StatusCode::OK, Some("9.2.0"))
    );
    let (status, _) = api
        .call(
            "PUT",
            "/rest/api/admin/user/admin",
            Some(json!({"fullName": "A"})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::METHOD_NOT_ALLOWED,
        "update user arrives in 10.2"
    );
}

#[tokio::test]
async fn membership_put_and_delete_are_idempotent_204s() {
    let sim = sim("9.2.0").await;
    let api = Api::new(&sim);
    sim.add_user("alice", "Alice", "alice@example.com");
    sim.add_group("devs");
    for _ in 0..2 {
        let (status, _) = api
            .call("PUT", "/rest/api/user/alice/group/devs", None)
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
    assert_eq!(sim.members("devs"), vec!["alice".to_owned()]);
    for _ in 0..2 {
        let (status, _) = api
            .call("DELETE", "/rest/api/user/alice/group/devs", None)
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
    assert!(sim.members("devs").is_empty());
    let (status, _) = api
        .call("PUT", "/rest/api/user/alice/group/nope", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn lists_page_with_start_limit_and_a_next_link_until_the_end() {
    let sim = sim("9.2.0").await;
    let api = Api::new(&sim);
    for i in 0..450 {
        sim.add_user(&format!("u{i:03}"), "U", "u@example.com");
    }
    let mut seen = Vec::new();
    let mut path = "/rest/api/user/list?limit=1000&expand=status".to_owned();
    loop {
        let (status, page) = api.call("GET", &path, None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(page["limit"], 200, "the limit is capped at 200");
        for p in page["results"].as_array().unwrap() {
            assert_eq!(p["status"], "Active");
            seen.push(p["username"].as_str().unwrap().to_owned());
        }
        match page["_links"]["next"].as_str() {
            Some(next) => path = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen.len(), 451, "450 users and the admin");
    let (_, members) = api
        .call(
            "GET",
            "/rest/api/group/confluence-users/member?start=400&limit=100",
            None,
        )
        .await;
    assert_eq!(members["size"], 51);
    assert!(members["results"][0]["_expandable"]["status"].is_string());
}

#[tokio::test]
async fn delete_is_a_long_task_and_the_user_stays_until_it_finishes() {
    let sim = sim("9.2.0").await;
    let api = Api::new(&sim);
    sim.add_user("leaver", "Leaver", "l@example.com");
    let (status, task) = api
        .call("DELETE", "/rest/api/admin/user/leaver", None)
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let status_path = task["links"]["status"].as_str().unwrap().to_owned();
    assert_eq!(
        api.call("GET", "/rest/api/user?username=leaver", None)
            .await
            .0,
        StatusCode::OK
    );
    let (_, first) = api.call("GET", &status_path, None).await;
    assert_eq!(first["finished"], false);
    let (_, second) = api.call("GET", &status_path, None).await;
    assert_eq!(
        (
            second["finished"].as_bool(),
            second["percentageComplete"].as_u64()
        ),
        (Some(true), Some(100))
    );
    assert_eq!(
        api.call("GET", "/rest/api/user?username=leaver", None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api.call("DELETE", "/rest/api/admin/user/leaver", None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn ldap_users_and_the_admin_cannot_be_changed() {
    let sim = sim("9.2.0").await;
    let api = Api::new(&sim);
    let mut seed = SeedUser::named("ldapper");
    seed.groups = vec!["ldap-staff".into()];
    sim.add_ldap_user(&seed);
    let (status, body) = api
        .call("PUT", "/rest/api/admin/user/ldapper/disable", None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("read-only directory"),
        "{body}"
    );
    assert_eq!(
        api.call("PUT", "/rest/api/user/ldapper/group/confluence-users", None)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        api.call("DELETE", "/rest/api/admin/user/admin", None)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        api.call("PUT", "/rest/api/admin/user/admin/disable", None)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(sim.members("ldap-staff"), vec!["ldapper".to_owned()]);
    assert!(sim.user("ldapper").unwrap().active);
}

#[tokio::test]
async fn bad_credentials_get_401_with_the_seraph_reason_and_anonymous_callers_are_anonymous() {
    let sim = sim("9.2.0").await;
    let http = reqwest::Client::new();
    let url = format!("{}/rest/api/user/current", sim.base_url());
    let wrong = http
        .get(&url)
        .basic_auth("admin", Some("nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        wrong.headers()["x-seraph-loginreason"],
        "AUTHENTICATED_FAILED"
    );
    let pat = http.get(&url).bearer_auth("pat-123").send().await.unwrap();
    assert_eq!(pat.json::<Value>().await.unwrap()["username"], "admin");
    sim.set_pat(None);
    let revoked = http.get(&url).bearer_auth("pat-123").send().await.unwrap();
    assert_eq!(revoked.status(), StatusCode::UNAUTHORIZED);
    let anonymous: Value = http.get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(anonymous["type"], "anonymous");
    let list = http
        .get(format!("{}/rest/api/group", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), StatusCode::UNAUTHORIZED);
    // A signed-in user who is not a sysadmin is refused admin endpoints.
    sim.add_user("plain", "Plain", "p@example.com");
    sim.set_password("plain", "pw");
    let admin_only = http
        .put(format!(
            "{}/rest/api/admin/user/admin/disable",
            sim.base_url()
        ))
        .basic_auth("plain", Some("pw"))
        .send()
        .await
        .unwrap();
    assert_eq!(admin_only.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn rate_limiting_answers_429_with_the_rate_limit_headers() {
    let sim = ConfluenceSim::start(ConfluenceSimConfig {
        rate_limit: Some(RateLimit {
            capacity: 3,
            fill_rate: 1,
            interval_seconds: 60,
        }),
        ..ConfluenceSimConfig::default()
    })
    .await
    .unwrap();
    let api = Api::new(&sim);
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(api.call("GET", "/rest/api/group", None).await.0.as_u16());
    }
    assert_eq!(statuses, vec![200, 200, 200, 429, 429]);
    let response = reqwest::get(format!("{}/rest/api/group", sim.base_url()))
        .await
        .unwrap();
    let h = response.headers();
    assert_eq!(h["x-ratelimit-limit"], "3");
    assert_eq!(h["x-ratelimit-remaining"], "0");
    assert!(h["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    assert!(
        h.contains_key("x-ratelimit-fillrate") && h.contains_key("x-ratelimit-interval-seconds")
    );
}

#[tokio::test]
async fn injected_faults_answer_with_a_confluence_error_body_and_are_logged() {
    let sim = sim("9.2.0").await;
    let api = Api::new(&sim);
    sim.faults().burst_503(1);
    let (status, body) = api.call("GET", "/rest/api/group", None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["statusCode"], 503);
    assert_eq!(
        api.call("GET", "/rest/api/group", None).await.0,
        StatusCode::OK
    );
    let log = sim.requests();
    assert_eq!(sim.request_count(), 2);
    assert_eq!((log[0].status, log[1].status), (503, 200));
    assert_eq!(log[0].authorization.as_deref(), Some("Basic"));
}

fn python_check() -> Option<PathBuf> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/confluence_check.py");
    let ready = Command::new("python3")
        .args(["-c", "import atlassian"])
        .status()
        .is_ok_and(|s| s.success());
    let how = "run scripts/test.sh, which installs it";
    usersync_testkit::needed("python3 with atlassian-python-api", ready, how).then_some(script)
}

#[tokio::test]
async fn atlassian_python_api_reads_users_groups_members_and_licence_seats_from_the_emulator() {
    let Some(script) = python_check() else { return };
    let sim = sim("9.2.0").await;
    sim.add_user("alice", "Alice Example", "alice@example.com");
    sim.add_user("bob", "Bob Example", "bob@example.com");
    sim.set_active("bob", false);
    sim.add_group("developers");
    sim.add_member("developers", "alice");
    sim.add_member("developers", "bob");
    for i in 0..118 {
        let name = format!("dev{i:03}");
        sim.add_user(&name, "Dev", "dev@example.com");
        sim.add_member("developers", &name);
    }
    sim.set_licence_seats(Some(500));
    let base = sim.base_url();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .arg(script)
            // The administrator, alice and the 118 developers use seats; bob, deactivated, does not.
            .args([&base, "admin", "admin", "120", "120", "500"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "python check failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(sim.groups().contains(&"made-by-python".to_owned()));
    let member_pages = sim
        .requests()
        .iter()
        .filter(|r| r.path == "/rest/api/group/developers/member")
        .count();
    assert_eq!(member_pages, 3, "120 members read 50 at a time");
}
