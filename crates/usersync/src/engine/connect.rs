//! Turning a stored app into live connections: its secrets are resolved from the
//! store only here, at the moment a client is built, and never kept elsewhere.

use std::sync::Arc;

use anyhow::Context as _;
use url::Url;
use usersync_atlassian::confluence::{ConfluenceClient, ConfluenceConfig};
use usersync_atlassian::http::{AtlassianAuth, HttpSettings};
use usersync_atlassian::jira::{JiraClient, JiraConfig};
use usersync_atlassian::{Capabilities, Capability, Target};
use usersync_core::{FieldProblem, SyncPolicy, TargetConstraints};
use usersync_okta::{OktaAuth, OktaClient, OktaConfig};
use usersync_store::{App, OktaCredential, SecretSlot, Store, TargetCredential, TargetKind};
use usersync_tls::{CaBundle, TrustRoots};

use super::Deps;

/// The two clients one run of an app uses.
#[derive(Clone)]
pub struct Connections {
    pub okta: OktaClient,
    pub target: Arc<dyn Target>,
    pub kind: TargetKind,
}

impl std::fmt::Debug for Connections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connections")
            .field("okta", &self.okta)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl Connections {
    /// The username rules of the target product.
    #[must_use]
    pub fn constraints(&self) -> TargetConstraints {
        match self.kind {
            TargetKind::Jira => TargetConstraints::jira(),
            TargetKind::Confluence => TargetConstraints::confluence(),
        }
    }
}

/// Builds the Okta client and the target of `app`, resolving its secrets.
///
/// The target client keeps as many requests in flight as the engine applies lanes
/// at once (`Deps::apply_concurrency`): fewer would leave lanes waiting on each
/// other's requests, and neither Jira nor Confluence publishes a limit to respect.
///
/// # Errors
/// A secret that cannot be resolved (missing env variable or file) or a setting a
/// client refuses; the message names the field.
pub async fn connect(deps: &Deps, app: &App) -> anyhow::Result<Connections> {
    let store = &deps.store;
    let okta_auth = match &app.okta.credential {
        OktaCredential::ApiToken { .. } => {
            OktaAuth::ApiToken(secret(store, app, SecretSlot::OktaApiToken).await?)
        }
        OktaCredential::OAuth {
            client_id, key_id, ..
        } => OktaAuth::ServiceApp {
            client_id: client_id.clone(),
            private_key_pem: secret(store, app, SecretSlot::OktaPrivateKey).await?,
            key_id: key_id.clone(),
            scopes: Vec::new(),
        },
    };
    let target_auth = match &app.target.credential {
        TargetCredential::Pat { .. } => {
            AtlassianAuth::Bearer(secret(store, app, SecretSlot::TargetToken).await?)
        }
        TargetCredential::Basic { username, .. } => AtlassianAuth::Basic {
            username: username.clone(),
            password: secret(store, app, SecretSlot::TargetPassword).await?,
        },
    };
    let trust = |field, ca_file: &Option<String>| {
        side_trust(deps, field, ca_file.as_deref())
            .map_err(|p| anyhow::anyhow!("app {:?}: {p}", app.name))
    };
    build(
        deps,
        &app.name,
        Endpoints {
            okta_url: &app.okta.url,
            okta_auth,
            okta_trust: trust("okta.ca_file", &app.okta.ca_file)?,
            kind: app.target.kind,
            target_url: &app.target.url,
            target_auth,
            target_trust: trust("target.ca_file", &app.target.ca_file)?,
        },
    )
}

/// What one side's client trusts besides the built-in roots: the global `--ca-file`
/// (`Deps::trust`) and the side's own `ca_file`, loaded now so a file changed since it
/// was saved is read as it is.
///
/// # Errors
/// A [`FieldProblem`] on `field` saying what is wrong with the file.
pub(crate) fn side_trust(
    deps: &Deps,
    field: &str,
    ca_file: Option<&str>,
) -> Result<TrustRoots, FieldProblem> {
    match ca_file {
        None => Ok(deps.trust.clone()),
        Some(path) => CaBundle::load(std::path::Path::new(path))
            .map(|bundle| deps.trust.clone().with(bundle))
            .map_err(|e| FieldProblem::new(field, e.to_string())),
    }
}

/// Where an app connects and with which credentials, secrets resolved.
pub(crate) struct Endpoints<'a> {
    pub okta_url: &'a Url,
    pub okta_auth: OktaAuth,
    pub okta_trust: TrustRoots,
    pub kind: TargetKind,
    pub target_url: &'a Url,
    pub target_auth: AtlassianAuth,
    pub target_trust: TrustRoots,
}

