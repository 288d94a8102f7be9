//! Contract tests of the Crowd client against the Crowd emulator: every Target
//! operation and the endpoint behind it, paging across page boundaries, Crowd's
//! error reasons typed (user, group and membership not found, an existing user,
//! group or membership, a refused address, a wrong application password), the
//! identity check, retries of 503s, and idempotent repeats.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use pretty_assertions::assert_eq;
use usersync_atlassian::crowd::{CrowdClient, CrowdConfig};
use usersync_atlassian::http::{AtlassianAuth, HttpSettings};
use usersync_atlassian::{NewUser, Target, TargetError, TargetKind, UserChanges};
use usersync_core::{Email, GroupName, Username};
use usersync_sim::crowd::{CrowdSim, CrowdSimConfig};

fn user(name: &str) -> Username {
    Username::parse(name).unwrap()
}

fn group(name: &str) -> GroupName {
    GroupName::parse(name).unwrap()
}

fn new_user(name: &str, active: bool) -> NewUser {
    NewUser {
        username: user(name),
        display_name: format!("{name} Person"),
        email: Email::parse(format!("{name}@example.com")).unwrap(),
        active,
    }
}

async fn sim() -> CrowdSim {
    CrowdSim::start(CrowdSimConfig::default()).await.unwrap()
}

fn client_with(url: &str, name: &str, password: &str, page_size: usize) -> CrowdClient {
    let mut config = CrowdConfig::new(
        url,
        AtlassianAuth::Basic {
            username: name.to_owned(),
            password: password.to_owned().into(),
        },
    );
    config.page_size = page_size;
    config.http = HttpSettings {
        base_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        ..HttpSettings::default()
    };
    CrowdClient::new(config).unwrap()
}

fn client(sim: &CrowdSim) -> CrowdClient {
    client_with(
        sim.base_url(),
        sim.application(),
        sim.application_password(),
        1000,
    )
}

#[tokio::test]
async fn the_check_proves_it_is_crowd_and_reads_the_version_from_crowds_header() {
    let sim = sim().await;
    let crowd = client(&sim);
    let caps = crowd.capabilities().await.unwrap();
    assert_eq!(caps.kind, TargetKind::Crowd);
    assert_eq!(caps.version, "6.0.3");
    for ability in [caps.set_active, caps.rename_user, caps.manage_membership] {
        assert_eq!(ability, usersync_atlassian::Ability::REST);
    }
    assert_eq!(crowd.whoami().await.unwrap().as_str(), "usersync");
}

#[tokio::test]
async fn a_server_that_is_not_crowd_is_named_as_such() {
    let jira = usersync_sim::jira::JiraSim::start(usersync_sim::jira::JiraSimConfig::default())
        .await
        .unwrap();
    let crowd = client_with(jira.base_url(), "admin", "admin", 1000);
    let err = crowd.capabilities().await.unwrap_err();
    assert!(matches!(err, TargetError::NotTheProduct { .. }), "{err}");
    assert!(err.to_string().contains("Crowd"), "{err}");
}

#[tokio::test]
async fn a_wrong_application_password_is_unauthenticated() {
    let sim = sim().await;
    let crowd = client_with(sim.base_url(), sim.application(), "wrong", 1000);
    let err = crowd.capabilities().await.unwrap_err();
    assert!(matches!(err, TargetError::Unauthenticated { .. }), "{err}");
}

#[tokio::test]
async fn an_address_the_application_does_not_allow_is_forbidden_and_says_where_to_allow_it() {
    let sim = sim().await;
    sim.set_allowed_addresses(&[IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))]);
    let err = client(&sim).capabilities().await.unwrap_err();
    let TargetError::Forbidden { needed, .. } = &err else {
        panic!("expected Forbidden, got {err}");
    };
    assert!(
        needed.contains("remote addresses") && needed.contains("127.0.0.1"),
        "{needed}"
    );
}

#[tokio::test]
async fn users_are_created_with_active_updated_deactivated_renamed_and_deleted() {
    let sim = sim().await;
    let crowd = client(&sim);
    let created = crowd.create_user(&new_user("Ada", false)).await.unwrap();
    assert_eq!(created.username.as_str(), "Ada");
    assert!(!created.active, "created inactive in one request");
    assert_eq!(
        created.email.as_ref().map(Email::as_str),
        Some("Ada@example.com")
    );
    let stored = sim.user("ada").unwrap();
    assert!(stored.password.len() >= 48, "a long random password");
    assert_eq!(
        (stored.first_name.as_str(), stored.last_name.as_str()),
        ("Ada", "Person")
    );

    let again = crowd.create_user(&new_user("ada", false)).await.unwrap();
    assert_eq!(
        again.key, created.key,
        "a repeat finds the user that exists"
    );

    crowd.set_active(&user("ada"), true).await.unwrap();
    crowd
        .update_user(
            &user("ada"),
            &UserChanges {
                display_name: Some("Ada Lovelace".into()),
                email: None,
            },
        )
        .await
        .unwrap();
    let stored = sim.user("ada").unwrap();
    assert!(stored.active);
    assert_eq!(stored.display_name, "Ada Lovelace");
    assert_eq!(
        stored.email, "Ada@example.com",
        "PUT replaces: the email is sent back whole"
    );

    crowd
        .rename_user(&user("ada"), &user("ada.l"))
        .await
        .unwrap();
    let renamed = crowd.find_user(&user("ada.l")).await.unwrap().unwrap();
    assert_eq!(renamed.key, created.key, "a rename keeps the key");
    assert!(crowd.find_user(&user("ada")).await.unwrap().is_none());

    crowd.delete_user(&user("ada.l")).await.unwrap();
    crowd.delete_user(&user("ada.l")).await.unwrap();
    assert!(sim.user("ada.l").is_none());
}

