//! One Okta read for several targets (issue 20): a Jira app and a Confluence app on
//! the same Okta org and credential, synced in one cycle, send Okta the requests of
//! one full read; an incomplete shared read withholds destructive operations in
//! every app that used it.

use std::sync::Arc;

use pretty_assertions::assert_eq;
use usersync::engine::{Deps, Mode, RunOutcome, SharedReads, Silent, run_sync_once};
use usersync_core::OktaStatus;
use usersync_sim::confluence::ConfluenceSim;
use usersync_sim::faults::PathFault;
use usersync_store::{RunStatus, RunTrigger};
use usersync_testkit::{DataDir, Sims, confluence_app, jira_users, start_confluence};

use crate::helpers::small_org;

const LOCAL_PART: &str = "[app.policy.username]\nregex = \"^([^@]+)@.*$\"\nreplacement = \"$1\"\n";

/// Okta, Jira and Confluence, with an app for each target on the one org.
struct TwoTargets {
    sims: Sims,
    wiki: ConfluenceSim,
    deps: Deps,
    dir: DataDir,
}

impl TwoTargets {
    async fn start() -> Self {
        Self::start_with(None).await
    }

    /// Both apps with `schedule` (the TOML value), if any.
    async fn start_with(schedule: Option<&str>) -> Self {
        usersync::telemetry::init_for_tests();
        let sims = Sims::start(small_org()).await;
        let wiki = start_confluence("9.2").await;
        let (mut jira, mut confluence) = (
            sims.app("jira").section(LOCAL_PART),
            confluence_app("wiki", &sims.okta, &wiki).section(LOCAL_PART),
        );
        if let Some(schedule) = schedule {
            jira = jira.schedule(schedule);
            confluence = confluence.schedule(schedule);
        }
        let apps = format!("{jira}\n{confluence}");
        let dir = DataDir::new();
        let store = dir.store_with_apps(&apps, "test").await;
        let deps = Deps::new(store).with_progress(Arc::new(Silent));
        Self {
            sims,
            wiki,
            deps,
            dir,
        }
    }

    /// One cycle: both apps, one after another, sharing reads as `sync --all` does.
    async fn cycle(&self, mode: Mode) -> Vec<RunOutcome> {
        let deps = self
            .deps
            .clone()
            .with_shared_reads(SharedReads::new(SharedReads::DEFAULT_TTL));
        let mut outcomes = Vec::new();
        for app in ["jira", "wiki"] {
            let outcome = run_sync_once(&deps, app, RunTrigger::Manual, mode)
                .await
                .unwrap();
            outcomes.push(outcome);
        }
        outcomes
    }

    fn wiki_active(&self) -> std::collections::BTreeMap<String, bool> {
        self.wiki
            .users()
            .into_iter()
            .filter(|u| u.username != "admin")
            .map(|u| (u.username.to_lowercase(), u.active))
            .collect()
    }
}

fn okta_requests(outcome: &RunOutcome) -> u64 {
    outcome.okta.as_ref().unwrap().requests.unwrap()
}

#[tokio::test]
async fn two_apps_on_one_org_send_okta_the_requests_of_one_full_read_in_one_cycle() {
    // Arrange
    let world = TwoTargets::start().await;
    world.sims.okta.clear_requests();

    // Act
    let outcomes = world.cycle(Mode::Apply).await;

    // Assert
    let (jira, wiki) = (&outcomes[0], &outcomes[1]);
    assert_eq!(jira.status, RunStatus::Succeeded, "{:?}", jira.reasons);
    assert_eq!(wiki.status, RunStatus::Succeeded, "{:?}", wiki.reasons);
    let sent = world.sims.okta.requests().len() as u64;
    assert!(okta_requests(jira) > 0);
    assert_eq!(
        sent,
        okta_requests(jira),
        "Okta saw exactly the first app's read"
    );
    assert_eq!(okta_requests(wiki), 0);
    assert_eq!(wiki.okta.as_ref().unwrap().read_by.as_deref(), Some("jira"));
    // Both targets got the same people from the one read.
    let in_jira: Vec<String> = jira_users(&world.sims.jira).into_keys().collect();
    let in_wiki: Vec<String> = world.wiki_active().into_keys().collect();
    assert!(!in_jira.is_empty());
    assert_eq!(in_jira, in_wiki);

    // A later cycle reads again: no app plans twice from one read.
    world.sims.okta.clear_requests();
    let again = world.cycle(Mode::DryRun).await;
    assert_eq!(again[0].okta.as_ref().unwrap().read_by, None);
    assert_eq!(
        world.sims.okta.requests().len() as u64,
        okta_requests(&again[0])
    );
}

