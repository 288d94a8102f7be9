//! Integration tests of the Okta client against the in-process Okta emulator.

mod auth;
mod helpers;
mod hooks;
mod logs;
mod read_org;
mod resilience;
mod users;
