//! Outbound trust: a Jira or Okta served over HTTPS with a certificate from a CA made by
//! the test. Without the CA, `check` names the problem (`UnknownIssuer`) and the setting
//! that fixes it; with the side's `ca_file`, the global `--ca-file`, or the CA in the
//! trust store that `SSL_CERT_FILE` points at, checks and syncs work.

use std::process::{Command, Output};

use usersync::engine::{CheckReport, Deps, Mode, Silent, check, run_sync_once};
use usersync_sim::jira::{JiraSim, JiraSimConfig};
use usersync_sim::okta::{OktaSim, OktaSimConfig};
use usersync_sim::tls::TlsFiles;
use usersync_store::{RunStatus, RunTrigger};
use usersync_testkit::{AppToml, DataDir, TestCa, jira_users, small_org, start_jira, start_okta};

use crate::cli::text;
use crate::helpers::{assert_status, expected};

/// A Jira emulator serving HTTPS with `files`.
async fn https_jira(files: TlsFiles) -> JiraSim {
    start_jira(JiraSimConfig {
        tls: Some(files),
        ..JiraSimConfig::default()
    })
    .await
}

/// The app from the plain-HTTP Okta emulator `okta` to `jira`.
fn app(okta: &OktaSim, jira: &JiraSim) -> AppToml {
    AppToml::new("jira", &okta.base_url(), okta.api_token(), jira.base_url())
        .basic(jira.admin_username(), jira.admin_password())
}

/// Stores `app` and returns the engine's dependencies over that store.
async fn deps_with(dir: &DataDir, app: &AppToml) -> Deps {
    usersync::telemetry::init_for_tests();
    let store = dir.store_with_apps(&app.to_string(), "test").await;
    Deps::new(store).with_progress(std::sync::Arc::new(Silent))
}

/// Jira holds a user for each of Okta's active users, as a clean sync leaves it.
#[track_caller]
fn assert_holds_the_active_users(jira: &JiraSim, okta: &OktaSim) {
    let (active, _) = expected(&okta.snapshot());
    assert!(!active.is_empty());
    let held: std::collections::BTreeSet<String> = jira_users(jira).into_keys().collect();
    assert_eq!(held, active);
}

