//! Contract tests of the Confluence client against the Confluence emulator: every
//! Target operation, paging across page boundaries, version differences, the
//! read-only directory, 402, dead credentials, 429/503, and idempotent repeats.

use std::time::Duration;

use usersync_atlassian::confluence::{ConfluenceClient, ConfluenceConfig};
use usersync_atlassian::http::{AtlassianAuth, HttpSettings};
use usersync_atlassian::{NewUser, Target, TargetError, UserChanges};
use usersync_core::{Email, GroupName, Username};
use usersync_sim::confluence::{ConfluenceSim, ConfluenceSimConfig, RateLimit, SeedUser};

#[path = "confluence_licence.rs"]
mod licence;
#[path = "confluence_rpc.rs"]
mod rpc;

fn user(name: &str) -> Username {
    Username::parse(name).unwrap()
}

fn group(name: &str) -> GroupName {
    GroupName::parse(name).unwrap()
}

fn new_user(name: &str) -> NewUser {
    NewUser {
        username: user(name),
        display_name: format!("{name} Person"),
        email: Email::parse(format!("{name}@example.com")).unwrap(),
        active: true,
        external_id: None,
    }
}

async fn start(config: ConfluenceSimConfig) -> ConfluenceSim {
    ConfluenceSim::start(ConfluenceSimConfig {
        pat: Some("pat-secret".into()),
        delete_task_polls: 3,
        ..config
    })
    .await
    .unwrap()
}

async fn sim(version: &str) -> ConfluenceSim {
    start(ConfluenceSimConfig {
        version: version.into(),
        ..ConfluenceSimConfig::default()
    })
    .await
}

fn client_with(sim: &ConfluenceSim, auth: AtlassianAuth) -> ConfluenceClient {
    let mut config = ConfluenceConfig::new(sim.base_url(), auth);
    config.delete_poll_interval = Duration::from_millis(10);
    config.http = HttpSettings {
        base_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        ..HttpSettings::default()
    };
    ConfluenceClient::new(config).unwrap()
}

fn client(sim: &ConfluenceSim) -> ConfluenceClient {
    client_with(sim, AtlassianAuth::Bearer("pat-secret".to_owned().into()))
}

#[tokio::test]
async fn read_all_pages_through_2500_users_and_every_member_including_inactive_ones() {
    let sim = sim("9.2.0").await;
    sim.add_group("everyone-else");
    for i in 0..2500 {
        let name = format!("user{i:04}");
        sim.add_user(&name, "User", "u@example.com");
        if i % 2 == 0 {
            sim.add_member("everyone-else", &name);
        }
    }
    sim.set_active("user0007", false);
    let snapshot = client(&sim).read_all().await.unwrap();
    assert_eq!(snapshot.users.len(), 2501);
    let inactive: Vec<_> = snapshot
        .users
        .iter()
        .filter(|u| !u.active)
        .map(|u| u.username.as_str())
        .collect();
    assert_eq!(inactive, vec!["user0007"]);
    assert!(snapshot.users.iter().all(|u| u.key.is_some()));
    assert_eq!(snapshot.groups.len(), 3);
    assert_eq!(snapshot.memberships[&group("confluence-users")].len(), 2501);
    assert_eq!(snapshot.memberships[&group("everyone-else")].len(), 1250);
    let list_pages = sim
        .requests()
        .iter()
        .filter(|r| r.path == "/rest/api/user/list")
        .count();
    assert_eq!(list_pages, 13, "2,501 users at 200 a page");
}

#[tokio::test]
async fn create_find_update_deactivate_and_delete_a_user() {
    let sim = sim("10.2.0").await;
    let client = client(&sim);
    let created = client.create_user(&new_user("carol")).await.unwrap();
    assert_eq!((created.username.as_str(), created.active), ("carol", true));
    let sent = sim
        .requests()
        .into_iter()
        .find(|r| r.path == "/rest/api/admin/user")
        .unwrap();
    let body = sent.body.unwrap();
    assert_eq!(body["notifyViaEmail"], false);
    assert_eq!(
        body["password"], "<redacted>",
        "a password was sent (and the log hides it)"
    );

    let again = client.create_user(&new_user("carol")).await.unwrap();
    assert_eq!(
        again.key, created.key,
        "creating an existing user is success"
    );

    let changes = UserChanges {
        display_name: Some("Carol Renamed".into()),
        email: Some(Email::parse("c2@example.com").unwrap()),
    };
    client.update_user(&user("carol"), &changes).await.unwrap();
    assert_eq!(sim.user("carol").unwrap().email, "c2@example.com");
    let found = client.find_user(&user("CAROL")).await.unwrap().unwrap();
    assert_eq!(found.display_name, "Carol Renamed");

    for _ in 0..2 {
        client.set_active(&user("carol"), false).await.unwrap();
    }
    assert!(
        !client
            .find_user(&user("carol"))
            .await
            .unwrap()
            .unwrap()
            .active
    );
    client.set_active(&user("carol"), true).await.unwrap();
    assert!(sim.user("carol").unwrap().active);

    client.delete_user(&user("carol")).await.unwrap();
    assert!(sim.user("carol").is_none(), "the delete task was awaited");
    let polls = sim
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/rest/api/longtask/"))
        .count();
    assert_eq!(polls, 3);
    client.delete_user(&user("carol")).await.unwrap();
    assert_eq!(client.find_user(&user("carol")).await.unwrap(), None);
}

