//! Turning a stored app into live connections: its secrets are resolved from the
//! store only here, at the moment a client is built, and never kept elsewhere.

use std::sync::Arc;

use anyhow::Context as _;
use url::Url;
use usersync_atlassian::confluence::{ConfluenceClient, ConfluenceConfig};
use usersync_atlassian::crowd::{CrowdClient, CrowdConfig};
use usersync_atlassian::http::{AtlassianAuth, HttpSettings};
use usersync_atlassian::jira::{JiraClient, JiraConfig};
use usersync_atlassian::scim::{ScimClient, ScimConfig, ScimProfile};
use usersync_atlassian::{Ability, Capabilities, Capability, Target};
use usersync_core::app::labels::describe as setting;
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
    /// The Okta org and credential, for sharing one read among apps (`shared_read`).
    pub okta_identity: super::shared_read::OktaIdentity,
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
        TargetConstraints::for_kind(self.kind)
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
    let okta_auth = okta_auth(store, app, Vec::new()).await?;
    let target_auth = match &app.target.credential {
        TargetCredential::Pat { .. } | TargetCredential::Bearer { .. } => {
            AtlassianAuth::Bearer(secret(store, app, SecretSlot::TargetToken).await?)
        }
        // A Crowd application signs in with HTTP basic auth too, its name as the user.
        TargetCredential::Basic { username: name, .. }
        | TargetCredential::Application { name, .. } => AtlassianAuth::Basic {
            username: name.clone(),
            password: secret(store, app, SecretSlot::TargetPassword).await?,
        },
    };
    let user_server = match &app.target.user_server {
        Some(server) => Some(AtlassianAuth::Basic {
            username: server.name.clone(),
            password: secret(store, app, SecretSlot::UserServerPassword).await?,
        }),
        None => None,
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
            user_server,
        },
    )
}

/// The app's Okta credential with its secret resolved; a service app asks for
/// `scopes` (the read scopes when empty).
///
/// # Errors
/// A secret that cannot be resolved.
pub async fn okta_auth(store: &Store, app: &App, scopes: Vec<String>) -> anyhow::Result<OktaAuth> {
    Ok(match &app.okta.credential {
        OktaCredential::ApiToken { .. } => {
            OktaAuth::ApiToken(secret(store, app, SecretSlot::OktaApiToken).await?)
        }
        OktaCredential::OAuth {
            client_id, key_id, ..
        } => OktaAuth::ServiceApp {
            client_id: client_id.clone(),
            private_key_pem: secret(store, app, SecretSlot::OktaPrivateKey).await?,
            key_id: key_id.clone(),
            scopes,
        },
    })
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
    /// Jira's user-server application (`target.user_server`), secret resolved.
    pub user_server: Option<AtlassianAuth>,
}

/// Builds the clients of the app named `name`; sends nothing.
pub(crate) fn build(deps: &Deps, name: &str, to: Endpoints<'_>) -> anyhow::Result<Connections> {
    let in_flight = deps.apply_concurrency.max(1);
    let okta_identity = super::shared_read::OktaIdentity::new(to.okta_url, &to.okta_auth);
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
                user_server: to.user_server,
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
        TargetKind::Scim | TargetKind::AtlassianCloud => {
            let profile = if to.kind == TargetKind::Scim {
                ScimProfile::Generic
            } else {
                ScimProfile::AtlassianCloud
            };
            Arc::new(
                ScimClient::new(ScimConfig {
                    concurrency: in_flight,
                    http,
                    ..ScimConfig::new(url, auth, profile)
                })
                .with_context(|| format!("app {name:?}: target settings"))?,
            )
        }
        TargetKind::Crowd => Arc::new(
            CrowdClient::new(CrowdConfig {
                concurrency: in_flight,
                http,
                ..CrowdConfig::new(url, auth)
            })
            .with_context(|| format!("app {name:?}: target settings"))?,
        ),
    };
    Ok(Connections {
        okta,
        target,
        kind: to.kind,
        okta_identity,
    })
}

pub(crate) async fn secret(
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
    pub why: String,
    /// How to do without it by changing a setting (`turn Import Users (...) off`), named
    /// by its console label; `None` when every sync needs it.
    pub instead: Option<String>,
}

