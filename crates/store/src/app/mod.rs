//! Apps: storing the named sync configurations of the product page.
//!
//! The app model, its validation and its TOML shape live in `usersync_core::app` (re-exported
//! here); `Store::create_app`, `update_app` and `apply_apps` validate an [`AppDraft`] there
//! and store an [`App`]. Secrets are kept in their own rows (see `secrets`), so reading an
//! app never touches a value.

mod read;
mod secrets;
mod write;

pub(crate) use secrets::seal_legacy_with_origins;

use serde::Serialize;
pub use usersync_core::app::{
    App, AppDraft, AppId, EventSettings, NotifySettings, OktaCredential, OktaDraft, OktaSettings,
    Schedule, TargetCredential, TargetDraft, TargetKind, TargetSettings,
};

use crate::secret::{SecretInput, SecretRef, resolve};

/// What `apply_apps` did, by app name.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ApplyReport {
    pub created: Vec<String>,
    pub updated: Vec<String>,
    pub unchanged: Vec<String>,
}

/// The draft's secret references that cannot be resolved here and now, as `(field, why)`.
/// Resolution happens at use, so this is advice for whoever applies the draft (the
/// service may run with another environment), not an error.
#[must_use]
pub fn unresolved_references(draft: &AppDraft) -> Vec<(&'static str, String)> {
    draft
        .secret_inputs()
        .into_iter()
        .filter_map(|(slot, input)| match input {
            SecretInput::Reference(text) => {
                let reference = SecretRef::parse(text, slot.field()).ok()??;
                let err = resolve(&reference, None).err()?;
                Some((slot.field(), err.to_string()))
            }
            SecretInput::Keep | SecretInput::Value(_) => None,
        })
        .collect()
}
