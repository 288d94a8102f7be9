//! Several `usersync serve` processes on one installation (a shared SQLite data
//! directory or a PostgreSQL database, [`Installation`]), the emulators, and Okta's own
//! hook deliveries captured so a test can hand each to the replica it chooses.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use secrecy::SecretString;
use serde_json::{Value, json};
use tempfile::TempDir;
use usersync_okta::{EventHookSpec, OktaAuth, OktaClient, OktaConfig, Verification};
use usersync_sim::okta::OktaSim;
use usersync_store::{Run, RunFilter, RunStatus, Store};

use crate::installation::Installation;

/// Runs each named `async fn name(installation: Installation)` twice, as the tests
/// `name::on_sqlite` (replicas sharing one data directory) and `name::on_postgres`
/// (replicas sharing a fresh PostgreSQL database; skipped with a message without
/// `USERSYNC_TEST_POSTGRES_URL`, failed in CI).
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn on_sqlite() {
                    super::$name($crate::installation::Installation::sqlite().await).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn on_postgres() {
                    let backend = usersync_testkit::Backend::Postgres;
                    if let Some(installation) =
                        $crate::installation::Installation::new(backend).await
                    {
                        super::$name(installation).await;
                    }
                }
            }
        )+
    };
}

pub const APP: &str = "jira-prod";
pub const SECRET: &str = "replica-hook-secret-5b1e";
/// Limits high enough that no run here is held for approval.
const LIMITS: &str =
    "[app.policy.limits]\nmax_destructive = 1000\nmax_destructive_percent = 100.0\n";
/// The lease the replicas run with: short, so fail-over is quick to test.
pub const LEASE_SECS: u64 = 3;

/// The app's TOML: hooks on for user and membership events, limits that never hold.
pub fn app_toml(sims: &usersync_testkit::Sims, schedule: Option<&str>) -> String {
    app_toml_for(&sims.okta, &sims.jira, schedule)
}

/// [`app_toml`] from `okta` to `jira`.
pub fn app_toml_for(
    okta: &OktaSim,
    jira: &usersync_sim::jira::JiraSim,
    schedule: Option<&str>,
) -> String {
    let section = format!(
        "[app.events]\nhook_enabled = true\nhook_secret = \"{SECRET}\"\npoll_system_log = false\n\
         event_types = [\"user.lifecycle.create\", \"user.lifecycle.suspend\", \
         \"user.lifecycle.unsuspend\", \"group.user_membership.add\", \
         \"group.user_membership.remove\", \"user.session.start\"]\n\n\
         {LIMITS}"
    );
    let app =
        usersync_testkit::AppToml::new(APP, &okta.base_url(), okta.api_token(), jira.base_url())
            .basic(jira.admin_username(), jira.admin_password())
            .section(&section);
    match schedule {
        Some(s) => app.schedule(s),
        None => app,
    }
    .to_string()
}

/// Adds `login` to Okta and to its first Okta group (so a sync gives them a group
/// membership too); the name of that group.
pub fn okta_joiner(okta: &OktaSim, login: &str, first: &str, last: &str) -> String {
    let joiner = okta
        .add_user(usersync_sim::okta::NewUser::new(login, first, last))
        .unwrap();
    let group = okta
        .snapshot()
        .groups
        .into_iter()
        .find(|g| g.kind == usersync_core::OktaGroupType::OktaGroup)
        .expect("an Okta group");
    okta.add_member(group.id.as_str(), joiner.as_str()).unwrap();
    group.name
}

/// One `usersync serve` child; killed when dropped.
pub struct Replica {
    pub name: String,
    pub base: String,
    child: Option<Child>,
}