/// Builds the clients of the app named `name`; sends nothing.
pub(crate) fn build(deps: &Deps, name: &str, to: Endpoints<'_>) -> anyhow::Result<Connections> {
    let in_flight = deps.apply_concurrency.max(1);
    let okta = OktaClient::new(&OktaConfig {
        trust: to.okta_trust,
        ..OktaConfig::new(to.okta_url.as_str(), to.okta_auth)
    })
    .with_context(|| format!("app {name:?}: okta settings"))?;
    let (url, auth) = (to.target_url.as_str(), to.target_auth);
    let http = HttpSettings {
        trust: to.target_trust,
        ..HttpSettings::default()
    };
    let target: Arc<dyn Target> = match to.kind {
        TargetKind::Jira => Arc::new(
            JiraClient::new(JiraConfig {
                concurrency: in_flight,
                http,
                ..JiraConfig::new(url, auth)
            })
            .with_context(|| format!("app {name:?}: target settings"))?,
        ),
        TargetKind::Confluence => Arc::new(
            ConfluenceClient::new(ConfluenceConfig {
                concurrency: in_flight,
                http,
                ..ConfluenceConfig::new(url, auth)
            })
            .with_context(|| format!("app {name:?}: target settings"))?,
        ),
    };
    Ok(Connections {
        okta,
        target,
        kind: to.kind,
    })
}

async fn secret(
    store: &Store,
    app: &App,
    slot: SecretSlot,
) -> anyhow::Result<secrecy::SecretString> {
    store
        .resolve_secret(app, slot)
        .await
        .with_context(|| format!("app {:?}: resolving {}", app.name, slot.field()))
}

/// A capability the app's policy needs, and why, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    pub capability: Capability,
    pub why: &'static str,
}

/// What the target must be able to do for `policy`, each with the setting that needs it.
/// Renaming is not listed: it is only needed when an Okta login changes, and a target
/// that cannot rename fails just that operation, with the server's reason.
#[must_use]
pub fn needed_capabilities(policy: &SyncPolicy) -> Vec<Need> {
    use usersync_core::DepartedPolicy;
    let mut needs = vec![
        Need {
            capability: Capability::ListUsers,
            why: "every sync reads the target's users and groups",
        },
        Need {
            capability: Capability::CreateGroup,
            why: "groups from Okta are created in the target",
        },
        Need {
            capability: Capability::ManageMembership,
            why: "group memberships mirror Okta",
        },
    ];
    let toggles = policy.toggles;
    if toggles.import_users {
        needs.push(Need {
            capability: Capability::CreateUser,
            why: "Import Users is on",
        });
    }
    if toggles.update_users {
        needs.push(Need {
            capability: Capability::UpdateUser,
            why: "Update Users is on",
        });
    }
    if toggles.enable_disable_users {
        needs.push(Need {
            capability: Capability::SetActive,
            why: "Enable/Disable Users is on",
        });
    } else if policy.departed == DepartedPolicy::Deactivate {
        needs.push(Need {
            capability: Capability::SetActive,
            why: "departed users are deactivated (departed = deactivate)",
        });
    }
    if policy.departed == DepartedPolicy::Delete {
        needs.push(Need {
            capability: Capability::DeleteUser,
            why: "departed users are deleted (departed = delete)",
        });
    }
    if policy.delete_groups {
        needs.push(Need {
            capability: Capability::DeleteGroup,
            why: "delete_groups is on",
        });
    }
    needs
}

/// A capability in words, for messages.
#[must_use]
pub fn describe(capability: Capability) -> &'static str {
    match capability {
        Capability::ListUsers => "list users, groups and memberships",
        Capability::CreateUser => "create users",
        Capability::UpdateUser => "update users' display names and e-mail addresses",
        Capability::SetActive => "activate and deactivate users",
        Capability::RenameUser => "rename users",
        Capability::DeleteUser => "delete users",
        Capability::CreateGroup => "create groups",
        Capability::DeleteGroup => "delete groups",
        Capability::ManageMembership => "add and remove group members",
    }
}

/// The needs this server cannot meet, as one sentence, or `None` when all are met.
#[must_use]
pub fn unmet(caps: &Capabilities, needs: &[Need]) -> Option<String> {
    let missing: Vec<String> = needs
        .iter()
        .filter(|n| !caps.supports(n.capability))
        .map(|n| format!("{} ({})", describe(n.capability), n.why))
        .collect();
    (!missing.is_empty()).then(|| {
        format!(
            "{} {} cannot {} through REST; upgrade the server or turn those settings off",
            caps.kind.as_str(),
            caps.version,
            missing.join(", nor ")
        )
    })
}
