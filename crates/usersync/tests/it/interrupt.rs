//! Ctrl-C during `usersync sync`: the binary, syncing against a slow Jira emulator,
//! gets SIGINT in the middle of its apply; in-flight writes finish, every outcome
//! the emulator saw is recorded, the run ends `interrupted`, the command exits 130
//! and says how to resume, and running it again converges without writing twice.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;
use tokio_util::sync::CancellationToken;
use usersync::engine::approve;
use usersync_sim::jira::JiraSim;
use usersync_store::RunStatus;
use usersync_testkit::Sims;

use crate::cli::{text, usersync_async};
use crate::helpers::{World, assert_status};
use usersync_testkit::small_org;

/// POSTs Jira received at exactly `path` (creations: the path has no query).
fn posts_to(jira: &JiraSim, path: &str) -> usize {
    jira.requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.split('?').next() == Some(path))
        .count()
}

/// Waits (generously: the machine may be loaded) until `ready` holds.
async fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn run_json(dir: &TempDir, id: u64) -> serde_json::Value {
    let out = usersync_async(
        dir.path(),
        &["run", "show", &id.to_string(), "--output", "json"],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Sum of one outcome over every kind of a run's counts.
fn total(run: &serde_json::Value, outcome: &str) -> u64 {
    run["run"]["counts"]
        .as_object()
        .unwrap()
        .values()
        .map(|c| c[outcome].as_u64().unwrap())
        .sum()
}

fn kind(run: &serde_json::Value, kind: &str, outcome: &str) -> u64 {
    run["run"]["counts"][kind][outcome].as_u64().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_during_a_sync_finishes_writes_in_flight_records_them_and_the_next_sync_converges() {
    let sims = Sims::start(small_org(80, 4, 16)).await;
    let dir = TempDir::new().unwrap();
    let file = dir.path().join("apps.toml");
    std::fs::write(&file, sims.app("jira").to_string()).unwrap();
    let applied = usersync_async(dir.path(), &["app", "apply", "-f", file.to_str().unwrap()]).await;
    assert!(applied.status.success(), "{}", text(&applied.stderr));
    // Every Jira request takes a while: the apply is slow enough to interrupt.
    sims.jira.faults().update(|f| f.latency_ms = 250);

    let child = Command::new(env!("CARGO_BIN_EXE_usersync"))
        .args(["sync", "--app", "jira"])
        .env("USERSYNC_DATA_DIR", dir.path())
        .env_remove("USERSYNC_MASTER_KEY")
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_until("the first user creations", || {
        posts_to(&sims.jira, "/rest/api/2/user") >= 3
    })
    .await;
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out: Output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));

    assert_eq!(out.status.code(), Some(130), "{stdout}\n{stderr}");
    assert!(stdout.contains("ended interrupted"), "{stdout}");
    assert!(
        stderr.contains("To resume, run `usersync sync --app jira` again: the next run converges; nothing is applied twice"),
        "{stderr}"
    );
    let first = run_json(&dir, 1).await;
    assert_eq!(first["run"]["status"], "interrupted", "{first}");
    let created = posts_to(&sims.jira, "/rest/api/2/user");
    assert_eq!(
        kind(&first, "create_user", "applied"),
        created as u64,
        "{first}"
    );
    assert_eq!(
        kind(&first, "add_member", "applied"),
        posts_to(&sims.jira, "/rest/api/2/group/user") as u64,
        "{first}"
    );
    assert_eq!(total(&first, "failed"), 0, "{first}");
    let planned = total(&first, "planned");
    let done = total(&first, "applied") + total(&first, "skipped");
    assert!(done < planned, "stopped before the end: {first}");
    assert!(
        first["run"]["reason"]
            .as_str()
            .unwrap()
            .contains(&format!("the other {} were not started", planned - done)),
        "{first}"
    );

    sims.jira.faults().clear();
    let again = usersync_async(dir.path(), &["sync", "--app", "jira"]).await;
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    let users = usersync_testkit::jira_users(&sims.jira);
    assert_eq!(
        posts_to(&sims.jira, "/rest/api/2/user"),
        users.len(),
        "each user was created once, across both runs"
    );
    let second = run_json(&dir, 2).await;
    assert_eq!(second["run"]["status"], "succeeded", "{second}");
    assert_eq!(
        kind(&second, "create_user", "applied") as usize,
        users.len() - created
    );
    let replanned = usersync_async(dir.path(), &["plan", "--app", "jira", "--exit-code"]).await;
    assert_eq!(
        replanned.status.code(),
        Some(0),
        "{}",
        text(&replanned.stdout)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_told_to_stop_while_reading_ends_interrupted_having_written_nothing() {
    let mut world = World::new(crate::helpers::small_org()).await;
    let stop = CancellationToken::new();
    stop.cancel();
    world.deps = world.deps.clone().with_stop(stop);

    let outcome = world.sync().await;

    assert_status(&outcome, RunStatus::Interrupted);
    assert!(
        outcome.reasons[0].contains("stopped on request while reading"),
        "{:?}",
        outcome.reasons
    );
    assert_eq!(world.jira_writes(), Vec::<String>::new());
    let run = world
        .deps
        .store
        .get_run(outcome.run_id.unwrap())
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Interrupted);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_approval_told_to_stop_mid_apply_records_what_jira_received_and_ends_interrupted() {
    let world = World::new(crate::helpers::small_org()).await;
    assert_status(&world.sync().await, RunStatus::Succeeded);
    let victims = world.suspend_active(10);
    let held = world.sync().await;
    assert_status(&held, RunStatus::Held);
    let run = held.run_id.unwrap();
    world.jira.clear_requests();
    world.jira.faults().update(|f| f.latency_ms = 100);
    let stop = CancellationToken::new();
    let mut deps = world.deps.clone().with_stop(stop.clone());
    // One op at a time: at most one is in flight when the stop comes.
    deps.apply_concurrency = 1;
    let approving = tokio::spawn(async move { approve(&deps, run, "test-admin").await });

    wait_until("the approval's first write", || {
        !world.jira_writes().is_empty()
    })
    .await;
    stop.cancel();
    let outcome = approving.await.unwrap().unwrap();

    assert_status(&outcome, RunStatus::Interrupted);
    let stored = world.deps.store.get_run(run).await.unwrap();
    assert_eq!(stored.status, RunStatus::Interrupted);
    let applied: u64 = stored.counts.values().map(|c| c.applied).sum();
    let failed: u64 = stored.counts.values().map(|c| c.failed).sum();
    assert_eq!(
        (applied, failed),
        (world.jira_writes().len() as u64, 0),
        "{:?}",
        stored.counts
    );
    let deactivated = victims.iter().filter(|v| !world.jira_users()[*v]).count();
    assert!(deactivated < victims.len(), "the rest were not started");
    world.jira.faults().clear();
    let next = world.sync().await;
    assert!(
        matches!(next.status, RunStatus::Succeeded | RunStatus::Held),
        "{:?}",
        next.reasons
    );
}
