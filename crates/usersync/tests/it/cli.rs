//! Smoke tests of the `usersync` binary: help, exit codes, errors on stderr, and a
//! whole apply -> plan -> sync -> run list round through real processes.

use std::process::{Command, Output};

use pretty_assertions::assert_eq;
use tempfile::TempDir;
use usersync_sim::jira::{JiraSim, JiraSimConfig};
use usersync_sim::okta::OrgSpec;

use usersync_testkit::AppToml;

use crate::helpers::start_okta;

fn usersync(dir: &TempDir, args: &[&str]) -> Output {
    usersync_with(dir.path(), args, &[])
}

/// Runs the binary on a data directory with extra environment variables.
pub fn usersync_with(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_usersync"))
        .args(args)
        .envs(env.iter().copied())
        .env("USERSYNC_DATA_DIR", dir)
        .env_remove("USERSYNC_MASTER_KEY")
        .env_remove("RUST_LOG")
        .output()
        .expect("the binary runs")
}

/// [`usersync_with`] (no extra environment) off the async runtime, so the emulators
/// the test runs keep answering while the binary works.
pub async fn usersync_async(dir: &std::path::Path, args: &[&str]) -> Output {
    let dir = dir.to_owned();
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        usersync_with(&dir, &args, &[])
    })
    .await
    .expect("the binary ran")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn admin_and_token_create_work_from_the_command_line_without_leaking_the_password() {
    let dir = TempDir::new().unwrap();
    let env = [("USERSYNC_ADMIN_PASSWORD", "correct horse battery staple")];
    let out = usersync_with(dir.path(), &["admin", "create", "root"], &env);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("administrator \"root\" created"));
    let again = usersync_with(dir.path(), &["admin", "create", "root"], &env);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        text(&again.stderr).contains("root"),
        "{}",
        text(&again.stderr)
    );
    let token = usersync(&dir, &["token", "create", "ci", "--scope", "sync,read"]);
    assert!(token.status.success(), "{}", text(&token.stderr));
    assert!(
        text(&token.stdout).trim().len() >= 20,
        "{}",
        text(&token.stdout)
    );
    for output in [&out, &again, &token] {
        let all = format!("{}{}", text(&output.stdout), text(&output.stderr));
        assert!(!all.contains("correct horse"), "{all}");
    }
}

#[test]
fn every_command_has_help_and_help_exits_zero() {
    let dir = TempDir::new().unwrap();
    for command in [
        vec!["--help"],
        vec!["okta-read", "--help"],
        vec!["app", "apply", "--help"],
        vec!["app", "export", "--help"],
        vec!["check", "--help"],
        vec!["plan", "--help"],
        vec!["sync", "--help"],
        vec!["sync-user", "--help"],
        vec!["run", "approve", "--help"],
        vec!["explain", "--help"],
        vec!["completions", "--help"],
        vec!["man", "--help"],
    ] {
        let out = usersync(&dir, &command);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{command:?}: {}",
            text(&out.stderr)
        );
        assert!(text(&out.stdout).contains("Usage"), "{command:?}");
    }
}

