//! Tests of the Okta emulator, through its HTTP API as any Okta client would use it.
//! This module holds the shared helpers and the listing tests; the other `okta_*.rs`
//! files hold the rest by topic.

#[path = "okta_fidelity.rs"]
mod fidelity;
#[path = "okta_groups.rs"]
mod groups;
#[path = "okta_lifecycle.rs"]
mod lifecycle;
#[path = "okta_limits.rs"]
mod limits;
#[path = "okta_paging.rs"]
mod paging;
#[path = "okta_realism.rs"]
mod realism;

use reqwest::header::LINK;
use serde_json::Value;
use usersync_core::snapshot::OktaStatus;
use usersync_sim::okta::{NewUser, OktaSim, OktaSimConfig, OrgSpec};

/// A running emulator and an HTTP client.
pub struct Org {
    pub sim: OktaSim,
    pub http: reqwest::Client,
}

pub async fn start_with(config: OktaSimConfig) -> Org {
    let sim = OktaSim::start(config).await.expect("the emulator starts");
    Org {
        sim,
        http: reqwest::Client::new(),
    }
}

pub async fn start(org: Option<OrgSpec>) -> Org {
    start_with(OktaSimConfig {
        org,
        ..OktaSimConfig::default()
    })
    .await
}

/// A small org with every status present.
pub fn spec(users: usize, groups: usize) -> OrgSpec {
    OrgSpec {
        users,
        groups,
        memberships_per_user: 3.0,
        seed: 7,
        ..OrgSpec::default()
    }
}

impl Org {
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.sim.base_url())
        }
    }

    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, self.url(path))
            .header("Authorization", format!("SSWS {}", self.sim.api_token()))
            .header("Accept", "application/json")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.request(reqwest::Method::GET, path)
            .send()
            .await
            .expect("the request is answered")
    }

    pub async fn json(&self, path: &str) -> Value {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.expect("a JSON body")
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut request = self.request(method, path);
        request = match body {
            Some(b) => request.json(&b),
            None => request.header("Content-Length", "0"),
        };
        request.send().await.expect("the request is answered")
    }

    /// Follows `next` links from `path`; returns every item and the number of pages.
    pub async fn all_pages(&self, path: &str) -> (Vec<Value>, usize) {
        let (mut items, mut pages, mut url) = (Vec::new(), 0, Some(self.url(path)));
        while let Some(u) = url {
            let response = self.get(&u).await;
            assert_eq!(response.status(), 200, "GET {u}");
            url = rel(&response, "next");
            let page: Vec<Value> = response.json().await.expect("a JSON array");
            items.extend(page);
            pages += 1;
            assert!(pages < 10_000, "paging does not end");
        }
        (items, pages)
    }
}

/// Every `link` header field, in order.
pub fn links(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all(LINK)
        .iter()
        .map(|v| v.to_str().expect("ASCII").to_owned())
        .collect()
}

/// The URL of the link with relation `rel`.
pub fn rel(response: &reqwest::Response, rel: &str) -> Option<String> {
    links(response)
        .into_iter()
        .find(|l| l.ends_with(&format!("rel=\"{rel}\"")))
        .map(|l| l[1..l.find('>').expect("<url>")].to_owned())
}

pub fn count_status(users: &[Value], status: &str) -> usize {
    users.iter().filter(|u| u["status"] == status).count()
}

#[tokio::test]
async fn list_users_follows_the_link_header_until_exhausted() {
    let org = start(Some(spec(450, 5))).await;
    let first = org.get("/api/v1/users").await;
    let fields = links(&first);
    assert_eq!(
        fields.len(),
        2,
        "self and next are separate link fields: {fields:?}"
    );
    assert_eq!(
        fields[0],
        format!(
            "<{}/api/v1/users?limit=200>; rel=\"self\"",
            org.sim.base_url()
        )
    );
    assert!(
        fields[1].ends_with("rel=\"next\"") && fields[1].contains("after="),
        "{fields:?}"
    );
    let (users, pages) = org.all_pages("/api/v1/users").await;
    let visible = org
        .sim
        .snapshot()
        .users
        .iter()
        .filter(|u| u.status != OktaStatus::Deprovisioned)
        .count();
    assert_eq!(users.len(), visible);
    assert_eq!(pages, visible.div_ceil(200));
    let mut ids: Vec<&str> = users.iter().map(|u| u["id"].as_str().unwrap()).collect();
    ids.dedup();
    assert_eq!(ids.len(), visible, "no user is listed twice");
    assert_eq!(count_status(&users, "DEPROVISIONED"), 0);
}

