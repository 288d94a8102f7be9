//! Registering usersync's event hook in Okta through the Event Hooks API
//! (`/api/v1/eventHooks`): create it or update the one already there (found by the id
//! usersync remembered, else by name), make sure it is ACTIVE, and ask Okta to verify
//! it (`/lifecycle/verify`: Okta calls the hook's URI with a challenge it must echo).
//!
//! The hook authenticates to usersync with a HEADER `authScheme`: Okta sends the shared
//! secret verbatim in `Authorization` with every delivery. The secret is write-only in
//! Okta's API (never rendered back), so every update sends it again.
//!
//! Managing hooks needs more than reading users: the OAuth scope `okta.eventHooks.manage`
//! for a service app, or an API token created by an administrator whose role may manage
//! event hooks. A refusal says which.

use http::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::OktaError;
use crate::http::Request;
use crate::{CredentialKind, OktaClient};

/// The OAuth scope a service app needs to register event hooks.
pub const EVENT_HOOKS_SCOPE: &str = "okta.eventHooks.manage";

/// The hook usersync wants Okta to have.
pub struct EventHookSpec {
    /// The hook's name in Okta (how it is found again).
    pub name: String,
    /// Where Okta delivers: usersync's `/hooks/okta/{app}` endpoint. Okta requires HTTPS.
    pub uri: String,
    /// The event types the hook subscribes to (1 to 300).
    pub event_types: Vec<String>,
    /// Sent by Okta in the `Authorization` header of every delivery and the verification.
    pub secret: SecretString,
    /// Further headers Okta sends with every call (`channel.config.headers`), e.g. one a
    /// proxy in front of usersync asks for; usually none.
    pub headers: Vec<(String, String)>,
}

impl std::fmt::Debug for EventHookSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventHookSpec")
            .field("name", &self.name)
            .field("uri", &self.uri)
            .field("event_types", &self.event_types)
            .field(
                "headers",
                &self.headers.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// An event hook as Okta describes it (without its write-only secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventHook {
    pub id: String,
    pub name: String,
    pub uri: String,
    pub event_types: Vec<String>,
    /// `status` is `ACTIVE`.
    pub active: bool,
    /// `verificationStatus` is `VERIFIED`: only active, verified hooks get events.
    pub verified: bool,
}

/// Whether registering made a new hook or updated one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookChange {
    Created,
    Updated,
}

/// What Okta said when asked to verify the hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    Verified,
    /// Okta could not verify the hook: its reason, and what to check.
    Failed(String),
}

/// The outcome of [`OktaClient::register_event_hook`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookRegistration {
    pub change: HookChange,
    /// The hook after registering and verifying.
    pub hook: EventHook,
    pub verification: Verification,
}

/// Okta's `EventHook` object, only the fields usersync reads.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireHook {
    id: String,
    name: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    verification_status: String,
    #[serde(default)]
    events: WireEvents,
    #[serde(default)]
    channel: WireChannel,
}

#[derive(Debug, Default, Deserialize)]
struct WireEvents {
    #[serde(default)]
    items: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
struct WireChannel {
    #[serde(default)]
    config: WireConfig,
}

#[derive(Debug, Default, Deserialize)]
struct WireConfig {
    #[serde(default)]
    uri: String,
}

impl From<WireHook> for EventHook {
    fn from(w: WireHook) -> Self {
        Self {
            id: w.id,
            name: w.name,
            uri: w.channel.config.uri,
            event_types: w.events.items,
            active: w.status == "ACTIVE",
            verified: w.verification_status == "VERIFIED",
        }
    }
}

/// The body of a create or replace: Okta's documented shape, the secret as a HEADER scheme.
fn hook_body(spec: &EventHookSpec) -> Value {
    json!({
        "name": spec.name,
        "description": "usersync: syncs the user concerned when Okta reports a sign-in or a change",
        "events": {"type": "EVENT_TYPE", "items": spec.event_types, "filter": null},
        "channel": {"type": "HTTP", "version": "1.0.0", "config": {
            "uri": spec.uri,
            "headers": spec.headers.iter().map(|(k, v)| json!({"key": k, "value": v})).collect::<Vec<_>>(),
            "authScheme": {
                "type": "HEADER",
                "key": "Authorization",
                "value": spec.secret.expose_secret(),
            },
        }},
    })
}

impl OktaClient {
    /// Every event hook of the org.
    ///
    /// # Errors
    /// As any call; a 403 names the permission managing hooks needs.
    pub async fn event_hooks(&self) -> Result<Vec<EventHook>, OktaError> {
        let action = "list event hooks";
        let page = self
            .inner
            .get::<Vec<WireHook>>("/api/v1/eventHooks", action)
            .await
            .map_err(|e| self.hooks_error(e))?;
        Ok(page.items.into_iter().map(EventHook::from).collect())
    }

