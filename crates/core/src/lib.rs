//! The pure domain of usersync.
//!
//! This crate owns the types every other crate speaks (identities, the Okta and
//! Atlassian snapshots, the sync policy) and the pure steps of the pipeline:
//! mapping Okta users to target users, and planning the operations that bring the
//! target in line. It also holds an app's configuration ([`app`]): its model,
//! validation and TOML shape. It performs no IO and Cargo enforces it: there is no tokio,
//! reqwest or sqlx in this crate's manifest.

pub mod app;
pub mod explain;
mod fast_hash;
pub mod guard;
pub mod ids;
pub mod links;
pub mod mapping;
pub mod memberships;
pub mod plan;
pub mod policy;
pub mod profile;
#[cfg(test)]
mod props;
mod replace;
pub mod scope;
pub mod snapshot;
pub mod template;
pub mod unexplained;

pub use explain::{Explanation, ExplanationText, MappedUsername, explain};
pub use guard::{Guard, Spent, guard};
pub use ids::{Email, GroupName, IdError, OktaGroupId, OktaUserId, TargetUserKey, Username};
pub use links::{
    GroupLink, LinkChange, Links, UserLink, link_change, membership_change, read_only_change,
    stale_mapped,
};
pub use mapping::{
    CompiledPolicy, FieldProblem, PolicyError, TargetConstraints, UsernamePreview, UsernameVerdict,
    preview_username,
};
pub use memberships::{MemberIds, Members, Memberships};
pub use plan::simulate::apply_to_snapshot;
pub use plan::{
    Change, NewAccount, Op, OpKind, Plan, PlanOptions, PlanScope, PlannedOp, Rule, SkipReason,
    SkippedUser, Summary, UnguardedPlan, UserChanges, plan,
};
pub use policy::{
    AttributeMapping, DepartedPolicy, GroupMapRule, GroupNaming, GroupRenames, SafetyLimits, Scope,
    SyncPolicy, Toggles, UsernameRule,
};
pub use profile::Profile;
pub use scope::{OktaQuery, StatusClass, UserScope, status_class};
pub use snapshot::{
    Completeness, OktaGroup, OktaGroupType, OktaSnapshot, OktaStatus, OktaUser, TargetGroup,
    TargetSnapshot, TargetUser,
};
