//! The settings page's Login-time sync section: the hook URL (from `--public-url`, or
//! derived from the request and said so), Generate secret (stored sealed, shown once,
//! afterwards only "set"), and Register in Okta against the Okta emulator, whose
//! verification reaches a real `usersync serve` server on loopback.

use axum::http::StatusCode;
use secrecy::ExposeSecret as _;
use tokio_util::sync::CancellationToken;
use usersync_store::{SecretSlot, Store};
use usersync_testkit::{Sims, small_org};

use super::{Browser, Harness, Reply, get, post};
use crate::engine::Deps;
use crate::serve::{ServeArgs, Server, TriggersConfig};

/// The secret the app is created with (login-time sync on needs one).
const INITIAL: &str = "initial-hook-secret";

struct World {
    h: Harness,
    b: Browser,
    sims: Sims,
    /// Where the server that answers Okta's hook calls listens.
    served: String,
    stop: CancellationToken,
}

impl World {
    /// An app against the emulators with login-time sync on (`hook_enabled`), a server
    /// over the same store answering the hook, and the console knowing its public URL.
    async fn new(hook_enabled: bool) -> Self {
        let sims = Sims::start(small_org(5, 1, 3)).await;
        let store = Store::open_in_memory().await.expect("store");
        let toml = sims
            .app("jira")
            .section(&format!(
                "[app.events]\nhook_enabled = {hook_enabled}\nhook_secret = \"{INITIAL}\"\n"
            ))
            .to_string();
        usersync_testkit::apply_apps(&store, &toml, "tests").await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let served = format!("http://{}", listener.local_addr().unwrap());
        let server = Server::from_listener(
            Deps::new(store.clone()),
            listener,
            &ServeArgs::default(),
            TriggersConfig::default(),
        )
        .expect("a server");
        let stop = CancellationToken::new();
        let stopped = stop.clone();
        tokio::spawn(server.run_until_stopped(async move { stopped.cancelled().await }));
        let h = Harness::over(store).with(|state| state.public_url = Some(served.parse().unwrap()));
        let b = h.admin().await;
        Self {
            h,
            b,
            sims,
            served,
            stop,
        }
    }

    async fn press(&self, action: &str) -> Reply {
        self.h
            .call(
                post(&format!("/apps/jira/{action}"))
                    .cookie(&self.b.cookie)
                    .form(&[("csrf", &self.b.csrf)]),
            )
            .await
    }
}

/// The secret in the "shown once" notice.
fn shown_secret(body: &str) -> Option<String> {
    let notice = body.split("id=\"new-hook-secret\"").nth(1)?;
    let pre = notice.split("<pre class=\"mono\">").nth(1)?;
    Some(pre.split("</pre>").next()?.trim().to_owned())
}

