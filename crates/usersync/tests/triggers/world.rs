//! A world to test triggers in: the Okta and Jira emulators, a store in a temporary
//! directory with one app connecting them, the background triggers, and a small HTTP
//! server that serves the event hook endpoint the way the console mounts it.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::{Duration, Instant};

use secrecy::SecretString;
use serde_json::Value;
use tokio::task::JoinHandle;
use usersync::engine::{Deps, Silent};
use usersync::events::{HANDLED_EVENTS, LOGIN_EVENTS, PollerConfig, QueueConfig};
use usersync::scheduler::SchedulerConfig;
use usersync::serve::{Triggers, TriggersConfig};
use usersync_okta::{EventHookSpec, HookRegistration, OktaAuth, OktaClient, OktaConfig};
use usersync_sim::jira::JiraSim;
use usersync_sim::okta::OktaSim;
use usersync_store::{App, Run, RunFilter, RunTrigger, Store};
use usersync_testkit::{DataDir, Sims, small_org};

pub const APP: &str = "jira";
pub const SECRET: &str = "hook-secret-5f1c2a9e";

/// How the app hears about changes and when it is scheduled.
pub struct Setup {
    /// The TOML value of `schedule`, or `None` for manual.
    pub schedule: Option<&'static str>,
    pub hook: bool,
    pub poll: bool,
    pub event_types: Vec<&'static str>,
}

