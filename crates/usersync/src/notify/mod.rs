//! Telling people when a run needs them: held, failed, partial, or a login-time sync refused.
//!
//! [`after_run`] is called by the engine's one `finish` of every run (full, single-user,
//! approval; so every trigger: CLI, API, console, scheduler, events), after the run's final
//! status is recorded. It decides whether the app wants to hear about this ending
//! ([`decide`]), reads the recorded run for its facts, and hands the [`Notice`] to the
//! app's channels (`send`: webhook and e-mail) in the background, each with a timeout and
//! bounded retries. A failed delivery is logged and audited (`notify.failed`); it never
//! changes the run. One ending of one run is sent at most once per process.

mod message;
mod send;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret as _, SecretString};
use tokio_util::task::TaskTracker;
use url::Url;
use usersync_core::SkipReason;
use usersync_core::app::{NotifyOn, SecretSlot, SecretState};
use usersync_store::{App, AppId, RunId, RunStatus, RunTrigger};

use message::MIN_REDACTED;
pub use message::{BODY_VERSION, Notice};
pub use send::{Channels, Delivery, EmailChannel};

use crate::engine::{Deps, Mode, RunOutcome};

/// At most one refused-hook notification per app in this time: a caller retrying with a
/// wrong secret (Okta retries, a scanner) must not flood the channel.
const REFUSED_EVERY: Duration = Duration::from_secs(5 * 60);

/// How many sent (run, status) pairs are remembered against sending twice.
const REMEMBERED: usize = 4096;

/// The endings already notified: a set to look up, and their order to forget the oldest.
type Sent = (HashSet<(RunId, RunStatus)>, VecDeque<(RunId, RunStatus)>);

/// Sends notifications; cheap to clone, one per process (in [`Deps`]).
#[derive(Clone)]
pub struct Notifier {
    inner: Arc<Inner>,
}

struct Inner {
    public_url: Option<Url>,
    delivery: Delivery,
    background: bool,
    sent: Mutex<Sent>,
    /// When each app was last told of a refused hook call (at most one per [`REFUSED_EVERY`]).
    refused: Mutex<HashMap<AppId, Instant>>,
    tasks: TaskTracker,
}

/// How a [`Notifier`] is set up.
#[derive(Debug, Clone, Default)]
pub struct NotifierConfig {
    /// The console's address as people reach it (`--public-url`): links point there.
    pub public_url: Option<Url>,
    pub delivery: Delivery,
    /// Deliver on a background task (the server) rather than before the run's call
    /// returns (the command line, which exits right after).
    pub background: bool,
}

impl Default for Notifier {
    fn default() -> Self {
        Self::new(NotifierConfig {
            background: true,
            ..NotifierConfig::default()
        })
    }
}

impl Notifier {
    #[must_use]
    pub fn new(config: NotifierConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                public_url: config.public_url,
                delivery: config.delivery,
                background: config.background,
                sent: Mutex::new((HashSet::new(), VecDeque::new())),
                refused: Mutex::new(HashMap::new()),
                tasks: TaskTracker::new(),
            }),
        }
    }

    /// Waits up to `limit` for deliveries in progress (at shutdown).
    pub async fn wait(&self, limit: std::time::Duration) {
        self.inner.tasks.close();
        let _ = tokio::time::timeout(limit, self.inner.tasks.wait()).await;
        self.inner.tasks.reopen();
    }

    /// True the first time it is asked about this ending of this run.
    fn first_time(&self, run: RunId, status: RunStatus) -> bool {
        let Ok(mut sent) = self.inner.sent.lock() else {
            return true;
        };
        let (seen, order) = &mut *sent;
        if !seen.insert((run, status)) {
            return false;
        }
        order.push_back((run, status));
        if order.len() > REMEMBERED
            && let Some(old) = order.pop_front()
        {
            seen.remove(&old);
        }
        true
    }

    /// True when `app` was not told of a refused hook call within [`REFUSED_EVERY`].
    fn refused_due(&self, app: AppId) -> bool {
        let Ok(mut refused) = self.inner.refused.lock() else {
            return false;
        };
        let now = Instant::now();
        refused.retain(|_, at| now.duration_since(*at) < REFUSED_EVERY);
        if refused.contains_key(&app) {
            return false;
        }
        refused.insert(app, now);
        true
    }

    fn link(&self, run: RunId) -> Option<String> {
        let base = self.inner.public_url.as_ref()?;
        base.join(&format!("runs/{run}")).ok().map(String::from)
    }
}

