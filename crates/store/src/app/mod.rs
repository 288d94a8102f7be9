//! Apps: the named sync configurations of the product page, their validation and storage.
//!
//! [`AppDraft`] is what a caller writes (TOML, API, console); `Store::create_app`,
//! `update_app` and `apply_apps` validate it and store an [`App`]. Secrets are kept in
//! their own rows (see `secrets`), so reading an app never touches a value.

mod model;
mod read;
mod secrets;
mod validate;
mod write;

pub use model::{
    App, AppDraft, AppId, ApplyReport, DEFAULT_EVENT_TYPES, EventSettings, OktaCredential,
    OktaDraft, OktaSettings, Schedule, TargetCredential, TargetDraft, TargetKind, TargetSettings,
};