#[tokio::test]
async fn the_last_page_has_a_self_link_and_no_next() {
    let org = start(Some(spec(30, 3))).await;
    let response = org.get("/api/v1/users?limit=500").await;
    assert_eq!(
        links(&response),
        vec![format!(
            "<{}/api/v1/users?limit=200>; rel=\"self\"",
            org.sim.base_url()
        )]
    );
    let response = org.get("/api/v1/groups").await;
    assert_eq!(
        links(&response),
        vec![format!(
            "<{}/api/v1/groups?limit=10000>; rel=\"self\"",
            org.sim.base_url()
        )]
    );
}

#[tokio::test]
async fn links_use_the_host_the_client_used() {
    let org = start(Some(spec(5, 1))).await;
    let url = org.sim.base_url().replace("127.0.0.1", "localhost");
    let response = org.get(&format!("{url}/api/v1/users?limit=2")).await;
    let next = rel(&response, "next").expect("a next link");
    assert!(
        next.starts_with(&format!("{url}/api/v1/users?limit=2&after=")),
        "{next}"
    );
}

#[tokio::test]
async fn a_collection_user_has_only_a_self_link_and_a_single_user_has_lifecycle_links() {
    let org = start(None).await;
    let id = org
        .sim
        .add_user(NewUser::new("ann.lee@example.com", "Ann", "Lee"))
        .unwrap();
    let listed = org.json("/api/v1/users").await;
    let links = listed[0]["_links"].as_object().unwrap();
    assert_eq!(links.keys().collect::<Vec<_>>(), vec!["self"]);
    let single = org.json(&format!("/api/v1/users/{id}")).await;
    assert!(
        single["_links"]["suspend"]["href"]
            .as_str()
            .unwrap()
            .ends_with("/lifecycle/suspend")
    );
    assert_eq!(single["profile"]["login"], "ann.lee@example.com");
    for field in ["activated", "statusChanged", "lastLogin", "passwordChanged"] {
        assert!(
            single.get(field).is_some(),
            "{field} is present (null or a time)"
        );
    }
    let by_login = org.json("/api/v1/users/ANN.LEE%40example.com").await;
    assert_eq!(by_login["id"], id.as_str());
}

#[tokio::test]
async fn an_unknown_user_is_okta_s_404_body() {
    let org = start(None).await;
    let response = org.get("/api/v1/users/nobody@example.com").await;
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errorCode"], "E0000007");
    assert_eq!(
        body["errorSummary"],
        "Not found: Resource not found: nobody@example.com (User)"
    );
    assert_eq!(body["errorLink"], "E0000007");
    assert!(body["errorId"].as_str().unwrap().starts_with("oae"));
    assert_eq!(body["errorCauses"], serde_json::json!([]));
}

