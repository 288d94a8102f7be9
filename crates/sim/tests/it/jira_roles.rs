//! The Jira emulator's application roles: licence figures as `ApplicationRole`
//! (reference §1.3), counting the active users who hold each application.

use pretty_assertions::assert_eq;
use reqwest::StatusCode;
use usersync_sim::jira::SeedUser;

use crate::jira::{call, sim};

#[tokio::test]
async fn an_application_role_counts_its_active_users_against_the_seats_set() {
    let sim = sim("9.12.0").await;
    sim.add_user(&SeedUser::new("ada")).unwrap();
    let mut gone = SeedUser::new("alan");
    gone.active = false;
    sim.add_user(&gone).unwrap();
    sim.set_application_seats("jira-software", Some(10));

    let (status, role) = call(&sim, "GET", "applicationrole/jira-software", None).await;
    let (_, all) = call(&sim, "GET", "applicationrole", None).await;
    let (missing, _) = call(&sim, "GET", "applicationrole/jira-nothing", None).await;

    assert_eq!(status, StatusCode::OK);
    let licensed = sim
        .users()
        .iter()
        .filter(|u| u.active && u.application_keys.iter().any(|k| k == "jira-software"))
        .count() as i64;
    assert!(licensed >= 2, "the admin and ada hold Jira Software");
    assert_eq!(role["userCount"].as_i64(), Some(licensed));
    assert_eq!(role["numberOfSeats"], 10);
    assert_eq!(role["remainingSeats"].as_i64(), Some(10 - licensed));
    assert_eq!(role["hasUnlimitedSeats"], false);
    assert_eq!(all.as_array().unwrap().len(), 3);
    assert_eq!(missing, StatusCode::NOT_FOUND);
}
