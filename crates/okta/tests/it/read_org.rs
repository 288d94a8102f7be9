//! Full reads: completeness, equality with the emulator's state, and the request count.

use std::sync::Mutex;

use pretty_assertions::assert_eq;
use usersync_core::{OktaGroupType, OktaStatus};
use usersync_okta::{OktaClient, ReadPhase, ReadProgress, ReadScope};
use usersync_sim::okta::{Bucket, OktaSim, OrgSpec, RateLimits};

use crate::helpers::{client_for, config_for, expected_requests, normalised, spec, start};

#[tokio::test]
async fn a_full_read_of_a_seeded_org_equals_the_emulators_state() {
    // Arrange
    let sim = start(Some(spec(450, 25)), RateLimits::default()).await;
    let client = client_for(&sim);
    // Act
    let snapshot = client.read_org(&ReadScope::default()).await.unwrap();
    // Assert
    assert!(
        snapshot.completeness.is_complete(),
        "{:?}",
        snapshot.completeness
    );
    assert!(
        snapshot
            .users
            .iter()
            .any(|u| u.status == OktaStatus::Deprovisioned),
        "DEPROVISIONED users are read too"
    );
    assert_eq!(snapshot.users.len(), 450);
    assert_eq!(normalised(snapshot), normalised(sim.snapshot()));
}

#[tokio::test]
async fn a_full_read_sends_exactly_the_documented_number_of_requests() {
    let org_spec = OrgSpec {
        everyone_group: true,
        ..spec(450, 25)
    };
    let sim = start(Some(org_spec), RateLimits::default()).await;
    let org = sim.snapshot();
    assert!(
        org.memberships.values().any(|m| m.len() > 200),
        "the org must have a group that spans several member pages"
    );
    let mut config = config_for(&sim);
    config.page_sizes.group_members = 200;
    let client = OktaClient::new(&config).unwrap();

    let snapshot = client.read_org(&ReadScope::default()).await.unwrap();

    assert!(snapshot.completeness.is_complete());
    let expected = expected_requests(&org, 200);
    assert_eq!(sim.request_count(), expected);
    assert_eq!(client.stats().requests, expected as u64);
    assert_eq!(client.stats().retries, 0);
    let per_user = sim
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/api/v1/users/"))
        .count();
    assert_eq!(per_user, 0, "no per-user requests in a whole-org read");
}

#[tokio::test]
async fn empty_groups_are_read_too_and_member_pages_default_to_okta_s_1000() {
    let org_spec = OrgSpec {
        empty_group_share: 0.3,
        ..spec(300, 20)
    };
    let sim = start(Some(org_spec), RateLimits::default()).await;
    let org = sim.snapshot();
    let empty = org.memberships.values().filter(|m| m.is_empty()).count();
    assert!(empty > 0, "the org must have empty groups");
    let client = client_for(&sim);

    let snapshot = client.read_org(&ReadScope::default()).await.unwrap();

    assert!(snapshot.completeness.is_complete());
    assert_eq!(sim.request_count(), expected_requests(&org, 1000));
    let member_reads: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/api/v1/groups/"))
        .collect();
    assert_eq!(
        member_reads.len(),
        org.groups.len(),
        "one request per group, empty ones too"
    );
    assert!(member_reads.iter().all(|r| r.path.contains("limit=1000")));
    assert_eq!(normalised(snapshot), normalised(org));
}

