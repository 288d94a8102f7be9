//! Registering an app's event hook in Okta, for the console's "Register in Okta" and
//! `usersync hook register`: the hook points at `{public_url}/hooks/okta/{app}`,
//! carries the app's shared secret in `Authorization`, subscribes to the app's event
//! types, and is verified by Okta calling that URL. The id Okta gives the hook is kept
//! (a checkpoint), so registering again updates the same hook.
//!
//! This changes Okta's configuration, never a target: it has nothing to plan or guard.

use anyhow::Context as _;
use serde::Serialize;
use url::Url;
use usersync_okta::{
    DEFAULT_SCOPES, EVENT_HOOKS_SCOPE, EventHookSpec, HookChange, OktaClient, OktaConfig,
    Verification,
};
use usersync_store::checkpoints::EVENT_HOOK_ID;
use usersync_store::{App, SecretSlot, SecretState};

use super::Deps;
use super::connect::{okta_auth, secret};

/// What registering did, for the console and the command line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HookReport {
    /// The URL Okta calls.
    pub url: String,
    /// Okta's id of the hook.
    pub hook_id: String,
    /// `created` or `updated`.
    pub change: &'static str,
    pub verified: bool,
    /// Why Okta could not verify the hook, when it could not.
    pub problem: Option<String>,
}

impl HookReport {
    /// One line for people.
    #[must_use]
    pub fn text(&self) -> String {
        let what = format!(
            "Event hook {} in Okta ({}) for {}",
            self.change, self.hook_id, self.url
        );
        match &self.problem {
            None => format!("{what}: verified; Okta now calls usersync on each event."),
            Some(problem) => format!(
                "{what}, but Okta could not verify it, so it delivers nothing yet: {problem}"
            ),
        }
    }
}

/// The URL Okta should call for `app` when usersync is reached at `public_url`.
///
/// # Errors
/// A public URL that is not an absolute http(s) URL.
pub fn hook_url(public_url: &str, app: &str) -> anyhow::Result<Url> {
    let base = Url::parse(public_url.trim()).with_context(|| {
        format!(
            "the public URL {public_url:?} is not a URL; give it like https://usersync.example.com"
        )
    })?;
    anyhow::ensure!(
        matches!(base.scheme(), "https" | "http") && base.host().is_some(),
        "the public URL {public_url:?} must be an https:// address Okta can reach"
    );
    let path = format!(
        "{}/hooks/okta/{}",
        base.path().trim_end_matches('/'),
        urlencoding::encode(app)
    );
    let mut url = base;
    url.set_path(&path);
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

/// Creates or updates `app`'s event hook in Okta and asks Okta to verify it; the
/// audit log records that `actor` did, with the outcome.
///
/// # Errors
/// The app's login-time sync being off, without a secret or without event types
/// (saying how to fix it), an unresolvable credential, or Okta refusing (naming the
/// permission to grant).
pub async fn register_hook(
    deps: &Deps,
    app: &App,
    public_url: &str,
    actor: &str,
) -> anyhow::Result<HookReport> {
    anyhow::ensure!(
        app.events.hook_enabled,
        "app {:?}: login-time sync is off; turn on \"{}\" (events.hook_enabled) and save first, or Okta's verification is refused",
        app.name,
        usersync_core::app::labels::label("events.hook_enabled")
    );
    anyhow::ensure!(
        !matches!(app.events.hook_secret, SecretState::Unset),
        "app {:?}: there is no shared secret yet; press \"Generate secret\" in the console's Login-time sync section (or set events.hook_secret) first",
        app.name
    );
    anyhow::ensure!(
        !app.events.event_types.is_empty(),
        "app {:?}: no event type is chosen; tick at least one under \"{}\" (events.event_types)",
        app.name,
        usersync_core::app::labels::label("events.event_types")
    );
    let url = hook_url(public_url, &app.name)?;
    let store = &deps.store;
    let mut scopes: Vec<String> = DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect();
    scopes.push(EVENT_HOOKS_SCOPE.to_owned());
    let auth = okta_auth(store, app, scopes).await?;
    let okta = OktaClient::new(&OktaConfig::new(app.okta.url.as_str(), auth))
        .with_context(|| format!("app {:?}: okta settings", app.name))?;
    let spec = EventHookSpec {
        name: format!("usersync: {}", app.name),
        uri: url.to_string(),
        event_types: app.events.event_types.clone(),
        secret: secret(store, app, SecretSlot::HookSecret).await?,
        headers: Vec::new(),
    };
    let known = store.checkpoint(app.id, EVENT_HOOK_ID).await?;
    let registered = okta
        .register_event_hook(&spec, known.as_deref())
        .await
        .with_context(|| format!("app {:?}: registering the event hook in Okta", app.name))?;
    store
        .set_checkpoint(app.id, EVENT_HOOK_ID, &registered.hook.id)
        .await?;
    let problem = match registered.verification {
        Verification::Verified => None,
        Verification::Failed(reason) => Some(reason),
    };
    let fields = [
        format!("hook {}", registered.hook.id),
        format!("url {}", spec.uri),
        if problem.is_none() {
            "verified"
        } else {
            "not verified"
        }
        .to_owned(),
    ];
    if let Err(e) = store
        .record_audit(actor, Some(app.id), "okta.event_hook.register", &fields)
        .await
    {
        tracing::warn!(
            "could not record the event hook registration of app {:?}: {e}",
            app.name
        );
    }
    Ok(HookReport {
        url: spec.uri,
        hook_id: registered.hook.id,
        change: match registered.change {
            HookChange::Created => "created",
            HookChange::Updated => "updated",
        },
        verified: problem.is_none(),
        problem,
    })
}
