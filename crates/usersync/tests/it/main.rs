//! End-to-end tests of the engine and the command line, in-process against the
//! Okta, Jira and Confluence emulators on 127.0.0.1 with a temporary data directory.

mod access;
mod backup;
mod budget;
mod check;
mod cli;
mod cli_errors;
mod confluence;
mod crowd;
mod deploy;
mod docs;
mod faults;
mod held;
mod helpers;
mod https;
mod interrupt;
mod jira_user_server;
mod json;
mod leaks;
mod login_walk;
mod notify;
mod read_only;
mod reads;
mod renames;
mod report;
mod scim;
mod scim_server;
mod scim_tester;
mod secret_refs;
mod serve;
mod shared_read;
mod sync;
mod tls;
mod user;
mod warnings;
