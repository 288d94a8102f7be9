//! Several `usersync serve` replicas on one installation (issue 18): the real binary
//! in three child processes, the Okta and Jira emulators in this one, each test once on
//! a shared SQLite data directory and once on a shared PostgreSQL database. One replica
//! leads (scheduler, System Log pollers); any replica takes hooks; runs of one app never
//! overlap, whichever process starts them; a leader killed mid-run is replaced within
//! the lease, its run is marked interrupted and the next run converges.

mod console;
mod harness;
mod installation;
mod migrate;

use std::time::Duration;

use pretty_assertions::assert_eq;
use usersync_core::OktaStatus;
use usersync_store::{RunStatus, RunTrigger};
use usersync_testkit::{Sims, small_org};

use harness::{
    APP, Cluster, Deliveries, LEASE_SECS, Reference, assert_never_overlapped, created_users,
    jira_state, runs,
};
use installation::Installation;

/// Generous for a loaded two-core machine; the lease itself is a few seconds.
const PATIENCE: Duration = Duration::from_secs(90);

fn read_token(installation: &Installation) -> String {
    let out = installation.cli(&["token", "create", "metrics", "--scope", "read"]);
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .find(|w| w.starts_with("ust_"))
        .unwrap_or_else(|| {
            panic!(
                "a token is printed: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
        .to_owned()
}

crate::on_both_databases!(
    a_leader_killed_mid_run_is_replaced_its_run_interrupted_and_the_next_run_converges,
    fifty_deliveries_over_three_replicas_run_one_at_a_time_and_end_as_one_replica_would,
);

async fn a_leader_killed_mid_run_is_replaced_its_run_interrupted_and_the_next_run_converges(
    installation: Installation,
) {
    let sims = Sims::start(small_org(30, 4, 21)).await;
    let schedule = r#"{ cron = "*/3 * * * * *" }"#;
    let store = installation
        .store_with_apps(&harness::app_toml(&sims, Some(schedule)))
        .await;
    let token = read_token(&installation);
    let reference = Reference::start(&sims.okta).await;
    let hooks = Deliveries::capture(
        &sims.okta,
        &["user.lifecycle.create", "group.user_membership.add"],
    )
    .await;
    // Slow enough that the kill lands while the first scheduled run applies.
    sims.jira.faults().update(|f| f.latency_ms = 300);
    let mut cluster = Cluster::start(&installation, 3).await;

    cluster
        .within(PATIENCE, "exactly one replica leads", || async {
            cluster.leaders().await.len() == 1
        })
        .await;
    let leader = cluster.leaders().await[0];
    let follower = (leader + 1) % 3;
    assert_eq!(
        cluster.replicas[leader]
            .leader_gauge(&token)
            .await
            .as_deref(),
        Some("usersync_leader 1")
    );
    assert_eq!(
        cluster.replicas[follower]
            .leader_gauge(&token)
            .await
            .as_deref(),
        Some("usersync_leader 0")
    );

    // Kill -9 the leader once its scheduled run has applied something.
    cluster
        .within(
            PATIENCE,
            "the scheduled run applies its first ops",
            || async {
                let all = runs(&store).await;
                let Some(run) = all.iter().find(|r| r.status == RunStatus::Running) else {
                    return false;
                };
                let ops = store.run_operations(run.id).await.unwrap();
                ops.iter()
                    .any(|o| o.outcome == usersync_store::OpOutcome::Applied)
            },
        )
        .await;
    let killed_run = runs(&store)
        .await
        .into_iter()
        .find(|r| r.status == RunStatus::Running)
        .expect("the run in progress");
    assert_eq!(killed_run.trigger, RunTrigger::Scheduled);
    cluster.replicas[leader].kill_9();
    sims.jira.faults().clear();

    // Okta changes during the fail-over; each delivery reaches both survivors, as a
    // retry landing on another replica would.
    let group = harness::okta_joiner(&sims.okta, "late.joiner@example.com", "Late", "Joiner");
    cluster
        .within(PATIENCE, "Okta delivers both events", || async {
            hooks.events() >= 2
        })
        .await;
    let survivors: Vec<usize> = (0..3).filter(|i| *i != leader).collect();
    for delivery in hooks.all() {
        for &s in &survivors {
            let status = cluster.replicas[s].deliver(&delivery).await;
            assert!((200..300).contains(&status), "delivery answered {status}");
        }
    }

    let took = cluster
        .within(PATIENCE, "another replica leads", || async {
            cluster.leaders().await.len() == 1
        })
        .await;
    assert!(
        took <= Duration::from_secs(LEASE_SECS * 10),
        "fail-over took {took:?} with a {LEASE_SECS} s lease"
    );
    let new_leader = cluster.leaders().await[0];
    assert_ne!(new_leader, leader);
    cluster
        .within(PATIENCE, "the killed run is marked interrupted", || async {
            store.get_run(killed_run.id).await.unwrap().status == RunStatus::Interrupted
        })
        .await;
    cluster
        .within(PATIENCE, "a later scheduled run succeeds", || async {
            runs(&store).await.iter().any(|r| {
                r.id > killed_run.id
                    && r.trigger == RunTrigger::Scheduled
                    && r.status == RunStatus::Succeeded
            })
        })
        .await;
    cluster
        .within(
            PATIENCE,
            "the joiner is in Jira and nothing is running",
            || async {
                let (users, _) = jira_state(&sims.jira);
                let idle = runs(&store)
                    .await
                    .iter()
                    .all(|r| r.status != RunStatus::Running);
                users.get("late.joiner@example.com") == Some(&true) && idle
            },
        )
        .await;

    let all = runs(&store).await;
    assert_never_overlapped(&all);
    // Two deliveries, each handed to two replicas: at most one run per delivery.
    let event_runs = all
        .iter()
        .filter(|r| r.trigger == RunTrigger::Event)
        .count();
    assert!(
        event_runs <= hooks.all().len(),
        "{event_runs} event runs: {all:#?}"
    );
    let (users, groups) = jira_state(&sims.jira);
    assert_eq!(
        created_users(&sims.jira),
        users.len(),
        "every Jira account was created exactly once"
    );
    assert!(groups[&group.to_lowercase()].contains("late.joiner@example.com"));
    assert_eq!(
        (users, groups),
        reference.sync().await,
        "{}",
        cluster.logs()
    );
}

async fn fifty_deliveries_over_three_replicas_run_one_at_a_time_and_end_as_one_replica_would(
    installation: Installation,
) {
    let sims = Sims::start(small_org(20, 3, 33)).await;
    let store = installation
        .store_with_apps(&harness::app_toml(&sims, None))
        .await;
    let cluster = Cluster::start(&installation, 3).await;
    // A first full sync from yet another process, the command line.
    let out = installation.cli(&["sync", "--app", APP]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // One replica alone (on SQLite), from the same start, into a Jira of its own.
    let alone_jira =
        usersync_testkit::start_jira(usersync_sim::jira::JiraSimConfig::default()).await;
    let alone_installation = Installation::sqlite().await;
    let alone_store = alone_installation
        .store_with_apps(&harness::app_toml_for(&sims.okta, &alone_jira, None))
        .await;
    let out = alone_installation.cli(&["sync", "--app", APP]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let alone = Cluster::start(&alone_installation, 1).await;
    assert_eq!(jira_state(&sims.jira), jira_state(&alone_jira));

    let hooks = Deliveries::capture(
        &sims.okta,
        &[
            "user.lifecycle.suspend",
            "user.lifecycle.unsuspend",
            "group.user_membership.add",
            "group.user_membership.remove",
            "user.session.start",
        ],
    )
    .await;
    let snapshot = sims.okta.snapshot();
    let users: Vec<String> = snapshot
        .users
        .iter()
        .filter(|u| u.status == OktaStatus::Active)
        .take(5)
        .map(|u| u.id.as_str().to_owned())
        .collect();
    let groups: Vec<String> = snapshot
        .groups
        .iter()
        .map(|g| g.id.as_str().to_owned())
        .collect();
    // Events about the same five users: memberships on and off, suspensions and
    // their undoing, sign-ins (a change Okta refuses, such as adding a member twice,
    // makes no event).
    for i in 0..50 {
        let user = &users[i % users.len()];
        let step = i / users.len();
        let group = &groups[(step / 5) % groups.len()];
        let _ = match step % 5 {
            0 => sims.okta.add_member(group, user),
            1 => sims.okta.login(user),
            2 => sims.okta.remove_member(group, user),
            3 => sims.okta.set_status(user, OktaStatus::Suspended),
            _ => sims.okta.set_status(user, OktaStatus::Active),
        };
    }
    // The last suspension stays, so the end state has a deactivation in it.
    sims.okta
        .set_status(&users[0], OktaStatus::Suspended)
        .unwrap();
    cluster
        .within(PATIENCE, "Okta delivers the events", || async {
            hooks.events() >= 20
        })
        .await;
    loop {
        let so_far = hooks.events();
        tokio::time::sleep(Duration::from_secs(2)).await;
        if hooks.events() == so_far {
            break;
        }
    }
    let deliveries = hooks.all();
    // Fifty deliveries: Okta's, and again the first ones (its retries) when it sent fewer.
    let fifty: Vec<serde_json::Value> = (0..deliveries.len().max(50))
        .map(|i| deliveries[i % deliveries.len()].clone())
        .collect();
    let mut sent = Vec::new();
    for (i, delivery) in fifty.iter().enumerate() {
        let to_alone = alone.replicas[0].base.clone();
        let body_alone = delivery.clone();
        sent.push(tokio::spawn(async move {
            reqwest::Client::new()
                .post(format!("{to_alone}/hooks/okta/{APP}"))
                .header("Authorization", harness::SECRET)
                .json(&body_alone)
                .send()
                .await
                .map(|r| r.status().as_u16())
        }));
        let replica = &cluster.replicas[i % 3];
        let (base, body) = (replica.base.clone(), delivery.clone());
        sent.push(tokio::spawn(async move {
            reqwest::Client::new()
                .post(format!("{base}/hooks/okta/{APP}"))
                .header("Authorization", harness::SECRET)
                .json(&body)
                .send()
                .await
                .map(|r| r.status().as_u16())
        }));
    }
    for s in sent {
        let status = s.await.unwrap().expect("delivered");
        assert!((200..300).contains(&status), "delivery answered {status}");
    }

    // Settled: nothing running on either side, the same Jira twice 2 s apart.
    let idle = |store: &usersync_store::Store| {
        let store = store.clone();
        async move {
            runs(&store)
                .await
                .iter()
                .all(|r| r.status != RunStatus::Running)
        }
    };
    let settled = tokio::time::timeout(PATIENCE, async {
        loop {
            tokio::time::sleep(Duration::from_secs(2)).await;
            let before = (jira_state(&sims.jira), jira_state(&alone_jira));
            tokio::time::sleep(Duration::from_secs(2)).await;
            let after = (jira_state(&sims.jira), jira_state(&alone_jira));
            let quiet = idle(&store).await && idle(&alone_store).await;
            if quiet && before == after && after.0 == after.1 {
                break;
            }
        }
    })
    .await;
    if settled.is_err() {
        let runs = runs(&store).await;
        assert_eq!(jira_state(&sims.jira), jira_state(&alone_jira), "{runs:#?}");
    }
    let all = runs(&store).await;
    assert_never_overlapped(&all);
    // Runs the hooks started: a user's waiting sync takes the trigger `login` when a
    // sign-in event joins it, so depending on how deliveries coalesce either may be seen.
    let hook_runs = all
        .iter()
        .filter(|r| matches!(r.trigger, RunTrigger::Event | RunTrigger::Login))
        .count();
    assert!(hook_runs >= 1, "{all:#?}");
    assert!(
        all.iter().all(|r| matches!(r.status, RunStatus::Succeeded)),
        "every run succeeded: {all:#?}"
    );
    assert_eq!(created_users(&sims.jira), jira_state(&sims.jira).0.len());
}
