//! Surviving Okta's bad moments: 429 storms, 503 bursts, dropped and cut-off
//! responses, and one group that keeps failing.

use pretty_assertions::assert_eq;
use usersync_core::Completeness;
use usersync_okta::{OktaClient, ReadScope};
use usersync_sim::faults::{FaultConfig, PathFault};
use usersync_sim::okta::{Bucket, RateLimits};

use crate::helpers::{biggest_group, config_for, expected_requests, normalised, spec, start};

#[tokio::test]
async fn a_429_storm_from_two_busy_integrations_is_survived_with_complete_snapshots() {
    // Arrange: a tiny member bucket in one-second windows, and two clients that each
    // believe they may use all of it, so together they overrun it every window.
    let limits = RateLimits {
        window_secs: 1,
        ..RateLimits::default().with(Bucket::GroupMembers, 5)
    };
    let sim = start(Some(spec(100, 8)), limits).await;
    let mut config = config_for(&sim);
    config.rate_share = 1.0;
    config.retry.max_rate_limit_retries = 12;
    let first = OktaClient::new(&config).unwrap();
    let second = OktaClient::new(&config).unwrap();
    // Act
    let scope = ReadScope::default();
    let (a, b) = tokio::join!(first.read_org(&scope), second.read_org(&scope));
    // Assert
    let expected = normalised(sim.snapshot());
    for snapshot in [a.unwrap(), b.unwrap()] {
        assert_eq!(snapshot.completeness, Completeness::Complete);
        assert_eq!(normalised(snapshot), expected);
    }
    let limited = first.stats().rate_limited + second.stats().rate_limited;
    assert!(limited > 0, "the storm produced 429s");
    let records = sim.requests();
    let refused = records.iter().filter(|r| r.status == 429).count();
    assert_eq!(refused as u64, limited);
    let retries_total = first.stats().retries + second.stats().retries;
    assert_eq!(
        retries_total, limited,
        "every 429 was retried, nothing else was"
    );
}

#[tokio::test]
async fn a_retry_after_429_names_the_refused_request_and_counts_the_retries() {
    let limits = RateLimits {
        window_secs: 1,
        ..RateLimits::default().with(Bucket::GroupMembers, 3)
    };
    let sim = start(Some(spec(60, 6)), limits).await;
    let mut config = config_for(&sim);
    config.rate_share = 1.0;
    config.retry.max_rate_limit_retries = 12;
    let (first, second) = (
        OktaClient::new(&config).unwrap(),
        OktaClient::new(&config).unwrap(),
    );

    let scope = ReadScope::default();
    let (a, b) = tokio::join!(first.read_org(&scope), second.read_org(&scope));
    assert!(a.unwrap().completeness.is_complete() && b.unwrap().completeness.is_complete());

    let records = sim.requests();
    let refused_ids: Vec<&str> = records
        .iter()
        .filter(|r| r.status == 429)
        .map(|r| r.request_id.as_str())
        .collect();
    assert!(!refused_ids.is_empty(), "some requests were refused");
    let retries: Vec<_> = records.iter().filter(|r| r.retry_for.is_some()).collect();
    assert_eq!(retries.len(), refused_ids.len(), "one retry per 429");
    for retry in retries {
        let id = retry.retry_for.as_deref().unwrap();
        assert!(
            refused_ids.contains(&id),
            "X-Okta-Retry-For {id} names a 429"
        );
        let count: u32 = retry.retry_count.as_deref().unwrap().parse().unwrap();
        assert!(count >= 1, "X-Okta-Retry-Count starts at 1");
    }
    assert!(
        records
            .iter()
            .filter(|r| r.retry_for.is_none())
            .all(|r| r.retry_count.is_none()),
        "first attempts carry no retry headers"
    );
}

#[tokio::test]
async fn a_503_burst_is_survived_with_a_complete_snapshot() {
    let sim = start(Some(spec(250, 10)), RateLimits::default()).await;
    let org = sim.snapshot();
    let mut config = config_for(&sim);
    config.retry.max_retries = 6;
    let client = OktaClient::new(&config).unwrap();
    sim.faults().burst_503(6);

    let snapshot = client.read_org(&ReadScope::default()).await.unwrap();

    assert_eq!(snapshot.completeness, Completeness::Complete);
    assert_eq!(normalised(snapshot), normalised(org.clone()));
    let stats = client.stats();
    assert_eq!(stats.server_errors, 6);
    assert_eq!(stats.retries, 6);
    assert_eq!(sim.request_count(), expected_requests(&org, 1000) + 6);
}

