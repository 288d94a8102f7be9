//! Integration tests of the store: most run on SQLite and on PostgreSQL (`on_both_stores!`),
//! those about the data directory's files on SQLite only.

mod apps;
mod backup;
mod budget;
mod common;
mod config;
mod console;
mod links;
mod migrations;
mod notify;
mod operation_pages;
mod runs;
mod secrets;
mod spawn;
mod transfer;