#[tokio::test]
async fn the_longest_member_chains_start_first() {
    // Arrange: Everyone (every user) and groups of many sizes, all listed on one
    // page, members read one group at a time in pages of 10.
    let sim = start(Some(spec(300, 30)), RateLimits::default()).await;
    let org = sim.snapshot();
    let mut config = config_for(&sim);
    config.page_sizes.groups = 1000;
    config.page_sizes.group_members = 10;
    config.max_concurrency = 1;
    let client = OktaClient::new(&config).unwrap();
    // Act
    let snapshot = client.read_org(&ReadScope::default()).await.unwrap();
    // Assert
    assert!(snapshot.completeness.is_complete());
    let listing = sim
        .requests()
        .into_iter()
        .find(|r| r.path.starts_with("/api/v1/groups?"))
        .unwrap();
    assert!(listing.path.contains("expand=stats"), "{}", listing.path);
    let mut started: Vec<String> = Vec::new();
    for r in sim.requests() {
        if let Some(id) = r
            .path
            .strip_prefix("/api/v1/groups/")
            .and_then(|p| p.split('/').next())
            && !started.iter().any(|s| s == id)
        {
            started.push(id.to_owned());
        }
    }
    let size = |id: &str| {
        org.memberships
            .iter()
            .find(|(g, _)| g.as_str() == id)
            .unwrap()
            .1
            .len()
    };
    let sizes: Vec<usize> = started.iter().map(|id| size(id)).collect();
    assert_eq!(started.len(), org.groups.len());
    let everyone = org
        .groups
        .iter()
        .find(|g| g.kind == OktaGroupType::BuiltIn)
        .unwrap();
    assert_eq!(
        started[0],
        everyone.id.as_str(),
        "Everyone first: {sizes:?}"
    );
    assert!(
        sizes.windows(2).all(|w| w[0] >= w[1]),
        "largest first: {sizes:?}"
    );
}

#[tokio::test]
async fn the_group_type_filter_is_pushed_into_the_query() {
    let org_spec = OrgSpec {
        app_group_share: 0.3,
        everyone_group: true,
        ..spec(100, 20)
    };
    let sim = start(Some(org_spec), RateLimits::default()).await;
    let okta_groups = sim
        .snapshot()
        .groups
        .into_iter()
        .filter(|g| g.kind == OktaGroupType::OktaGroup)
        .count();
    let client = client_for(&sim);
    let scope = ReadScope {
        group_types: vec![OktaGroupType::OktaGroup],
        ..ReadScope::default()
    };

    let snapshot = client.read_org(&scope).await.unwrap();

    assert!(snapshot.completeness.is_complete());
    assert_eq!(snapshot.groups.len(), okta_groups);
    assert!(
        snapshot
            .groups
            .iter()
            .all(|g| g.kind == OktaGroupType::OktaGroup)
    );
    assert_eq!(
        snapshot.memberships.len(),
        okta_groups,
        "members of OKTA_GROUPs only"
    );
    let listing = sim
        .requests()
        .into_iter()
        .find(|r| r.path.starts_with("/api/v1/groups?"))
        .expect("the groups were listed");
    assert!(
        listing.path.contains("filter=type+eq+%22OKTA_GROUP%22"),
        "{}",
        listing.path
    );
}

#[tokio::test]
async fn progress_reports_count_up_to_the_totals() {
    let sim = start(Some(spec(250, 12)), RateLimits::default()).await;
    let client = client_for(&sim);
    let seen: Mutex<Vec<ReadProgress>> = Mutex::new(Vec::new());

    let snapshot = client
        .read_org_with_progress(&ReadScope::default(), &|p| seen.lock().unwrap().push(*p))
        .await
        .unwrap();

    let seen = seen.into_inner().unwrap();
    let last = seen.last().copied().expect("progress was reported");
    assert_eq!(last.phase, ReadPhase::Done);
    assert_eq!(last.users_read, snapshot.users.len());
    assert_eq!(last.groups_read, snapshot.groups.len());
    assert_eq!(last.groups_with_members_total, Some(snapshot.groups.len()));
    assert_eq!(last.groups_with_members_read, snapshot.groups.len());
    assert!(
        seen.len() > snapshot.groups.len(),
        "one report per page and per group"
    );
    assert!(
        seen.windows(2).all(|w| w[0].users_read <= w[1].users_read
            && w[0].groups_with_members_read <= w[1].groups_with_members_read),
        "progress never goes backwards"
    );
}

#[tokio::test]
async fn member_reads_start_before_the_user_listing_ends() {
    // Arrange: six user pages in sequence, one group page, and enough latency that
    // the user listing is still going when the first group page is in.
    let sim = start(Some(spec(1200, 20)), RateLimits::default()).await;
    sim.faults().update(|f| f.latency_ms = 20);
    let client = client_for(&sim);
    // Act
    let snapshot = client.read_org(&ReadScope::default()).await.unwrap();
    // Assert
    assert!(snapshot.completeness.is_complete());
    assert_eq!(normalised(snapshot), normalised(sim.snapshot()));
    let records = sim.requests();
    let last_user_page = records
        .iter()
        .rposition(|r| r.bucket == Bucket::UsersList)
        .expect("users were listed");
    let first_member_read = records
        .iter()
        .position(|r| r.bucket == Bucket::GroupMembers)
        .expect("members were read");
    assert!(
        first_member_read < last_user_page,
        "a member read finished (#{first_member_read}) before the last user page (#{last_user_page})"
    );
}

