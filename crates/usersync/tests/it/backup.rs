//! `usersync backup` and `usersync restore` through the binary: a backup taken while a
//! sync writes is a consistent store; a restore is refused while a server has the data
//! directory, brings apps, links and runs back, and without the master key restores
//! all but the secrets only when asked, naming each, after which a sync says which
//! secret to enter again.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use pretty_assertions::assert_eq;
use tempfile::TempDir;
use usersync_store::crypto::MASTER_KEY_FILE;
use usersync_store::{OpOutcome, RunFilter, RunStatus, Store};
use usersync_testkit::small_org;

use crate::cli::{text, usersync_with};
use crate::helpers::{APP, World, assert_status};

fn data_dir(world: &World) -> PathBuf {
    world
        .deps
        .store
        .data_dir()
        .expect("a data directory")
        .to_owned()
}

fn backup(data: &Path, to: &Path) -> Output {
    usersync_with(data, &["backup", "--to", to.to_str().unwrap()], &[])
}

fn restore(data: &Path, from: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["restore", "--from", from.to_str().unwrap()];
    args.extend_from_slice(extra);
    usersync_with(data, &args, &[])
}

/// Opens a backup as a store of its own (a copy of it, with the source's key).
async fn open_copy(backup: &Path, key_from: &Path) -> (TempDir, Store) {
    let dir = TempDir::new().unwrap();
    std::fs::copy(backup, dir.path().join("usersync.db")).unwrap();
    std::fs::copy(
        key_from.join(MASTER_KEY_FILE),
        dir.path().join(MASTER_KEY_FILE),
    )
    .unwrap();
    let store = Store::open(dir.path())
        .await
        .expect("the backup opens as a store");
    (dir, store)
}

