//! Single-user reads (the login-time sync) and listings outside the full read.

use pretty_assertions::assert_eq;
use usersync_core::{OktaGroupId, OktaGroupType, OktaStatus};
use usersync_okta::OktaError;
use usersync_sim::okta::{NewUser, RateLimits};

use crate::helpers::{client_for, spec, start};

#[tokio::test]
async fn a_single_user_sync_reads_the_user_and_their_groups_in_two_requests() {
    let sim = start(None, RateLimits::default()).await;
    let id = sim
        .add_user(NewUser::new("ada@example.com", "Ada", "Lovelace").attribute("department", "R&D"))
        .unwrap();
    let engineers = sim
        .add_group("Engineers", Some("builders"), OktaGroupType::OktaGroup)
        .unwrap();
    let sales = sim
        .add_group("Sales", None, OktaGroupType::OktaGroup)
        .unwrap();
    sim.add_group("Nobody", None, OktaGroupType::OktaGroup)
        .unwrap();
    sim.add_member(engineers.as_str(), id.as_str()).unwrap();
    sim.add_member(sales.as_str(), id.as_str()).unwrap();
    let client = client_for(&sim);
    sim.clear_requests();

    let user = client
        .get_user("ada@example.com")
        .await
        .unwrap()
        .expect("found by login");
    let groups = client.user_groups(&user.id).await.unwrap();

    assert_eq!(sim.request_count(), 2);
    assert_eq!(user.id, id);
    assert_eq!(user.status, OktaStatus::Active);
    assert_eq!(user.attribute("department"), Some("R&D"));
    let mut ids: Vec<OktaGroupId> = groups.items.iter().map(|g| g.id.clone()).collect();
    ids.sort();
    let mut expected = vec![engineers, sales];
    expected.sort();
    assert_eq!(ids, expected);
    assert!(groups.unusable.is_empty());
}

#[tokio::test]
async fn get_user_finds_users_by_id_and_deprovisioned_ones_too() {
    let sim = start(None, RateLimits::default()).await;
    let id = sim
        .add_user(
            NewUser::new("gone@example.com", "Gone", "Away").status(OktaStatus::Deprovisioned),
        )
        .unwrap();
    let client = client_for(&sim);

    let by_id = client
        .get_user(id.as_str())
        .await
        .unwrap()
        .expect("found by id");

    assert_eq!(by_id.login, "gone@example.com");
    assert_eq!(by_id.status, OktaStatus::Deprovisioned);
}

#[tokio::test]
async fn get_user_answers_none_for_an_unknown_user_without_retrying() {
    let sim = start(None, RateLimits::default()).await;
    let client = client_for(&sim);

    let found = client.get_user("nobody@example.com").await.unwrap();

    assert_eq!(found, None);
    assert_eq!(sim.request_count(), 1, "a 404 is not retried");
}

#[tokio::test]
async fn a_login_with_a_slash_is_found_through_a_login_filter() {
    let sim = start(None, RateLimits::default()).await;
    let id = sim
        .add_user(NewUser::new("dept/ops@example.com", "Op", "S"))
        .unwrap();
    let client = client_for(&sim);

    let user = client
        .get_user("dept/ops@example.com")
        .await
        .unwrap()
        .expect("found");

    assert_eq!(user.id, id);
    let path = &sim.requests()[0].path;
    assert!(
        path.starts_with("/api/v1/users?") && path.contains("profile.login"),
        "{path}"
    );
}

#[tokio::test]
async fn a_missing_group_is_a_typed_not_found_and_is_not_retried() {
    let sim = start(None, RateLimits::default()).await;
    let client = client_for(&sim);
    let missing = OktaGroupId::parse("00gnotthere000000000").unwrap();

    let err = client.list_group_members(&missing).await.unwrap_err();

    assert!(matches!(err, OktaError::NotFound { .. }), "{err:?}");
    assert_eq!(err.code(), Some("E0000007"));
    assert!(err.to_string().contains("00gnotthere000000000"), "{err}");
    assert_eq!(sim.request_count(), 1);
}

#[tokio::test]
async fn list_users_returns_every_status_and_list_groups_every_type() {
    let sim = start(Some(spec(220, 8)), RateLimits::default()).await;
    let org = sim.snapshot();
    let client = client_for(&sim);

    let users = client.list_users().await.unwrap();
    let groups = client.list_groups(&[]).await.unwrap();

    assert_eq!(users.items.len(), org.users.len());
    for status in [
        OktaStatus::Active,
        OktaStatus::Deprovisioned,
        OktaStatus::Suspended,
    ] {
        assert!(users.items.iter().any(|u| u.status == status), "{status:?}");
    }
    assert_eq!(groups.items.len(), org.groups.len());
    assert_eq!(
        sim.request_count(),
        2 + 1,
        "two user pages and one group page"
    );
}
