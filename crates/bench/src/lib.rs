//! usersync's benchmark at scale: `cargo run --release -p usersync-bench -- --size 10k`.
//!
//! It generates an org in the Okta emulator (in a child process, `emulators`), then
//! measures usersync phase by phase (`read`, `planning`, `sync`), sets each against
//! its lower bound (`bound`) and Okta's official Python SDK (`peer`), and writes the
//! results as Markdown and JSON (`report`). `cycle` measures incremental cycles; `console` times the console's first page of a
//! million-operation run; `run` orders the phases; `child` runs each sync phase in a fresh process; `settings` holds
//! every knob and its default; `sys` reads memory and CPU from `/proc`.

pub mod bound;
pub mod child;
pub mod console;
pub mod cycle;
pub mod emulators;
pub mod peer;
pub mod planning;
pub mod protocol;
pub mod read;
pub mod report;
pub mod run;
pub mod settings;
pub mod sync;
pub mod sys;
