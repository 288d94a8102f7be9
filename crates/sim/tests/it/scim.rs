//! The SCIM emulator over plain HTTP: RFC 7644 behaviour (filters, 1-based paging,
//! PATCH, ETags, error bodies) and each Atlassian Cloud quirk of reference §4.

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use usersync_sim::scim::{Profile, ScimSim, ScimSimConfig};

async fn sim(profile: Profile) -> ScimSim {
    ScimSim::start(ScimSimConfig {
        profile,
        ..ScimSimConfig::default()
    })
    .await
    .unwrap()
}

async fn send(
    sim: &ScimSim,
    method: &str,
    path: &str,
    body: Option<Value>,
    if_match: Option<&str>,
) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .request(method.parse().unwrap(), format!("{}{path}", sim.base_url()))
        .bearer_auth(sim.token());
    if let Some(b) = body {
        req = req
            .header("content-type", "application/scim+json")
            .body(b.to_string());
    }
    if let Some(v) = if_match {
        req = req.header("if-match", v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn errors_are_scim_error_bodies_with_a_string_status_and_a_scim_type() {
    let sim = sim(Profile::Generic).await;
    sim.add_user("ada", "ada@example.com", true).unwrap();
    let (status, body) = send(
        &sim,
        "POST",
        "/Users",
        Some(json!({"userName": "ADA"})),
        None,
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(body["status"], json!("409"));
    assert_eq!(body["scimType"], json!("uniqueness"));
    assert_eq!(
        body["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
    );
    let (status, body) = send(
        &sim,
        "GET",
        "/Users?filter=userName%20co%20%22a%22",
        None,
        None,
    )
    .await;
    assert_eq!(
        (status, body["scimType"].clone()),
        (400, json!("invalidFilter"))
    );
}

#[tokio::test]
async fn lists_page_from_start_index_one_and_filters_compare_user_names_without_case() {
    let sim = sim(Profile::Generic).await;
    for n in ["a", "b", "c"] {
        sim.add_user(n, &format!("{n}@example.com"), true).unwrap();
    }
    let (_, page) = send(&sim, "GET", "/Users?startIndex=2&count=1", None, None).await;
    assert_eq!(
        (
            page["totalResults"].clone(),
            page["startIndex"].clone(),
            page["itemsPerPage"].clone()
        ),
        (json!(3), json!(2), json!(1))
    );
    let (_, found) = send(
        &sim,
        "GET",
        "/Users?filter=userName%20eq%20%22B%22",
        None,
        None,
    )
    .await;
    assert_eq!(found["Resources"][0]["userName"], json!("b"));
}

#[tokio::test]
async fn patch_replaces_active_and_removes_a_member_by_filter_and_a_stale_if_match_is_412() {
    let sim = sim(Profile::Generic).await;
    let ada = sim.add_user("ada", "ada@example.com", true).unwrap();
    let devs = sim.add_group("devs", &["ada"]).unwrap();
    let op = |o: Value| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [o]});
    let (status, user) = send(
        &sim,
        "PATCH",
        &format!("/Users/{ada}"),
        Some(op(
            json!({"op": "replace", "path": "active", "value": false}),
        )),
        Some("W/\"1\""),
    )
    .await;
    assert_eq!(
        (
            status,
            user["active"].clone(),
            user["meta"]["version"].clone()
        ),
        (200, json!(false), json!("W/\"2\""))
    );
    let (status, _) = send(
        &sim,
        "PATCH",
        &format!("/Users/{ada}"),
        Some(op(
            json!({"op": "replace", "path": "active", "value": true}),
        )),
        Some("W/\"1\""),
    )
    .await;
    assert_eq!(status, 412);
    let remove = op(json!({"op": "remove", "path": format!("members[value eq \"{ada}\"]")}));
    let (status, group) = send(
        &sim,
        "PATCH",
        &format!("/Groups/{devs}"),
        Some(remove),
        None,
    )
    .await;
    assert_eq!((status, group["members"].clone()), (200, json!([])));
}

#[tokio::test]
async fn atlassian_cloud_refuses_a_start_index_below_one() {
    let sim = sim(Profile::AtlassianCloud).await;
    let (status, body) = send(&sim, "GET", "/Users?startIndex=0", None, None).await;
    assert_eq!(
        (status, body["scimType"].clone()),
        (400, json!("invalidSyntax"))
    );
}

#[tokio::test]
async fn atlassian_cloud_filters_only_on_user_name_external_id_and_group_display_name() {
    let sim = sim(Profile::AtlassianCloud).await;
    for (path, ok) in [
        ("/Users?filter=userName%20eq%20%22x%22", true),
        ("/Users?filter=externalId%20eq%20%22x%22", true),
        ("/Groups?filter=displayName%20eq%20%22x%22", true),
        ("/Users?filter=emails.value%20eq%20%22x%22", false),
        ("/Users?filter=displayName%20eq%20%22x%22", false),
    ] {
        let (status, body) = send(&sim, "GET", path, None, None).await;
        assert_eq!(status == 200, ok, "{path}: {body}");
        if !ok {
            assert_eq!(body["scimType"], json!("invalidFilter"));
        }
    }
}

#[tokio::test]
async fn atlassian_cloud_returns_at_most_100_per_page() {
    let sim = sim(Profile::AtlassianCloud).await;
    for i in 0..120 {
        sim.add_user(
            &format!("u{i}@example.com"),
            &format!("u{i}@example.com"),
            true,
        )
        .unwrap();
    }
    let (_, page) = send(&sim, "GET", "/Users?startIndex=1&count=500", None, None).await;
    assert_eq!(
        (page["itemsPerPage"].clone(), page["totalResults"].clone()),
        (json!(100), json!(120))
    );
}

#[tokio::test]
async fn atlassian_cloud_groups_cannot_be_renamed() {
    let sim = sim(Profile::AtlassianCloud).await;
    let g = sim.add_group("devs", &[]).unwrap();
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                      "Operations": [{"op": "replace", "path": "displayName", "value": "developers"}]});
    let (status, err) = send(&sim, "PATCH", &format!("/Groups/{g}"), Some(body), None).await;
    assert_eq!(
        (status, err["scimType"].clone()),
        (400, json!("mutability"))
    );
    assert_eq!(sim.groups(), vec!["devs".to_owned()]);
}

#[tokio::test]
async fn atlassian_cloud_needs_a_verified_email_domain_and_deleting_a_user_deactivates_the_account()
{
    let sim = sim(Profile::AtlassianCloud).await;
    let user =
        |email: &str| json!({"userName": email, "emails": [{"value": email, "primary": true}]});
    let (status, err) = send(
        &sim,
        "POST",
        "/Users",
        Some(user("eve@elsewhere.test")),
        None,
    )
    .await;
    assert_eq!(
        (status, err["scimType"].clone()),
        (400, json!("invalidValue"))
    );
    let (status, created) = send(&sim, "POST", "/Users", Some(user("ada@example.com")), None).await;
    assert_eq!((status, created["active"].clone()), (201, json!(true)));
    let id = created["id"].as_str().unwrap();
    assert_eq!(
        send(&sim, "DELETE", &format!("/Users/{id}"), None, None)
            .await
            .0,
        204
    );
    assert_eq!(
        send(&sim, "GET", &format!("/Users/{id}"), None, None)
            .await
            .0,
        404
    );
    assert_eq!(
        sim.deactivated_accounts(),
        vec!["ada@example.com".to_owned()]
    );
}