impl Setup {
    pub fn hook(event_types: &[&'static str]) -> Self {
        Self {
            schedule: None,
            hook: true,
            poll: false,
            event_types: event_types.to_vec(),
        }
    }

    pub fn poll(event_types: &[&'static str]) -> Self {
        Self {
            schedule: None,
            hook: false,
            poll: true,
            event_types: event_types.to_vec(),
        }
    }

    pub fn scheduled(schedule: &'static str) -> Self {
        Self {
            schedule: Some(schedule),
            hook: false,
            poll: false,
            event_types: LOGIN_EVENTS.to_vec(),
        }
    }

    pub fn everything() -> Self {
        Self::hook(&HANDLED_EVENTS)
    }
}

/// Fast settings for tests: no jitter, short ticks and windows.
pub fn fast_config() -> TriggersConfig {
    TriggersConfig {
        queue: QueueConfig {
            coalesce: Duration::from_millis(100),
            follow_up_delay: Duration::from_millis(300),
            ..QueueConfig::default()
        },
        poller: PollerConfig {
            tick: Duration::from_millis(100),
            interval_override: Some(Duration::from_secs(1)),
        },
        scheduler: SchedulerConfig {
            tick: Duration::from_millis(100),
            max_jitter: Duration::ZERO,
            follow_up_delay: Duration::from_millis(300),
        },
    }
}

pub struct World {
    pub okta: OktaSim,
    pub jira: JiraSim,
    pub dir: DataDir,
    pub deps: Deps,
    pub triggers: Option<Triggers>,
    pub hook_url: String,
    server: Option<JoinHandle<()>>,
}

/// The app's TOML: the emulators' app with the schedule and event settings of `setup`.
fn app_toml(sims: &Sims, setup: &Setup) -> String {
    let types: Vec<String> = setup.event_types.iter().map(|t| format!("{t:?}")).collect();
    let events = format!(
        r#"[app.events]
hook_enabled = {hook}
hook_secret = "{SECRET}"
poll_system_log = {poll}
poll_interval_seconds = 10
event_types = [{types}]
"#,
        hook = setup.hook,
        poll = setup.poll,
        types = types.join(", "),
    );
    let app = sims.app(APP).section(&events);
    match setup.schedule {
        Some(schedule) => app.schedule(schedule),
        None => app,
    }
    .to_string()
}

impl World {
    /// The emulators and the app, without triggers running.
    pub async fn new(setup: Setup) -> World {
        usersync::telemetry::init_for_tests();
        let sims = Sims::start(small_org(30, 4, 11)).await;
        let dir = DataDir::new();
        let store = dir.store_with_apps(&app_toml(&sims, &setup), "test").await;
        let Sims { okta, jira } = sims;
        World {
            okta,
            jira,
            dir,
            deps: quiet(store),
            triggers: None,
            hook_url: String::new(),
            server: None,
        }
    }

    pub async fn app(&self) -> App {
        self.deps
            .store
            .app_by_name(APP)
            .await
            .expect("the app exists")
    }

    /// Starts the triggers and a server with the hook endpoint on a free port.
    pub async fn start(&mut self, config: TriggersConfig) {
        let triggers = Triggers::start(&self.deps, config);
        let router: axum::Router = triggers.hook_router();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("address").port();
        self.hook_url = format!("http://127.0.0.1:{port}/hooks/okta/{APP}");
        self.server = Some(tokio::spawn(async move {
            axum::serve(listener, router)
                .await
                .expect("the hook server runs");
        }));
        self.triggers = Some(triggers);
    }

    /// Stops the triggers (waiting for syncs in progress), keeping the store open.
    pub async fn stop_triggers(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
        if let Some(triggers) = self.triggers.take() {
            triggers.stop(Duration::from_secs(30)).await;
        }
    }

    /// Stops the triggers and closes the store, as a process exit does.
    pub async fn stop(&mut self) {
        self.stop_triggers().await;
        self.deps.store.close().await;
    }

    /// Reopens the store (fresh locks, as a new process has) and starts the triggers.
    pub async fn restart(&mut self, config: TriggersConfig) {
        self.deps = quiet(self.dir.open().await);
        self.start(config).await;
    }

    pub fn triggers(&self) -> &Triggers {
        self.triggers.as_ref().expect("triggers started")
    }

    /// Jira's users (lower-cased username to active), without the admin.
    pub fn jira_users(&self) -> BTreeMap<String, bool> {
        usersync_testkit::jira_users(&self.jira)
    }

    /// Runs of the app started by `trigger` (all when `None`), oldest first.
    pub async fn runs(&self, trigger: Option<RunTrigger>) -> Vec<Run> {
        let app = self.app().await;
        let filter = RunFilter {
            app: Some(app.id),
            trigger,
            ..RunFilter::default()
        };
        let mut runs = self
            .deps
            .store
            .list_runs(&filter, 1000)
            .await
            .expect("runs list");
        runs.reverse();
        runs
    }

    /// Registers (creates, or updates the one of the same name) the app's event hook in
    /// the Okta emulator with usersync's Okta client, pointing at our endpoint with
    /// `secret`, and has Okta verify it.
    pub async fn register_hook(&self, secret: &str, event_types: &[&str]) -> HookRegistration {
        let client = OktaClient::new(&OktaConfig::new(
            self.okta.base_url(),
            OktaAuth::ApiToken(SecretString::from(self.okta.api_token().to_owned())),
        ))
        .expect("an Okta client");
        let spec = EventHookSpec {
            name: format!("usersync: {APP}"),
            uri: self.hook_url.clone(),
            event_types: event_types.iter().map(|t| (*t).to_owned()).collect(),
            secret: SecretString::from(secret.to_owned()),
            headers: Vec::new(),
        };
        client
            .register_event_hook(&spec, None)
            .await
            .expect("the emulator registers the hook")
    }

    /// Registers and verifies the hook with the app's stored settings and secret, as
    /// `usersync hook register` does; `event_types` must be the app's.
    pub async fn wire_hook(&self, event_types: &[&str]) {
        let app = self.app().await;
        assert_eq!(app.events.event_types, event_types, "the app's event types");
        let public = self
            .hook_url
            .strip_suffix(&format!("/hooks/okta/{APP}"))
            .expect("the hook URL ends with the app's path");
        let report = usersync::engine::hook::register_hook(&self.deps, &app, public, "tests")
            .await
            .expect("the hook is registered");
        assert!(report.verified, "{}", report.text());
        assert_eq!(report.url, self.hook_url);
    }
}

fn quiet(store: Store) -> Deps {
    let mut deps = Deps::new(store);
    deps.progress = std::sync::Arc::new(Silent);
    deps
}

/// Calls the Okta emulator's API with its token.
pub async fn okta_api(
    okta: &OktaSim,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .request(method, format!("{}{path}", okta.base_url()))
        .header("Authorization", format!("SSWS {}", okta.api_token()))
        .header("Accept", "application/json");
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("the Okta emulator answers");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Waits until `check` holds (polling every 50 ms), up to `limit`; returns the time it took.
pub async fn within<F, Fut>(limit: Duration, what: &str, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if check().await {
            return start.elapsed();
        }
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
