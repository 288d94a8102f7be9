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
    assert_eq!(summary["groups"], 3);
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