#[tokio::test]
async fn a_full_read_can_run_on_a_spawned_task() {
    let sim = start(Some(spec(30, 4)), RateLimits::default()).await;
    let client = client_for(&sim);
    let read = tokio::spawn(async move { client.read_org(&ReadScope::default()).await });
    let snapshot = read.await.expect("the task ran").unwrap();
    assert_eq!(normalised(snapshot), normalised(sim.snapshot()));
}

/// An emulator whose org-wide concurrency limit is `limit`, with enough latency
/// and groups that a client allowed more in flight would exceed it.
async fn tight_concurrency(limit: usize) -> OktaSim {
    let limits = RateLimits {
        concurrency: limit,
        ..RateLimits::default()
    };
    let sim = start(Some(spec(300, 40)), limits).await;
    sim.faults().update(|f| f.latency_ms = 20);
    sim
}

#[tokio::test]
async fn requests_in_flight_never_exceed_the_configured_cap() {
    // Arrange
    let sim = tight_concurrency(3).await;
    let mut config = config_for(&sim);
    config.max_concurrency = 3;
    let capped = OktaClient::new(&config).unwrap();
    config.max_concurrency = 4;
    // No waiting out refusals: one is all this client has to show.
    config.retry.max_rate_limit_retries = 0;
    let one_more = OktaClient::new(&config).unwrap();
    // Act
    let snapshot = capped.read_org(&ReadScope::default()).await.unwrap();
    let _ = one_more.read_org(&ReadScope::default()).await;
    // Assert
    assert!(snapshot.completeness.is_complete());
    assert_eq!(capped.concurrency(), 3);
    assert_eq!(
        capped.stats().rate_limited,
        0,
        "never more than 3 in flight"
    );
    assert!(
        one_more.stats().rate_limited > 0,
        "the emulator does catch a fourth request in flight"
    );
}

#[tokio::test]
async fn the_share_of_the_org_concurrency_limit_bounds_requests_in_flight() {
    let sim = tight_concurrency(3).await;
    let mut config = config_for(&sim);
    config.org_concurrency_limit = 6;
    assert_eq!(config.rate_share, 0.5);
    let client = OktaClient::new(&config).unwrap();

    let snapshot = client.read_org(&ReadScope::default()).await.unwrap();

    assert_eq!(client.concurrency(), 3, "half of 6");
    assert!(snapshot.completeness.is_complete());
    assert_eq!(client.stats().rate_limited, 0);
    assert!(sim.requests().iter().all(|r| r.status == 200));
}

#[tokio::test]
async fn a_user_whose_status_changes_while_the_listing_pages_is_read_once_with_the_newer_status() {
    // Arrange: two pages of ACTIVE users; once page 1 is served the first one is
    // deactivated, which moves them ahead of the cursor (DEPROVISIONED is listed last).
    let sim = start(None, RateLimits::default()).await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let user = usersync_sim::okta::NewUser::new(&format!("u{i}@x.org"), "U", "Doe")
            .status(OktaStatus::Active);
        ids.push(sim.add_user(user).unwrap());
    }
    ids.sort();
    let mut config = config_for(&sim);
    config.page_sizes.users = 2;
    let client = OktaClient::new(&config).unwrap();
    sim.change_status_while_listing(ids[0].as_str(), OktaStatus::Deprovisioned, 1)
        .unwrap();
    // Act
    let snapshot = client.read_org(&ReadScope::default()).await.unwrap();
    // Assert
    let listed: Vec<_> = snapshot.users.iter().filter(|u| u.id == ids[0]).collect();
    assert_eq!(listed.len(), 1, "{:?}", snapshot.users);
    assert_eq!(listed[0].status, OktaStatus::Deprovisioned);
    assert_eq!(snapshot.users.len(), 3);
}