/// What the target must be able to do for `policy`, each with the setting that needs it.
/// Renaming is not listed: it is only needed when an Okta login changes, and a target
/// that cannot rename fails just that operation, with the server's reason.
#[must_use]
pub fn needed_capabilities(policy: &SyncPolicy) -> Vec<Need> {
    use usersync_core::DepartedPolicy;
    let always = |capability, why: &str| Need {
        capability,
        why: why.to_owned(),
        instead: None,
    };
    // A toggle that needs an ability: "X is on", done without by turning it off.
    let toggle = |capability, path: &str| Need {
        capability,
        why: format!("{} is on", setting(path)),
        instead: Some(format!("turn {} off", setting(path))),
    };
    let departed = |capability, choice: &str| Need {
        capability,
        why: format!("{} is {choice}", setting("policy.departed")),
        instead: Some(format!("choose another {}", setting("policy.departed"))),
    };
    let mut needs = vec![
        always(
            Capability::ListUsers,
            "every sync reads the target's users and groups",
        ),
        always(
            Capability::CreateGroup,
            "groups from Okta are created in the target",
        ),
        always(
            Capability::ManageMembership,
            "group memberships mirror Okta",
        ),
    ];
    let toggles = policy.toggles;
    if toggles.import_users {
        needs.push(toggle(
            Capability::CreateUser,
            "policy.toggles.import_users",
        ));
    }
    if toggles.update_users {
        needs.push(toggle(
            Capability::UpdateUser,
            "policy.toggles.update_users",
        ));
    }
    if toggles.enable_disable_users {
        needs.push(toggle(
            Capability::SetActive,
            "policy.toggles.enable_disable_users",
        ));
    } else if policy.departed == DepartedPolicy::Deactivate {
        needs.push(departed(Capability::SetActive, "Deactivate"));
    }
    if policy.departed == DepartedPolicy::Delete {
        needs.push(departed(Capability::DeleteUser, "Delete"));
    }
    if policy.delete_groups {
        needs.push(toggle(Capability::DeleteGroup, "policy.delete_groups"));
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

/// What a missing ability takes: the release that adds it, or that none does.
#[must_use]
pub fn remedy(caps: &Capabilities, capability: Capability) -> String {
    match caps.ability(capability) {
        Ability::Missing {
            added_in: Some(release),
        } => format!("{release} adds it"),
        _ => format!("no {} release can", caps.kind.as_str()),
    }
}

/// The needs this server cannot meet, as one sentence, or `None` when all are met.
/// Each names what would fix it: upgrading to the release that adds it, or turning
/// off the setting that needs it (only settings that can be turned off are named).
#[must_use]
pub fn unmet(caps: &Capabilities, needs: &[Need]) -> Option<String> {
    let missing: Vec<String> = needs
        .iter()
        .filter(|n| !caps.supports(n.capability))
        .map(|n| {
            let mut fix = remedy(caps, n.capability);
            if let Some(instead) = &n.instead {
                fix.push_str(&format!(", or {instead}"));
            }
            format!("{} ({}; {fix})", describe(n.capability), n.why)
        })
        .collect();
    (!missing.is_empty()).then(|| {
        format!(
            "{} {} cannot {}",
            caps.kind.as_str(),
            caps.version,
            missing.join(", nor ")
        )
    })
}

#[cfg(test)]
mod tests {
    use usersync_atlassian::{Ability, TargetKind};

    use super::*;

    fn caps(list_users: Ability, set_active: Ability) -> Capabilities {
        Capabilities {
            kind: TargetKind::Confluence,
            version: "8.1.0".into(),
            list_users,
            create_user: Ability::REST,
            update_user: Ability::JSON_RPC,
            set_active,
            rename_user: Ability::NEVER,
            delete_user: Ability::REST,
            create_group: Ability::JSON_RPC,
            delete_group: Ability::JSON_RPC,
            manage_membership: Ability::JSON_RPC,
        }
    }

    #[test]
    fn abilities_through_json_rpc_meet_the_default_settings() {
        let all = caps(Ability::JSON_RPC, Ability::JSON_RPC);
        assert_eq!(
            unmet(&all, &needed_capabilities(&SyncPolicy::default())),
            None
        );
    }

    #[test]
    fn an_unmet_need_names_the_release_that_adds_it_and_only_a_setting_that_can_be_turned_off() {
        let lacking = caps(
            Ability::added_in("Confluence 8.4"),
            Ability::added_in("Confluence 8.2"),
        );
        let text = unmet(&lacking, &needed_capabilities(&SyncPolicy::default())).unwrap();
        assert_eq!(
            text,
            "confluence 8.1.0 cannot list users, groups and memberships (every sync reads the \
             target's users and groups; Confluence 8.4 adds it), nor activate and deactivate \
             users (Enable/Disable Users (Actions) is on; Confluence 8.2 adds it, or turn \
             Enable/Disable Users (Actions) off)"
        );
    }

    #[test]
    fn a_need_no_release_meets_says_so() {
        let never = caps(Ability::NEVER, Ability::REST);
        let text = unmet(&never, &needed_capabilities(&SyncPolicy::default())).unwrap();
        assert!(text.contains("no confluence release can"), "{text}");
        assert!(!text.contains("turn"), "{text}");
    }
}
