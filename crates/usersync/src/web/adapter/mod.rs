//! How [`super::backend::Backend`] reaches the rest of usersync: [`engine`] runs
//! the engine's actions for the console, [`hook`] the Login-time sync actions, [`convert`] turns stored records and
//! engine results into the console's model.

pub mod convert;
pub mod engine;
pub mod hook;
pub mod notify;
pub mod runs;
