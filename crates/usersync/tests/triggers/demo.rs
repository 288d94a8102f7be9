//! `usersync demo`: the binary starts and says what to try; in-process, its event hook
//! is wired (a change in Okta reaches Jira); and in Chromium an administrator signs in
//! with the printed password and runs a Synchronize.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use secrecy::ExposeSecret as _;
use serde_json::json;
use usersync::demo::{ADMIN, APP, Args, Demo};
use usersync_core::OktaStatus;

use crate::world::{okta_api, within};

fn small() -> Args {
    Args {
        listen: "127.0.0.1:0".parse().unwrap(),
        users: 60,
        groups: 6,
        exit_after_ready: true,
    }
}

#[test]
fn the_demo_command_starts_prints_what_to_try_and_exits_when_asked() {
    let output = Command::new(env!("CARGO_BIN_EXE_usersync"))
        .args([
            "demo",
            "--listen",
            "127.0.0.1:0",
            "--users",
            "50",
            "--groups",
            "5",
            "--exit-after-ready",
        ])
        .env("USERSYNC_DATA_DIR", "/nonexistent/the-demo-does-not-use-it")
        .output()
        .expect("the binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("Console      http://127.0.0.1:"),
        "{stdout}"
    );
    assert!(stdout.contains("Sign in as   admin / "), "{stdout}");
    assert!(stdout.contains("Things to try"), "{stdout}");
    assert!(
        stdout.contains("curl -s -X POST http://127.0.0.1:"),
        "{stdout}"
    );
}

#[tokio::test]
async fn in_the_demo_a_change_in_okta_reaches_jira_through_the_wired_event_hook() {
    usersync::telemetry::init_for_tests();
    let demo = Demo::start(&small()).await.expect("the demo starts");
    let text = demo.instructions();
    assert!(text.contains(&demo.console_url) && text.contains(demo.admin_password.expose_secret()));
    let signin = reqwest::get(format!("{}/signin", demo.console_url))
        .await
        .unwrap();
    assert_eq!(signin.status(), 200);

    let body = json!({
        "profile": {"login": "demo.newcomer@example.com", "email": "demo.newcomer@example.com", "firstName": "Demo", "lastName": "Newcomer"},
        "credentials": {"password": {"value": "Demo-Passw0rd-123"}},
    });
    let (status, created) = okta_api(
        &demo.okta,
        reqwest::Method::POST,
        "/api/v1/users?activate=true",
        Some(body),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    within(
        Duration::from_secs(10),
        "the new Okta user reaches Jira",
        || async {
            demo.jira
                .users()
                .iter()
                .any(|u| u.name == "demo.newcomer" && u.active)
        },
    )
    .await;
    demo.stop().await;
}

/// chromedriver, killed when dropped.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn find(names: &[&str], env: &str) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(env) {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|d| names.iter().map(move |n| d.join(n)))
        .find(|p| p.is_file())
}

async fn chromium_session(
    chromium: &std::path::Path,
    driver: &PathBuf,
    profile: &std::path::Path,
) -> (Client, Driver) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let driver = Driver(child);
    let caps = crate::chromium::capabilities(chromium, profile);
    let start = Instant::now();
    loop {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(client) => return (client, driver),
            Err(e) => {
                assert!(
                    start.elapsed() < Duration::from_secs(60),
                    "no Chromium session: {e}"
                );
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
    }
}

async fn wait_for_text(client: &Client, css: &str, text: &str) {
    let start = Instant::now();
    loop {
        if let Ok(el) = client.find(Locator::Css(css)).await
            && el.text().await.is_ok_and(|t| t.contains(text))
        {
            return;
        }
        if start.elapsed() > Duration::from_secs(90) {
            panic!(
                "{css} never showed {text:?}:\n{}",
                client.source().await.unwrap_or_default()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_signs_in_to_the_demo_with_the_printed_password_and_runs_a_synchronize() {
    let (Some(chromium), Some(driver)) = (
        find(&["chromium", "chromium-browser"], "CHROMIUM"),
        find(&["chromedriver"], "CHROMEDRIVER"),
    ) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but chromium or chromedriver is missing"
        );
        eprintln!("chromium or chromedriver is missing; the demo browser test did nothing");
        return;
    };
    usersync::telemetry::init_for_tests();
    let demo = Demo::start(&small()).await.expect("the demo starts");
    let profile = tempfile::TempDir::new().unwrap();
    let (client, _driver) = chromium_session(&chromium, &driver, profile.path()).await;

    client
        .goto(&format!("{}/", demo.console_url))
        .await
        .unwrap();
    wait_for_text(&client, "h1", "Sign in").await;
    client
        .find(Locator::Id("username"))
        .await
        .unwrap()
        .send_keys(ADMIN)
        .await
        .unwrap();
    let password = demo.admin_password.expose_secret().to_owned();
    client
        .find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(&password)
        .await
        .unwrap();
    client
        .find(Locator::Css("button.primary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&client, "table", APP).await;
    let button = format!("button[aria-label='Synchronize {APP}']");
    client
        .find(Locator::Css(&button))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    crate::chromium::wait_for_element(
        &client,
        "#live-run[data-state=finished]",
        Duration::from_secs(90),
    )
    .await;
    wait_for_text(&client, "[data-run-status]", "succeeded").await;

    let active_in_okta = demo
        .okta
        .snapshot()
        .users
        .iter()
        .filter(|u| u.status == OktaStatus::Active)
        .count();
    let in_jira = demo
        .jira
        .users()
        .iter()
        .filter(|u| u.name != "admin" && u.active)
        .count();
    assert!(
        in_jira >= active_in_okta,
        "{in_jira} active Jira users for {active_in_okta} active Okta users"
    );
    let _ = client.close().await;
    demo.stop().await;
}
