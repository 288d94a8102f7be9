//! The secret-leak test of the security suite: the real binary, logging every target
//! (HTTP client, SQL, usersync) at TRACE, goes through an app's whole life — apply,
//! check, plan, sync, sync-user, export, a check that fails on a wrong password, a
//! run that fails and is notified (webhook and e-mail over STARTTLS), and
//! `serve` answering the API, an Okta hook delivery and a `/metrics` scrape — and
//! nothing it wrote (stdout, stderr, HTTP answers, every file of the data directory)
//! may hold a secret in any form it travels in: as given, base64, `SSWS <token>`, or
//! the Basic `user:password` pair.
//!
//! It runs child processes rather than a subscriber in this test binary so the logs
//! are exactly what an operator with `RUST_LOG=trace` would see, the filter's quiet
//! defaults for dependencies overridden.

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::Command;
use usersync_sim::jira::{JiraSimConfig, UserServerApp};
use usersync_sim::okta::OktaSimConfig;
use usersync_testkit::{
    DataDir, HttpReceiver, Sims, SmtpSink, small_org, start_jira, start_okta_with, toml_string,
};

use crate::cli::text;

const OKTA_TOKEN: &str = "okta-token-LEAKCANARY-4b7e91";
const JIRA_PASSWORD: &str = "jira-password-LEAKCANARY-c3d0a2";
const WRONG_PASSWORD: &str = "wrong-password-LEAKCANARY-77f1e5";
const HOOK_SECRET: &str = "hook-secret-LEAKCANARY-91aa0c";
/// The secret part of the notification webhook's URL (the whole URL is the secret).
const WEBHOOK_PATH: &str = "services/webhook-LEAKCANARY-5e3b17";
const SMTP_PASSWORD: &str = "smtp-password-LEAKCANARY-08d4c9";
/// The password of Jira's user-server application, through which Jira 8.2 deactivates.
const USER_SERVER_PASSWORD: &str = "user-server-LEAKCANARY-2d9e4b";

/// Every target at TRACE: the later directives override the quiet defaults that
/// `telemetry::filter` puts first for the HTTP and SQL libraries.
const TRACE_ALL: &str = "trace,sqlx=trace,reqwest=trace,hyper=trace,hyper_util=trace,h2=trace,rustls=trace,tower_http=trace";

/// What the binary and the server said, gathered for the scan.
#[derive(Default)]
struct Captured {
    /// (where it came from, text)
    texts: Vec<(String, String)>,
}

impl Captured {
    fn push(&mut self, source: impl Into<String>, text: impl Into<String>) {
        self.texts.push((source.into(), text.into()));
    }

    fn output(&mut self, command: &str, output: &Output) {
        self.push(format!("{command}: stdout"), text(&output.stdout));
        self.push(format!("{command}: stderr"), text(&output.stderr));
    }

    fn logs(&self) -> String {
        self.texts
            .iter()
            .filter(|(source, _)| source.ends_with("stderr"))
            .map(|(_, text)| text.as_str())
            .collect()
    }
}

/// Each secret in the forms it could be written in, with a name for the message.
fn needles() -> Vec<(String, String)> {
    let mut needles = Vec::new();
    for secret in [
        OKTA_TOKEN,
        JIRA_PASSWORD,
        WRONG_PASSWORD,
        HOOK_SECRET,
        WEBHOOK_PATH,
        SMTP_PASSWORD,
        USER_SERVER_PASSWORD,
    ] {
        needles.push((secret.to_owned(), secret.to_owned()));
        needles.push((format!("base64 of {secret}"), STANDARD.encode(secret)));
    }
    needles.push(("SSWS header".into(), format!("SSWS {OKTA_TOKEN}")));
    needles.push((
        "Basic credential of the user-server application".into(),
        STANDARD.encode(format!("usersync:{USER_SERVER_PASSWORD}")),
    ));
    for password in [JIRA_PASSWORD, WRONG_PASSWORD] {
        let basic = STANDARD.encode(format!("admin:{password}"));
        needles.push((format!("Basic credential with {password}"), basic));
    }
    needles
}

/// The app TOML: `leaky` with the right secrets and a hook, `wrong` with a password
/// Jira refuses and notifications (a webhook and e-mail) that its failed run sends.
fn apps_toml(sims: &Sims, notified: &Notified) -> String {
    let events = format!("[app.events]\nhook_enabled = true\nhook_secret = \"{HOOK_SECRET}\"\n");
    let leaky = sims
        .app("leaky")
        .jira_user_server("usersync", USER_SERVER_PASSWORD)
        .section(&events);
    let notify = format!(
        "[app.notify]\non = [\"failed\"]\nwebhook = {{ url = {} }}\n\n[app.notify.email]\n\
         to = [\"ops@example.com\"]\nfrom = \"usersync@example.com\"\n\
         smtp = {{ host = \"127.0.0.1\", port = {}, username = \"relay\", password = {} }}\n",
        toml_string(&format!("{}{WEBHOOK_PATH}", notified.receiver.url())),
        notified.sink.port(),
        toml_string(SMTP_PASSWORD),
    );
    let wrong = sims
        .app("wrong")
        .basic("admin", WRONG_PASSWORD)
        .section(&notify);
    format!("{leaky}\n{wrong}")
}

