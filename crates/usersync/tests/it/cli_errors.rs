//! Bad input through the binary, as an administrator meets it: each error goes to stderr
//! with exit code 2, names the thing that is wrong, says what to do, and never shows a secret.

use std::path::{Path, PathBuf};
use std::process::Output;

use usersync_testkit::{DataDir, Sims, org};

use crate::cli::{text, usersync_with};

const OKTA_VAR: &str = "USERSYNC_IT_OKTA_TOKEN";
const JIRA_VAR: &str = "USERSYNC_IT_JIRA_PASSWORD";

/// Runs the binary off the async runtime, so the in-process emulators keep answering.
async fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let dir = dir.to_owned();
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        usersync_with(&dir, &args, &env)
    })
    .await
    .expect("the binary's thread joins")
}

/// Exit code 2, nothing on stdout, and stderr containing every one of `needles`.
fn assert_error(out: &Output, needles: &[&str]) -> String {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(text(&out.stdout), "", "errors go to stderr only");
    for needle in needles {
        assert!(stderr.contains(needle), "{needle:?} missing from: {stderr}");
    }
    stderr
}

/// The emulators (a tiny org), a data directory, and an apps file in it whose
/// secrets are environment references and whose username regex is `regex`.
async fn world(regex: &str) -> (Sims, DataDir, PathBuf) {
    world_with(regex, "$1").await
}

/// As [`world`], with this username replacement.
async fn world_with(regex: &str, replacement: &str) -> (Sims, DataDir, PathBuf) {
    usersync::telemetry::init_for_tests();
    let sims = Sims::start(org(3, 1, 1)).await;
    let dir = DataDir::new();
    let app = sims
        .app("jira")
        .okta_token(&format!("env:{OKTA_VAR}"))
        .basic("admin", &format!("env:{JIRA_VAR}"))
        .username(regex, replacement);
    let file = dir.path().join("apps.toml");
    std::fs::write(&file, app.to_string()).expect("the apps file is written");
    (sims, dir, file)
}

#[test]
fn unknown_apps_and_runs_are_named_with_the_command_that_lists_them() {
    let dir = DataDir::new();
    for args in [["app", "show", "nosuch"], ["app", "delete", "nosuch"]] {
        let out = usersync_with(dir.path(), &args, &[]);
        assert_error(&out, &["no app named \"nosuch\"", "`usersync app list`"]);
    }
    for verb in ["show", "approve", "reject"] {
        let out = usersync_with(dir.path(), &["run", verb, "99"], &[]);
        assert_error(&out, &["there is no run 99", "`usersync run list`"]);
    }
}