/// The skips that mean a single-user sync did not create (or adopt) the user.
fn refused_to_create(reason: &SkipReason) -> bool {
    matches!(
        reason,
        SkipReason::InvalidUsername { .. }
            | SkipReason::Collision { .. }
            | SkipReason::ExistsNotAdopted { .. }
            | SkipReason::NoEmail { .. }
            | SkipReason::UniquenessUnknown { .. }
    )
}

/// Which notification, if any, a run's ending is, by what the app asks for: a login- or
/// event-triggered single-user run that is held, failed, partial or refused to create is
/// `login_refused` (or, when the app does not ask for that, its status's kind).
#[must_use]
pub fn decide(
    wanted: &[NotifyOn],
    trigger: RunTrigger,
    status: RunStatus,
    refused_create: bool,
) -> Option<NotifyOn> {
    let by_status = match status {
        RunStatus::Held => Some(NotifyOn::Held),
        RunStatus::Failed => Some(NotifyOn::Failed),
        RunStatus::Partial => Some(NotifyOn::Partial),
        _ => None,
    };
    let login = matches!(trigger, RunTrigger::Login | RunTrigger::Event)
        && (by_status.is_some() || refused_create);
    [login.then_some(NotifyOn::LoginRefused), by_status]
        .into_iter()
        .flatten()
        .find(|kind| wanted.contains(kind))
}

/// Called once at the end of every recorded run: notifies when the app wants it.
pub async fn after_run(deps: &Deps, outcome: &RunOutcome) {
    let (Mode::Apply, Some(run_id)) = (outcome.mode, outcome.run_id) else {
        return;
    };
    let Ok(Some(app)) = deps.store.find_app(&outcome.app).await else {
        return;
    };
    if app.notify.webhook.is_none() && app.notify.email.is_none() {
        return;
    }
    let run = match deps.store.get_run(run_id).await {
        Ok(run) => run,
        Err(e) => {
            tracing::warn!(app = %app.name, run = %run_id, "no notification: the run could not be read: {e}");
            return;
        }
    };
    let skips: Vec<String> = outcome
        .plan
        .iter()
        .flat_map(|plan| &plan.skipped)
        .filter(|s| refused_to_create(&s.reason))
        .map(|s| format!("{}: {}", s.login, s.reason))
        .collect();
    let Some(event) = decide(&app.notify.on, run.trigger, run.status, !skips.is_empty()) else {
        return;
    };
    if !deps.notifier.first_time(run_id, run.status) {
        return;
    }
    let mut reasons = outcome.reasons.clone();
    reasons.extend(skips);
    let notice = Notice {
        app: app.name.clone(),
        run_id,
        event,
        status: run.status,
        trigger: run.trigger,
        reasons,
        counts: run.counts.clone(),
        link: deps.notifier.link(run_id),
        test: false,
        hook_refused: false,
    };
    let (channels, secrets) = channels(deps, &app).await;
    let notice = notice.redact(&secrets);
    let work = deliver(deps.clone(), app, notice, channels, secrets);
    if deps.notifier.inner.background {
        deps.notifier.inner.tasks.spawn(work);
    } else {
        work.await;
    }
}