impl Replica {
    /// Starts `usersync serve` on `installation` on a free loopback port, logging to
    /// `logs` (where a PostgreSQL replica also keeps its own data directory).
    pub fn start(name: &str, installation: &Installation, logs: &Path) -> Replica {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let log = std::fs::File::create(logs.join(format!("{name}.log"))).expect("a log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_usersync"));
        installation.configure(&mut command, &logs.join(format!("{name}-data")));
        let child = command
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--lease-secs", &LEASE_SECS.to_string()])
            .env("USERSYNC_LOG", "info,usersync=debug")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("the binary starts");
        Replica {
            name: name.to_owned(),
            base: format!("http://127.0.0.1:{port}"),
            child: Some(child),
        }
    }

    /// `/readyz` as JSON, or `None` while the replica does not answer.
    pub async fn readyz(&self) -> Option<Value> {
        let answer = http()
            .get(format!("{}/readyz", self.base))
            .send()
            .await
            .ok()?;
        answer.json().await.ok()
    }

    pub async fn leads(&self) -> bool {
        self.readyz().await.is_some_and(|r| r["leader"] == true)
    }

    /// The `usersync_leader` gauge of `/metrics`, read with a bearer token.
    pub async fn leader_gauge(&self, token: &str) -> Option<String> {
        let text = http()
            .get(format!("{}/metrics", self.base))
            .bearer_auth(token)
            .send()
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        text.lines()
            .find(|l| l.starts_with("usersync_leader "))
            .map(str::to_owned)
    }

    /// SIGKILL: no clean shutdown, the lease and the run's claim are left behind.
    pub fn kill_9(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("kill -9");
            child.wait().expect("reaped");
        }
    }

    pub fn alive(&self) -> bool {
        self.child.is_some()
    }

    /// Hands Okta's delivery `body` to this replica's hook, as Okta would.
    pub async fn deliver(&self, body: &Value) -> u16 {
        http()
            .post(format!("{}/hooks/okta/{APP}", self.base))
            .header("Authorization", SECRET)
            .json(body)
            .send()
            .await
            .map_or(0, |r| r.status().as_u16())
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("a client")
}

/// Three (or `n`) replicas on one installation, with their logs.
pub struct Cluster {
    pub replicas: Vec<Replica>,
    logs: TempDir,
}

impl Cluster {
    pub async fn start(installation: &Installation, n: usize) -> Cluster {
        let logs = TempDir::new().expect("a log directory");
        let replicas: Vec<Replica> = (0..n)
            .map(|i| Replica::start(&format!("replica-{i}"), installation, logs.path()))
            .collect();
        let cluster = Cluster { replicas, logs };
        for r in &cluster.replicas {
            cluster
                .within(
                    Duration::from_secs(60),
                    &format!("{} ready", r.name),
                    || async { r.readyz().await.is_some() },
                )
                .await;
        }
        cluster
    }

    /// The replicas that say they lead now.
    pub async fn leaders(&self) -> Vec<usize> {
        let mut out = Vec::new();
        for (i, r) in self.replicas.iter().enumerate() {
            if r.alive() && r.leads().await {
                out.push(i);
            }
        }
        out
    }

