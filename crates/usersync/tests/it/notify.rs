//! Notifications end to end: runs against the emulators tell a local HTTP receiver and a
//! local SMTP sink (STARTTLS with a certificate from a CA the test made) when they are
//! held, fail, end partial or refuse a login-time sync; nothing else is sent, a receiver
//! that is down fails nothing, and no secret reaches either.

use std::time::Duration;

use usersync::engine::{Deps, Mode, Silent, approve, run_sync_once, sync_user};
use usersync::notify::{Delivery, Notifier, NotifierConfig};
use usersync_sim::okta::NewUser;
use usersync_store::{AuditFilter, RunStatus, RunTrigger};
use usersync_testkit::{DataDir, HttpReceiver, Sims, SmtpSink, toml_string, unused_url};

use crate::helpers::{APP, small_org};

const SMTP_PASSWORD: &str = "smtpSECRET-pass-0c4f7";
const HOOK_PATH: &str = "services/T00/B00/webhookSECRET-5a9d";
const WAIT: Duration = Duration::from_secs(20);

struct Watched {
    sims: Sims,
    deps: Deps,
    receiver: HttpReceiver,
    sink: SmtpSink,
    _dir: DataDir,
}

/// The app's `[app.notify]` tables: `on` as TOML, the webhook and the SMTP server.
fn notify_toml(on: &str, webhook: &str, smtp_port: u16) -> String {
    format!(
        "[app.notify]\non = {on}\nwebhook = {{ url = {} }}\n\n[app.notify.email]\n\
         to = [\"ops@example.com\", \"lead@example.com\"]\nfrom = \"usersync@example.com\"\n\
         smtp = {{ host = \"127.0.0.1\", port = {smtp_port}, username = \"usersync\", password = {} }}\n",
        toml_string(webhook),
        toml_string(SMTP_PASSWORD)
    )
}

impl Watched {
    /// An app over the emulators whose notifications go to a fresh receiver and sink;
    /// `edit` changes the app (policy, token) and `down` points both channels nowhere.
    async fn start(on: &str, extra: &str, okta_token: Option<&str>, down: bool) -> Self {
        usersync::telemetry::init_for_tests();
        let sims = Sims::start(small_org()).await;
        let receiver = HttpReceiver::start().await;
        let sink = SmtpSink::start().await;
        let (webhook, port) = if down {
            let nowhere = unused_url().await;
            let port = url::Url::parse(&unused_url().await)
                .unwrap()
                .port()
                .unwrap();
            (format!("{nowhere}{HOOK_PATH}"), port)
        } else {
            (format!("{}{HOOK_PATH}", receiver.url()), sink.port())
        };
        let mut app = sims
            .app(APP)
            .section(extra)
            .section(&notify_toml(on, &webhook, port));
        if let Some(token) = okta_token {
            app = app.okta_token(token);
        }
        let dir = DataDir::new();
        let store = dir.store_with_apps(&app.to_string(), "test").await;
        let notifier = Notifier::new(NotifierConfig {
            public_url: Some("https://usersync.example.com/".parse().unwrap()),
            delivery: Delivery {
                timeout: Duration::from_secs(10),
                attempts: 2,
                backoff: Duration::from_millis(100),
            },
            background: false,
        });
        // The sink's certificate is signed by a CA only `--ca-file` names: the relay of a
        // company CA, trusted through the one global trust every client uses.
        let deps = Deps::new(store)
            .with_trust(sink.trust())
            .with_progress(std::sync::Arc::new(Silent))
            .with_notifier(notifier);
        Self {
            sims,
            deps,
            receiver,
            sink,
            _dir: dir,
        }
    }

    async fn sync(&self) -> usersync::engine::RunOutcome {
        run_sync_once(&self.deps, APP, RunTrigger::Scheduled, Mode::Apply)
            .await
            .expect("the run starts")
    }

    fn suspend_active(&self, n: usize) {
        let snapshot = self.sims.okta.snapshot();
        let active = snapshot
            .users
            .iter()
            .filter(|u| u.status == usersync_core::OktaStatus::Active);
        for user in active.take(n) {
            self.sims
                .okta
                .set_status(user.id.as_str(), usersync_core::OktaStatus::Suspended)
                .unwrap();
        }
    }

    /// Secrets of the app that must never be in what is sent.
    fn secrets(&self) -> Vec<String> {
        vec![
            SMTP_PASSWORD.to_owned(),
            "webhookSECRET".to_owned(),
            self.sims.okta.api_token().to_owned(),
        ]
    }

    async fn audit_actions(&self) -> Vec<(String, Vec<String>)> {
        let log = self
            .deps
            .store
            .audit_log(&AuditFilter::default(), 100)
            .await;
        log.unwrap()
            .into_iter()
            .filter(|e| e.action.starts_with("notify."))
            .map(|e| (e.action, e.fields))
            .collect()
    }
}