/// Every failed line of a report, with its label.
fn failures(report: &CheckReport) -> String {
    report
        .lines
        .iter()
        .filter(|l| !l.ok)
        .map(|l| format!("{}: {}", l.what, l.detail))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn a_jira_signed_by_an_unknown_ca_fails_the_check_naming_unknown_issuer_and_the_setting() {
    let ca = TestCa::new("Corp Root CA");
    let okta = start_okta(small_org(5, 1, 1)).await;
    let jira = https_jira(ca.issue(&["127.0.0.1"])).await;
    assert!(
        jira.base_url().starts_with("https://"),
        "{}",
        jira.base_url()
    );
    let dir = DataDir::new();
    let deps = deps_with(&dir, &app(&okta, &jira)).await;
    let report = check(&deps, "jira").await.expect("the app exists");
    assert!(!report.ok, "{report:#?}");
    let failed = failures(&report);
    assert!(failed.contains("UnknownIssuer"), "{failed}");
    assert!(failed.contains("target.ca_file"), "{failed}");
    assert!(failed.contains("--ca-file"), "{failed}");
    assert_eq!(
        jira.request_count(),
        0,
        "a refused certificate gets no request"
    );
}

#[tokio::test]
async fn with_the_targets_ca_file_the_check_passes_and_a_sync_fills_jira() {
    let ca = TestCa::new("Corp Root CA");
    let okta = start_okta(small_org(8, 2, 2)).await;
    let jira = https_jira(ca.issue(&["127.0.0.1"])).await;
    let dir = DataDir::new();
    let deps = deps_with(&dir, &app(&okta, &jira).target_ca_file(&ca.ca_path())).await;
    let report = check(&deps, "jira").await.expect("the app exists");
    assert!(report.ok, "{report:#?}");
    let outcome = run_sync_once(&deps, "jira", RunTrigger::Manual, Mode::Apply)
        .await
        .expect("the run starts");
    assert_status(&outcome, RunStatus::Succeeded);
    assert_holds_the_active_users(&jira, &okta);
}

#[tokio::test]
async fn the_global_ca_file_is_trusted_for_an_app_without_a_ca_file_of_its_own() {
    let ca = TestCa::new("Corp Root CA");
    let okta = start_okta(small_org(5, 1, 3)).await;
    let jira = https_jira(ca.issue(&["127.0.0.1"])).await;
    let dir = DataDir::new();
    let store = dir
        .store_with_apps(&app(&okta, &jira).to_string(), "test")
        .await;
    let trust = usersync_tls::TrustRoots::none()
        .with(usersync_tls::CaBundle::load(ca.ca_file()).expect("the CA loads"));
    let deps = Deps::new(store)
        .with_progress(std::sync::Arc::new(Silent))
        .with_trust(trust);
    let report = check(&deps, "jira").await.expect("the app exists");
    assert!(report.ok, "{report:#?}");
}

#[tokio::test]
async fn a_certificate_for_another_name_fails_the_check_saying_which_names_it_is_for() {
    let ca = TestCa::new("Corp Root CA");
    let okta = start_okta(small_org(5, 1, 4)).await;
    let jira = https_jira(ca.issue(&["jira.corp.example"])).await;
    let dir = DataDir::new();
    let deps = deps_with(&dir, &app(&okta, &jira).target_ca_file(&ca.ca_path())).await;
    let report = check(&deps, "jira").await.expect("the app exists");
    let failed = failures(&report);
    assert!(failed.contains("NotValidForName"), "{failed}");
    assert!(failed.contains("jira.corp.example"), "{failed}");
    assert!(!failed.contains("UnknownIssuer"), "{failed}");
}

#[tokio::test]
async fn an_okta_org_behind_an_unknown_ca_names_okta_ca_file_and_is_reached_with_it() {
    let ca = TestCa::new("Corp Root CA");
    let okta = OktaSim::start(OktaSimConfig {
        org: Some(small_org(5, 1, 5)),
        tls: Some(ca.issue(&["127.0.0.1"])),
        ..OktaSimConfig::default()
    })
    .await
    .expect("the Okta emulator starts");
    assert!(okta.base_url().starts_with("https://"));
    let jira = start_jira(JiraSimConfig::default()).await;
    let refused_dir = DataDir::new();
    let refused = check(&deps_with(&refused_dir, &app(&okta, &jira)).await, "jira")
        .await
        .expect("the app exists");
    let failed = failures(&refused);
    assert!(failed.contains("UnknownIssuer"), "{failed}");
    assert!(failed.contains("okta.ca_file"), "{failed}");
    let dir = DataDir::new();
    let trusted = app(&okta, &jira).okta_ca_file(&ca.ca_path());
    let report = check(&deps_with(&dir, &trusted).await, "jira")
        .await
        .expect("the app exists");
    assert!(report.ok, "{report:#?}");
}

#[tokio::test]
async fn a_ca_file_that_is_not_a_certificate_bundle_is_refused_on_save_naming_the_field() {
    let ca = TestCa::new("Corp Root CA");
    let not_pem = ca.ca_file().with_file_name("notes.txt");
    std::fs::write(&not_pem, "not a certificate").expect("write");
    let okta = start_okta(small_org(2, 1, 6)).await;
    let jira = start_jira(JiraSimConfig::default()).await;
    let dir = DataDir::new();
    let store = dir.open().await;
    let missing = ca.ca_file().with_file_name("missing.pem");
    for (path, says) in [
        (not_pem.display().to_string(), "holds no certificate"),
        (missing.display().to_string(), "could not be read"),
    ] {
        let toml = app(&okta, &jira).target_ca_file(&path).to_string();
        let drafts = usersync_store::apps_from_toml(&toml).expect("parses");
        let error = store.apply_apps(drafts, "test").await.expect_err("refused");
        let shown = error.to_string();
        assert!(shown.contains("app[0].target.ca_file"), "{shown}");
        assert!(shown.contains(says), "{shown}");
    }
}

/// Runs the binary on `dir` with `env`, off the async runtime (the emulators run on it).
async fn usersync(dir: &std::path::Path, args: &[&str], env: &[(&str, String)]) -> Output {
    let dir = dir.to_owned();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_usersync"))
            .args(&args)
            .env("USERSYNC_DATA_DIR", &dir)
            .env_remove("USERSYNC_MASTER_KEY")
            .env_remove("USERSYNC_CA_FILE")
            .env_remove("RUST_LOG")
            .envs(env)
            .output()
            .expect("the binary runs")
    })
    .await
    .expect("the binary's task ends")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_command_line_trusts_ca_file_and_the_os_store_that_ssl_cert_file_names() {
    let ca = TestCa::new("Corp Root CA");
    let okta = start_okta(small_org(6, 1, 7)).await;
    let jira = https_jira(ca.issue(&["127.0.0.1"])).await;
    let dir = tempfile::tempdir().expect("data dir");
    let file = dir.path().join("apps.toml");
    std::fs::write(&file, app(&okta, &jira).to_string()).expect("write apps");
    let file = file.display().to_string();
    let empty_store = dir.path().join("empty-store.pem");
    std::fs::write(&empty_store, "").expect("write");
    // The machine's own store, made empty for this process: nothing trusts the CA.
    let bare = [("SSL_CERT_FILE", empty_store.display().to_string())];
    let applied = usersync(dir.path(), &["app", "apply", "-f", &file], &bare).await;
    assert_eq!(applied.status.code(), Some(0), "{}", text(&applied.stderr));

    let refused = usersync(dir.path(), &["check", "--app", "jira"], &bare).await;
    let said = format!("{}{}", text(&refused.stdout), text(&refused.stderr));
    assert_ne!(refused.status.code(), Some(0), "{said}");
    assert!(
        said.contains("UnknownIssuer") && said.contains("--ca-file"),
        "{said}"
    );

    let ca_path = ca.ca_path();
    let flagged = usersync(
        dir.path(),
        &["--ca-file", &ca_path, "check", "--app", "jira"],
        &bare,
    )
    .await;
    assert_eq!(flagged.status.code(), Some(0), "{}", text(&flagged.stdout));
    let by_env = [bare[0].clone(), ("USERSYNC_CA_FILE", ca_path.clone())];
    let synced = usersync(dir.path(), &["sync", "--app", "jira"], &by_env).await;
    assert_eq!(
        synced.status.code(),
        Some(0),
        "{}{}",
        text(&synced.stdout),
        text(&synced.stderr)
    );
    assert_holds_the_active_users(&jira, &okta);

    // The CA installed in the trust store the process reads (SSL_CERT_FILE, as OpenSSL
    // and curl honour it): trusted with no usersync setting at all.
    let store = [("SSL_CERT_FILE", ca_path)];
    let trusted = usersync(dir.path(), &["check", "--app", "jira"], &store).await;
    assert_eq!(trusted.status.code(), Some(0), "{}", text(&trusted.stdout));
}