/// Where the failed run's notifications go: a receiver and an SMTP sink whose CA is
/// given as `--ca-file` (`USERSYNC_CA_FILE`).
struct Notified {
    receiver: HttpReceiver,
    sink: SmtpSink,
    ca_file: PathBuf,
}

fn usersync(data: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_usersync"));
    // The SMTP sink's CA, written beside the data directory by `notified`.
    let ca_file = ca_file_for(data);
    if ca_file.is_file() {
        command.env("USERSYNC_CA_FILE", ca_file);
    }
    command
        .env("USERSYNC_DATA_DIR", data)
        .env("RUST_LOG", TRACE_ALL)
        .env_remove("USERSYNC_LOG")
        .env_remove("USERSYNC_MASTER_KEY")
        .kill_on_drop(true);
    command
}

async fn run(data: &Path, args: &[&str], captured: &mut Captured) -> Output {
    let output = usersync(data)
        .args(args)
        .output()
        .await
        .expect("the binary runs");
    captured.output(&args.join(" "), &output);
    output
}

/// Where the commands of the data directory `data` find the CA file: beside it, so
/// every command and `serve` trust the SMTP sink as `--ca-file` would make them.
fn ca_file_for(data: &Path) -> PathBuf {
    let mut name = data.as_os_str().to_owned();
    name.push(".smtp-ca.pem");
    PathBuf::from(name)
}

async fn notified(data: &Path) -> Notified {
    let sink = SmtpSink::start().await;
    let ca_file = ca_file_for(data);
    std::fs::write(&ca_file, sink.ca_pem()).unwrap();
    Notified {
        receiver: HttpReceiver::start().await,
        sink,
        ca_file,
    }
}

/// Runs every command of an app's life and returns the name of the export file.
async fn command_line(
    sims: &Sims,
    data: &Path,
    notified: &Notified,
    captured: &mut Captured,
) -> PathBuf {
    let input = tempfile::TempDir::new().unwrap();
    let file = input.path().join("apps.toml");
    std::fs::write(&file, apps_toml(sims, notified)).unwrap();
    let login = sims.okta.snapshot().users[0].login.clone();
    let export = data.join("exported.toml");
    let commands: [&[&str]; 7] = [
        &["app", "apply", "-f", file.to_str().unwrap()],
        &["check", "--app", "leaky"],
        &["plan", "--app", "leaky", "--output", "json"],
        &["sync", "--app", "leaky"],
        &["sync-user", "--app", "leaky", &login],
        &["report", "--app", "leaky", "--output", "json"],
        &["app", "export", "--out", export.to_str().unwrap()],
    ];
    for args in commands {
        let output = run(data, args, captured).await;
        assert_eq!(
            output.status.code(),
            Some(0),
            "{args:?}: {}",
            captured.logs()
        );
    }
    let failed = run(data, &["check", "--app", "wrong"], captured).await;
    assert_eq!(failed.status.code(), Some(2), "the wrong password fails");
    assert!(
        text(&failed.stdout).contains("rejected the credential"),
        "{}",
        text(&failed.stdout)
    );
    // A run that fails: its notification goes out by webhook and e-mail before exit.
    let sync = run(data, &["sync", "--app", "wrong"], captured).await;
    assert_ne!(
        sync.status.code(),
        Some(0),
        "the wrong password fails the run"
    );
    export
}

/// `usersync serve` on a free port, its stderr collected line by line.
struct Served {
    child: tokio::process::Child,
    url: String,
    stderr: Arc<Mutex<String>>,
    reader: tokio::task::JoinHandle<()>,
}

async fn serve(data: &Path) -> Served {
    let mut child = usersync(data)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve starts");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let stderr = Arc::new(Mutex::new(String::new()));
    let (found, url) = tokio::sync::oneshot::channel();
    let collected = stderr.clone();
    let reader = tokio::spawn(async move {
        let mut found = Some(found);
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(rest) = line.split("console listening on ").nth(1) {
                let url = rest.split(';').next().unwrap_or_default().to_owned();
                found.take().map(|tx| tx.send(url));
            }
            let mut all = collected.lock().unwrap();
            all.push_str(&line);
            all.push('\n');
        }
    });
    let url = tokio::time::timeout(std::time::Duration::from_secs(30), url)
        .await
        .expect("serve says where it listens")
        .unwrap();
    Served {
        child,
        url,
        stderr,
        reader,
    }
}

impl Served {
    /// Stops the server and returns everything it logged.
    async fn stop(mut self) -> String {
        self.child.kill().await.expect("serve stops");
        self.reader.await.expect("its log is read to the end");
        self.stderr.lock().unwrap().clone()
    }
}