#[tokio::test]
async fn a_user_created_inactive_is_disabled_straight_after() {
    let sim = sim("9.2.0").await;
    let mut inactive = new_user("dora");
    inactive.active = false;
    let created = client(&sim).create_user(&inactive).await.unwrap();
    assert!(!created.active);
    assert!(!sim.user("dora").unwrap().active);
}

#[tokio::test]
async fn upper_case_usernames_are_refused_before_a_request_is_sent() {
    let sim = sim("9.2.0").await;
    let client = client(&sim);
    let err = client.create_user(&new_user("Erin")).await.unwrap_err();
    assert!(matches!(err, TargetError::Rejected { .. }));
    assert!(
        err.to_string().contains("lower-case") && err.to_string().contains("\"erin\""),
        "{err}"
    );
    assert_eq!(sim.request_count(), 0);
}

#[tokio::test]
async fn no_licence_seat_left_is_reported_as_such() {
    let sim = start(ConfluenceSimConfig {
        licence_seats: Some(1),
        ..ConfluenceSimConfig::default()
    })
    .await;
    let err = client(&sim)
        .create_user(&new_user("frank"))
        .await
        .unwrap_err();
    assert!(matches!(err, TargetError::NoLicenceSeat { .. }), "{err}");
    assert!(err.to_string().contains("frank"), "{err}");
}

#[tokio::test]
async fn groups_and_memberships_are_created_and_removed_idempotently() {
    let sim = sim("9.2.0").await;
    let client = client(&sim);
    sim.add_user("gina", "Gina", "g@example.com");
    for _ in 0..2 {
        client.create_group(&group("Design Team")).await.unwrap();
        client
            .add_member(&group("Design Team"), &user("gina"))
            .await
            .unwrap();
    }
    assert_eq!(sim.members("Design Team"), vec!["gina".to_owned()]);
    let groups = client.user_groups(&user("gina")).await.unwrap();
    assert!(groups.contains(&group("design team")) && groups.contains(&group("confluence-users")));
    for _ in 0..2 {
        client
            .remove_member(&group("Design Team"), &user("gina"))
            .await
            .unwrap();
    }
    assert!(sim.members("Design Team").is_empty());
    for _ in 0..2 {
        client.delete_group(&group("Design Team")).await.unwrap();
    }
    assert!(!sim.groups().contains(&"Design Team".to_owned()));
    let err = client
        .add_member(&group("missing"), &user("gina"))
        .await
        .unwrap_err();
    assert!(matches!(err, TargetError::NotFound { .. }), "{err}");
}

#[tokio::test]
async fn read_only_directory_users_are_reported_as_managed_elsewhere() {
    let sim = start(ConfluenceSimConfig {
        ldap_users: vec![SeedUser::named("ldap.user")],
        ..ConfluenceSimConfig::default()
    })
    .await;
    let client = client(&sim);
    for result in [
        client.set_active(&user("ldap.user"), false).await,
        client.delete_user(&user("ldap.user")).await,
        client
            .add_member(&group("confluence-administrators"), &user("ldap.user"))
            .await,
    ] {
        let err = result.unwrap_err();
        assert!(matches!(err, TargetError::ManagedElsewhere { .. }), "{err}");
    }
    assert!(sim.user("ldap.user").unwrap().active);
}

#[tokio::test]
async fn a_dead_credential_is_an_authentication_error() {
    let sim = sim("9.2.0").await;
    let wrong = client_with(
        &sim,
        AtlassianAuth::Basic {
            username: "admin".into(),
            password: "wrong".to_owned().into(),
        },
    );
    let err = wrong.capabilities().await.unwrap_err();
    assert!(matches!(err, TargetError::Unauthenticated { .. }), "{err}");
    assert!(!err.to_string().contains("wrong"));
    let good = client(&sim);
    good.whoami().await.unwrap();
    sim.set_pat(None);
    let err = good.whoami().await.unwrap_err();
    assert!(matches!(err, TargetError::Unauthenticated { .. }), "{err}");
}

#[tokio::test]
async fn basic_auth_works_for_the_admin_account() {
    let sim = sim("9.2.0").await;
    let basic = client_with(
        &sim,
        AtlassianAuth::Basic {
            username: "admin".into(),
            password: "admin".to_owned().into(),
        },
    );
    assert_eq!(basic.whoami().await.unwrap(), user("admin"));
}

#[tokio::test]
async fn rate_limits_and_503_bursts_are_retried_until_the_read_completes() {
    let sim = start(ConfluenceSimConfig {
        rate_limit: Some(RateLimit {
            capacity: 4,
            fill_rate: 4,
            interval_seconds: 1,
        }),
        ..ConfluenceSimConfig::default()
    })
    .await;
    for i in 0..30 {
        sim.add_user(&format!("r{i:02}"), "R", "r@example.com");
    }
    let mut config = ConfluenceConfig::new(
        sim.base_url(),
        AtlassianAuth::Bearer("pat-secret".to_owned().into()),
    );
    config.page_size = 5;
    config.http.base_backoff = Duration::from_millis(10);
    config.http.max_attempts = 8;
    let client = ConfluenceClient::new(config).unwrap();
    sim.faults().burst_503(2);
    let snapshot = client.read_all().await.unwrap();
    assert_eq!(snapshot.users.len(), 31);
    let statuses: Vec<u16> = sim.requests().iter().map(|r| r.status).collect();
    assert!(statuses.contains(&429), "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 503).count(), 2);
}