#[tokio::test]
async fn changes_to_a_missing_user_are_not_found() {
    let sim = sim().await;
    let crowd = client(&sim);
    let err = crowd.set_active(&user("ghost"), false).await.unwrap_err();
    assert!(matches!(err, TargetError::NotFound { .. }), "{err}");
    let err = crowd
        .rename_user(&user("ghost"), &user("spirit"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, TargetError::NotFound { .. }),
        "USER_NOT_FOUND: {err}"
    );
    let err = crowd.user_groups(&user("ghost")).await.unwrap_err();
    assert!(matches!(err, TargetError::NotFound { .. }), "{err}");
    let err = crowd
        .add_member(&group("nowhere"), &user("ghost"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, TargetError::NotFound { .. }),
        "GROUP_NOT_FOUND: {err}"
    );
}

#[tokio::test]
async fn a_rename_to_a_taken_name_is_rejected_with_crowds_reason() {
    let sim = sim().await;
    sim.add_user("bob", "Bob B", "bob@example.com", true)
        .unwrap();
    sim.add_user("carol", "Carol C", "carol@example.com", true)
        .unwrap();
    let err = client(&sim)
        .rename_user(&user("bob"), &user("carol"))
        .await
        .unwrap_err();
    let TargetError::Rejected { message, .. } = &err else {
        panic!("expected Rejected, got {err}");
    };
    assert!(message.starts_with("INVALID_USER"), "{message}");
}

#[tokio::test]
async fn groups_and_direct_memberships_are_idempotent() {
    let sim = sim().await;
    sim.add_user("bob", "Bob B", "bob@example.com", true)
        .unwrap();
    let crowd = client(&sim);
    crowd.create_group(&group("devs")).await.unwrap();
    crowd.create_group(&group("devs")).await.unwrap();
    crowd
        .add_member(&group("devs"), &user("bob"))
        .await
        .unwrap();
    crowd
        .add_member(&group("devs"), &user("BOB"))
        .await
        .unwrap();
    assert_eq!(sim.members("devs"), vec!["bob"]);
    assert_eq!(
        crowd.user_groups(&user("bob")).await.unwrap(),
        vec![group("devs")]
    );
    let err = crowd
        .add_member(&group("devs"), &user("ghost"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, TargetError::NotFound { .. }),
        "USER_NOT_FOUND (400): {err}"
    );
    crowd
        .remove_member(&group("devs"), &user("bob"))
        .await
        .unwrap();
    crowd
        .remove_member(&group("devs"), &user("bob"))
        .await
        .unwrap();
    assert!(sim.members("devs").is_empty());
    crowd.delete_group(&group("devs")).await.unwrap();
    crowd.delete_group(&group("devs")).await.unwrap();
    assert!(sim.groups().is_empty());
}

#[tokio::test]
async fn a_full_read_pages_users_groups_and_members_across_page_boundaries() {
    let sim = sim().await;
    for i in 0..7 {
        let name = format!("u{i}");
        sim.add_user(
            &name,
            &format!("U {i}"),
            &format!("{name}@example.com"),
            i % 3 != 0,
        )
        .unwrap();
    }
    for g in ["g1", "g2", "g3", "g4", "g5"] {
        sim.add_group(g).unwrap();
    }
    for i in 0..5 {
        sim.add_member("g1", &format!("u{i}")).unwrap();
    }
    let snapshot = client_with(
        sim.base_url(),
        sim.application(),
        sim.application_password(),
        2,
    )
    .read_all()
    .await
    .unwrap();
    assert_eq!(snapshot.users.len(), 7);
    assert_eq!(snapshot.users.iter().filter(|u| !u.active).count(), 3);
    assert_eq!(snapshot.groups.len(), 5);
    assert_eq!(snapshot.memberships[&group("g1")].len(), 5);
    let pages = sim
        .requests()
        .iter()
        .filter(|r| r.path.contains("entity-type=user"))
        .count();
    assert_eq!(pages, 4, "7 users at 2 a page: 2+2+2+1");
}

#[tokio::test]
async fn a_503_burst_is_retried() {
    let sim = sim().await;
    let crowd = client(&sim);
    crowd.capabilities().await.unwrap();
    sim.faults().burst_503(2);
    crowd.create_group(&group("retry")).await.unwrap();
    assert_eq!(sim.groups(), vec!["retry"]);
}
