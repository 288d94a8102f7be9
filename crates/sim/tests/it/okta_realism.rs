//! The emulator against Okta's recorded answers (`reference/okta/recorded/*.har`) and
//! the reference's error catalogue where its behaviour shapes a client: group order,
//! the BUILT_IN Everyone group, duplicate `X-Rate-Limit-Reset` fields and the answer
//! to a cursor it never issued.

use serde_json::Value;
use usersync_core::snapshot::OktaGroupType;
use usersync_sim::okta::NewUser;
use usersync_testkit::shared_file;

use super::{spec, start};

/// The entries of a recorded HAR file: (method, url, status, body).
fn recorded(name: &str) -> Option<Vec<(String, String, u16, String)>> {
    let path = shared_file(&format!("reference/okta/recorded/{name}"))?;
    let har: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let entries = har["log"]["entries"].as_array().unwrap();
    Some(
        entries
            .iter()
            .map(|e| {
                (
                    e["request"]["method"].as_str().unwrap().to_owned(),
                    e["request"]["url"].as_str().unwrap().to_owned(),
                    u16::try_from(e["response"]["status"].as_u64().unwrap()).unwrap(),
                    e["response"]["content"]["text"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                )
            })
            .collect(),
    )
}

#[tokio::test]
async fn groups_are_listed_by_name_ignoring_case_then_id_like_the_recorded_listing() {
    // Arrange: the recorded org's groups, created here in a shuffled order.
    let Some(entries) = recorded("list-groups.har") else {
        return;
    };
    let (_, _, _, body) = entries
        .iter()
        .find(|(m, url, _, _)| m == "GET" && url.ends_with("/api/v1/groups"))
        .unwrap();
    let recorded: Vec<Value> = serde_json::from_str(body).unwrap();
    let names: Vec<String> = recorded
        .iter()
        .map(|g| g["profile"]["name"].as_str().unwrap().to_owned())
        .collect();
    let org = start(None).await;
    let mut shuffled = names.clone();
    shuffled.reverse();
    shuffled.rotate_left(names.len() / 3);
    for name in &shuffled {
        org.sim
            .add_group(name, None, OktaGroupType::OktaGroup)
            .unwrap();
    }
    // Act: page through in small pages, following the Link headers.
    let (listed, pages) = org.all_pages("/api/v1/groups?limit=7").await;
    // Assert
    assert!(pages > 10, "{pages} pages");
    let listed: Vec<String> = listed
        .iter()
        .map(|g| g["profile"]["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed, names, "the recorded order, page after page");
    let mut alba: Vec<&Value> = Vec::new();
    let (groups, _) = org.all_pages("/api/v1/groups").await;
    alba.extend(groups.iter().filter(|g| g["profile"]["name"] == "alba01"));
    assert!(
        alba[0]["id"].as_str() < alba[1]["id"].as_str(),
        "same name: id order"
    );
}

#[tokio::test]
async fn a_generated_org_has_the_built_in_everyone_group_with_every_user_in_it() {
    let org = start(Some(spec(60, 5))).await;
    let users = org.sim.user_count();

    let groups = org
        .json("/api/v1/groups?filter=type+eq+%22BUILT_IN%22&expand=stats")
        .await;

    let groups = groups.as_array().unwrap();
    assert_eq!(groups.len(), 1, "{groups:?}");
    let everyone = &groups[0];
    // As the recorded org's Everyone group (list-groups.har).
    assert_eq!(everyone["profile"]["name"], "Everyone");
    assert_eq!(
        everyone["profile"]["description"],
        "All users in your organization"
    );
    assert_eq!(everyone["objectClass"][0], "okta:user_group");
    assert_eq!(everyone["_embedded"]["stats"]["usersCount"], users);
    // A user created afterwards joins it, as in Okta.
    let id = everyone["id"].as_str().unwrap().to_owned();
    let new = org
        .sim
        .add_user(NewUser::new("late@x.org", "Late", "Comer"))
        .unwrap();
    assert!(org.sim.members_of(&id).contains(&new));
    // Okta manages BUILT_IN groups: the API cannot rename or delete Everyone.
    let refused = org
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v1/groups/{id}"),
            None,
        )
        .await;
    assert_eq!(refused.status(), 403);
}

#[tokio::test]
async fn every_answer_carries_two_different_rate_limit_resets_the_smaller_being_the_window_s() {
    let org = start(None).await;
    let before = chrono::Utc::now().timestamp();

    let response = org.get("/api/v1/users?limit=1").await;

    let resets: Vec<i64> = response
        .headers()
        .get_all("x-rate-limit-reset")
        .iter()
        .map(|v| v.to_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(resets.len(), 2, "two separate header fields: {resets:?}");
    assert_ne!(resets[0], resets[1], "the values differ, as Okta's do");
    let real = *resets.iter().min().unwrap();
    assert!(real > before && real <= before + 61, "{resets:?}");
    assert!(resets[0] > resets[1], "the decoy comes first: {resets:?}");
}

#[tokio::test]
async fn a_cursor_the_server_never_issued_is_refused_with_the_catalogue_s_e0000054() {
    // The reference (§5, ERR) gives E0000054 "Invalid pagination properties." for bad
    // cursors; E0000031 is "Invalid search criteria." and no recorded answer says
    // otherwise, so that is what every listing answers.
    let Some(catalogue) = shared_file("reference/okta/docs-data/error-codes.json") else {
        return;
    };
    let catalogue: Value =
        serde_json::from_str(&std::fs::read_to_string(catalogue).unwrap()).unwrap();
    let entry = catalogue["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["errorCode"] == "E0000054")
        .unwrap()
        .clone();
    let org = start(Some(spec(20, 3))).await;
    let group = org.json("/api/v1/groups?limit=1").await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for path in [
        "/api/v1/users?after=garbage".to_owned(),
        "/api/v1/groups?after=garbage".to_owned(),
        format!("/api/v1/groups/{group}/users?after=garbage"),
    ] {
        let response = org.get(&path).await;
        assert_eq!(response.status().as_u16(), entry["statusCode"], "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["errorCode"], "E0000054", "{path}");
        assert_eq!(body["errorSummary"], entry["errorSummary"], "{path}");
        assert_eq!(body["errorLink"], "E0000054");
        assert!(body["errorId"].as_str().is_some_and(|s| !s.is_empty()));
        assert!(
            body["errorCauses"][0]["errorSummary"]
                .as_str()
                .unwrap()
                .contains("garbage"),
            "{body}"
        );
    }
}