/// Mail text with the body's wrapped lines joined again.
fn unwrapped(data: &str) -> String {
    data.replace("\r\n", "\n").replace("\n    ", " ")
}

const ALL: &str = "[\"held\", \"failed\", \"partial\", \"login_refused\"]";

#[tokio::test]
async fn a_held_run_sends_one_webhook_and_one_email_with_the_facts_and_no_secret() {
    let w = Watched::start(ALL, "", None, false).await;
    assert_eq!(w.sync().await.status, RunStatus::Succeeded);
    assert!(
        w.receiver.received().is_empty() && w.sink.mails().is_empty(),
        "a succeeded run sends nothing"
    );
    w.suspend_active(10);

    let held = w.sync().await;

    assert_eq!(held.status, RunStatus::Held, "{:?}", held.reasons);
    let run = held.run_id.unwrap().0;
    let hooks = w.receiver.wait_for(1, WAIT).await;
    assert_eq!(hooks.len(), 1, "one webhook call");
    assert_eq!(hooks[0].path, format!("/{HOOK_PATH}"));
    assert_eq!(hooks[0].content_type.as_deref(), Some("application/json"));
    let body = hooks[0].json();
    assert_eq!(body["version"], 1);
    assert_eq!(body["app"], APP);
    assert_eq!(body["run_id"], run);
    assert_eq!(body["status"], "held");
    assert_eq!(body["event"], "held");
    assert_eq!(body["trigger"], "scheduled");
    assert_eq!(body["counts"]["deactivate_user"]["planned"], 10);
    let text = body["text"].as_str().unwrap();
    assert!(
        text.starts_with(&format!(
            "usersync: run {run} of app \"jira\" is held for approval"
        )),
        "{text}"
    );
    assert!(
        text.ends_with(&format!(
            "<https://usersync.example.com/runs/{run}|Open run {run}>"
        )),
        "{text}"
    );
    let reasons = body["reasons"].to_string();
    assert!(reasons.contains("wait for an administrator"), "{reasons}");

    let mails = w.sink.wait_for(1, WAIT).await;
    assert_eq!(mails.len(), 1, "one e-mail");
    let mail = &mails[0];
    let text = unwrapped(&mail.data);
    assert!(mail.tls, "sent only after STARTTLS");
    assert_eq!(
        mail.auth,
        Some(("usersync".to_owned(), SMTP_PASSWORD.to_owned()))
    );
    assert_eq!(mail.from, "usersync@example.com");
    assert_eq!(mail.to, ["ops@example.com", "lead@example.com"]);
    assert!(
        mail.data.contains(&format!(
            "Subject: [usersync] jira: run {run} is held for approval"
        )),
        "{}",
        mail.data
    );
    for fact in [
        "Status: held",
        "Trigger: scheduled",
        "deactivate_user: 10 / 0",
        "wait for an administrator",
    ] {
        assert!(text.contains(fact), "{fact} in {text}");
    }
    assert!(
        mail.data
            .contains(&format!("https://usersync.example.com/runs/{run}"))
    );
    for secret in w.secrets() {
        assert!(
            !hooks[0].body.contains(&secret),
            "{secret} in the webhook body"
        );
        assert!(!mail.data.contains(&secret), "{secret} in the e-mail");
    }

    let approved = approve(&w.deps, held.run_id.unwrap(), "test-admin")
        .await
        .unwrap();
    assert_eq!(approved.status, RunStatus::Succeeded);
    assert_eq!(
        w.receiver.received().len(),
        1,
        "the approval's success sends nothing"
    );
    let audit = w.audit_actions().await;
    assert_eq!(
        audit.iter().filter(|(a, _)| a == "notify.sent").count(),
        2,
        "{audit:?}"
    );
}

#[tokio::test]
async fn a_failed_run_notifies_without_the_refused_token() {
    let token = "00wrongSECRETokta-token-9b1d";
    let w = Watched::start(ALL, "", Some(token), false).await;

    let failed = w.sync().await;

    assert_eq!(failed.status, RunStatus::Failed);
    let hooks = w.receiver.wait_for(1, WAIT).await;
    assert_eq!(
        hooks.len(),
        1,
        "{:?} {:?}",
        failed.reasons,
        w.audit_actions().await
    );
    let body = hooks[0].json();
    assert_eq!(
        (body["status"].as_str(), body["event"].as_str()),
        (Some("failed"), Some("failed"))
    );
    assert!(!body["reasons"].as_array().unwrap().is_empty());
    let mails = w.sink.wait_for(1, WAIT).await;
    assert_eq!(mails.len(), 1, "{:?}", w.audit_actions().await);
    assert!(mails[0].data.contains("Status: failed"));
    assert!(!hooks[0].body.contains(token) && !mails[0].data.contains(token));
}

/// A mapping whose targeted namesake query cannot prove uniqueness, so a login-time sync
/// of a new user refuses to create them (and the run ends partial).
const NO_PREFIX: &str =
    "[app.policy.username]\nregex = \"(.*)@(.*)\\\\..*\"\nreplacement = \"$1.$2\"\n";

