//! User creation, lifecycle rules, two-phase delete, and the System Log events every
//! change writes (including polling and bounded log queries).

use reqwest::Method;
use serde_json::{Value, json};
use usersync_sim::okta::NewUser;

use super::{Org, rel, start};

/// A time `minutes` from now in Okta's format (negative for the past).
fn time(minutes: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::minutes(minutes))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

async fn create(org: &Org, login: &str, activate: bool, password: bool) -> Value {
    let mut body =
        json!({"profile": {"firstName": "Kim", "lastName": "Lee", "email": login, "login": login}});
    if password {
        body["credentials"] = json!({"password": {"value": "Abcd1234!x"}});
    }
    let response = org
        .send(
            Method::POST,
            &format!("/api/v1/users?activate={activate}"),
            Some(body),
        )
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn lifecycle(org: &Org, id: &str, op: &str) -> (u16, Value) {
    let response = org
        .send(
            Method::POST,
            &format!("/api/v1/users/{id}/lifecycle/{op}?sendEmail=false"),
            None,
        )
        .await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn event_types(org: &Org) -> Vec<String> {
    org.sim
        .log_events()
        .iter()
        .map(|e| e["eventType"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn created_users_are_staged_or_activated_as_asked() {
    let org = start(None).await;
    let staged = create(&org, "staged.one@example.com", false, true).await;
    assert_eq!(staged["status"], "STAGED");
    assert_eq!(staged["activated"], Value::Null);
    let active = create(&org, "active.one@example.com", true, true).await;
    assert_eq!(active["status"], "ACTIVE");
    let no_password = create(&org, "provisioned.one@example.com", true, false).await;
    assert_eq!(
        no_password["status"], "PROVISIONED",
        "users without a password must finish activation"
    );
    let duplicate = org.send(Method::POST, "/api/v1/users", Some(json!({"profile": {"firstName": "X", "lastName": "Y", "email": "a@b.cd", "login": "STAGED.ONE@example.com"}}))).await;
    assert_eq!(
        duplicate.status(),
        400,
        "logins are unique case-insensitively"
    );
    assert_eq!(
        duplicate.json::<Value>().await.unwrap()["errorCode"],
        "E0000001"
    );
    let malformed = org
        .request(Method::POST, "/api/v1/users")
        .header("Content-Type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(
        malformed.json::<Value>().await.unwrap()["errorCode"],
        "E0000003"
    );
}

#[tokio::test]
async fn lifecycle_operations_follow_okta_status_rules() {
    let org = start(None).await;
    let user = create(&org, "life.cycle@example.com", false, true).await;
    let id = user["id"].as_str().unwrap();
    let (status, body) = lifecycle(&org, id, "activate").await;
    assert_eq!(status, 200);
    assert!(
        body["activationToken"].is_string(),
        "sendEmail=false returns the activation link"
    );
    let (status, body) = lifecycle(&org, id, "activate").await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (403, Some("E0000016"))
    );
    assert_eq!(
        lifecycle(&org, id, "unsuspend").await.1["errorCode"],
        "E0000001"
    );
    assert_eq!(lifecycle(&org, id, "suspend").await, (200, json!({})));
    assert_eq!(
        org.json(&format!("/api/v1/users/{id}")).await["status"],
        "SUSPENDED"
    );
    assert_eq!(
        lifecycle(&org, id, "suspend").await.1["errorCode"],
        "E0000001",
        "only ACTIVE users can be suspended"
    );
    assert_eq!(lifecycle(&org, id, "unsuspend").await.0, 200);
    assert_eq!(
        lifecycle(&org, id, "expire_password").await.1["status"],
        "PASSWORD_EXPIRED"
    );
    assert_eq!(lifecycle(&org, id, "deactivate").await.0, 200);
    assert_eq!(
        lifecycle(&org, id, "deactivate").await.1["errorCode"],
        "E0000038"
    );
    assert_eq!(
        lifecycle(&org, id, "reactivate").await.1["errorCode"],
        "E0000038"
    );
    assert_eq!(
        lifecycle(&org, id, "activate").await.0,
        200,
        "a DEPROVISIONED user can be activated again"
    );
    assert_eq!(lifecycle(&org, id, "fly").await.0, 404);
    let types = event_types(&org);
    for expected in [
        "user.lifecycle.create",
        "user.lifecycle.activate",
        "user.lifecycle.suspend",
        "user.lifecycle.unsuspend",
        "user.lifecycle.deactivate",
    ] {
        assert!(
            types.iter().any(|t| t == expected),
            "{expected} in {types:?}"
        );
    }
}

#[tokio::test]
async fn delete_deactivates_first_and_removes_on_the_second_call() {
    let org = start(None).await;
    let id = org
        .sim
        .add_user(NewUser::new("two.phase@example.com", "Two", "Phase"))
        .unwrap();
    let group = org
        .sim
        .add_group(
            "Deletion Watchers",
            None,
            usersync_core::snapshot::OktaGroupType::OktaGroup,
        )
        .unwrap();
    org.sim.add_member(group.as_str(), id.as_str()).unwrap();
    assert_eq!(
        org.send(Method::DELETE, &format!("/api/v1/users/{id}"), None)
            .await
            .status(),
        204
    );
    assert_eq!(
        org.json(&format!("/api/v1/users/{id}")).await["status"],
        "DEPROVISIONED"
    );
    assert_eq!(
        org.sim.members_of(group.as_str()),
        vec![id.clone()],
        "deactivated users keep their groups"
    );
    assert_eq!(
        org.send(Method::DELETE, &format!("/api/v1/users/{id}"), None)
            .await
            .status(),
        204
    );
    assert_eq!(org.get(&format!("/api/v1/users/{id}")).await.status(), 404);
    assert!(org.sim.members_of(group.as_str()).is_empty());
    let types = event_types(&org);
    assert!(
        types.ends_with(&[
            "user.lifecycle.deactivate".to_owned(),
            "user.lifecycle.delete.initiated".to_owned()
        ]),
        "{types:?}"
    );
}

#[tokio::test]
async fn profile_updates_merge_on_post_replace_on_put_and_are_logged() {
    let org = start(None).await;
    let id = org
        .sim
        .add_user(
            NewUser::new("pro.file@example.com", "Pro", "File").attribute("department", "Sales"),
        )
        .unwrap();
    let before = org.sim.log_events().len();
    let merged = org
        .send(
            Method::POST,
            &format!("/api/v1/users/{id}"),
            Some(json!({"profile": {"title": "Lead"}})),
        )
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(
        (
            merged["profile"]["title"].as_str(),
            merged["profile"]["department"].as_str()
        ),
        (Some("Lead"), Some("Sales"))
    );
    let full = json!({"profile": {"firstName": "Pro", "lastName": "File", "email": "pro.file@example.com", "login": "pro.file@example.com"}});
    let replaced = org
        .send(Method::PUT, &format!("/api/v1/users/{id}"), Some(full))
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(replaced["profile"].get("department"), None);
    let events = org.sim.log_events();
    assert_eq!(events.len(), before + 2);
    let last = &events[events.len() - 1];
    assert_eq!(last["eventType"], "user.account.update_profile");
    assert_eq!(
        last["target"][0],
        json!({"id": id.as_str(), "type": "User", "alternateId": "pro.file@example.com", "displayName": "Pro File"})
    );
    assert_eq!(last["outcome"]["result"], "SUCCESS");
    assert!(
        last["uuid"].is_string()
            && last["published"].is_string()
            && last["actor"]["id"].is_string()
    );
}

#[tokio::test]
async fn login_writes_session_start_and_sso_events_for_the_user() {
    let org = start(None).await;
    let id = org
        .sim
        .add_user(NewUser::new("sign.in@example.com", "Sign", "In"))
        .unwrap();
    org.sim.login("sign.in@example.com").unwrap();
    let events = org.sim.log_events();
    let tail: Vec<&str> = events
        .iter()
        .rev()
        .take(2)
        .map(|e| e["eventType"].as_str().unwrap())
        .collect();
    assert_eq!(tail, vec!["user.authentication.sso", "user.session.start"]);
    let start = &events[events.len() - 2];
    assert_eq!(start["actor"]["id"], id.as_str());
    assert_eq!(start["target"][0]["id"], id.as_str());
    assert!(org.json(&format!("/api/v1/users/{id}")).await["lastLogin"].is_string());
    assert!(org.sim.login("nobody@example.com").is_err());
}

#[tokio::test]
async fn system_log_polling_always_has_a_next_link_and_picks_up_new_events() {
    let org = start(None).await;
    for n in 0..5 {
        org.sim
            .add_user(NewUser::new(
                &format!("poll.user{n}@example.com"),
                "Poll",
                "User",
            ))
            .unwrap();
    }
    let since = time(-60);
    let mut url = org.url(&format!("/api/v1/logs?since={since}&limit=4"));
    let mut seen = Vec::new();
    for _ in 0..4 {
        let response = org.get(&url).await;
        assert_eq!(response.status(), 200);
        let next = rel(&response, "next").expect("polling always has a next link");
        seen.extend(response.json::<Vec<Value>>().await.unwrap());
        url = next;
    }
    assert_eq!(seen.len(), 10, "5 creates and 5 activations");
    let empty = org.get(&url).await;
    let after_empty = rel(&empty, "next").expect("next even after an empty page");
    assert_eq!(empty.json::<Vec<Value>>().await.unwrap().len(), 0);
    org.sim.login("poll.user0@example.com").unwrap();
    let fresh: Vec<Value> = org.get(&after_empty).await.json().await.unwrap();
    let types: Vec<&str> = fresh
        .iter()
        .map(|e| e["eventType"].as_str().unwrap())
        .collect();
    assert_eq!(types, vec!["user.session.start", "user.authentication.sso"]);
}

#[tokio::test]
async fn bounded_log_queries_end_and_filter_by_type_target_and_actor() {
    let org = start(None).await;
    let id = org
        .sim
        .add_user(NewUser::new("bound.ed@example.com", "Bound", "Ed"))
        .unwrap();
    org.sim
        .add_user(NewUser::new("other.one@example.com", "Other", "One"))
        .unwrap();
    let until = time(1);
    let (all, _) = org
        .all_pages(&format!(
            "/api/v1/logs?since={}&until={until}&limit=1",
            time(-60)
        ))
        .await;
    assert_eq!(all.len(), 4);
    let filter = |f: &str| {
        format!(
            "/api/v1/logs?until={until}&filter={}",
            urlencoding::encode(f)
        )
    };
    let (creates, _) = org
        .all_pages(&filter("eventType eq \"user.lifecycle.create\""))
        .await;
    assert_eq!(creates.len(), 2);
    let (mine, _) = org
        .all_pages(&filter(&format!(
            "target.id eq \"{id}\" and eventType sw \"user.lifecycle\""
        )))
        .await;
    assert_eq!(mine.len(), 2);
    let (by_admin, _) = org
        .all_pages(&filter("actor.id eq \"00u0admin00000000000\""))
        .await;
    assert_eq!(by_admin.len(), 4);
    let newest: Vec<Value> = org
        .json(&format!(
            "/api/v1/logs?sortOrder=DESCENDING&limit=1&until={until}"
        ))
        .await
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(
        newest[0]["target"][0]["alternateId"],
        "other.one@example.com"
    );
    let bad = org
        .get(&filter("published gt \"2020-01-01T00:00:00Z\""))
        .await;
    assert_eq!(bad.status(), 400);
    let old = org.get("/api/v1/logs?since=2001-01-01T00:00:00Z").await;
    assert_eq!(
        old.json::<Value>().await.unwrap()["errorCode"],
        "E0000053",
        "since over 180 days back"
    );
}
