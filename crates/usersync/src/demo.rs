//! `usersync demo`: everything a newcomer needs to see usersync work, in one command
//! and with nothing installed or configured. It starts the Okta emulator with a
//! generated org (a few hundred users of mixed statuses, a few dozen groups), the Jira
//! emulator, and `usersync serve` (console, hook endpoint, scheduler) over a store in
//! a temporary directory, with one app already configured against the emulators and
//! an administrator whose generated password it prints. It registers and verifies an
//! event hook in the emulated Okta pointing at the console, so a change made in Okta
//! reaches Jira within a second or two; and it prints what to try.
//!
//! The emulators come from `usersync-sim`, which only the `demo` cargo feature (on by
//! default) brings in: a build with `--no-default-features` has no demo and no
//! emulator code. The server is composed by [`crate::serve`], as `usersync serve` is.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use rand::Rng as _;
use rand::distr::Alphanumeric;
use secrecy::{ExposeSecret as _, SecretString};
use tempfile::TempDir;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use usersync_core::OktaStatus;
use usersync_sim::jira::{JiraSim, JiraSimConfig};
use usersync_sim::okta::{OktaSim, OktaSimConfig, OrgSpec};
use usersync_store::{Store, apps_from_toml};

use crate::engine::Deps;
use crate::events::HANDLED_EVENTS;
use crate::serve::{ServeArgs, Server, TriggersConfig};

/// The demo's app.
pub const APP: &str = "jira";
/// The demo's administrator.
pub const ADMIN: &str = "admin";

/// `usersync demo` options.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Where the console listens (when 8080 is taken, a free port is used instead).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Users in the generated Okta org.
    #[arg(long, default_value_t = 300)]
    pub users: usize,
    /// Groups in the generated Okta org.
    #[arg(long, default_value_t = 30)]
    pub groups: usize,
    /// Start, print what to try, and stop at once (for scripts and tests).
    #[arg(long)]
    pub exit_after_ready: bool,
}

impl Default for Args {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            users: 300,
            groups: 30,
            exit_after_ready: false,
        }
    }
}

/// A running demo; [`Demo::stop`] ends it and removes its data.
pub struct Demo {
    pub console_url: String,
    pub admin_password: SecretString,
    pub okta: OktaSim,
    pub jira: JiraSim,
    pub store: Store,
    shutdown: CancellationToken,
    server: JoinHandle<anyhow::Result<()>>,
    _data: TempDir,
}

impl std::fmt::Debug for Demo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Demo")
            .field("console_url", &self.console_url)
            .finish_non_exhaustive()
    }
}