#[tokio::test]
async fn a_generated_secret_is_stored_sealed_shown_once_and_afterwards_the_page_only_says_set() {
    let w = World::new(true).await;
    let page = w.h.call(get("/apps/jira").cookie(&w.b.cookie)).await;
    assert!(
        page.body
            .contains("data-secret-state=\"events.hook_secret\">set<"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains(&format!("value=\"{}/hooks/okta/jira\"", w.served))
    );
    assert!(page.body.contains("require an <strong>HTTPS</strong> URL"));

    let generated = w.press("hook-secret").await;
    assert_eq!(generated.status, StatusCode::OK, "{}", generated.body);
    assert_eq!(generated.headers["cache-control"], "no-store");
    let secret = shown_secret(&generated.body).expect("the secret is shown");
    assert!(
        secret.len() >= 43
            && secret
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
        "{secret}"
    );
    let app = w.h.store.app_by_name("jira").await.unwrap();
    let stored =
        w.h.store
            .resolve_secret(&app, SecretSlot::HookSecret)
            .await
            .unwrap();
    assert_eq!(stored.expose_secret(), secret);

    let later = w.h.call(get("/apps/jira").cookie(&w.b.cookie)).await;
    assert!(!later.body.contains(&secret), "shown only once");
    assert!(
        later
            .body
            .contains("data-secret-state=\"events.hook_secret\">set<")
    );
    let again = shown_secret(&w.press("hook-secret").await.body).unwrap();
    assert_ne!(again, secret, "each press makes a new secret");
    assert_ne!(secret, INITIAL);
    w.stop.cancel();
}

#[tokio::test]
async fn without_a_public_url_the_hook_url_is_derived_from_the_request_and_the_page_says_so() {
    let h = Harness::new().await;
    let b = h.admin().await;
    let page = h
        .call(
            get("/new-app")
                .cookie(&b.cookie)
                .header("host", "usersync.internal:8443"),
        )
        .await;
    assert!(
        page.body
            .contains("value=\"http://usersync.internal:8443/hooks/okta/APP\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("Derived from this request") && page.body.contains("--public-url"));
    assert!(
        page.body
            .contains("This address is not HTTPS: Okta will refuse it")
    );
}

#[tokio::test]
async fn register_in_okta_creates_then_updates_the_hook_and_shows_it_verified() {
    let w = World::new(true).await;
    let secret = shown_secret(&w.press("hook-secret").await.body).unwrap();

    let first = w.press("hook-register").await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert!(
        first.body.contains("Event hook created in Okta") && first.body.contains(": verified;"),
        "{}",
        first.body
    );
    let hooks = w.sims.okta.event_hooks();
    assert_eq!(hooks.len(), 1);
    assert_eq!(hooks[0].uri, format!("{}/hooks/okta/jira", w.served));
    assert_eq!(hooks[0].auth, Some(("Authorization".to_owned(), secret)));
    let app = w.h.store.app_by_name("jira").await.unwrap();
    assert_eq!(hooks[0].event_types, app.events.event_types);
    assert!(hooks[0].active && hooks[0].verified);

    let audit =
        w.h.store
            .audit_log(&usersync_store::AuditFilter::default(), 10)
            .await
            .unwrap();
    let entry = audit
        .iter()
        .find(|e| e.action == "okta.event_hook.register")
        .expect("the registration is audited");
    assert_eq!(entry.actor, super::ADMIN);
    assert!(
        entry.fields.iter().any(|f| f == "verified"),
        "{:?}",
        entry.fields
    );

    let second = w.press("hook-register").await;
    assert!(
        second.body.contains("Event hook updated in Okta"),
        "{}",
        second.body
    );
    assert_eq!(w.sims.okta.event_hooks().len(), 1);
    w.stop.cancel();
}

#[tokio::test]
async fn register_in_okta_says_to_turn_login_time_sync_on_first_and_a_secret_is_needed_to_turn_it_on()
 {
    let w = World::new(false).await;
    let off = w.press("hook-register").await;
    assert!(
        off.body.contains("Not registered") && off.body.contains("login-time sync is off"),
        "{}",
        off.body
    );
    assert!(w.sims.okta.event_hooks().is_empty());

    let fresh = Harness::new().await;
    let toml = w
        .sims
        .app("other")
        .section("[app.events]\nhook_enabled = true\n")
        .to_string();
    let refused = fresh
        .store
        .apply_apps(usersync_store::apps_from_toml(&toml).unwrap(), "tests")
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("press Generate secret"),
        "{refused}"
    );
    w.stop.cancel();
}

#[tokio::test]
async fn register_in_okta_refused_by_okta_names_the_permission_the_api_token_lacks() {
    let w = World::new(true).await;
    // As Okta answers an API token whose administrator may not manage event hooks.
    w.sims.okta.faults().update(|f| {
        f.path_faults.push(usersync_sim::faults::PathFault {
            path_contains: "/api/v1/eventHooks".into(),
            status: 403,
            remaining: None,
        });
    });
    let refused = w.press("hook-register").await;
    assert_eq!(refused.status, StatusCode::OK);
    let text = super::form::unescape(&refused.body);
    assert!(
        text.contains("Not registered") && text.contains("E0000006"),
        "{text}"
    );
    assert!(
        text.contains("an administrator whose role may manage event hooks"),
        "{text}"
    );
    assert!(w.sims.okta.event_hooks().is_empty());
    w.stop.cancel();
}