#[test]
fn an_unknown_app_is_an_error_on_stderr_with_exit_code_two() {
    let dir = TempDir::new().unwrap();
    let out = usersync(&dir, &["sync", "--app", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no app named \"nope\""),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(text(&out.stdout), "");
}

#[test]
fn okta_read_summarises_the_built_in_emulator_as_json() {
    let dir = TempDir::new().unwrap();
    let out = usersync(
        &dir,
        &[
            "okta-read",
            "--users",
            "30",
            "--groups",
            "3",
            "--output",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["users"], 30);
    assert_eq!(summary["groups"], 4, "3 and Okta's BUILT_IN Everyone");
    assert_eq!(summary["groups_by_type"]["BUILT_IN"], 1);
    assert_eq!(summary["complete"], true);
    assert!(summary["requests"].as_u64().unwrap() >= 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_plan_sync_and_run_list_work_through_the_binary() {
    let okta = start_okta(OrgSpec {
        users: 12,
        groups: 2,
        seed: 11,
        ..OrgSpec::default()
    })
    .await;
    let jira = JiraSim::start(JiraSimConfig::default()).await.unwrap();
    let dir = TempDir::new().unwrap();
    let file = dir.path().join("apps.toml");
    let app = AppToml::new("jira", &okta.base_url(), okta.api_token(), jira.base_url());
    std::fs::write(&file, app.to_string()).unwrap();
    let run = |args: Vec<&str>| {
        let dir = &dir;
        let args: Vec<String> = args.into_iter().map(str::to_owned).collect();
        async move {
            let dir_path = dir.path().to_owned();
            tokio::task::spawn_blocking(move || {
                let refs: Vec<&str> = args.iter().map(String::as_str).collect();
                Command::new(env!("CARGO_BIN_EXE_usersync"))
                    .args(&refs)
                    .env("USERSYNC_DATA_DIR", &dir_path)
                    .env_remove("USERSYNC_MASTER_KEY")
                    .output()
                    .unwrap()
            })
            .await
            .unwrap()
        }
    };

    let applied = run(vec!["app", "apply", "-f", file.to_str().unwrap()]).await;
    assert_eq!(applied.status.code(), Some(0), "{}", text(&applied.stderr));
    assert!(text(&applied.stdout).contains("created: jira"));
    let exported = run(vec!["app", "export"]).await;
    assert!(
        !text(&exported.stdout).contains(okta.api_token()),
        "export never writes secret values"
    );

    let shown = run(vec!["app", "show", "jira"]).await;
    assert!(
        text(&shown.stdout).contains("okta.credential.token: stored (encrypted)"),
        "{}",
        text(&shown.stdout)
    );
    assert!(
        !text(&shown.stdout).contains(okta.api_token()),
        "show never prints secret values"
    );
    let checked = run(vec!["check", "--app", "jira"]).await;
    assert_eq!(
        checked.status.code(),
        Some(0),
        "{}{}",
        text(&checked.stdout),
        text(&checked.stderr)
    );
    assert!(
        text(&checked.stdout).contains("create users: supported"),
        "{}",
        text(&checked.stdout)
    );

    let planned = run(vec![
        "plan",
        "--app",
        "jira",
        "--output",
        "json",
        "--exit-code",
    ])
    .await;
    assert_eq!(
        planned.status.code(),
        Some(1),
        "changes pending: {}",
        text(&planned.stderr)
    );
    let plan: serde_json::Value = serde_json::from_slice(&planned.stdout).unwrap();
    assert_eq!(plan["version"], 1);
    assert!(
        plan["summary"]["counts"]["create_user"].as_u64().unwrap() > 0,
        "{plan}"
    );

    let synced = run(vec!["sync", "--app", "jira"]).await;
    assert_eq!(synced.status.code(), Some(0), "{}", text(&synced.stderr));
    assert!(
        text(&synced.stdout).contains("ended succeeded"),
        "{}",
        text(&synced.stdout)
    );

    let replanned = run(vec!["plan", "--app", "jira", "--exit-code"]).await;
    assert_eq!(
        replanned.status.code(),
        Some(0),
        "{}",
        text(&replanned.stderr)
    );
    assert!(text(&replanned.stdout).contains("No changes"));

    let listed = run(vec!["run", "list"]).await;
    assert!(
        text(&listed.stdout).contains("succeeded"),
        "{}",
        text(&listed.stdout)
    );
    let shown = run(vec!["run", "show", "1"]).await;
    assert!(
        text(&shown.stdout).contains("create_user"),
        "{}",
        text(&shown.stdout)
    );
    let login = okta
        .snapshot()
        .users
        .iter()
        .find(|u| u.status == usersync_core::OktaStatus::Active)
        .unwrap()
        .login
        .clone();
    let explained = run(vec!["explain", "--app", "jira", &login]).await;
    assert_eq!(
        explained.status.code(),
        Some(0),
        "{}",
        text(&explained.stderr)
    );
    assert!(text(&explained.stdout).contains(&login));
}

/// Runs the binary on a data directory, killing it (and failing) after `limit`.
fn usersync_within(dir: &std::path::Path, args: &[&str], limit: std::time::Duration) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_usersync"))
        .args(args)
        .env("USERSYNC_DATA_DIR", dir)
        .env_remove("USERSYNC_MASTER_KEY")
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            child.kill().unwrap();
            panic!("usersync {args:?} ran longer than {limit:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn app_apply_refuses_references_into_the_data_directory_and_never_reads_dev_zero() {
    let dir = TempDir::new().unwrap();
    let limit = std::time::Duration::from_secs(20);
    // The first command creates the data directory and its master key.
    let listed = usersync_within(dir.path(), &["app", "list"], limit);
    assert_eq!(listed.status.code(), Some(0), "{}", text(&listed.stderr));
    let key = std::fs::read_to_string(dir.path().join("master.key")).unwrap();
    let elsewhere = TempDir::new().unwrap();
    let file = elsewhere.path().join("apps.toml");
    let master = format!("file:{}", dir.path().join("master.key").display());
    let app = AppToml::new(
        "jira",
        "https://example.okta.com",
        &master,
        "https://jira.example.com",
    );
    std::fs::write(&file, app.to_string()).unwrap();
    let refused = usersync_within(
        dir.path(),
        &["app", "apply", "-f", file.to_str().unwrap()],
        limit,
    );
    let stderr = text(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("okta.credential.token"), "{stderr}");
    assert!(
        stderr.contains("inside usersync's data directory"),
        "{stderr}"
    );
    assert!(!stderr.contains(key.trim()) && !text(&refused.stdout).contains(key.trim()));

    let app = AppToml::new(
        "jira",
        "https://example.okta.com",
        "file:/dev/zero",
        "https://jira.example.com",
    );
    std::fs::write(&file, app.to_string()).unwrap();
    let applied = usersync_within(
        dir.path(),
        &["app", "apply", "-f", file.to_str().unwrap()],
        limit,
    );
    assert_eq!(applied.status.code(), Some(0), "{}", text(&applied.stderr));
    assert!(
        text(&applied.stderr).contains("not a regular file"),
        "{}",
        text(&applied.stderr)
    );
    let checked = usersync_within(dir.path(), &["check", "--app", "jira"], limit);
    let said = format!("{}{}", text(&checked.stdout), text(&checked.stderr));
    assert_ne!(checked.status.code(), Some(0), "{said}");
    assert!(said.contains("/dev/zero is not a regular file"), "{said}");
}
