//! The user listing's order and what a status change while a client pages does to it:
//! Okta's listings are not snapshots.

use usersync_core::snapshot::OktaStatus;

use usersync_sim::okta::NewUser;

use super::{spec, start};

const EVERY_USER: &str =
    "/api/v1/users?limit=20&filter=lastUpdated+gt+%221970-01-01T00%3A00%3A00.000Z%22";

/// (status rank, id) of each listed user, as Okta's recorded listing orders them.
fn order(users: &[serde_json::Value]) -> Vec<(OktaStatus, String)> {
    users
        .iter()
        .map(|u| {
            let status = OktaStatus::parse(u["status"].as_str().unwrap()).unwrap();
            (status, u["id"].as_str().unwrap().to_owned())
        })
        .collect()
}

#[tokio::test]
async fn users_are_listed_by_status_then_id_like_the_recorded_listing() {
    let org = start(Some(spec(120, 2))).await;
    for path in ["/api/v1/users?limit=20", EVERY_USER] {
        let (users, pages) = org.all_pages(path).await;
        assert!(pages > 1, "{path} pages");
        let listed = order(&users);
        let mut sorted = listed.clone();
        sorted.sort();
        assert_eq!(listed, sorted, "{path} is in status, then id order");
        let statuses: std::collections::BTreeSet<_> = listed.iter().map(|(s, _)| *s).collect();
        assert!(
            statuses.len() > 2,
            "the org has several statuses: {statuses:?}"
        );
    }
}

#[tokio::test]
async fn a_user_reactivated_while_the_listing_pages_is_missed_and_one_deactivated_is_seen_twice() {
    let org = start(None).await;
    let add = |login: &str, status| {
        let user = NewUser::new(&format!("{login}@x.org"), login, "Doe").status(status);
        org.sim.add_user(user).unwrap().to_string()
    };
    let active: Vec<String> = (0..6)
        .map(|i| add(&format!("a{i}"), OktaStatus::Active))
        .collect();
    let suspended: Vec<String> = (0..3)
        .map(|i| add(&format!("s{i}"), OktaStatus::Suspended))
        .collect();
    let path = EVERY_USER.replace("limit=20", "limit=2");
    let (before, pages) = org.all_pages(&path).await;
    assert_eq!((before.len(), pages), (9, 5));
    let first_active = before[0]["id"].as_str().unwrap().to_owned();
    let last_suspended = before[8]["id"].as_str().unwrap().to_owned();
    assert!(active.contains(&first_active) && suspended.contains(&last_suspended));
    // Once the three pages of ACTIVE users are served, an administrator unsuspends
    // one user (moving them behind the cursor) and deactivates another (ahead of it).
    org.sim
        .change_status_while_listing(&last_suspended, OktaStatus::Active, 3)
        .unwrap();
    org.sim
        .change_status_while_listing(&first_active, OktaStatus::Deprovisioned, 3)
        .unwrap();
    let (during, _) = org.all_pages(&path).await;
    let seen = |id: &str| during.iter().filter(|u| u["id"] == id).count();
    assert_eq!(
        seen(&last_suspended),
        0,
        "moved behind the cursor: never listed"
    );
    assert_eq!(
        seen(&first_active),
        2,
        "moved ahead of the cursor: listed twice"
    );
    assert_eq!(org.sim.user_count(), 9, "no user came or went");
}
