//! End-to-end tests of the admin console in a real headless Chromium, driven with
//! fantoccini through chromedriver, against a server wired to the Okta and Jira
//! emulators. Screenshots of the main pages go to `target/screenshots/`.
//!
//! Needs Debian's `chromium` and `chromium-driver` (scripts/test.sh installs them).
//! Without them the tests fail when `CI` is set and say why and pass otherwise.

#[path = "../support/chromium.rs"]
mod chromium;
mod console;
mod harness;