/// The API, an Okta hook delivery with the secret, and a `/metrics` scrape (last, so
/// it counts the others).
async fn served_requests(served: &Served, token: &str, captured: &mut Captured) {
    let client = reqwest::Client::new();
    let url = &served.url;
    let requests = [
        client.get(format!("{url}/api/v1/apps")).bearer_auth(token),
        client
            .get(format!("{url}/api/v1/apps/leaky"))
            .bearer_auth(token),
        client
            .post(format!("{url}/api/v1/apps/leaky/check"))
            .bearer_auth(token),
        client
            .post(format!("{url}/api/v1/apps/wrong/check"))
            .bearer_auth(token),
        client
            .get(format!("{url}/api/v1/apps/wrong"))
            .bearer_auth(token),
        client
            .get(format!("{url}/hooks/okta/leaky"))
            .header("authorization", HOOK_SECRET)
            .header("x-okta-verification-challenge", "leak-test-challenge"),
        client
            .post(format!("{url}/hooks/okta/leaky"))
            .header("authorization", HOOK_SECRET)
            .json(&serde_json::json!({
                "eventType": "com.okta.event_hook",
                "eventId": "leak-test-delivery",
                "data": { "events": [] },
            })),
        client.get(format!("{url}/metrics")).bearer_auth(token),
    ];
    for request in requests {
        let request = request.build().unwrap();
        let what = format!("{} {}", request.method(), request.url().path());
        let answer = client.execute(request).await.expect("serve answers");
        let status = answer.status();
        let body = answer.text().await.unwrap();
        assert!(status.is_success(), "{what}: {status} {body}");
        captured.push(format!("{what} answer ({status})"), body);
    }
}

/// Every file under `dir`, as (path, bytes).
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files(&path));
        } else {
            found.push((path.display().to_string(), std::fs::read(&path).unwrap()));
        }
    }
    found
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread")]
async fn no_secret_reaches_trace_logs_output_api_answers_metrics_or_the_data_directory() {
    let okta = start_okta_with(OktaSimConfig {
        api_token: OKTA_TOKEN.to_owned(),
        org: Some(small_org(12, 2, 5)),
        ..OktaSimConfig::default()
    })
    .await;
    // Jira 8.2 with a user-server application: deactivations send its password too.
    let jira = start_jira(JiraSimConfig {
        version: "8.2.0".to_owned(),
        admin_password: JIRA_PASSWORD.to_owned(),
        user_server_app: Some(UserServerApp {
            name: "usersync".to_owned(),
            password: USER_SERVER_PASSWORD.to_owned(),
        }),
        ..JiraSimConfig::default()
    })
    .await;
    let sims = Sims { okta, jira };
    let data = DataDir::new();
    let mut captured = Captured::default();
    let notified = notified(data.path()).await;

    let export = command_line(&sims, data.path(), &notified, &mut captured).await;
    assert!(export.is_file(), "the export was written");
    let token = run(
        data.path(),
        &["token", "create", "leak-test", "--scope", "admin"],
        &mut captured,
    )
    .await;
    assert!(token.status.success(), "{}", text(&token.stderr));
    let token = text(&token.stdout).trim().to_owned();
    let served = serve(data.path()).await;
    served_requests(&served, &token, &mut captured).await;
    captured.push("serve: stderr", served.stop().await);
    let posted = notified.receiver.received();
    assert_eq!(posted.len(), 1, "the failed run was told to the webhook");
    captured.push("the webhook's body", posted[0].body.clone());
    let mails = notified.sink.mails();
    assert_eq!(mails.len(), 1, "the failed run was told by e-mail");
    assert!(mails[0].tls, "over STARTTLS, trusted through --ca-file");
    captured.push("the e-mail", mails[0].data.clone());
    std::fs::remove_file(&notified.ca_file).unwrap();

    let logs = captured.logs();
    let trace_lines = logs.lines().filter(|l| l.contains(" TRACE ")).count();
    assert!(trace_lines > 100, "only {trace_lines} TRACE lines:\n{logs}");
    let client_traces = logs
        .lines()
        .filter(|l| l.contains(" TRACE ") && l.contains("Http::connect"))
        .count();
    assert!(
        client_traces > 0,
        "no TRACE line of the HTTP client:\n{logs}"
    );
    assert!(
        logs.contains("db.statement="),
        "no SQL statement logged:\n{logs}"
    );
    let metrics = captured
        .texts
        .iter()
        .find_map(|(source, text)| source.starts_with("GET /metrics").then_some(text))
        .expect("a scrape");
    assert!(metrics.contains("# TYPE"), "a real scrape: {metrics}");

    for (name, needle) in needles() {
        for (source, text) in &captured.texts {
            let lines: Vec<&str> = text.lines().filter(|l| l.contains(&needle)).collect();
            assert!(lines.is_empty(), "{name} leaked into {source}:\n{lines:#?}");
        }
        for (path, bytes) in files(data.path()) {
            assert!(!contains(&bytes, &needle), "{name} leaked into {path}");
        }
    }
}