fn random_text(len: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// The demo app: the emulators, the username regex of the product page, the hook on.
fn app_toml(okta: &OktaSim, jira: &JiraSim, hook_secret: &str) -> String {
    let events: Vec<String> = HANDLED_EVENTS.iter().map(|t| format!("{t:?}")).collect();
    format!(
        r#"
[[app]]
name = "{APP}"
schedule = {{ every_minutes = 60 }}

[app.okta]
url = "{okta_url}"
credential = {{ type = "api_token", token = "{okta_token}" }}

[app.target]
kind = "jira"
url = "{jira_url}"
credential = {{ type = "pat", token = "{jira_pat}" }}

[app.policy]
default_groups_new_users = ["jira-software-users"]

[app.policy.username]
regex = '^([^@]+)@example\.com$'
replacement = "$1"

[app.events]
hook_enabled = true
hook_secret = "{hook_secret}"
event_types = [{events}]
"#,
        okta_url = okta.base_url(),
        okta_token = okta.api_token(),
        jira_url = jira.base_url(),
        jira_pat = jira.pat(),
        events = events.join(", "),
    )
}

/// Binds `listen`, or a free port on the same address when it is taken.
async fn bind(listen: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    match tokio::net::TcpListener::bind(listen).await {
        Ok(listener) => Ok(listener),
        Err(e) => {
            tracing::info!("{listen} is not free ({e}); the console takes another port");
            let any = SocketAddr::new(listen.ip(), 0);
            tokio::net::TcpListener::bind(any)
                .await
                .with_context(|| format!("could not listen on {any}"))
        }
    }
}

impl Demo {
    /// Starts everything and wires the event hook; returns once the console answers.
    ///
    /// # Errors
    /// When a port cannot be bound or a step of the set-up fails (naming it).
    pub async fn start(args: &Args) -> anyhow::Result<Demo> {
        let org = OrgSpec {
            users: args.users,
            groups: args.groups,
            seed: 2026,
            ..OrgSpec::default()
        };
        let okta = OktaSim::start(OktaSimConfig {
            org: Some(org),
            ..OktaSimConfig::default()
        })
        .await
        .context("starting the Okta emulator")?;
        let jira = JiraSim::start(JiraSimConfig::default())
            .await
            .context("starting the Jira emulator")?;
        let data =
            TempDir::with_prefix("usersync-demo-").context("creating a temporary directory")?;
        let store = Store::open(data.path())
            .await
            .context("opening the demo's store")?;
        let hook_secret = random_text(32);
        let drafts = apps_from_toml(&app_toml(&okta, &jira, &hook_secret))?;
        store
            .apply_apps(drafts, "demo")
            .await
            .context("configuring the demo app")?;
        let admin_password = SecretString::from(random_text(20));
        let backend = crate::web::Backend::new(Deps::new(store.clone()));
        crate::web::auth::accounts::create_admin_with(
            &backend,
            ADMIN,
            admin_password.clone(),
            "demo",
        )
        .await
        .context("creating the demo's administrator")?;

        let listener = bind(args.listen).await?;
        let server = Server::from_listener(
            Deps::new(store.clone()),
            listener,
            &ServeArgs::default(),
            TriggersConfig::default(),
        )?;
        let console_url = format!("http://{}:{}", args.listen.ip(), server.port());
        let shutdown = CancellationToken::new();
        let stop = shutdown.clone();
        let server = tokio::spawn(server.run_until_stopped(async move { stop.cancelled().await }));
        let demo = Demo {
            console_url,
            admin_password,
            okta,
            jira,
            store,
            shutdown,
            server,
            _data: data,
        };
        demo.wait_until_ready().await?;
        demo.wire_hook().await?;
        Ok(demo)
    }

    async fn wait_until_ready(&self) -> anyhow::Result<()> {
        let url = format!("{}/healthz", self.console_url);
        for _ in 0..100 {
            if reqwest::get(&url)
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        anyhow::bail!(
            "the console at {} did not answer within 5 seconds",
            self.console_url
        )
    }

    /// Registers the event hook in the emulated Okta and has it verified (the emulator
    /// calls the console's hook endpoint, as Okta would), as `usersync hook register`
    /// does. The emulator accepts plain HTTP on loopback; real Okta needs HTTPS.
    async fn wire_hook(&self) -> anyhow::Result<()> {
        let app = self.store.app_by_name(APP).await?;
        let report = crate::engine::hook::register_hook(
            &Deps::new(self.store.clone()),
            &app,
            &self.console_url,
            "demo",
        )
        .await?;
        anyhow::ensure!(report.verified, "{}", report.text());
        Ok(())
    }

    /// What to print: where everything is and a few things to try.
    #[must_use]
    pub fn instructions(&self) -> String {
        let okta = self.okta.base_url();
        let token = self.okta.api_token();
        let jira = self.jira.base_url();
        let snapshot = self.okta.snapshot();
        let active = snapshot
            .users
            .iter()
            .filter(|u| u.status == OktaStatus::Active);
        let (login, first) = active
            .map(|u| {
                let first = u.profile.get("firstName").unwrap_or_default().to_owned();
                (u.login.clone(), first)
            })
            .next()
            .unwrap_or_else(|| ("someone@example.com".into(), "Some".into()));
        let username = login.split('@').next().unwrap_or(&login).to_owned();
        format!(
            r#"
usersync demo is running.

  Console      {console}
  Sign in as   {ADMIN} / {password}

  Okta (emulated)   {okta}   API token {token}   {users} users, {groups} groups
  Jira (emulated)   {jira}   admin / admin

Things to try:
  1. Sign in and open the app "{APP}". Press Preview: what a sync would change, each row with its rule.
  2. Press Synchronize and watch it run; open the run under Runs to see every operation.
  3. Change someone in Okta and watch it reach Jira within a second or two (Okta's event
     hook calls usersync, which syncs just that user):
       curl -s -X POST {okta}/api/v1/users/{login} \
         -H 'Authorization: SSWS {token}' -H 'Content-Type: application/json' \
         -d '{{"profile": {{"lastName": "Changed", "displayName": "{first} Changed"}}}}'
       curl -s -u admin:admin '{jira}/rest/api/2/user?username={username}'
  4. Add someone new to Okta; they appear in Jira without a full sync:
       curl -s -X POST '{okta}/api/v1/users?activate=true' \
         -H 'Authorization: SSWS {token}' -H 'Content-Type: application/json' \
         -d '{{"profile": {{"login": "new.person@example.com", "email": "new.person@example.com", "firstName": "New", "lastName": "Person"}}, "credentials": {{"password": {{"value": "Demo-Passw0rd-123"}}}}}}'
  5. Runs (in the console) lists the single-user syncs the events started.

Everything lives in a temporary directory and is gone when you stop. Ctrl-C stops.
"#,
            console = self.console_url,
            password = self.admin_password.expose_secret(),
            users = snapshot.users.len(),
            groups = snapshot.groups.len(),
        )
    }

    /// Stops the console and the emulators; the temporary data goes too.
    pub async fn stop(self) {
        self.shutdown.cancel();
        match self.server.await {
            Ok(Err(e)) => tracing::warn!("the console stopped with an error: {e:#}"),
            Err(e) => tracing::warn!("the console task failed: {e}"),
            Ok(Ok(())) => {}
        }
        self.store.close().await;
        self.okta.shutdown().await;
    }
}
