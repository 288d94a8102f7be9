//! The sync engine: one run of one app, end to end.

pub mod lock;
pub mod progress;
