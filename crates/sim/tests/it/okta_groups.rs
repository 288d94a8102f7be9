//! Groups, memberships and event hook registration through the API.

use std::collections::BTreeSet;

use axum::extract::Request;
use reqwest::Method;
use serde_json::{Value, json};
use usersync_core::snapshot::OktaGroupType;
use usersync_sim::okta::{NewUser, OrgSpec};

use super::{links, start};

#[tokio::test]
async fn groups_filter_by_type_and_expand_stats_counts_members() {
    let spec = OrgSpec {
        users: 300,
        groups: 40,
        app_group_share: 0.1,
        everyone_group: true,
        seed: 11,
        ..OrgSpec::default()
    };
    let org = start(Some(spec)).await;
    let (groups, _) = org.all_pages("/api/v1/groups?limit=7&expand=stats").await;
    assert_eq!(groups.len(), 41);
    for g in &groups {
        let id = g["id"].as_str().unwrap();
        assert_eq!(
            g["_embedded"]["stats"]["usersCount"],
            org.sim.members_of(id).len(),
            "{id}"
        );
    }
    let everyone = groups
        .iter()
        .find(|g| g["type"] == "BUILT_IN")
        .expect("Everyone");
    assert_eq!(everyone["profile"]["name"], "Everyone");
    assert_eq!(everyone["_embedded"]["stats"]["usersCount"], 300);
    let (okta, _) = org
        .all_pages("/api/v1/groups?filter=type%20eq%20%22OKTA_GROUP%22&limit=200")
        .await;
    assert_eq!(
        okta.len(),
        groups.iter().filter(|g| g["type"] == "OKTA_GROUP").count()
    );
    let apps: Vec<Value> = org
        .json("/api/v1/groups?filter=type%20eq%20%22APP_GROUP%22")
        .await
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(apps.len(), 4);
    assert!(
        apps[0]["_links"]["source"]["href"].is_string(),
        "APP_GROUPs link their source app"
    );
    let plain = org.json("/api/v1/groups?limit=1").await;
    assert!(plain[0].get("_embedded").is_none(), "stats only on request");
    let empty = groups
        .iter()
        .filter(|g| g["_embedded"]["stats"]["usersCount"] == 0)
        .count();
    assert!(empty >= 1, "some generated groups are empty");
}

#[tokio::test]
async fn group_q_is_a_name_prefix_and_search_and_filter_errors_are_okta_bodies() {
    let org = start(None).await;
    for name in ["Engineering", "Engineering Managers", "Sales"] {
        org.sim
            .add_group(name, Some("d"), OktaGroupType::OktaGroup)
            .unwrap();
    }
    let response = org.get("/api/v1/groups?q=engineering").await;
    assert!(links(&response).is_empty());
    assert_eq!(response.json::<Vec<Value>>().await.unwrap().len(), 2);
    let found = org
        .json("/api/v1/groups?search=profile.name%20co%20%22manager%22")
        .await;
    assert_eq!(found.as_array().unwrap().len(), 1);
    let bad = org
        .get("/api/v1/groups?filter=profile.name%20eq%20%22Sales%22")
        .await;
    assert_eq!(
        (
            bad.status().as_u16(),
            bad.json::<Value>().await.unwrap()["errorCode"].clone()
        ),
        (400, json!("E0000031"))
    );
}

#[tokio::test]
async fn group_members_page_by_1000_by_default_and_follow_next() {
    let org = start(Some(OrgSpec {
        users: 1200,
        groups: 1,
        everyone_group: true,
        seed: 2,
        ..OrgSpec::default()
    }))
    .await;
    let everyone = org
        .sim
        .snapshot()
        .groups
        .into_iter()
        .find(|g| g.kind == OktaGroupType::BuiltIn)
        .unwrap()
        .id;
    let first = org.get(&format!("/api/v1/groups/{everyone}/users")).await;
    assert!(
        links(&first)[0].contains("/users?limit=1000>"),
        "{:?}",
        links(&first)
    );
    assert_eq!(first.json::<Vec<Value>>().await.unwrap().len(), 1000);
    let (members, pages) = org
        .all_pages(&format!("/api/v1/groups/{everyone}/users?limit=200"))
        .await;
    assert_eq!((members.len(), pages), (1200, 6));
    let ids: BTreeSet<&str> = members.iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 1200);
    assert!(
        members.iter().any(|m| m["status"] == "DEPROVISIONED"),
        "members are listed whatever their status"
    );
}