/// The app's channels with their secrets, and every secret value of the app (to redact).
async fn channels(deps: &Deps, app: &App) -> (Channels, Vec<String>) {
    let mut secrets = Vec::new();
    let mut resolved = |slot: SecretSlot, value: Option<SecretString>| {
        if let Some(v) = &value {
            secrets.push(v.expose_secret().to_owned());
        }
        (slot, value)
    };
    let mut values = Vec::new();
    for (slot, state) in app.secret_states() {
        if *state == SecretState::Unset {
            continue;
        }
        let value = match deps.store.resolve_secret(app, slot).await {
            Ok(v) => Some(v),
            Err(e) => {
                tracing::warn!(app = %app.name, "secret {slot} could not be read: {e}");
                None
            }
        };
        values.push(resolved(slot, value));
    }
    let take = |slot| {
        values
            .iter()
            .find(|(s, _)| *s == slot)
            .and_then(|(_, v)| v.clone())
    };
    let webhook = app
        .notify
        .webhook
        .as_ref()
        .and_then(|_| take(SecretSlot::NotifyWebhookUrl));
    let email = app.notify.email.as_ref().map(|e| EmailChannel {
        to: e.to.clone(),
        from: e.from.clone(),
        host: e.smtp.host.clone(),
        port: e.smtp.port,
        username: e.smtp.username.clone(),
        password: take(SecretSlot::SmtpPassword),
        starttls: e.smtp.starttls,
    });
    (Channels { webhook, email }, secrets)
}

/// The webhook client: TLS as every other outbound client (the built-in roots plus
/// `--ca-file`), and no redirects, as the webhook URL is the secret and must not be
/// followed elsewhere.
fn webhook_client(deps: &Deps, delivery: &Delivery) -> Result<reqwest::Client, String> {
    usersync_tls::client_builder(&deps.trust)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(delivery.timeout)
        .build()
        .map_err(|e| format!("the webhook client could not be set up: {e}"))
}

