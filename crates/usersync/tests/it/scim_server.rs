//! usersync as the SCIM server Okta provisions to (`/scim/v2/{app}`), served over a
//! real loopback socket with the Jira emulator as the app's target: Okta's documented
//! request sequence, the hold budget on pushed deactivations, and hostile requests.

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use usersync::web::{AppState, Backend};
use usersync_store::{RunFilter, RunStatus, RunTrigger};

use crate::helpers::{APP, World, small_org};

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// A world whose app's console and SCIM server listen on loopback, with a SCIM token.
struct Scim {
    world: World,
    base: String,
    token: String,
    http: Client,
    _server: tokio::task::JoinHandle<()>,
}

impl Scim {
    async fn start(policy: &str) -> Scim {
        let world = World::with_policy(small_org(), policy).await;
        let store = world.deps.store.clone();
        let app = store.app_by_name(APP).await.unwrap();
        let token = usersync::scim::auth::generate(&store, &app, "test")
            .await
            .unwrap();
        let router = usersync::web::router(AppState::new(Backend::new(world.deps.clone()), false));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        Scim {
            world,
            base: format!("http://{address}/scim/v2/{APP}"),
            token,
            http: Client::new(),
            _server: server,
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("accept", "application/scim+json");
        if let Some(body) = body {
            request = request
                .header("content-type", "application/scim+json; charset=utf-8")
                .body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        if status != StatusCode::NO_CONTENT {
            assert_eq!(
                response.headers()["content-type"],
                "application/scim+json",
                "{path}"
            );
        }
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn runs(&self, trigger: RunTrigger) -> Vec<usersync_store::Run> {
        let app = self.world.deps.store.app_by_name(APP).await.unwrap();
        let filter = RunFilter {
            app: Some(app.id),
            status: None,
            trigger: Some(trigger),
        };
        self.world.deps.store.list_runs(&filter, 100).await.unwrap()
    }
}

/// The user Okta's documentation creates (SCIM 2.0 protocol reference).
fn okta_user(login: &str, given: &str, family: &str, okta_id: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": login,
        "name": {"givenName": given, "familyName": family},
        "emails": [{"primary": true, "value": login, "type": "work"}],
        "displayName": format!("{given} {family}"),
        "locale": "en-US",
        "externalId": okta_id,
        "groups": [],
        "password": "1mz050nq",
        "active": true
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn oktas_documented_scim_sequence_provisions_updates_groups_and_deactivates_in_jira() {
    let scim = Scim::start("").await;
    let login = "test.user@okta.local";
    // Okta first looks the user up by userName: nobody yet.
    let (status, found) = scim
        .call(
            Method::GET,
            "/Users?filter=userName%20eq%20%22test.user%40okta.local%22&startIndex=1&count=100",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(found["totalResults"], 0);
    assert_eq!(found["Resources"], json!([]));
    assert_eq!(
        found["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:ListResponse"
    );

    let (status, created) = scim
        .call(
            Method::POST,
            "/Users",
            Some(okta_user(login, "Test", "User", "00ujl29u0le5T6Aj10h7")),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(
        created.get("password").is_none(),
        "a password is never returned"
    );
    let jira = scim
        .world
        .jira
        .user(login)
        .expect("the pushed user is in Jira");
    assert!(jira.active);
    assert_eq!(jira.display_name, "Test User");

    // Okta's duplicate check: the same userName again is 409 uniqueness.
    let (status, dup) = scim
        .call(
            Method::POST,
            "/Users",
            Some(okta_user("TEST.user@okta.local", "T", "U", "00other")),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        (dup["scimType"].as_str(), dup["status"].as_str()),
        (Some("uniqueness"), Some("409"))
    );

    let (status, got) = scim.call(Method::GET, &format!("/Users/{id}"), None).await;
    assert_eq!(
        (status, got["userName"].as_str()),
        (StatusCode::OK, Some(login))
    );
    let (_, found) = scim
        .call(
            Method::GET,
            "/Users?filter=userName%20eq%20%22test.user%40okta.local%22",
            None,
        )
        .await;
    assert_eq!(found["totalResults"], 1);

    // A profile update by PUT (the whole user), then by PATCH.
    let mut put = okta_user(login, "Tess", "User", "00ujl29u0le5T6Aj10h7");
    put["id"] = json!(id);
    let (status, _) = scim
        .call(Method::PUT, &format!("/Users/{id}"), Some(put))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        scim.world.jira.user(login).unwrap().display_name,
        "Tess User"
    );
    let patch = json!({"schemas": [PATCH_OP], "Operations": [
        {"op": "replace", "value": {"displayName": "Tess Usher"}}]});
    let (status, _) = scim
        .call(Method::PATCH, &format!("/Users/{id}"), Some(patch))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        scim.world.jira.user(login).unwrap().display_name,
        "Tess Usher"
    );

    // Group push: create, add a member, add and remove another, rename.
    let (_, second) = scim
        .call(
            Method::POST,
            "/Users",
            Some(okta_user("second@okta.local", "Sec", "Ond", "00u2")),
        )
        .await;
    let second_id = second["id"].as_str().unwrap().to_owned();
    let group = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "Test SCIMv2", "members": []});
    let (status, group) = scim.call(Method::POST, "/Groups", Some(group)).await;
    assert_eq!(status, StatusCode::CREATED, "{group}");
    let gid = group["id"].as_str().unwrap().to_owned();
    let add = json!({"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "members",
        "value": [{"value": id, "display": login}, {"value": second_id, "display": "second@okta.local"}]}]});
    let (status, _) = scim
        .call(Method::PATCH, &format!("/Groups/{gid}"), Some(add))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        scim.world.jira_members("Test SCIMv2"),
        [login.to_owned(), "second@okta.local".to_owned()].into()
    );
    let remove = json!({"schemas": [PATCH_OP], "Operations": [
        {"op": "remove", "path": format!("members[value eq \"{second_id}\"]")}]});
    let (status, g) = scim
        .call(Method::PATCH, &format!("/Groups/{gid}"), Some(remove))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(g["members"].as_array().unwrap().len(), 1);
    assert_eq!(
        scim.world.jira_members("Test SCIMv2"),
        [login.to_owned()].into()
    );
    let (_, user) = scim.call(Method::GET, &format!("/Users/{id}"), None).await;
    assert_eq!(user["groups"][0]["display"], "Test SCIMv2");