/// In a consistent copy each identity link has its operation recorded as applied (they
/// commit together), whatever moment the copy caught.
async fn links_match_applied_link_ops(store: &Store) -> (usize, RunStatus) {
    let app = store.app_by_name(APP).await.unwrap();
    let links = store.load_links(app.id).await.unwrap().users.len();
    let runs = store.list_runs(&RunFilter::default(), 10).await.unwrap();
    let run = &runs[0];
    let applied = store
        .run_operations(run.id)
        .await
        .unwrap()
        .into_iter()
        .filter(|op| matches!(op.kind.as_str(), "create_user" | "link_user"))
        .filter(|op| op.outcome == OpOutcome::Applied)
        .count();
    assert_eq!(links, applied, "links and their applied operations");
    (links, run.status)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_a_sync_writes_is_a_consistent_store() {
    let world = World::new(small_org(150, 6, 11)).await;
    // Slow Jira writes, so the sync is still applying while the backups are taken.
    world.jira.faults().update(|f| f.latency_ms = 60);
    let data = data_dir(&world);
    let out = TempDir::new().unwrap();
    let store = world.deps.store.clone();
    let backups = async {
        let mut files = Vec::new();
        let started = Instant::now();
        // Start once the run has linked someone, then copy every so often until it ends.
        loop {
            let runs = store.list_runs(&RunFilter::default(), 1).await.unwrap();
            let running = runs.first().is_some_and(|r| r.status == RunStatus::Running);
            let app = store.app_by_name(APP).await.unwrap();
            let linked = store.load_links(app.id).await.unwrap().users.len();
            if !runs.is_empty() && !running || files.len() == 4 {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "the sync took too long"
            );
            if running && linked > 0 {
                let file = out.path().join(format!("b{}.db", files.len()));
                let (data, target) = (data.clone(), file.clone());
                let done = tokio::task::spawn_blocking(move || backup(&data, &target))
                    .await
                    .unwrap();
                assert!(done.status.success(), "{}", text(&done.stderr));
                files.push(file);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        files
    };
    let (outcome, files) = tokio::join!(world.sync(), backups);
    assert_status(&outcome, RunStatus::Succeeded);
    assert!(
        !files.is_empty(),
        "at least one backup was taken during the sync"
    );

    let mut caught_mid_run = false;
    for file in &files {
        let (_dir, copy) = open_copy(file, &data).await;
        let (links, status) = links_match_applied_link_ops(&copy).await;
        caught_mid_run |= status == RunStatus::Running && links > 0 && links < 150;
    }
    assert!(caught_mid_run, "a backup caught the run part-way");
}

/// A running `usersync serve` on `data`; killed when dropped.
struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(data: &Path) -> Served {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_usersync"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("USERSYNC_DATA_DIR", data)
        .env_remove("USERSYNC_MASTER_KEY")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let served = Served(child);
    let url = format!("http://127.0.0.1:{port}/readyz");
    let started = Instant::now();
    while !usersync_with(data, &["health", "--url", &url], &[])
        .status
        .success()
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "serve did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    served
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_brings_apps_links_and_runs_back_and_without_the_key_names_the_secrets_to_enter_again()
 {
    let world = World::new(small_org(30, 3, 5)).await;
    assert_status(&world.sync().await, RunStatus::Succeeded);
    let source = data_dir(&world);
    let out = TempDir::new().unwrap();
    let file = out.path().join("usersync-backup.db");
    let made = backup(&source, &file);
    assert!(made.status.success(), "{}", text(&made.stderr));
    let said = text(&made.stdout);
    assert!(
        said.contains("The master key is NOT in the backup"),
        "{said}"
    );
    assert!(
        said.contains(&source.join(MASTER_KEY_FILE).display().to_string()),
        "{said}"
    );

    // A new machine: a server is running on the data directory, which has its own key.
    let target = TempDir::new().unwrap();
    let served = serve(target.path());
    let refused = restore(target.path(), &file, &[]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        text(&refused.stderr).contains("in use by a running usersync"),
        "{}",
        text(&refused.stderr)
    );
    drop(served);

    let refused = restore(target.path(), &file, &[]);
    assert_eq!(refused.status.code(), Some(2));
    let why = text(&refused.stderr);
    assert!(
        why.contains("another master key") && why.contains("--forget-secrets"),
        "{why}"
    );

    let done = restore(target.path(), &file, &["--forget-secrets"]);
    assert!(done.status.success(), "{}", text(&done.stderr));
    let said = text(&done.stdout);
    let app = world.deps.store.app_by_name(APP).await.unwrap();
    let links = world
        .deps
        .store
        .load_links(app.id)
        .await
        .unwrap()
        .users
        .len();
    assert!(links > 0);
    let counts = format!("1 apps, {links} user links, 1 runs");
    assert!(said.contains(&counts), "{said}");
    assert!(
        said.contains(&format!("app {APP:?}: okta.credential.token")),
        "{said}"
    );
    assert!(
        said.contains("is kept as"),
        "the server's database was set aside: {said}"
    );

    let runs = usersync_with(target.path(), &["run", "list"], &[]);
    assert!(
        text(&runs.stdout).contains("succeeded"),
        "{}",
        text(&runs.stdout)
    );
    let sync = usersync_with(target.path(), &["sync", "--app", APP], &[]);
    assert_eq!(sync.status.code(), Some(2));
    assert!(
        text(&sync.stderr).contains("okta.credential.token"),
        "{}",
        text(&sync.stderr)
    );

    // With the original key everything comes back, secrets included: nothing to change.
    let keyed = TempDir::new().unwrap();
    std::fs::copy(
        source.join(MASTER_KEY_FILE),
        keyed.path().join(MASTER_KEY_FILE),
    )
    .unwrap();
    let done = restore(keyed.path(), &file, &[]);
    assert!(done.status.success(), "{}", text(&done.stderr));
    assert!(!text(&done.stdout).contains("dropped"));
    let plan = usersync_with(keyed.path(), &["plan", "--app", APP, "--exit-code"], &[]);
    assert_eq!(
        plan.status.code(),
        Some(0),
        "{}{}",
        text(&plan.stdout),
        text(&plan.stderr)
    );
}