#[tokio::test]
async fn dropped_connections_and_cut_off_bodies_are_retried_until_read() {
    let sim = start(Some(spec(300, 12)), RateLimits::default()).await;
    let org = sim.snapshot();
    let mut config = config_for(&sim);
    config.retry.max_retries = 10;
    let client = OktaClient::new(&config).unwrap();
    sim.faults().set(FaultConfig {
        drop_rate: 0.15,
        truncate_rate: 0.15,
        seed: 3,
        ..FaultConfig::default()
    });

    let snapshot = client.read_org(&ReadScope::default()).await.unwrap();

    assert_eq!(snapshot.completeness, Completeness::Complete);
    assert_eq!(normalised(snapshot), normalised(org));
    assert!(client.stats().transport_errors > 0, "faults were injected");
}

#[tokio::test]
async fn a_group_whose_members_keep_failing_makes_the_snapshot_incomplete_and_says_why() {
    // Arrange
    let sim = start(Some(spec(200, 10)), RateLimits::default()).await;
    let org = sim.snapshot();
    let broken = biggest_group(&org);
    let client = crate::helpers::client_for(&sim);
    sim.faults().set(FaultConfig {
        path_faults: vec![PathFault {
            path_contains: format!("/api/v1/groups/{broken}/users"),
            status: 500,
            remaining: None,
        }],
        ..FaultConfig::default()
    });
    // Act
    let snapshot = client.read_org(&ReadScope::default()).await.unwrap();
    // Assert
    let Completeness::Incomplete { reasons } = &snapshot.completeness else {
        panic!("a failed group must make the snapshot incomplete");
    };
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    let name = &org.groups.iter().find(|g| g.id == broken).unwrap().name;
    let reason = &reasons[0];
    assert!(
        reason.contains(broken.as_str()) && reason.contains(name.as_str()),
        "{reason}"
    );
    assert!(
        reason.contains("HTTP 500") && reason.contains("E0000009"),
        "{reason}"
    );
    assert!(!snapshot.memberships.contains_key(&broken));
    assert_eq!(snapshot.memberships.len(), org.memberships.len() - 1);
    for (group, members) in &snapshot.memberships {
        assert_eq!(Some(members), org.memberships.get(group), "group {group}");
    }
    let attempts = sim
        .requests()
        .iter()
        .filter(|r| r.path.contains(&format!("/groups/{broken}/users")))
        .count();
    assert_eq!(attempts, 5, "one attempt plus max_retries (4) retries");
}

#[tokio::test]
async fn two_integrations_at_half_share_each_never_see_a_429() {
    // Arrange: 4 member requests per 2-second window; each client may use half.
    let limits = RateLimits {
        window_secs: 2,
        ..RateLimits::default().with(Bucket::GroupMembers, 4)
    };
    let sim = start(Some(spec(40, 4)), limits).await;
    let config = config_for(&sim);
    assert!(
        (config.rate_share - 0.5).abs() < f64::EPSILON,
        "the default share is half"
    );
    let (first, second) = (
        OktaClient::new(&config).unwrap(),
        OktaClient::new(&config).unwrap(),
    );
    // Act
    let scope = ReadScope::default();
    let (a, b) = tokio::join!(first.read_org(&scope), second.read_org(&scope));
    // Assert
    assert!(a.unwrap().completeness.is_complete() && b.unwrap().completeness.is_complete());
    assert_eq!(first.stats().rate_limited + second.stats().rate_limited, 0);
    assert!(sim.requests().iter().all(|r| r.status == 200));
    let member_reads = sim
        .requests()
        .iter()
        .filter(|r| r.bucket == Bucket::GroupMembers)
        .count();
    assert!(
        member_reads > 4,
        "more reads than one window allows: {member_reads}"
    );
}