async fn refused_login(on: &str) -> (Watched, RunStatus) {
    let w = Watched::start(on, NO_PREFIX, None, false).await;
    w.sims
        .okta
        .add_user(NewUser::new("ann.lee@example.com", "Ann", "Lee"))
        .unwrap();
    let outcome = sync_user(&w.deps, APP, "ann.lee@example.com", RunTrigger::Login)
        .await
        .unwrap();
    (w, outcome.status)
}

#[tokio::test]
async fn a_refused_login_time_sync_notifies_as_a_refused_login() {
    let (w, status) = refused_login(ALL).await;

    assert_eq!(status, RunStatus::Partial);
    let hooks = w.receiver.wait_for(1, WAIT).await;
    assert_eq!(hooks.len(), 1);
    let body = hooks[0].json();
    assert_eq!(body["event"], "login_refused");
    assert_eq!(body["trigger"], "login");
    assert!(
        body["text"]
            .as_str()
            .unwrap()
            .contains("(login sync of one user) ended partial, refused"),
        "{body}"
    );
    let reasons = body["reasons"].to_string();
    assert!(
        reasons.contains("does not keep a prefix of the login"),
        "{reasons}"
    );
    let mails = w.sink.wait_for(1, WAIT).await;
    assert!(
        mails[0].data.contains("A login-time sync is refused"),
        "{}",
        mails[0].data
    );
}

#[tokio::test]
async fn a_partial_run_notifies_as_partial_when_refused_logins_are_not_asked_for() {
    let (w, status) = refused_login("[\"partial\"]").await;

    assert_eq!(status, RunStatus::Partial);
    let hooks = w.receiver.wait_for(1, WAIT).await;
    assert_eq!(hooks.len(), 1);
    assert_eq!(hooks[0].json()["event"], "partial");
    assert!(
        w.sink.wait_for(1, WAIT).await[0]
            .data
            .contains("Status: partial")
    );
}

#[tokio::test]
async fn receivers_that_are_down_do_not_fail_the_run_and_the_failure_is_audited() {
    let w = Watched::start(ALL, "", None, true).await;
    assert_eq!(w.sync().await.status, RunStatus::Succeeded);
    w.suspend_active(10);

    let held = w.sync().await;

    assert_eq!(held.status, RunStatus::Held, "{:?}", held.reasons);
    let stored = w.deps.store.get_run(held.run_id.unwrap()).await.unwrap();
    assert_eq!(stored.status, RunStatus::Held);
    let audit = w.audit_actions().await;
    let failed: Vec<_> = audit.iter().filter(|(a, _)| a == "notify.failed").collect();
    assert_eq!(failed.len(), 2, "webhook and e-mail: {audit:?}");
    let fields = format!("{failed:?}");
    assert!(
        fields.contains("webhook") && fields.contains("email"),
        "{fields}"
    );
    assert!(
        !fields.contains("webhookSECRET") && !fields.contains(SMTP_PASSWORD),
        "{fields}"
    );
}

#[tokio::test]
async fn hook_calls_with_a_wrong_secret_notify_a_refused_login_once_per_app_in_five_minutes() {
    let events = "[app.events]\nhook_enabled = true\nhook_secret = \"the-right-hook-secret\"\n";
    let w = Watched::start(ALL, events, None, false).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks/okta/{APP}", listener.local_addr().unwrap());
    let server = usersync::serve::Server::from_listener(
        w.deps.clone(),
        listener,
        &usersync::serve::ServeArgs::default(),
        usersync::serve::TriggersConfig::default(),
    )
    .expect("a server");
    let stop = tokio_util::sync::CancellationToken::new();
    let stopped = stop.clone();
    tokio::spawn(server.run_until_stopped(async move { stopped.cancelled().await }));

    let client = reqwest::Client::new();
    for guess in ["guess-1", "guess-2", "guess-3"] {
        let answer = client
            .post(&url)
            .header("authorization", guess)
            .json(&serde_json::json!({"data": {"events": []}}))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 401);
    }
    let hooks = w.receiver.wait_for(1, WAIT).await;
    let mails = w.sink.wait_for(1, WAIT).await;
    // Give a second (wrongly sent) notification time to arrive before counting.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        w.receiver.received().len(),
        1,
        "one webhook call for three refusals"
    );
    assert_eq!(w.sink.mails().len(), 1, "one e-mail for three refusals");
    let body = hooks[0].json();
    assert_eq!(body["hook_refused"], true);
    assert_eq!(body["event"], "login_refused");
    assert!(
        body["text"].as_str().unwrap().contains("event hook"),
        "{body}"
    );
    assert!(mails[0].data.contains("was refused"));
    for secret in ["the-right-hook-secret", "guess-1"] {
        assert!(!hooks[0].body.contains(secret) && !mails[0].data.contains(secret));
    }
    stop.cancel();
}
