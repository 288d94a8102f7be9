//! The Confluence emulator's JSON-RPC service (`/rpc/json-rpc/confluenceservice-v2`):
//! every method usersync calls, with their answers and their refusals (HTTP 200 with
//! an `error` object), its authentication, and atlassian-python-api's `add_user`
//! (a client nobody here wrote) against it.

use std::path::PathBuf;
use std::process::Command;

use reqwest::StatusCode;
use serde_json::{Value, json};
use usersync_sim::confluence::{ConfluenceSim, ConfluenceSimConfig, SeedUser};

use super::sim;

const PATH: &str = "/rpc/json-rpc/confluenceservice-v2";

/// Calls `method` as `who` (Basic), answering the HTTP status and the JSON body.
async fn rpc_as(
    sim: &ConfluenceSim,
    who: (&str, &str),
    method: &str,
    params: Value,
) -> (StatusCode, Value) {
    let body = json!({"jsonrpc": "2.0", "method": method, "params": params, "id": 7});
    let response = reqwest::Client::new()
        .post(format!("{}{PATH}?os_authType=basic", sim.base_url()))
        .basic_auth(who.0, Some(who.1))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Calls `method` as the administrator and returns its `result`, failing on an `error`.
async fn ok(sim: &ConfluenceSim, method: &str, params: Value) -> Value {
    let (status, body) = rpc_as(sim, ("admin", "admin"), method, params).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["id"], 7, "{body}");
    assert!(body.get("error").is_none(), "{method}: {body}");
    body["result"].clone()
}

/// Calls `method` as the administrator and returns the `error` object it must answer.
async fn refused(sim: &ConfluenceSim, method: &str, params: Value) -> Value {
    let (status, body) = rpc_as(sim, ("admin", "admin"), method, params).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "JSON-RPC refuses with HTTP 200: {body}"
    );
    assert!(body.get("result").is_none(), "{body}");
    body["error"].clone()
}

fn remote_user(name: &str, full: &str) -> Value {
    json!({"name": name, "fullname": full, "email": format!("{name}@example.com")})
}

#[tokio::test]
async fn on_7_19_json_rpc_manages_users_groups_and_memberships_that_rest_cannot() {
    let sim = sim("7.19.0").await;
    let api = super::Api::new(&sim);
    assert_eq!(
        api.call("POST", "/rest/api/admin/group", Some(json!({"name": "g"})))
            .await
            .0,
        StatusCode::NOT_FOUND
    );

    assert_eq!(
        ok(
            &sim,
            "addUser",
            json!([remote_user("carol", "Carol C"), "pw-1", false])
        )
        .await,
        Value::Null
    );
    let carol = ok(&sim, "getUser", json!(["carol"])).await;
    assert_eq!(
        (carol["name"].as_str(), carol["fullname"].as_str()),
        (Some("carol"), Some("Carol C"))
    );
    assert_eq!(carol["email"], "carol@example.com");
    assert_eq!(carol["key"], sim.user("carol").unwrap().key.as_str());
    assert_eq!(ok(&sim, "hasUser", json!(["carol"])).await, json!(true));
    assert_eq!(ok(&sim, "hasUser", json!(["nobody"])).await, json!(false));

    assert_eq!(
        ok(
            &sim,
            "editUser",
            json!([{"name": "carol", "fullname": "Carol Changed", "email": "c@example.org"}])
        )
        .await,
        json!(true)
    );
    let carol = sim.user("carol").unwrap();
    assert_eq!(
        (carol.display_name.as_str(), carol.email.as_str()),
        ("Carol Changed", "c@example.org")
    );

    assert_eq!(
        ok(&sim, "deactivateUser", json!(["carol"])).await,
        json!(true)
    );
    assert!(!sim.user("carol").unwrap().active);
    assert_eq!(
        ok(&sim, "getActiveUsers", json!([false])).await,
        json!(["admin"])
    );
    assert_eq!(
        ok(&sim, "getActiveUsers", json!([true])).await,
        json!(["admin", "carol"])
    );
    assert_eq!(
        ok(&sim, "deactivateUser", json!(["carol"])).await,
        json!(true),
        "idempotent"
    );
    assert_eq!(
        ok(&sim, "reactivateUser", json!(["carol"])).await,
        json!(true)
    );
    assert!(sim.user("carol").unwrap().active);

    assert_eq!(
        ok(&sim, "addGroup", json!(["wiki-editors"])).await,
        json!(true)
    );
    assert_eq!(
        ok(&sim, "hasGroup", json!(["wiki-editors"])).await,
        json!(true)
    );
    let groups = ok(&sim, "getGroups", json!([])).await;
    assert!(
        groups.as_array().unwrap().contains(&json!("wiki-editors")),
        "{groups}"
    );
    assert_eq!(
        ok(&sim, "addUserToGroup", json!(["carol", "wiki-editors"])).await,
        json!(true)
    );
    assert_eq!(
        ok(&sim, "addUserToGroup", json!(["carol", "wiki-editors"])).await,
        json!(true),
        "idempotent"
    );
    assert_eq!(
        ok(&sim, "getUserGroups", json!(["carol"])).await,
        json!(["confluence-users", "wiki-editors"])
    );
    assert_eq!(
        ok(
            &sim,
            "removeUserFromGroup",
            json!(["carol", "wiki-editors"])
        )
        .await,
        json!(true)
    );
    assert!(sim.members("wiki-editors").is_empty());
    assert_eq!(
        ok(&sim, "removeGroup", json!(["wiki-editors", null])).await,
        json!(true)
    );
    assert!(!sim.groups().contains(&"wiki-editors".to_owned()));

    assert_eq!(ok(&sim, "removeUser", json!(["carol"])).await, json!(true));
    assert!(sim.user("carol").is_none(), "removeUser deletes at once");
}

