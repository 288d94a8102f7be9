//! The set-up every test binary of the workspace shares, in one place: emulator
//! worlds started on loopback with a seeded org (`sims`), the TOML of an app with
//! sensible defaults and overrides (`app_toml`), a store in a temporary data
//! directory (`data`) or, for the suite that runs on both databases, in a PostgreSQL
//! database of its own (`stores`, `on_both_stores!`), a certificate authority of the test's own for HTTPS (`pki`), and
//! the rule for material a test needs from outside the
//! checkout: `../shared` and tools such as Chromium or Python packages must be there
//! when `CI` is set, and are skipped with a clear message otherwise (`needs`). For what
//! usersync sends out: an HTTP receiver that records requests (`receiver`), an SMTP sink
//! speaking STARTTLS (`smtp`) with a certificate from a CA the test makes (`pki`).
//!
//! The app builder writes TOML text rather than the store's Rust types, so the tests
//! go through the same parser an administrator's apps file does, and a change to the
//! store's types touches no test set-up. Used by the tests and the benchmark (as a
//! dev-dependency, or a dependency of the unshipped bench), never by a shipped crate.

mod app_toml;
mod data;
mod needs;
mod pki;
mod receiver;
mod scim_server;
mod sims;
mod smtp;
mod stores;

pub use app_toml::{AppToml, toml_string};
pub use data::{DataDir, apply_apps};
pub use needs::{needed, shared_dir, shared_file};
pub use pki::TestCa;
pub use receiver::{HttpReceiver, Received, unused_url};
pub use scim_server::ScimServer;
pub use sims::{
    Sims, confluence_app, crowd_app, jira_users, org, scim_app, small_org, start_confluence,
    start_crowd, start_jira, start_okta, start_okta_with, start_scim,
};
pub use smtp::{Mail, SmtpSink};
pub use stores::{Backend, TEST_POSTGRES_URL_ENV, TestDb, fresh_postgres_database};
