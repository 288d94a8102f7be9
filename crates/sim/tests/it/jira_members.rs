//! The Jira emulator's memberships as the org changes under them (renames,
//! deactivations, deletes, group deletes), and its request log's cap.

use pretty_assertions::assert_eq;
use reqwest::StatusCode;
use serde_json::{Value, json};
use usersync_sim::jira::{JiraSim, JiraSimConfig};

use super::{call, sim};

/// The usernames of one `group/member` page (inactive members included).
async fn member_names(sim: &JiraSim, group: &str, start: usize) -> (Vec<String>, Value) {
    let (status, page) = call(
        sim,
        "GET",
        &format!("group/member?groupname={group}&includeInactiveUsers=true&startAt={start}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let names = page["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap().to_owned())
        .collect();
    (names, page)
}

async fn add(sim: &JiraSim, group: &str, user: &str) -> Value {
    let (status, body) = call(
        sim,
        "POST",
        &format!("group/user?groupname={group}"),
        Some(json!({"name": user})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

#[tokio::test]
async fn member_pages_follow_renames_deactivations_and_deletes() {
    let sim = sim("9.12.0").await;
    sim.add_group("team").unwrap();
    sim.add_users("m", 4, false).unwrap();
    for user in ["m0003", "M0001", "m0004", "m0002"] {
        add(&sim, "team", user).await;
    }
    let (names, _) = member_names(&sim, "team", 0).await;
    assert_eq!(names, vec!["m0001", "m0002", "m0003", "m0004"]);

    // A rename re-sorts the group; a deactivation leaves the sort but not the active size.
    let key = sim.user("m0001").unwrap().key;
    let (status, _) = call(
        &sim,
        "PUT",
        &format!("user?key={key}"),
        Some(json!({"name": "z.last"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(
        &sim,
        "PUT",
        "user?username=m0003",
        Some(json!({"active": false})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (names, page) = member_names(&sim, "team", 1).await;
    assert_eq!(names, vec!["m0003", "m0004", "z.last"]);
    assert_eq!(page["total"], 4);
    let (_, group) = call(&sim, "GET", "group?groupname=team&expand=users[0:9]", None).await;
    assert_eq!(
        group["users"]["size"], 3,
        "the legacy expansion counts active members"
    );
    let listed: Vec<&str> = group["users"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(listed, vec!["m0002", "m0004", "z.last"]);

    // A deleted user leaves every group; a re-activated one counts again.
    let (status, _) = call(&sim, "DELETE", "user?username=m0004", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(
        &sim,
        "PUT",
        "user?username=m0003",
        Some(json!({"active": true})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, page) = call(&sim, "GET", "group/member?groupname=TEAM", None).await;
    assert_eq!(page["total"], 3);
    assert_eq!(sim.members("team"), vec!["m0002", "m0003", "z.last"]);
    sim.add_user(&usersync_sim::jira::SeedUser::new("m0005"))
        .unwrap();
    let added = add(&sim, "team", "m0005").await;
    assert_eq!(
        added["users"]["size"], 4,
        "the add answers with the active size"
    );
}

#[tokio::test]
async fn a_deleted_group_leaves_its_members_and_a_new_one_of_that_name_starts_empty() {
    let sim = sim("9.12.0").await;
    sim.add_group("short-lived").unwrap();
    sim.add_users("d", 2, false).unwrap();
    add(&sim, "short-lived", "d0001").await;
    let (status, _) = call(&sim, "DELETE", "group?groupname=Short-Lived", None).await;
    assert_eq!(status, StatusCode::OK);
    let (_, user) = call(&sim, "GET", "user?username=d0001&expand=groups", None).await;
    assert_eq!(
        user["groups"]["items"],
        json!([{"name": "jira-software-users", "self": format!("{}/rest/api/2/group?groupname=jira-software-users", sim.base_url())}])
    );
    let (status, _) = call(&sim, "POST", "group", Some(json!({"name": "short-lived"}))).await;
    assert_eq!(status, StatusCode::CREATED);
    let (names, page) = member_names(&sim, "short-lived", 0).await;
    assert!(names.is_empty());
    assert_eq!(page["total"], 0);
}

#[tokio::test]
async fn user_search_pages_in_username_order_whatever_the_creation_order() {
    let sim = sim("9.12.0").await;
    for name in ["carol", "Alice", "bob", "dave"] {
        sim.add_user(&usersync_sim::jira::SeedUser::new(name))
            .unwrap();
    }
    let (_, page) = call(
        &sim,
        "GET",
        "user/search?username=.&startAt=1&maxResults=3",
        None,
    )
    .await;
    let names: Vec<&str> = page
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["Alice", "bob", "carol"], "admin sorts first");
}

#[tokio::test]
async fn a_capped_request_log_keeps_the_newest_requests_and_counts_them_all() {
    let sim = JiraSim::start(JiraSimConfig {
        request_log_capacity: 3,
        ..JiraSimConfig::default()
    })
    .await
    .unwrap();
    for _ in 0..4 {
        call(&sim, "GET", "serverInfo", None).await;
    }
    call(&sim, "POST", "group", Some(json!({"name": "g"}))).await;
    call(&sim, "POST", "group", Some(json!({"name": "g"}))).await;
    let kept: Vec<(String, u16)> = sim
        .requests()
        .into_iter()
        .map(|r| (format!("{} {}", r.method, r.path), r.status))
        .collect();
    assert_eq!(
        kept,
        vec![
            ("GET /rest/api/2/serverInfo".to_owned(), 200),
            ("POST /rest/api/2/group".to_owned(), 201),
            ("POST /rest/api/2/group".to_owned(), 400),
        ]
    );
    assert_eq!(sim.request_count(), 6);
    let totals = sim.request_totals();
    assert_eq!(
        (
            totals.with_method("GET"),
            totals.with_method("POST"),
            totals.with_status_at_least(400)
        ),
        (4, 2, 1)
    );
    sim.clear_requests();
    assert_eq!((sim.request_count(), sim.requests().len()), (0, 0));
}
