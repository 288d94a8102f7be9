//! The login-time sync walk, as an administrator does it from the README with the
//! shipped binary: `app apply` an app against the Okta and Jira emulators, start
//! `usersync serve --public-url`, `usersync hook register`, a user signs in to Okta,
//! and they appear in Jira. Real Okta needs an https:// public URL; the emulator also
//! accepts plain HTTP on loopback, which is what the test can serve.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;
use usersync_sim::jira::{JiraSim, JiraSimConfig};
use usersync_sim::okta::NewUser;
use usersync_testkit::{AppToml, small_org};

use crate::cli::{text, usersync_with};
use crate::helpers::start_okta;

/// `usersync serve`, killed when dropped.
struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

async fn answers(url: &str) -> bool {
    reqwest::get(url)
        .await
        .is_ok_and(|r| r.status().is_success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_signing_in_to_okta_appears_in_jira_through_the_hook_registered_from_the_command_line()
 {
    let okta = start_okta(small_org(8, 2, 11)).await;
    let jira = JiraSim::start(JiraSimConfig::default()).await.unwrap();
    let dir = TempDir::new().unwrap();
    // Created before the hook exists, so only the sign-in can bring them to Jira.
    let newcomer = okta
        .add_user(NewUser::new("walker@example.com", "Wanda", "Walker"))
        .unwrap();
    let toml = AppToml::new("jira", &okta.base_url(), okta.api_token(), jira.base_url())
        .basic(jira.admin_username(), jira.admin_password())
        .username("^([^@]+)@example\\.com$", "$1")
        .section(
            "[app.events]\nhook_enabled = true\nhook_secret = \"walk-hook-secret-4b7e\"\n\
             event_types = [\"user.session.start\", \"user.authentication.sso\"]\n",
        )
        .to_string();
    let file = dir.path().join("apps.toml");
    std::fs::write(&file, toml).unwrap();
    let applied = usersync_with(
        dir.path(),
        &["app", "apply", "-f", file.to_str().unwrap()],
        &[],
    );
    assert!(applied.status.success(), "{}", text(&applied.stderr));

    let port = free_port();
    let public = format!("http://127.0.0.1:{port}");
    let serve = Serve(
        Command::new(env!("CARGO_BIN_EXE_usersync"))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .env("USERSYNC_DATA_DIR", dir.path())
            .env("USERSYNC_PUBLIC_URL", &public)
            .env_remove("USERSYNC_MASTER_KEY")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("usersync serve starts"),
    );
    let start = Instant::now();
    while !answers(&format!("{public}/healthz")).await {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "serve did not answer within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // In another thread: the emulators answer on this test's runtime meanwhile.
    let (data, url) = (dir.path().to_owned(), public.clone());
    let registered = tokio::task::spawn_blocking(move || {
        usersync_with(
            &data,
            &["hook", "register", "--app", "jira", "--public-url", &url],
            &[],
        )
    })
    .await
    .unwrap();
    let out = text(&registered.stdout);
    assert!(
        registered.status.success(),
        "{out}{}",
        text(&registered.stderr)
    );
    assert!(
        out.contains("Event hook created") && out.contains("verified"),
        "{out}"
    );
    let hooks = okta.event_hooks();
    assert_eq!(hooks.len(), 1);
    assert_eq!(hooks[0].uri, format!("{public}/hooks/okta/jira"));
    assert!(!jira.users().iter().any(|u| u.name == "walker"));

    okta.login(newcomer.as_str()).unwrap();
    let start = Instant::now();
    while !jira.users().iter().any(|u| u.name == "walker" && u.active) {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the user who signed in did not reach Jira within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(serve);
}

#[test]
fn hook_register_for_an_app_whose_login_time_sync_is_off_says_how_to_turn_it_on() {
    let dir = TempDir::new().unwrap();
    let toml = AppToml::new(
        "jira",
        "https://acme.okta.com",
        "t",
        "https://jira.example.com",
    )
    .to_string();
    let file = dir.path().join("apps.toml");
    std::fs::write(&file, toml).unwrap();
    let applied = usersync_with(
        dir.path(),
        &["app", "apply", "-f", file.to_str().unwrap()],
        &[],
    );
    assert!(applied.status.success(), "{}", text(&applied.stderr));
    let out = usersync_with(
        dir.path(),
        &[
            "hook",
            "register",
            "--app",
            "jira",
            "--public-url",
            "https://usersync.example.com",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("login-time sync is off") && err.contains("events.hook_enabled"),
        "{err}"
    );
}
