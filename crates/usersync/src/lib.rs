//! usersync keeps Atlassian users and groups in step with Okta.
//!
//! This crate is the application: the [`engine`] that runs one sync of one app
//! (read, plan, guard, apply, record), the [`cli`] that people drive it with, and
//! [`telemetry`]. The server and scheduler call the same [`engine::run_sync_once`]
//! the command line does, so every trigger behaves the same way.

pub mod cli;
pub mod demo;
pub mod engine;
pub mod events;
pub mod scheduler;
pub mod telemetry;
pub mod web;
