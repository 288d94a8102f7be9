//! `scim2-tester` (PyPI), a SCIM conformance checker nobody here wrote, against
//! `/scim/v2/{app}` of the shipped binary's `usersync serve`, with the Okta and Jira
//! emulators behind the app. The checks it cannot pass here, by design, are listed
//! in the README ("Okta SCIM provisioning") and are the only errors allowed: group
//! members it invents (ids of no user pushed to the app) are refused, and there is
//! no `POST /.search` (optional in RFC 7644 §3.4.3).

use std::path::Path;
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::Command;
use usersync_testkit::{DataDir, Sims, needed};

use crate::helpers::{APP, small_org};

fn usersync(data: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_usersync"));
    command
        .env("USERSYNC_DATA_DIR", data)
        .env_remove("USERSYNC_MASTER_KEY")
        .kill_on_drop(true);
    command
}

/// The conformance script the SCIM emulator is checked with, shared.
const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../sim/tests/python/scim_conformance_check.py"
);

#[tokio::test(flavor = "multi_thread")]
async fn scim2_tester_finds_no_conformance_error_in_the_scim_server_beyond_the_known_two() {
    let present = std::process::Command::new("python3")
        .args(["-c", "import scim2_tester, httpx2"])
        .status()
        .is_ok_and(|s| s.success());
    if !needed(
        "the Python package scim2-tester[httpx2]",
        present,
        "python3 -m pip install 'scim2-tester[httpx2]' (scripts/test.sh does)",
    ) {
        return;
    }
    usersync::telemetry::init_for_tests();
    let sims = Sims::start(small_org()).await;
    let dir = DataDir::new();
    let file = dir.path().join("apps.toml");
    std::fs::write(&file, sims.app(APP).to_string()).unwrap();
    let applied = usersync(dir.path())
        .args(["app", "apply", "-f", file.to_str().unwrap()])
        .output()
        .await
        .unwrap();
    assert!(
        applied.status.success(),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );
    let generated = usersync(dir.path())
        .args(["app", "scim-token", APP])
        .output()
        .await
        .unwrap();
    assert!(
        generated.status.success(),
        "{}",
        String::from_utf8_lossy(&generated.stderr)
    );
    let text = String::from_utf8_lossy(&generated.stdout).into_owned();
    let token = text
        .lines()
        .find(|l| l.starts_with("usc_"))
        .unwrap_or_else(|| panic!("the token is printed once: {text}"))
        .to_owned();

    let mut child = usersync(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env(
            "RUST_LOG",
            "trace,sqlx=trace,reqwest=trace,hyper=trace,hyper_util=trace,h2=trace,tower_http=trace",
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let url = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(rest) = line.split("console listening on ").nth(1) {
                return rest.split(';').next().unwrap_or_default().to_owned();
            }
        }
        panic!("serve ended before saying where it listens");
    })
    .await
    .expect("serve says where it listens");
    // Keep reading the log (so the server never blocks on a full pipe), to search it.
    let log = tokio::spawn(async move {
        let mut all = String::new();
        while let Ok(Some(line)) = lines.next_line().await {
            all.push_str(&line);
            all.push('\n');
        }
        all
    });

    let base = format!("{}/scim/v2/{APP}", url.trim_end_matches('/'));
    let out = Command::new("python3")
        .args([SCRIPT, &base, &token])
        .output()
        .await
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    let unexpected: Vec<&str> = report
        .lines()
        .filter(|l| l.starts_with("ERROR"))
        .filter(|l| {
            !l.contains("is not the id of a user pushed to this app")
                && !l.contains("search_with_attributes")
        })
        .collect();
    assert!(unexpected.is_empty(), "{}\n{report}", unexpected.join("\n"));
    assert!(
        report.lines().filter(|l| l.starts_with("SUCCESS")).count() >= 40,
        "{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    child.kill().await.unwrap();
    let log = log.await.unwrap();
    assert!(
        log.contains("SCIM push synced"),
        "the server logged the pushes"
    );
    assert!(
        !log.contains(&token),
        "the SCIM token never reaches the log"
    );
}
