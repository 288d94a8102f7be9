//! Failures during a run: Okta failing mid-read, and a run stopped mid-apply.

use std::time::Duration;

use pretty_assertions::assert_eq;
use usersync::engine::{Mode, run_sync_once};
use usersync_core::{OktaGroupType, OktaStatus};
use usersync_sim::faults::PathFault;
use usersync_store::{RunStatus, RunTrigger};

use crate::helpers::{APP, World, assert_in_step, assert_status, small_org};

#[tokio::test]
async fn a_503_burst_on_okta_during_a_sync_removes_nothing() {
    let world = World::new(small_org()).await;
    assert_eq!(world.sync().await.status, RunStatus::Succeeded);
    let snapshot = world.okta.snapshot();
    let groups: Vec<_> = snapshot
        .groups
        .iter()
        .filter(|g| g.kind == OktaGroupType::OktaGroup)
        .collect();
    let (changed, broken) = (groups[0], groups[1]);
    let member = snapshot
        .memberships
        .get(&changed.id)
        .unwrap()
        .iter()
        .find_map(|id| {
            snapshot
                .users
                .iter()
                .find(|u| &u.id == id && u.status == OktaStatus::Active)
        })
        .expect("an active member");
    let leaver = snapshot
        .users
        .iter()
        .find(|u| u.status == OktaStatus::Active && u.id != member.id)
        .unwrap();
    // Changes that a complete read would turn into a removal and a deactivation...
    world
        .okta
        .remove_member(changed.id.as_str(), member.id.as_str())
        .unwrap();
    world
        .okta
        .set_status(leaver.id.as_str(), OktaStatus::Suspended)
        .unwrap();
    // ...but a burst of 503s (retried) and one group's members failing every time.
    world.okta.faults().update(|f| {
        f.burst_503 = 3;
        f.path_faults.push(PathFault {
            path_contains: format!("/api/v1/groups/{}/users", broken.id),
            status: 503,
            remaining: None,
        });
    });
    world.jira.clear_requests();

    let outcome = world.sync().await;

    assert_eq!(outcome.status, RunStatus::Partial, "{:?}", outcome.reasons);
    assert!(
        outcome.reasons.iter().any(|r| r.contains("incomplete")),
        "{:?}",
        outcome.reasons
    );
    assert!(
        world
            .jira_members(&changed.name)
            .contains(&member.login.to_lowercase()),
        "the member was not removed"
    );
    assert_eq!(
        world.jira_users().get(&leaver.login.to_lowercase()),
        Some(&true),
        "the user was not deactivated"
    );
    assert_eq!(
        world.jira_writes(),
        Vec::<String>::new(),
        "nothing was written at all"
    );

    world.okta.faults().clear();
    let healed = world.sync().await;
    assert_eq!(healed.status, RunStatus::Succeeded, "{:?}", healed.reasons);
    assert!(
        !world
            .jira_members(&changed.name)
            .contains(&member.login.to_lowercase()),
        "removed once complete"
    );
    assert_eq!(
        world.jira_users().get(&leaver.login.to_lowercase()),
        Some(&false)
    );
}

#[tokio::test]
async fn a_run_stopped_mid_apply_converges_on_the_next_run_without_duplicates() {
    let world = World::new(small_org()).await;
    // Slow Jira down so the run can be stopped halfway through applying.
    world.jira.faults().update(|f| f.latency_ms = 15);
    let deps = world.deps.clone();
    let task =
        tokio::spawn(
            async move { run_sync_once(&deps, APP, RunTrigger::Manual, Mode::Apply).await },
        );
    let writes = || {
        world
            .jira_writes()
            .iter()
            .filter(|w| w.starts_with("POST /rest/api/2/user"))
            .count()
    };
    let mut waited = 0;
    while writes() < 5 && waited < 600 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += 1;
    }
    task.abort();
    let _ = task.await;
    let created_before = world.jira_users().len();
    assert!(
        created_before >= 5,
        "the first run created some users before it was stopped"
    );
    world.jira.faults().clear();

    let outcome = world.sync().await;

    assert_status(&outcome, RunStatus::Succeeded);
    assert_in_step(&world);
    let names: Vec<String> = world
        .jira
        .users()
        .into_iter()
        .map(|u| u.name.to_lowercase())
        .collect();
    let unique: std::collections::BTreeSet<_> = names.iter().collect();
    assert_eq!(names.len(), unique.len(), "no user exists twice");
    world.jira.clear_requests();
    assert!(world.sync().await.plan.unwrap().is_empty());
    assert_eq!(world.jira_writes(), Vec::<String>::new());
}

/// Closes the store as the apply phase starts: every later write fails, as on a full disk.
struct StoreGoesAway(usersync_store::Store);

impl usersync::engine::Progress for StoreGoesAway {
    fn start(&self, phase: usersync::engine::Phase, _: Option<u64>) {
        if phase == usersync::engine::Phase::Apply {
            let store = self.0.clone();
            tokio::task::block_in_place(|| {
                tokio::runtime::Handle::current().block_on(store.close());
            });
        }
    }
    fn advance(&self, _: usersync::engine::Phase, _: u64) {}
    fn finish(&self, _: usersync::engine::Phase, _: &str) {}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_that_cannot_record_identity_links_stops_changing_the_target_and_fails() {
    let mut world = World::new(small_org()).await;
    world.deps.progress = std::sync::Arc::new(StoreGoesAway(world.deps.store.clone()));

    let result = run_sync_once(&world.deps, APP, RunTrigger::Manual, Mode::Apply).await;

    assert_eq!(
        world.jira_users().len(),
        0,
        "no user was created without its identity link"
    );
    let outcome = result.expect("the run ends with an outcome");
    assert_eq!(outcome.status, RunStatus::Failed, "{:?}", outcome.reasons);
    assert!(
        outcome.reasons[0].contains("could not record identity links"),
        "{:?}",
        outcome.reasons
    );
}
