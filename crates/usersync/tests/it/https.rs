//! `usersync serve --tls-cert F --tls-key K`: HTTPS served by the binary itself, with a
//! certificate from a CA made by the test; a renewed certificate reaches new connections
//! after the files change or SIGHUP, and a bad replacement keeps the old one.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;
use usersync_sim::tls::TlsFiles;
use usersync_testkit::TestCa;
use usersync_tls::{CaBundle, TrustRoots};

/// How long a test waits for the server to start or to pick up a new certificate:
/// generous, for a loaded two-core machine.
const PATIENCE: Duration = Duration::from_secs(30);

/// A running `usersync serve` over HTTPS; killed when dropped.
struct Served {
    child: Child,
    port: u16,
    _dir: TempDir,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Served {
    fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.port)
    }
}

/// Starts `usersync serve` with `files`, checking them for changes every `reload_secs`.
fn serve_https(files: &TlsFiles, reload_secs: u64) -> Served {
    let dir = TempDir::new().expect("data dir");
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_usersync"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--tls-cert")
        .arg(&files.cert)
        .arg("--tls-key")
        .arg(&files.key)
        .args(["--tls-reload-secs", &reload_secs.to_string()])
        .env("USERSYNC_DATA_DIR", dir.path())
        .env_remove("USERSYNC_MASTER_KEY")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    Served {
        child,
        port,
        _dir: dir,
    }
}

/// A new client trusting `ca`: no pooled connection nor TLS session to resume, so its
/// request sees the certificate served at that moment.
fn client_trusting(ca: &TestCa) -> reqwest::Client {
    let roots = TrustRoots::none().with(CaBundle::load(ca.ca_file()).expect("the CA loads"));
    usersync_tls::client_builder(&roots)
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client")
}

/// Whether a new client trusting `ca` gets `/healthz` from `served`.
async fn healthy_trusting(ca: &TestCa, served: &Served) -> bool {
    let reply = client_trusting(ca).get(served.url("/healthz")).send().await;
    reply.is_ok_and(|r| r.status().is_success())
}

/// Waits until a client trusting `ca` gets `/healthz` from `served`; panics after [`PATIENCE`].
async fn until_trusted(ca: &TestCa, served: &Served, what: &str) {
    let start = Instant::now();
    loop {
        match client_trusting(ca).get(served.url("/healthz")).send().await {
            Ok(reply) if reply.status().is_success() => return,
            outcome => assert!(
                start.elapsed() < PATIENCE,
                "{what} within {PATIENCE:?}; last: {outcome:?}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn serve_with_a_certificate_answers_https_and_marks_cookies_secure() {
    let ca = TestCa::new("Console CA");
    let served = serve_https(&ca.issue(&["127.0.0.1"]), 5);
    until_trusted(&ca, &served, "the console answers over HTTPS").await;
    // The first start's setup page: it sets the pre-session CSRF cookie.
    let page = client_trusting(&ca)
        .get(served.url("/setup"))
        .send()
        .await
        .expect("the sign-in page answers");
    let cookies: Vec<String> = page
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap_or_default().to_owned())
        .collect();
    assert!(!cookies.is_empty(), "{:?}", page.headers());
    assert!(
        cookies.iter().all(|c| c.contains("; Secure")),
        "{cookies:?}"
    );
    let plain = reqwest::get(format!("http://127.0.0.1:{}/healthz", served.port)).await;
    assert!(
        plain.is_err(),
        "plain HTTP is not served on the HTTPS port: {plain:?}"
    );
}

#[tokio::test]
async fn a_renewed_certificate_reaches_new_connections_and_a_bad_replacement_keeps_it() {
    let (old_ca, new_ca) = (TestCa::new("Old CA"), TestCa::new("New CA"));
    let files = old_ca.issue(&["127.0.0.1"]);
    let served = serve_https(&files, 1);
    until_trusted(&old_ca, &served, "the first certificate is served").await;
    assert!(!healthy_trusting(&new_ca, &served).await);

    new_ca.issue_into(&["127.0.0.1"], &files);
    until_trusted(&new_ca, &served, "the renewed certificate is served").await;
    assert!(!healthy_trusting(&old_ca, &served).await);

    std::fs::write(&files.cert, "-----BEGIN CERTIFICATE-----\ngarbage\n").expect("write");
    // Several reload periods: the bad file has been seen and refused by now.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(
        healthy_trusting(&new_ca, &served).await,
        "the renewed certificate is still served after a bad replacement"
    );
}

#[cfg(unix)]
#[tokio::test]
async fn sighup_reloads_the_certificate_at_once() {
    let (old_ca, new_ca) = (TestCa::new("Old CA"), TestCa::new("New CA"));
    let files = old_ca.issue(&["127.0.0.1"]);
    // Files are polled only hourly here: only the signal can explain a reload.
    let served = serve_https(&files, 3600);
    until_trusted(&old_ca, &served, "the first certificate is served").await;
    new_ca.issue_into(&["127.0.0.1"], &files);
    let hup = Command::new("kill")
        .args(["-HUP", &served.child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(hup.success());
    until_trusted(&new_ca, &served, "SIGHUP reloads the certificate").await;
}
