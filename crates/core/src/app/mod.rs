//! An app: one named sync configuration of the product page, in one home.
//!
//! [`AppDraft`] is what a caller writes, in the same shape from a TOML file
//! ([`apps_from_toml`]), the REST API and the console form; [`AppDraft::validate`] checks
//! it (compiling its policy with the engine's own [`crate::CompiledPolicy`]) into a
//! [`ValidApp`], reporting a [`crate::FieldProblem`] whose path is the same in all three.
//! A stored [`App`] shows secrets only as [`SecretState`]s. Persistence, sealing secrets
//! and reading secret references are the store's; this module does no IO. Which references
//! a remote caller may give is [`SecretRefAllowList`].

pub mod events;
pub mod labels;
mod model;
mod notify;
mod notify_check;
mod refs;
mod secret;
mod toml;
mod validate;

pub use model::{
    App, AppDraft, AppId, EventSettings, OktaCredential, OktaDraft, OktaSettings, Schedule,
    TargetCredential, TargetDraft, TargetKind, TargetSettings, UserServer,
};
pub use notify::{
    EmailSettings, NotifyOn, NotifySettings, SmtpSettings, WEBHOOK_ORIGIN, WebhookSettings,
    smtp_origin,
};
pub use refs::SecretRefAllowList;
pub use secret::{SecretInput, SecretRef, SecretSide, SecretSlot, SecretState, origin_of};
pub use toml::{apps_from_toml, apps_to_toml};
pub use validate::ValidApp;

#[cfg(test)]
mod tests;
