//! End-to-end tests of the engine and the command line, in-process against the
//! Okta, Jira and Confluence emulators on 127.0.0.1 with a temporary data directory.

mod access;
mod budget;
mod check;
mod cli;
mod cli_errors;
mod confluence;
mod faults;
mod held;
mod helpers;
mod leaks;
mod notify;
mod read_only;
mod reads;
mod renames;
mod secret_refs;
mod serve;
mod sync;
mod user;
mod warnings;