#[tokio::test]
async fn an_incomplete_shared_read_withholds_destructive_ops_in_every_app_that_used_it() {
    // Arrange: both targets in step, then a user suspended and one group's members unreadable.
    let world = TwoTargets::start().await;
    let first = world.cycle(Mode::Apply).await;
    assert!(first.iter().all(|o| o.status == RunStatus::Succeeded));
    let okta = world.sims.okta.snapshot();
    let victim = okta
        .users
        .iter()
        .find(|u| u.status == OktaStatus::Active)
        .unwrap();
    let username = victim.login.split('@').next().unwrap().to_lowercase();
    world
        .sims
        .okta
        .set_status(victim.id.as_str(), OktaStatus::Suspended)
        .unwrap();
    // An OKTA_GROUP, which the app's scope reads (not the BUILT_IN Everyone group).
    let group = &okta
        .groups
        .iter()
        .find(|g| g.kind == usersync_core::OktaGroupType::OktaGroup)
        .unwrap()
        .id;
    world.sims.okta.faults().update(|f| {
        f.path_faults.push(PathFault {
            path_contains: format!("/api/v1/groups/{}/users", group.as_str()),
            status: 503,
            remaining: None,
        });
    });
    world.sims.okta.clear_requests();

    // Act
    let outcomes = world.cycle(Mode::Apply).await;

    // Assert
    for outcome in &outcomes {
        assert_eq!(outcome.status, RunStatus::Partial, "{:?}", outcome.reasons);
        let plan = outcome.plan.as_ref().unwrap();
        assert!(
            plan.ops.iter().all(|p| !p.op.is_destructive()),
            "{}: nothing destructive from an incomplete read",
            outcome.app
        );
        assert_eq!(outcome.okta.as_ref().unwrap().complete, Some(false));
    }
    assert_eq!(
        outcomes[1].okta.as_ref().unwrap().read_by.as_deref(),
        Some("jira")
    );
    assert_eq!(
        world.sims.okta.requests().len() as u64,
        okta_requests(&outcomes[0]),
        "one read, retries included"
    );
    assert_eq!(jira_users(&world.sims.jira).get(&username), Some(&true));
    assert_eq!(world.wiki_active().get(&username), Some(&true));

    // Once Okta answers again, one cycle deactivates the user in both.
    world.sims.okta.faults().clear();
    let healed = world.cycle(Mode::Apply).await;
    assert!(
        healed.iter().all(|o| o.status == RunStatus::Succeeded),
        "{:?}",
        healed.iter().map(|o| &o.reasons).collect::<Vec<_>>()
    );
    assert_eq!(jira_users(&world.sims.jira).get(&username), Some(&false));
    assert_eq!(world.wiki_active().get(&username), Some(&false));
}

#[tokio::test]
async fn plan_all_shows_each_targets_plan_from_one_okta_read() {
    let world = TwoTargets::start().await;
    world.sims.okta.clear_requests();

    let out =
        crate::cli::usersync_async(world.dir.path(), &["plan", "--all", "--output", "json"]).await;

    assert!(out.status.success(), "{}", crate::cli::text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["version"], 1);
    let plans = doc["plans"].as_array().unwrap();
    let apps: Vec<&str> = plans.iter().map(|p| p["app"].as_str().unwrap()).collect();
    assert_eq!(apps, ["jira", "wiki"]);
    assert!(
        plans
            .iter()
            .all(|p| p["summary"]["counts"]["create_user"].as_u64() > Some(0))
    );
    assert_eq!(plans[1]["okta"]["read_by"], "jira");
    assert_eq!(plans[1]["okta"]["requests"], 0);
    assert_eq!(
        world.sims.okta.requests().len() as u64,
        plans[0]["okta"]["requests"].as_u64().unwrap(),
        "the Okta requests of one full read"
    );
}

#[tokio::test]
async fn apps_due_together_in_the_scheduler_read_okta_once() {
    // Arrange: both apps due now.
    let world = TwoTargets::start_with(Some("{ every_minutes = 60 }")).await;
    let store = &world.deps.store;
    for app in store.list_apps().await.unwrap() {
        let due = chrono::Utc::now() - chrono::Duration::seconds(1);
        store.set_next_run(app.id, Some(due)).await.unwrap();
    }
    world.sims.okta.clear_requests();
    let (shutdown, tasks) = (
        tokio_util::sync::CancellationToken::new(),
        tokio_util::task::TaskTracker::new(),
    );
    let config = usersync::scheduler::SchedulerConfig {
        tick: std::time::Duration::from_millis(100),
        max_jitter: std::time::Duration::ZERO,
        follow_up_delay: std::time::Duration::from_secs(1),
    };

    // Act
    usersync::scheduler::spawn(world.deps.clone(), config, shutdown.clone(), &tasks);
    let scheduled = usersync_store::RunFilter {
        trigger: Some(RunTrigger::Scheduled),
        ..usersync_store::RunFilter::default()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let runs = loop {
        let runs = store.list_runs(&scheduled, 10).await.unwrap();
        if runs.len() == 2 && runs.iter().all(|r| r.status != RunStatus::Running) {
            break runs;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "two scheduled runs: {runs:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    shutdown.cancel();
    tasks.close();
    tasks.wait().await;

    // Assert
    assert!(
        runs.iter().all(|r| r.status == RunStatus::Succeeded),
        "{runs:?}"
    );
    let during = world.sims.okta.requests().len() as u64;
    let one_read = run_sync_once(&world.deps, "jira", RunTrigger::Manual, Mode::DryRun)
        .await
        .unwrap();
    // An applying full reconcile reads the changes inside its margin first (two
    // requests: groups and System Log, `engine::changes::seen_before`), shared with
    // the read; a dry run does not.
    assert_eq!(
        during,
        okta_requests(&one_read) + 2,
        "the Okta requests of one full read and its change reads"
    );
}
