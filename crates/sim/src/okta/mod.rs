//! The Okta emulator: a faithful, stateful stand-in for the parts of Okta's Management
//! API usersync uses (users, lifecycle, groups, memberships, the System Log, event hook
//! registration, the org authorization server's client_credentials flow), with Okta's
//! JSON shapes, cursor pagination, rate-limit headers and 429s, and error bodies.
//! Tests start it in-process with [`OktaSim::start`] on `127.0.0.1:0`; people run it
//! with `usersync-sim okta` ([`serve`]). The fact sheet it follows is
//! `../shared/reference/okta-api.md`; where that sheet marks something unconfirmed, the
//! choice made is documented on the item that makes it.

mod auth;
mod cli;
mod error;
mod filter;
mod generator;
mod groups;
mod hooks;
mod hooks_delivery;
mod ids;
mod lifecycle;
mod logs;
mod members;
mod paging;
mod ratelimit;
mod render;
mod schema;
mod server;
mod sim;
mod state;
mod state_groups;
mod users;

pub use cli::{ServeArgs, serve};
pub use error::ApiError;
pub use generator::OrgSpec;
pub use hooks::EventHook;
pub use hooks_delivery::{DeliveryKnobs, DeliveryOutcome, DeliveryRecord};
pub use ratelimit::{Bucket, RateLimits};
pub use server::RequestRecord;
pub use sim::{NewUser, OktaSim, OktaSimConfig};
