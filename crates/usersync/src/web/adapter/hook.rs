//! The Login-time sync actions as methods of [`Backend`]: generating the shared secret
//! (saved like every other secret: sealed, write-only, bound to the Okta URL's origin,
//! through the same validated save) and registering the hook in Okta through
//! [`crate::engine::hook::register_hook`], which `usersync hook register` calls too.

use base64::Engine as _;
use secrecy::{ExposeSecret as _, SecretString};
use usersync_core::app::SecretInput;

use super::convert::{draft_from_json, draft_json, problem_error};
use crate::engine::hook::{HookReport, register_hook};
use crate::web::backend::{Backend, BackendError, BackendResult};

/// Bytes of randomness in a generated secret (256 bits, 43 characters of base64url).
const SECRET_BYTES: usize = 32;

/// A new random secret from the operating system's generator.
fn new_secret() -> SecretString {
    let mut bytes = [0u8; SECRET_BYTES];
    rand::fill(&mut bytes);
    SecretString::from(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

impl Backend {
    /// Generates a new hook secret for the app `name` and saves it, keeping every
    /// other setting; returns the secret, which is never readable again.
    pub async fn generate_hook_secret(
        &self,
        name: &str,
        actor: &str,
    ) -> BackendResult<SecretString> {
        let app = self.app(name).await?;
        let mut draft = draft_from_json(draft_json(&app), Some(&app)).map_err(problem_error)?;
        let secret = new_secret();
        draft.events.hook_secret =
            SecretInput::Value(SecretString::from(secret.expose_secret().to_owned()));
        self.update_app(app.id, draft, actor).await?;
        Ok(secret)
    }

    /// Registers the app's event hook in Okta with the saved settings.
    pub async fn register_hook(
        &self,
        name: &str,
        public_url: &str,
        actor: &str,
    ) -> BackendResult<HookReport> {
        let app = self.app(name).await?;
        let deps = self.deps.clone();
        let (public_url, actor) = (public_url.to_owned(), actor.to_owned());
        // Its own task: a dropped request does not leave a half-registered hook.
        tokio::spawn(async move { register_hook(&deps, &app, &public_url, &actor).await })
            .await
            .map_err(|e| {
                BackendError::Internal(anyhow::anyhow!(
                    "the registration task ended abnormally: {e}"
                ))
            })?
            .map_err(|e| BackendError::Upstream(format!("{e:#}")))
    }
}