    // Okta unassigns the user: PATCH replace active false -> deactivated in Jira.
    let deactivate = json!({"schemas": [PATCH_OP], "Operations": [
        {"op": "replace", "value": {"active": false}}]});
    let (status, user) = scim
        .call(Method::PATCH, &format!("/Users/{id}"), Some(deactivate))
        .await;
    assert_eq!((status, &user["active"]), (StatusCode::OK, &json!(false)));
    assert!(
        !scim.world.jira.user(login).unwrap().active,
        "deactivated in Jira"
    );

    let runs = scim.runs(RunTrigger::Scim).await;
    assert!(
        runs.len() >= 6,
        "every push is a recorded run: {}",
        runs.len()
    );
    assert!(
        runs.iter().all(|r| r.status == RunStatus::Succeeded),
        "{runs:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deactivation_push_beyond_the_apps_limits_is_held_and_waits_in_a_held_run() {
    let limits = "[app.policy.limits]\nmax_destructive = 1\nmax_destructive_percent = 100.0\n";
    let scim = Scim::start(limits).await;
    let mut ids = Vec::new();
    for n in 0..3 {
        let login = format!("pushed{n}@okta.local");
        let (status, user) = scim
            .call(
                Method::POST,
                "/Users",
                Some(okta_user(
                    &login,
                    "P",
                    &n.to_string(),
                    &format!("00upushed{n}"),
                )),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        assert!(
            scim.world.jira.user(&login).unwrap().active,
            "{login} appears in Jira"
        );
        ids.push(user["id"].as_str().unwrap().to_owned());
    }
    let deactivate = json!({"schemas": [PATCH_OP], "Operations": [
        {"op": "replace", "value": {"active": false}}]});
    for id in &ids[..2] {
        let (status, _) = scim
            .call(
                Method::PATCH,
                &format!("/Users/{id}"),
                Some(deactivate.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    assert!(
        !scim.world.jira.user("pushed0@okta.local").unwrap().active,
        "within the limits"
    );
    assert!(
        scim.world.jira.user("pushed1@okta.local").unwrap().active,
        "beyond the limits: held, not applied"
    );
    let app = scim.world.deps.store.app_by_name(APP).await.unwrap();
    let held = scim
        .world
        .deps
        .store
        .held_run(app.id)
        .await
        .unwrap()
        .expect("a held run");
    assert_eq!(held.trigger, RunTrigger::Scim);
    let ops = scim.world.deps.store.run_operations(held.id).await.unwrap();
    assert!(
        ops.iter().any(|o| o.kind == "deactivate_user"
            && o.subject.contains("pushed1@okta.local")
            && o.outcome == usersync_store::OpOutcome::Pending),
        "{ops:?}"
    );
    // Deleting the third user is one more deactivation: it joins the same held run.
    let (status, _) = scim
        .call(Method::DELETE, &format!("/Users/{}", ids[2]), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(scim.world.jira.user("pushed2@okta.local").unwrap().active);
    let still = scim
        .world
        .deps
        .store
        .held_run(app.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(still.id, held.id, "one held run per app");
    let (status, _) = scim
        .call(Method::GET, &format!("/Users/{}", ids[2]), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_or_missing_token_a_huge_body_and_a_malformed_filter_get_scim_errors() {
    let scim = Scim::start("").await;
    let url = format!("{}/Users", scim.base);
    for auth in [None, Some("Bearer wrong"), Some("Basic dXNlcjpwYXNz")] {
        let mut request = scim.http.get(&url);
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{auth:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], "401");
        assert_eq!(
            body["schemas"][0],
            "urn:ietf:params:scim:api:messages:2.0:Error"
        );
    }
    // Another app's path with this app's token is refused the same way.
    let other = scim.base.replace(&format!("/{APP}"), "/other-app");
    let response = scim
        .http
        .get(format!("{other}/Users"))
        .bearer_auth(&scim.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    let huge = format!("{{\"userName\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
    // A client of its own: the server answers 413 before reading the body and closes
    // the connection, which a shared pool could otherwise hand to the next request.
    let response = Client::new()
        .post(&url)
        .bearer_auth(&scim.token)
        .header("content-type", "application/scim+json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "413");

    let (status, body) = scim
        .call(Method::GET, "/Users?filter=userName%20sw%20%22a%22", None)
        .await;
    assert_eq!(
        (status, body["scimType"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalidFilter"))
    );
    assert!(body["detail"].as_str().unwrap().starts_with("filter:"));
    let (status, body) = scim
        .call(Method::POST, "/Users", Some(json!({"name": {}})))
        .await;
    assert_eq!(
        (status, body["scimType"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalidValue"))
    );
    assert!(
        body["detail"].as_str().unwrap().starts_with("userName:"),
        "{body}"
    );
    let (status, _) = scim.call(Method::GET, "/Users/no-such-id", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        scim.runs(RunTrigger::Scim).await.is_empty(),
        "refused requests start no run"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn discovery_advertises_patch_filters_and_the_user_and_group_resources() {
    let scim = Scim::start("").await;
    let (status, spc) = scim.call(Method::GET, "/ServiceProviderConfig", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (&spc["patch"]["supported"], &spc["filter"]["supported"]),
        (&json!(true), &json!(true))
    );
    assert_eq!(spc["bulk"]["supported"], false);
    let (_, types) = scim.call(Method::GET, "/ResourceTypes", None).await;
    let names: Vec<&str> = types["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["User", "Group"]);
    let (_, schemas) = scim.call(Method::GET, "/Schemas", None).await;
    assert_eq!(schemas["totalResults"], 2);
    let (status, _) = scim
        .call(
            Method::GET,
            "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}
