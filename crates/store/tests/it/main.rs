//! Integration tests of the store, each on a temporary SQLite file (or in memory).

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