#[test]
fn an_unreadable_apps_file_is_named_with_what_to_give_instead() {
    let dir = DataDir::new();
    let path = dir.path().to_str().unwrap();
    let out = usersync_with(dir.path(), &["app", "apply", "-f", path], &[]);
    assert_error(
        &out,
        &[
            &format!("could not read the apps file {path}"),
            "give -f the path",
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invalid_regex_names_the_app_and_field_and_changes_nothing() {
    let (_sims, dir, file) = world("^(([^@]+@").await;
    let out = run(
        dir.path(),
        &["app", "apply", "-f", file.to_str().unwrap()],
        &[],
    )
    .await;
    assert_error(
        &out,
        &[
            "app \"jira\"",
            "policy.username.regex",
            "unclosed group",
            "nothing was changed",
        ],
    );
    let listed = run(dir.path(), &["app", "list"], &[]).await;
    assert!(
        text(&listed.stdout).starts_with("no apps yet"),
        "{}",
        text(&listed.stdout)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replacement_with_text_after_a_group_is_applied_as_the_engine_reads_it() {
    let (_sims, dir, file) = world_with("^([^@]+)@.*$", "$1abc").await;
    let out = run(
        dir.path(),
        &["app", "apply", "-f", file.to_str().unwrap()],
        &[],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown = run(dir.path(), &["app", "export"], &[]).await;
    assert!(
        text(&shown.stdout).contains("replacement = \"$1abc\""),
        "{}",
        text(&shown.stdout)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_env_reference_warns_on_apply_and_fails_the_plan_saying_what_to_set() {
    let (sims, dir, file) = world("^([^@]+)@.*$").await;
    let okta = &sims.okta;
    let only_okta = [(OKTA_VAR, okta.api_token())];
    let applied = run(
        dir.path(),
        &["app", "apply", "-f", file.to_str().unwrap()],
        &only_okta,
    )
    .await;
    assert_eq!(applied.status.code(), Some(0), "{}", text(&applied.stderr));
    let warning = text(&applied.stderr);
    assert!(
        warning.contains(&format!(
            "warning: app \"jira\": target.credential.password: secret reference env:{JIRA_VAR}"
        )),
        "{warning}"
    );
    assert!(!warning.contains(okta.api_token()), "{warning}");
    let planned = run(dir.path(), &["plan", "--app", "jira"], &only_okta).await;
    assert_error(
        &planned,
        &[
            &format!("env:{JIRA_VAR}"),
            "is not set where usersync runs; set it there",
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_credentials_are_reported_in_words_without_the_secrets() {
    let (sims, dir, file) = world("^([^@]+)@.*$").await;
    let okta = &sims.okta;
    let good = [(OKTA_VAR, okta.api_token()), (JIRA_VAR, "admin")];
    let applied = run(
        dir.path(),
        &["app", "apply", "-f", file.to_str().unwrap()],
        &good,
    )
    .await;
    assert_eq!(applied.status.code(), Some(0), "{}", text(&applied.stderr));

    let wrong_token = "wrong-okta-token-4f1c";
    let bad_okta = [(OKTA_VAR, wrong_token), (JIRA_VAR, "admin")];
    let checked = run(dir.path(), &["check", "--app", "jira"], &bad_okta).await;
    assert_eq!(checked.status.code(), Some(2));
    let (stdout, stderr) = (text(&checked.stdout), text(&checked.stderr));
    assert!(
        stdout.contains("FAIL") && stdout.contains("E0000011"),
        "{stdout}"
    );
    assert!(
        stderr.contains("1 check of app \"jira\" failed"),
        "{stderr}"
    );
    assert!(!stdout.contains(wrong_token) && !stderr.contains(wrong_token));

    let wrong_password = "wrong-jira-password-9d2e";
    let bad_jira = [(OKTA_VAR, okta.api_token()), (JIRA_VAR, wrong_password)];
    let synced = run(dir.path(), &["sync", "--app", "jira"], &bad_jira).await;
    assert_eq!(synced.status.code(), Some(2));
    let all = format!("{}{}", text(&synced.stdout), text(&synced.stderr));
    assert!(all.contains("rejected the credential"), "{all}");
    assert!(all.contains("check the username and password"), "{all}");
    assert!(
        !all.contains(wrong_password) && !all.contains(okta.api_token()),
        "{all}"
    );

    let first = run(dir.path(), &["sync", "--app", "jira"], &good).await;
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let summary = text(&first.stdout);
    assert!(
        summary.contains("change") && summary.contains("create user"),
        "{summary}"
    );
    let second = run(dir.path(), &["sync", "--app", "jira"], &good).await;
    assert!(
        text(&second.stdout).contains("nothing to change"),
        "{}",
        text(&second.stdout)
    );
    let approve = run(dir.path(), &["run", "approve", "1"], &good).await;
    assert_error(
        &approve,
        &[
            "run 1 cannot be approved: its status is failed",
            "--status held",
        ],
    );
}

#[test]
fn an_unusable_secret_reference_allow_list_is_refused_before_serving() {
    let dir = DataDir::new();
    let out = usersync_with(
        dir.path(),
        &[
            "serve",
            "--allow-secret-refs",
            "file:/run/secrets/,file:relative/",
        ],
        &[],
    );
    assert_error(
        &out,
        &[
            "--allow-secret-refs",
            "\"file:relative/\"",
            "file:/absolute/directory/",
        ],
    );
}
