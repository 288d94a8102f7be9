//! Hearing from Okta between scheduled runs.
//!
//! Two ways in, one queue: the Okta Event Hook endpoint ([`hook`], push) and System Log
//! polling ([`poller`], pull) both hand `LogEvent`s to the [`queue`], which dedupes them,
//! decides what each asks for ([`okta_event`]), coalesces and paces the work, and calls
//! the engine's single-user or full sync.
//!
//! This module starts nothing by itself: [`crate::serve`] starts the queue and the
//! poller beside the scheduler and mounts the hook routes beside the console.

pub mod bucket;
pub mod hook;
pub mod okta_event;
pub mod poller;
#[cfg(test)]
mod props;
pub mod queue;

pub use okta_event::{Action, action_for};
pub use poller::PollerConfig;
pub use queue::{AppRef, EventQueue, QueueConfig, QueueStats};
pub use usersync_core::app::events::{HANDLED_EVENTS, LOGIN_EVENTS};