    /// Every replica's log, for a failure message.
    pub fn logs(&self) -> String {
        let mut out = String::new();
        for r in &self.replicas {
            let text = std::fs::read_to_string(self.logs.path().join(format!("{}.log", r.name)))
                .unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(40).collect();
            out.push_str(&format!("--- {} (last lines)\n", r.name));
            for line in tail.into_iter().rev() {
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }

    /// Waits until `check` holds, polling; fails with the replicas' logs after `limit`.
    pub async fn within<F, Fut>(&self, limit: Duration, what: &str, mut check: F) -> Duration
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let start = tokio::time::Instant::now();
        loop {
            if check().await {
                return start.elapsed();
            }
            assert!(
                start.elapsed() < limit,
                "not within {limit:?}: {what}\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Okta's event hook deliveries, captured by a receiver the Okta emulator delivers to.
#[derive(Clone, Default)]
pub struct Deliveries(Arc<Mutex<Vec<Value>>>);

impl Deliveries {
    /// Registers (and verifies) a hook in `okta` delivering to a receiver of its own.
    pub async fn capture(okta: &OktaSim, event_types: &[&str]) -> Deliveries {
        let got = Deliveries::default();
        let app = Router::new()
            .route("/hook", get(challenge).post(delivered))
            .with_state(got.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://127.0.0.1:{}/hook",
            listener.local_addr().unwrap().port()
        );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let client = OktaClient::new(&OktaConfig::new(
            okta.base_url(),
            OktaAuth::ApiToken(SecretString::from(okta.api_token().to_owned())),
        ))
        .unwrap();
        let spec = EventHookSpec {
            name: "replicas".into(),
            uri: url,
            event_types: event_types.iter().map(|t| (*t).to_owned()).collect(),
            secret: SecretString::from(SECRET.to_owned()),
            headers: Vec::new(),
        };
        let registered = client.register_event_hook(&spec, None).await.unwrap();
        assert_eq!(registered.verification, Verification::Verified);
        got
    }

    pub fn all(&self) -> Vec<Value> {
        self.0.lock().unwrap().clone()
    }

    /// Events in all deliveries so far.
    pub fn events(&self) -> usize {
        self.all()
            .iter()
            .map(|d| d["data"]["events"].as_array().map_or(0, Vec::len))
            .sum()
    }
}

async fn challenge(headers: HeaderMap) -> axum::Json<Value> {
    let value = headers
        .get("x-okta-verification-challenge")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    axum::Json(json!({ "verification": value }))
}

async fn delivered(
    State(got): State<Deliveries>,
    axum::Json(body): axum::Json<Value>,
) -> StatusCode {
    got.0.lock().unwrap().push(body);
    StatusCode::OK
}

/// Every run of the app, oldest first.
pub async fn runs(store: &Store) -> Vec<Run> {
    let mut runs = store
        .list_runs(&RunFilter::default(), 10_000)
        .await
        .unwrap();
    runs.reverse();
    runs
}

/// No two runs were ever running at once (each run holds the app from start to finish).
/// An interrupted run's end is when its holder was found gone, not when it stopped, so
/// it is left out.
pub fn assert_never_overlapped(runs: &[Run]) {
    let mut spans: Vec<_> = runs
        .iter()
        .filter(|r| !matches!(r.status, RunStatus::Running | RunStatus::Interrupted))
        .map(|r| (r.started_at, r.finished_at.unwrap_or(r.started_at), r.id))
        .collect();
    spans.sort();
    for pair in spans.windows(2) {
        assert!(
            pair[0].1 <= pair[1].0,
            "run {} (until {}) overlapped run {} (from {})",
            pair[0].2,
            pair[0].1,
            pair[1].2,
            pair[1].0
        );
    }
}

/// Jira's users (lower-case username to active) and groups with their members.
pub fn jira_state(jira: &usersync_sim::jira::JiraSim) -> JiraState {
    let users = usersync_testkit::jira_users(jira);
    let groups = jira
        .groups()
        .into_iter()
        .map(|g| {
            let members = jira
                .members(&g.name)
                .into_iter()
                .map(|m| m.to_lowercase())
                .collect();
            (g.name.to_lowercase(), members)
        })
        .collect();
    (users, groups)
}

/// Jira's users and groups with members, as [`jira_state`] gives them.
pub type JiraState = (
    std::collections::BTreeMap<String, bool>,
    std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
);

/// One usersync alone, in this process, syncing the same Okta into a Jira of its own:
/// what the replicas must end up equal to.
pub struct Reference {
    jira: usersync_sim::jira::JiraSim,
    deps: usersync::engine::Deps,
    _dir: usersync_testkit::DataDir,
}

impl Reference {
    /// Starts the reference Jira and syncs it once (as the replicas' first run does).
    pub async fn start(okta: &OktaSim) -> Reference {
        let jira = usersync_testkit::start_jira(usersync_sim::jira::JiraSimConfig::default()).await;
        let toml = usersync_testkit::AppToml::new(
            APP,
            &okta.base_url(),
            okta.api_token(),
            jira.base_url(),
        )
        .basic(jira.admin_username(), jira.admin_password())
        .section(LIMITS)
        .to_string();
        let dir = usersync_testkit::DataDir::new();
        let store = dir.store_with_apps(&toml, "test").await;
        let reference = Reference {
            jira,
            deps: usersync::engine::Deps::new(store),
            _dir: dir,
        };
        reference.sync().await;
        reference
    }

    /// Syncs again and returns the reference Jira's state.
    pub async fn sync(&self) -> JiraState {
        let outcome = usersync::engine::run_sync_once(
            &self.deps,
            APP,
            usersync_store::RunTrigger::Manual,
            usersync::engine::Mode::Apply,
        )
        .await
        .unwrap();
        assert_eq!(
            outcome.status,
            RunStatus::Succeeded,
            "{:?}",
            outcome.reasons
        );
        jira_state(&self.jira)
    }
}

/// Jira's create-user requests that succeeded: one per account, never a second.
pub fn created_users(jira: &usersync_sim::jira::JiraSim) -> usize {
    jira.requests()
        .into_iter()
        .filter(|r| {
            r.method == "POST"
                && (r.path == "/rest/api/2/user" || r.path.starts_with("/rest/api/2/user?"))
                && r.status == 201
        })
        .count()
}