/// One channel's outcome: `webhook` or `email`, and what went wrong (secrets redacted).
pub type ChannelResult = (&'static str, Result<(), String>);

/// Sends `notice` to each channel; every error is redacted of `secrets`.
async fn send_all(
    deps: &Deps,
    app: &App,
    notice: &Notice,
    channels: &Channels,
    secrets: &[String],
    delivery: &Delivery,
) -> Vec<ChannelResult> {
    let mut results = Vec::new();
    if let Some(url) = &channels.webhook {
        let sent = match webhook_client(deps, delivery) {
            Ok(http) => send::webhook(&http, url, notice, delivery).await,
            Err(e) => Err(e),
        };
        results.push(("webhook", sent));
    } else if app.notify.webhook.is_some() {
        results.push((
            "webhook",
            Err("the webhook URL could not be read".to_owned()),
        ));
    }
    if let Some(email) = &channels.email {
        let sent = send::email(email, notice, delivery, &deps.trust).await;
        results.push(("email", sent));
    }
    for (_, result) in &mut results {
        if let Err(e) = result {
            *e = secrets
                .iter()
                .filter(|s| s.len() >= MIN_REDACTED)
                .fold(std::mem::take(e), |e, s| {
                    e.replace(s.as_str(), "[redacted]")
                });
        }
    }
    results
}

/// Sends a test message through `app`'s saved channels, once each (the console's "Send
/// test notification"), and audits it; says how each channel fared.
pub async fn send_test(deps: &Deps, app: &App, actor: &str) -> Vec<ChannelResult> {
    let notice = Notice {
        app: app.name.clone(),
        run_id: RunId(0),
        event: NotifyOn::Held,
        status: RunStatus::Held,
        trigger: RunTrigger::Manual,
        reasons: vec![format!("sent from the console by {actor}")],
        counts: usersync_store::RunCounts::default(),
        link: deps
            .notifier
            .inner
            .public_url
            .as_ref()
            .map(|u| u.to_string()),
        test: true,
        hook_refused: false,
    };
    let (channels, secrets) = channels(deps, app).await;
    let notice = notice.redact(&secrets);
    // One attempt: someone is waiting for the answer.
    let delivery = Delivery {
        attempts: 1,
        ..deps.notifier.inner.delivery.clone()
    };
    let results = send_all(deps, app, &notice, &channels, &secrets, &delivery).await;
    for (channel, result) in &results {
        let detail = match result {
            Ok(()) => format!("{channel} test sent"),
            Err(e) => format!("{channel} test: {e}"),
        };
        if let Err(e) = deps
            .store
            .record_audit(actor, Some(app.id), "notify.test", &[detail])
            .await
        {
            tracing::warn!(app = %app.name, "could not audit a test notification: {e}");
        }
    }
    results
}

/// Tells `app`'s people that a call to its event hook had a wrong secret, when the app
/// asks for `login_refused`; at most once per app per [`REFUSED_EVERY`], in the background.
pub async fn refused_hook(deps: &Deps, app: App) {
    if !app.notify.wants(NotifyOn::LoginRefused) || !deps.notifier.refused_due(app.id) {
        return;
    }
    let notice = Notice {
        app: app.name.clone(),
        run_id: RunId(0),
        event: NotifyOn::LoginRefused,
        status: RunStatus::Failed,
        trigger: RunTrigger::Event,
        reasons: vec![
            "the call's Authorization header is not the app's hook secret: if the secret was \
             changed, register the hook in Okta again (Login-time sync, Register in Okta); \
             further refusals in the next 5 minutes are not notified"
                .to_owned(),
        ],
        counts: usersync_store::RunCounts::default(),
        link: None,
        test: false,
        hook_refused: true,
    };
    let (channels, secrets) = channels(deps, &app).await;
    let notice = notice.redact(&secrets);
    let work = deliver(deps.clone(), app, notice, channels, secrets);
    if deps.notifier.inner.background {
        deps.notifier.inner.tasks.spawn(work);
    } else {
        work.await;
    }
}

/// Sends to each channel; records each failure (and each delivery) in the audit log.
async fn deliver(deps: Deps, app: App, notice: Notice, channels: Channels, secrets: Vec<String>) {
    let delivery = deps.notifier.inner.delivery.clone();
    let results = send_all(&deps, &app, &notice, &channels, &secrets, &delivery).await;
    for (channel, result) in results {
        let (action, detail) = match result {
            Ok(()) => ("notify.sent", format!("{channel} sent")),
            Err(e) => {
                tracing::warn!(app = %app.name, run = %notice.run_id, "the {channel} notification failed: {e}");
                ("notify.failed", format!("{channel}: {e}"))
            }
        };
        let fields = [
            if notice.hook_refused {
                "event hook call refused".to_owned()
            } else {
                format!("run {}", notice.run_id)
            },
            format!("event {}", notice.event.as_str()),
            detail,
        ];
        if let Err(e) = deps
            .store
            .record_audit("usersync", Some(app.id), action, &fields)
            .await
        {
            tracing::warn!(app = %app.name, "could not audit a notification: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_ending_of_one_run_is_sent_once() {
        let notifier = Notifier::default();
        assert!(notifier.first_time(RunId(7), RunStatus::Held));
        assert!(!notifier.first_time(RunId(7), RunStatus::Held));
        // Approved later and ended partial: a different ending, told once too.
        assert!(notifier.first_time(RunId(7), RunStatus::Partial));
        assert!(!notifier.first_time(RunId(7), RunStatus::Partial));
    }

    #[test]
    fn a_login_run_that_is_held_is_a_refused_login_unless_only_held_runs_are_wanted() {
        let all = NotifyOn::ALL;
        let d = |wanted: &[NotifyOn], trigger, status, refused| {
            decide(wanted, trigger, status, refused)
        };
        assert_eq!(
            d(&all, RunTrigger::Login, RunStatus::Held, false),
            Some(NotifyOn::LoginRefused)
        );
        assert_eq!(
            d(&[NotifyOn::Held], RunTrigger::Login, RunStatus::Held, false),
            Some(NotifyOn::Held)
        );
        assert_eq!(
            d(&all, RunTrigger::Event, RunStatus::Succeeded, true),
            Some(NotifyOn::LoginRefused)
        );
        assert_eq!(
            d(&all, RunTrigger::Scheduled, RunStatus::Succeeded, false),
            None
        );
        assert_eq!(
            d(&all, RunTrigger::Manual, RunStatus::Partial, false),
            Some(NotifyOn::Partial)
        );
        assert_eq!(d(&[], RunTrigger::Manual, RunStatus::Failed, false), None);
    }
}
