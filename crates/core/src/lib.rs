//! The pure domain of usersync.
//!
//! This crate owns the types every other crate speaks (identities, the Okta and
//! Atlassian snapshots, the sync policy) and the pure steps of the pipeline:
//! mapping Okta users to target users, and planning the operations that bring the
//! target in line. It performs no IO and Cargo enforces it: there is no tokio,
//! reqwest or sqlx in this crate's manifest.

pub mod ids;
pub mod links;
pub mod policy;
pub mod snapshot;

pub use ids::{Email, GroupName, IdError, OktaGroupId, OktaUserId, TargetUserKey, Username};
pub use links::{GroupLink, Links, UserLink};
pub use snapshot::{
    Completeness, OktaGroup, OktaGroupType, OktaSnapshot, OktaStatus, OktaUser, TargetGroup,
    TargetSnapshot, TargetUser,
};
