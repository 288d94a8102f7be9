//! Full reads: completeness, equality with the emulator's state, and the request count.

use std::sync::Mutex;

use pretty_assertions::assert_eq;
use usersync_core::{OktaGroupType, OktaStatus};
use usersync_okta::{ReadPhase, ReadProgress, ReadScope};
use usersync_sim::okta::{OrgSpec, RateLimits};

use crate::helpers::{client_for, expected_requests, normalised, spec, start};

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
    let client = client_for(&sim);

    let snapshot = client.read_org(&ReadScope::default()).await.unwrap();

    assert!(snapshot.completeness.is_complete());
    let expected = expected_requests(&org, 200, false);
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
async fn skipping_empty_groups_brings_the_count_to_the_issue_formula() {
    let org_spec = OrgSpec {
        empty_group_share: 0.3,
        ..spec(300, 20)
    };
    let sim = start(Some(org_spec), RateLimits::default()).await;
    let org = sim.snapshot();
    let empty = org.memberships.values().filter(|m| m.is_empty()).count();
    assert!(empty > 0, "the org must have empty groups");
    let client = client_for(&sim);
    let scope = ReadScope {
        skip_empty_groups: true,
        ..ReadScope::default()
    };

    let snapshot = client.read_org(&scope).await.unwrap();

    assert!(snapshot.completeness.is_complete());
    assert_eq!(sim.request_count(), expected_requests(&org, 200, true));
    assert_eq!(
        sim.request_count(),
        expected_requests(&org, 200, false) - empty
    );
    assert_eq!(normalised(snapshot), normalised(org));
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