    /// Creates the hook `spec` describes, or updates the one with id `known_id` (when it
    /// still exists) or else the one named `spec.name`; activates it when it is inactive
    /// and asks Okta to verify it. A failed verification is a result, not an error: the
    /// hook is registered and can be verified again once its URI answers.
    ///
    /// # Errors
    /// Okta refusing a call (a 403 names the missing permission), or unreachable.
    pub async fn register_event_hook(
        &self,
        spec: &EventHookSpec,
        known_id: Option<&str>,
    ) -> Result<HookRegistration, OktaError> {
        let body = hook_body(spec);
        let existing = self.find_hook(&spec.name, known_id).await?;
        let (change, hook) = match existing {
            Some(id) => {
                let url = format!("/api/v1/eventHooks/{}", urlencoding::encode(&id));
                let hook = self
                    .hook_call(
                        Method::PUT,
                        &url,
                        Some(&body),
                        true,
                        "update the event hook",
                    )
                    .await?;
                (HookChange::Updated, hook)
            }
            None => {
                let hook = self
                    .hook_call(
                        Method::POST,
                        "/api/v1/eventHooks",
                        Some(&body),
                        false,
                        "create the event hook",
                    )
                    .await?;
                (HookChange::Created, hook)
            }
        };
        let hook = if hook.active {
            hook
        } else {
            self.lifecycle(&hook.id, "activate", "activate the event hook")
                .await?
        };
        let (hook, verification) = self.verify(hook, &spec.uri).await?;
        Ok(HookRegistration {
            change,
            hook,
            verification,
        })
    }

    /// Asks Okta to verify `hook`; Okta's 400 (it could not get the challenge back
    /// from `uri`) is a failed verification, with what to check.
    async fn verify(
        &self,
        hook: EventHook,
        uri: &str,
    ) -> Result<(EventHook, Verification), OktaError> {
        match self
            .lifecycle(&hook.id, "verify", "verify the event hook")
            .await
        {
            Ok(verified) if verified.verified => Ok((verified, Verification::Verified)),
            Ok(unverified) => Ok((
                unverified,
                Verification::Failed("Okta answered, but the hook is still unverified".into()),
            )),
            Err(OktaError::BadRequest { summary, .. }) => Ok((
                hook,
                Verification::Failed(format!(
                    "{summary}; Okta must reach {uri} over HTTPS and get the challenge back from usersync (check the public URL, the proxy and that usersync serve is running)"
                )),
            )),
            Err(e) => Err(e),
        }
    }

    /// The id of the hook to update: `known_id` if Okta still has it, else the one named `name`.
    async fn find_hook(
        &self,
        name: &str,
        known_id: Option<&str>,
    ) -> Result<Option<String>, OktaError> {
        if let Some(id) = known_id {
            let url = format!("/api/v1/eventHooks/{}", urlencoding::encode(id));
            match self
                .hook_call(Method::GET, &url, None, true, "read the event hook")
                .await
            {
                Ok(hook) => return Ok(Some(hook.id)),
                Err(OktaError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(self
            .event_hooks()
            .await?
            .into_iter()
            .find(|h| h.name == name)
            .map(|h| h.id))
    }

    async fn lifecycle(&self, id: &str, op: &str, action: &str) -> Result<EventHook, OktaError> {
        let url = format!(
            "/api/v1/eventHooks/{}/lifecycle/{op}",
            urlencoding::encode(id)
        );
        self.hook_call(Method::POST, &url, None, true, action).await
    }

    async fn hook_call(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
        idempotent: bool,
        action: &str,
    ) -> Result<EventHook, OktaError> {
        let request = Request {
            method,
            url,
            body,
            idempotent,
        };
        self.inner
            .send::<WireHook>(request, action)
            .await
            .map(|page| EventHook::from(page.items))
            .map_err(|e| self.hooks_error(e))
    }

    /// A refusal rewritten to name what managing event hooks needs (the generic hint
    /// names the read permissions).
    fn hooks_error(&self, err: OktaError) -> OktaError {
        match err {
            OktaError::Forbidden {
                org, action, code, ..
            } => OktaError::Forbidden {
                org,
                action,
                code,
                hint: forbidden_hint(self.inner.credential_kind()),
            },
            OktaError::OAuth {
                org,
                client_id,
                error,
                description,
                ..
            } if error == "invalid_scope" => OktaError::OAuth {
                org,
                client_id,
                error,
                description,
                hint: "grant the service app the okta.eventHooks.manage scope on its Okta API Scopes tab (registering the hook needs it besides the read scopes)",
            },
            other => other,
        }
    }
}

/// What a credential needs to manage event hooks.
fn forbidden_hint(kind: CredentialKind) -> &'static str {
    match kind {
        CredentialKind::ApiToken => {
            "managing event hooks needs an API token created by an administrator whose role may manage event hooks (a Super Administrator, or a custom role with that permission); a read-only token can sync but not register the hook"
        }
        CredentialKind::ServiceApp => {
            "grant the service app the okta.eventHooks.manage scope (Okta API Scopes tab) and an admin role that may manage event hooks (e.g. Super Administrator)"
        }
    }
}
