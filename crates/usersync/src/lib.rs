//! usersync keeps Atlassian users and groups in step with Okta.
//!
//! This crate is the application: the [`engine`] that runs one sync of one app
//! (read, plan, guard, apply, record), the [`cli`] that people drive it with, and
//! [`telemetry`]. The console ([`web`]), the event triggers ([`events`]) and the
//! [`scheduler`] call the same [`engine::run_sync_once`] the command line does, so
//! every trigger behaves the same way; [`serve`] composes them into `usersync serve`.
//! [`notify`] tells an app's people when a run is held, fails or ends partial.
//! [`scim`] is the SCIM 2.0 server Okta provisions to; its pushes go through the
//! engine's single-user sync.

/// jemalloc, for every program built on this crate (`usersync`, `usersync-bench`):
/// a sync frees its Okta snapshot (a few hundred thousand small allocations) and
/// then holds its plan, and glibc's allocator kept the freed memory resident beside
/// it. Measured on a whole 100,000-user first sync (`usersync sync`): 303 MiB at its
/// peak with glibc, 266 MiB with mimalloc, 248 MiB with jemalloc, which also used the
/// least CPU (bench/results/issue17/README.md).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

pub mod cli;
pub mod csv;
#[cfg(feature = "demo")]
pub mod demo;
pub mod engine;
pub mod events;
pub mod leader;
pub mod notify;
pub mod scheduler;
pub mod scim;
pub mod serve;
pub mod telemetry;
pub mod web;
