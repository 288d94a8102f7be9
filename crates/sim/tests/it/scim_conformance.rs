//! The SCIM emulator checked by `scim2-tester` (PyPI), a conformance checker nobody
//! here wrote (`tests/python/scim_conformance_check.py`). Two of its checks are
//! known not to pass, by design, and are the only errors allowed: the emulator
//! refuses group members that are no user or group of the service (the tester
//! invents member ids), and it serves no `POST /.search` (optional in RFC 7644 §3.4.3).

use std::process::Command;

use usersync_sim::scim::{Profile, ScimSim, ScimSimConfig};
use usersync_testkit::needed;

#[tokio::test(flavor = "multi_thread")]
async fn scim2_tester_finds_no_conformance_error_in_the_generic_emulator_beyond_the_known_two() {
    let present = Command::new("python3")
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
    let sim = ScimSim::start(ScimSimConfig {
        profile: Profile::Generic,
        ..ScimSimConfig::default()
    })
    .await
    .unwrap();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/python/scim_conformance_check.py"
    );
    let (base, token) = (sim.base_url().to_owned(), sim.token().to_owned());
    let out = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .args([script, &base, &token])
            .output()
    })
    .await
    .unwrap()
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let unexpected: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("ERROR"))
        .filter(|l| {
            !l.contains("is not a user or group of this service") && !l.contains("POST /.search")
        })
        .collect();
    assert!(unexpected.is_empty(), "{}\n{text}", unexpected.join("\n"));
    assert!(
        text.lines().filter(|l| l.starts_with("SUCCESS")).count() >= 40,
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