#[tokio::test]
async fn deprovisioned_users_are_hidden_from_plain_lists_and_q_but_found_by_filter_and_search() {
    let org = start(None).await;
    org.sim
        .add_user(
            NewUser::new("gone.user@example.com", "Gone", "User").status(OktaStatus::Deprovisioned),
        )
        .unwrap();
    org.sim
        .add_user(NewUser::new("here.user@example.com", "Here", "User"))
        .unwrap();
    assert_eq!(org.json("/api/v1/users").await.as_array().unwrap().len(), 1);
    assert_eq!(
        org.json("/api/v1/users?q=gone")
            .await
            .as_array()
            .unwrap()
            .len(),
        0
    );
    let filtered = org
        .json("/api/v1/users?filter=status%20eq%20%22DEPROVISIONED%22")
        .await;
    assert_eq!(filtered[0]["profile"]["login"], "gone.user@example.com");
    let searched = org
        .json("/api/v1/users?search=profile.lastName%20eq%20%22user%22")
        .await;
    assert_eq!(
        searched.as_array().unwrap().len(),
        2,
        "search values are case-insensitive and include DEPROVISIONED"
    );
    let all = org
        .json("/api/v1/users?search=(status%20lt%20%22STAGED%22%20or%20status%20gt%20%22STAGED%22)")
        .await;
    assert_eq!(all.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn filter_values_are_case_sensitive_and_support_last_updated_ranges() {
    let org = start(None).await;
    org.sim
        .add_user(NewUser::new("case.user@example.com", "Case", "User"))
        .unwrap();
    assert_eq!(
        org.json("/api/v1/users?filter=profile.firstName%20eq%20%22case%22")
            .await
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        org.json("/api/v1/users?filter=profile.firstName%20eq%20%22Case%22")
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let recent = org.json("/api/v1/users?filter=lastUpdated%20gt%20%222020-01-01T00:00:00.000Z%22%20and%20status%20eq%20%22ACTIVE%22").await;
    assert_eq!(recent.as_array().unwrap().len(), 1);
    let future = org
        .json("/api/v1/users?filter=lastUpdated%20gt%20%222999-01-01T00:00:00.000Z%22")
        .await;
    assert_eq!(future.as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn unsupported_filter_and_search_expressions_get_okta_400_bodies() {
    let org = start(None).await;
    for (query, code) in [
        ("filter=profile.department%20eq%20%22x%22", "E0000031"),
        ("filter=status%20sw%20%22A%22", "E0000031"),
        ("search=status%20ne%20%22ACTIVE%22", "E0000031"),
        ("search=profile.department%20co%20%22x%22", "E0000031"),
        ("filter=status%20eq%20%22ACTIVE", "E0000053"),
        ("search=not%20status%20eq%20%22A%22", "E0000053"),
    ] {
        let response = org.get(&format!("/api/v1/users?{query}")).await;
        assert_eq!(response.status(), 400, "{query}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["errorCode"], code, "{query}: {body}");
        assert!(
            !body["errorCauses"][0]["errorSummary"]
                .as_str()
                .unwrap()
                .is_empty(),
            "{query}: the cause says why"
        );
    }
}

#[tokio::test]
async fn q_matches_name_and_email_prefixes_and_defaults_to_ten_without_links() {
    let org = start(Some(OrgSpec {
        users: 300,
        groups: 2,
        seed: 3,
        ..OrgSpec::default()
    }))
    .await;
    let response = org.get("/api/v1/users?q=a").await;
    assert!(links(&response).is_empty(), "a q query is not paged");
    let users: Vec<Value> = response.json().await.unwrap();
    assert_eq!(users.len(), 10);
    for u in &users {
        let p = &u["profile"];
        let starts = |k: &str| {
            p[k].as_str()
                .unwrap_or_default()
                .to_lowercase()
                .starts_with('a')
        };
        assert!(
            starts("firstName") || starts("lastName") || starts("email"),
            "{p}"
        );
    }
}

#[tokio::test]
async fn search_sorts_by_an_attribute_across_pages() {
    let org = start(Some(OrgSpec {
        users: 60,
        groups: 2,
        seed: 5,
        ..OrgSpec::default()
    }))
    .await;
    let (users, pages) = org.all_pages("/api/v1/users?search=status%20eq%20%22ACTIVE%22&sortBy=profile.lastName&sortOrder=desc&limit=7").await;
    let names: Vec<String> = users
        .iter()
        .map(|u| u["profile"]["lastName"].as_str().unwrap().to_lowercase())
        .collect();
    let mut sorted = names.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(names, sorted);
    assert_eq!(users.len(), count_status(&users, "ACTIVE"));
    assert_eq!(pages, users.len().div_ceil(7));
}
