//! The triggers of a sync: the scheduler, Okta event hooks (emulator delivery and our
//! endpoint), System Log polling, the event queue, and `usersync demo`.

#[path = "../support/chromium.rs"]
mod chromium;
mod delivery;
mod demo;
mod hooks;
mod polling;
mod scheduler;
mod world;
