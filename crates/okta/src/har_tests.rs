//! Real recorded Okta responses (`../shared/reference/okta/recorded/*.har`) parsed by
//! the client's wire types, Link parsing and error mapping.

use std::path::PathBuf;

use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;
use usersync_core::{OktaGroupType, OktaStatus};

use crate::error::{CredentialKind, Failure, OktaError};
use crate::link::next_link;
use crate::wire::{WireGroup, WireId, WireUser};

/// One recorded exchange.
struct Entry {
    method: String,
    url: String,
    status: u16,
    headers: HeaderMap,
    body: String,
}

/// The recordings in `../shared`: missing fails in CI and skips elsewhere (`usersync_testkit`).
fn recorded_dir() -> Option<PathBuf> {
    usersync_testkit::shared_file("reference/okta/recorded")
}

fn entries(file: &str) -> Option<Vec<Entry>> {
    let text = std::fs::read_to_string(recorded_dir()?.join(file)).expect("a readable HAR");
    let har: Value = serde_json::from_str(&text).expect("HAR is JSON");
    let entries = har["log"]["entries"].as_array().expect("entries").iter();
    Some(entries.map(entry).collect())
}

fn entry(e: &Value) -> Entry {
    let mut headers = HeaderMap::new();
    for h in e["response"]["headers"].as_array().into_iter().flatten() {
        let name = HeaderName::from_bytes(h["name"].as_str().unwrap_or("x").as_bytes()).unwrap();
        headers.append(
            name,
            HeaderValue::from_str(h["value"].as_str().unwrap_or("")).unwrap(),
        );
    }
    Entry {
        method: e["request"]["method"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        url: e["request"]["url"].as_str().unwrap_or_default().to_owned(),
        status: u16::try_from(e["response"]["status"].as_u64().unwrap_or(0)).unwrap(),
        headers,
        body: e["response"]["content"]["text"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    }
}

fn gets<'a>(entries: &'a [Entry], path: &'a str, status: u16) -> impl Iterator<Item = &'a Entry> {
    entries.iter().filter(move |e| {
        e.method == "GET"
            && e.status == status
            && e.url.split('?').next().unwrap_or("").ends_with(path)
    })
}

#[test]
fn recorded_user_listings_parse_into_users_of_every_listed_status() {
    let mut seen = 0;
    for file in ["list-users.har", "user-activate.har", "user-suspend.har"] {
        let Some(entries) = entries(file) else { return };
        for e in gets(&entries, "/api/v1/users", 200) {
            let page: Vec<WireUser> = serde_json::from_str(&e.body).expect("a User[] page");
            for user in page {
                let user = user.into_user().expect("every recorded user is usable");
                assert!(!user.login.is_empty());
                if e.url.contains("%22ACTIVE%22") {
                    assert_eq!(user.status, OktaStatus::Active);
                }
                if e.url.contains("%22SUSPENDED%22") {
                    assert_eq!(user.status, OktaStatus::Suspended);
                }
                seen += 1;
            }
            assert_eq!(
                next_link(&e.headers),
                None,
                "recorded pages carry only a self link"
            );
        }
    }
    assert!(
        seen > 200,
        "the recordings hold hundreds of users, saw {seen}"
    );
}

#[test]
fn a_recorded_single_user_parses_by_id_and_by_login() {
    let Some(entries) = entries("user-get.har") else {
        return;
    };
    let users: Vec<_> = entries
        .iter()
        .filter(|e| e.method == "GET" && e.status == 200)
        .map(|e| {
            serde_json::from_str::<WireUser>(&e.body)
                .unwrap()
                .into_user()
                .unwrap()
        })
        .collect();
    assert_eq!(users.len(), 2);
    assert!(users.iter().all(|u| u.login == "john-get-user@example.com"));
    assert_eq!(users[0].status, OktaStatus::Staged);
}

#[test]
fn recorded_group_listings_and_members_parse() {
    let Some(list) = entries("list-groups.har") else {
        return;
    };
    let page = gets(&list, "/api/v1/groups", 200)
        .next()
        .expect("a group listing");
    let groups: Vec<WireGroup> = serde_json::from_str(&page.body).unwrap();
    let groups: Vec<_> = groups
        .into_iter()
        .map(|g| g.into_group().unwrap())
        .collect();
    assert!(groups.len() > 50, "{}", groups.len());
    assert!(groups.iter().any(|g| g.kind == OktaGroupType::OktaGroup));
    assert!(groups.iter().any(|g| g.name == "Everyone"));

    let Some(ops) = entries("group-user-operations.har") else {
        return;
    };
    let members: Vec<Vec<WireId>> = ops
        .iter()
        .filter(|e| e.method == "GET" && e.url.ends_with("/users"))
        .map(|e| serde_json::from_str(&e.body).unwrap())
        .collect();
    assert_eq!(members.iter().map(Vec::len).collect::<Vec<_>>(), [1, 0]);
    assert_eq!(members[0][0].id, "00ub64epvgAGkGZ0e0h7");
}

#[test]
fn recorded_404s_become_typed_not_found_errors_naming_the_resource() {
    let failure = Failure {
        org: "acme.okta.com",
        action: "read the user",
        credential: CredentialKind::ApiToken,
        attempts: 1,
    };
    let Some(user) = entries("user-get.har") else {
        return;
    };
    let Some(group) = entries("group-get.har") else {
        return;
    };
    let missing = |entries: &[Entry]| {
        let e = entries
            .iter()
            .find(|e| e.status == 404)
            .expect("a recorded 404");
        failure.error_for(404, e.body.as_bytes())
    };
    let err = missing(&user);
    assert!(matches!(err, OktaError::NotFound { .. }));
    assert_eq!(
        err.to_string(),
        "john-get-user@example.com (User) was not found in acme.okta.com (E0000007)"
    );
    assert_eq!(
        missing(&group).to_string(),
        "00gb64qznp4UiBiVs0h7 (UserGroup) was not found in acme.okta.com (E0000007)"
    );
}