#[tokio::test]
async fn json_rpc_refusals_are_http_200_with_an_error_object_naming_what_happened() {
    let sim = ConfluenceSim::start(ConfluenceSimConfig {
        version: "8.5.0".into(),
        ldap_users: vec![SeedUser::named("ldap.user")],
        licence_seats: Some(3),
        ..ConfluenceSimConfig::default()
    })
    .await
    .unwrap();
    sim.add_user("dave", "Dave", "dave@example.com");

    let e = refused(&sim, "addUser", json!([remote_user("dave", "Dave"), "pw"])).await;
    assert!(
        e["message"].as_str().unwrap().contains("already exists"),
        "{e}"
    );
    assert_eq!(
        e["data"]["exception"],
        "com.atlassian.confluence.rpc.RemoteException"
    );
    let e = refused(&sim, "getUser", json!(["ghost"])).await;
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("No user with the username 'ghost'"),
        "{e}"
    );
    let e = refused(&sim, "addUserToGroup", json!(["dave", "no-such-group"])).await;
    assert!(
        e["message"].as_str().unwrap().contains("No group found"),
        "{e}"
    );
    let e = refused(&sim, "deactivateUser", json!(["ldap.user"])).await;
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("read-only directory"),
        "{e}"
    );
    assert!(sim.user("ldap.user").unwrap().active);
    let e = refused(&sim, "addUser", json!([remote_user("erin", "Erin"), "pw"])).await;
    assert!(
        e["message"].as_str().unwrap().contains("licence seats"),
        "{e}"
    );
    assert!(sim.user("erin").is_none());
    let e = refused(&sim, "addGroup", json!(["confluence-users"])).await;
    assert!(
        e["message"].as_str().unwrap().contains("already exists"),
        "{e}"
    );

    let e = refused(&sim, "renameUser", json!(["dave", "david"])).await;
    assert_eq!(e["code"], -32601, "{e}");
    let e = refused(&sim, "getUser", json!([42])).await;
    assert_eq!(e["code"], -32602, "{e}");
    let e = refused(&sim, "deactivateUser", json!({"username": "dave"})).await;
    assert_eq!(e["code"], -32602, "{e}");
}

#[tokio::test]
async fn json_rpc_signs_in_like_rest_and_only_administrators_manage_users() {
    let sim = sim("7.19.0").await;
    sim.add_user("reader", "Reader", "reader@example.com");
    sim.set_password("reader", "pw-r");

    let (status, _) = rpc_as(&sim, ("admin", "wrong"), "getGroups", json!([])).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let e = {
        let (status, body) = rpc_as(&sim, ("reader", "pw-r"), "addGroup", json!(["g"])).await;
        assert_eq!(status, StatusCode::OK);
        body["error"].clone()
    };
    assert_eq!(
        e["data"]["exception"], "com.atlassian.confluence.rpc.NotPermittedException",
        "{e}"
    );
    assert!(!sim.groups().contains(&"g".to_owned()));
    let (_, body) = rpc_as(&sim, ("reader", "pw-r"), "hasUser", json!(["admin"])).await;
    assert_eq!(body["result"], true, "a signed-in user may read: {body}");

    let anonymous = reqwest::Client::new()
        .post(format!("{}{PATH}", sim.base_url()))
        .json(&json!({"jsonrpc": "2.0", "method": "getGroups", "params": [], "id": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::OK);
    let body: Value = anonymous.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("NotPermitted"),
        "{body}"
    );

    let pat = reqwest::Client::new()
        .post(format!("{}{PATH}", sim.base_url()))
        .bearer_auth("pat-123")
        .json(&json!({"jsonrpc": "2.0", "method": "addGroup", "params": ["by-pat"], "id": 2}))
        .send()
        .await
        .unwrap();
    let body: Value = pat.json().await.unwrap();
    assert_eq!(body["result"], true, "{body}");
}

#[tokio::test]
async fn the_request_log_never_holds_a_password_sent_to_add_user() {
    let sim = sim("7.19.0").await;
    ok(
        &sim,
        "addUser",
        json!([remote_user("frank", "Frank"), "s3cret-pw", false]),
    )
    .await;
    let log = format!("{:?}", sim.requests());
    assert!(!log.contains("s3cret-pw"), "{log}");
    assert!(log.contains("addUser"), "{log}");
}

fn python_rpc_check() -> Option<PathBuf> {
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/confluence_rpc_check.py");
    let ready = Command::new("python3")
        .args(["-c", "import atlassian"])
        .status()
        .is_ok_and(|s| s.success());
    let how = "run scripts/test.sh, which installs it";
    usersync_testkit::needed("python3 with atlassian-python-api", ready, how).then_some(script)
}

#[tokio::test]
async fn atlassian_python_api_adds_a_user_through_json_rpc_on_a_release_without_rest_create() {
    let Some(script) = python_rpc_check() else {
        return;
    };
    let sim = sim("7.19.0").await;
    let base = sim.base_url();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .arg(script)
            .args([&base, "admin", "admin"])
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
    let grace = sim
        .user("grace")
        .expect("atlassian-python-api created grace");
    assert_eq!(
        (grace.display_name.as_str(), grace.email.as_str()),
        ("Grace Hopper", "grace@example.com")
    );
    let call = sim.requests().into_iter().find(|r| r.path == PATH).unwrap();
    assert_eq!(call.body.unwrap()["method"], "addUser");
}
