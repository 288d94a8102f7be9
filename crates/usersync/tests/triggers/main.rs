//! The triggers of a sync: the scheduler, Okta event hooks (emulator delivery and our
//! endpoint), System Log polling, the event queue, and `usersync demo` (with the `demo`
//! feature, on by default; the browser helpers are only the demo tests').

#[cfg(feature = "demo")]
#[path = "../support/chromium.rs"]
mod chromium;
mod delivery;
#[cfg(feature = "demo")]
mod demo;
mod hooks;
mod polling;
mod scheduler;
mod world;
