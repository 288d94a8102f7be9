//! Integration tests of the emulators, one module per emulator.

mod confluence;
mod crowd;
mod jira;
mod jira_roles;
mod jira_user_server;
mod okta;
mod scim;
mod scim_conformance;