#[tokio::test]
async fn membership_changes_through_the_api_bump_last_membership_updated_and_are_logged() {
    let org = start(None).await;
    let created = org
        .send(
            Method::POST,
            "/api/v1/groups",
            Some(json!({"profile": {"name": "Jira Users", "description": "All Jira users"}})),
        )
        .await;
    assert_eq!(created.status(), 200);
    let group: Value = created.json().await.unwrap();
    let gid = group["id"].as_str().unwrap();
    assert_eq!(group["objectClass"], json!(["okta:user_group"]));
    let uid = org
        .sim
        .add_user(NewUser::new("mem.ber@example.com", "Mem", "Ber"))
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    assert_eq!(
        org.send(
            Method::PUT,
            &format!("/api/v1/groups/{gid}/users/{uid}"),
            None
        )
        .await
        .status(),
        204
    );
    assert_eq!(
        org.send(
            Method::PUT,
            &format!("/api/v1/groups/{gid}/users/{uid}"),
            None
        )
        .await
        .status(),
        204,
        "idempotent"
    );
    let after = org.json(&format!("/api/v1/groups/{gid}")).await;
    assert!(after["lastMembershipUpdated"].as_str() > group["lastMembershipUpdated"].as_str());
    assert_eq!(
        after["lastUpdated"], group["lastUpdated"],
        "lastUpdated tracks the profile only"
    );
    let users_groups = org.json(&format!("/api/v1/users/{uid}/groups")).await;
    assert_eq!(users_groups[0]["id"], gid);
    assert_eq!(
        org.send(
            Method::DELETE,
            &format!("/api/v1/groups/{gid}/users/{uid}"),
            None
        )
        .await
        .status(),
        204
    );
    assert!(org.sim.members_of(gid).is_empty());
    let renamed = org
        .send(
            Method::PUT,
            &format!("/api/v1/groups/{gid}"),
            Some(json!({"profile": {"name": "Jira Software Users"}})),
        )
        .await;
    assert_eq!(
        renamed.json::<Value>().await.unwrap()["profile"]["name"],
        "Jira Software Users"
    );
    assert_eq!(
        org.send(Method::DELETE, &format!("/api/v1/groups/{gid}"), None)
            .await
            .status(),
        204
    );
    let missing = org.get(&format!("/api/v1/groups/{gid}")).await;
    assert_eq!(
        missing.json::<Value>().await.unwrap()["errorSummary"],
        format!("Not found: Resource not found: {gid} (UserGroup)")
    );
    let events = org.sim.log_events();
    let types: Vec<&str> = events
        .iter()
        .map(|e| e["eventType"].as_str().unwrap())
        .filter(|t| t.starts_with("group."))
        .collect();
    assert_eq!(
        types,
        vec![
            "group.lifecycle.create",
            "group.user_membership.add",
            "group.user_membership.remove",
            "group.profile.update",
            "group.lifecycle.delete"
        ]
    );
    let add = events
        .iter()
        .find(|e| e["eventType"] == "group.user_membership.add")
        .unwrap();
    let kinds: Vec<&str> = add["target"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["User", "UserGroup"]);
}

#[tokio::test]
async fn app_and_built_in_groups_cannot_be_changed_through_the_api() {
    let org = start(None).await;
    let app = org
        .sim
        .add_group("ad-imported", None, OktaGroupType::AppGroup)
        .unwrap();
    let uid = org
        .sim
        .add_user(NewUser::new("app.user@example.com", "App", "User"))
        .unwrap();
    let response = org
        .send(
            Method::PUT,
            &format!("/api/v1/groups/{app}/users/{uid}"),
            None,
        )
        .await;
    assert_eq!(response.status(), 403);
    assert_eq!(
        response.json::<Value>().await.unwrap()["errorCode"],
        "E0000006"
    );
    org.sim
        .add_member(app.as_str(), uid.as_str())
        .expect("the state helper can still seed it");
}

async fn hook_receiver() -> (String, tokio::task::JoinHandle<()>) {
    let router = axum::Router::new().route(
        "/hook",
        axum::routing::get(|request: Request| async move {
            let challenge = request
                .headers()
                .get("x-okta-verification-challenge")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            axum::Json(json!({ "verification": challenge }))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    (
        url,
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() }),
    )
}

#[tokio::test]
async fn event_hooks_register_verify_deactivate_and_delete() {
    let org = start(None).await;
    let (uri, receiver) = hook_receiver().await;
    let body = json!({
        "name": "usersync", "events": {"type": "EVENT_TYPE", "items": ["group.user_membership.add"]},
        "channel": {"type": "HTTP", "version": "1.0.0", "config": {"uri": uri,
            "authScheme": {"type": "HEADER", "key": "Authorization", "value": "shared-secret"}}}
    });
    let hook: Value = org
        .send(Method::POST, "/api/v1/eventHooks", Some(body.clone()))
        .await
        .json()
        .await
        .unwrap();
    let id = hook["id"].as_str().unwrap();
    assert!(id.starts_with("who"));
    assert_eq!(
        (hook["status"].as_str(), hook["verificationStatus"].as_str()),
        (Some("ACTIVE"), Some("UNVERIFIED"))
    );
    assert!(
        !hook.to_string().contains("shared-secret"),
        "the auth value is write-only"
    );
    assert!(
        org.sim.deliverable_event_hooks().is_empty(),
        "unverified hooks get nothing"
    );
    let verified: Value = org
        .send(
            Method::POST,
            &format!("/api/v1/eventHooks/{id}/lifecycle/verify"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(verified["verificationStatus"], "VERIFIED");
    assert_eq!(
        org.sim.deliverable_event_hooks()[0].auth,
        Some(("Authorization".into(), "shared-secret".into()))
    );
    assert_eq!(
        org.send(Method::DELETE, &format!("/api/v1/eventHooks/{id}"), None)
            .await
            .status(),
        400,
        "active hooks are not deleted"
    );
    assert_eq!(
        org.send(
            Method::POST,
            &format!("/api/v1/eventHooks/{id}/lifecycle/deactivate"),
            None
        )
        .await
        .status(),
        200
    );
    assert_eq!(
        org.send(Method::DELETE, &format!("/api/v1/eventHooks/{id}"), None)
            .await
            .status(),
        204
    );
    assert!(
        org.json("/api/v1/eventHooks")
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );
    let mut insecure = body;
    insecure["channel"]["config"]["uri"] = json!("http://example.com/hook");
    assert_eq!(
        org.send(Method::POST, "/api/v1/eventHooks", Some(insecure))
            .await
            .status(),
        400,
        "HTTPS is required"
    );
    receiver.abort();
}
