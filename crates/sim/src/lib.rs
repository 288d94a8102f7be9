//! Emulators of the remote APIs usersync talks to.
//!
//! Each emulator is a stateful axum server that follows the vendor's documented
//! behaviour (shapes, status codes, paging, rate limits) closely enough that
//! clients nobody here wrote (the vendors' SDKs) work against it. Tests start
//! them in-process on `127.0.0.1:0`; people start them with the `usersync-sim`
//! command. Emulators are never bent to make our own clients pass.

mod background;
pub mod confluence;
pub mod crowd;
pub mod fault_args;
pub mod faults;
pub mod jira;
pub mod okta;
pub mod request_log;
pub mod scim;
pub mod timer;
pub mod tls;
mod version;
