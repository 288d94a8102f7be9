//! The plan's vocabulary: typed operations, the rules that cause them, and the
//! users the planner had to skip.
//!
//! These types are the stable JSON form of a plan (the engine stores ops as JSON
//! and `usersync plan --output json` prints them), so every enum is internally
//! tagged with `kind` and spelled in snake_case. Add variants and fields only;
//! never rename or remove one. A planned op looks like this:
//!
//! ```json
//! {"op":{"kind":"create_user","okta_id":"00u1","username":"alice","display_name":"Alice Doe",
//!        "email":"alice@x.org","active":true},
//!  "rule":{"kind":"import_users","status":"ACTIVE"}}
//! ```
//!
//! A [`crate::plan::Plan`] serialises as `{"ops":[...],"skipped":[...],"guard":{"decision":
//! "proceed"|"partial"|"held",...},"notes":[...]}`; its summary as
//! `{"counts":{"create_user":1,...},"total":..,"destructive":..,"skipped":..}`.

use std::fmt;

use compact_str::CompactString;
use serde::{Deserialize, Serialize};

use crate::ids::{Email, GroupName, OktaGroupId, OktaUserId, TargetUserKey, Username};
use crate::policy::DepartedPolicy;
use crate::snapshot::OktaStatus;

/// One change to make in the target (or, for links, in usersync's own records).
///
/// `CreateUser` and `CreateGroup` imply a new identity link (the engine records it
/// once the write succeeds, with `created_by_usersync` for groups); `LinkUser` and
/// `LinkGroup` adopt an existing target object and write nothing remotely. What each
/// op does to the links is [`crate::links::link_change`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Op {
    LinkUser {
        okta_id: OktaUserId,
        username: Username,
        /// Boxed, as every rare op's third field is (see `CreateUser`).
        key: Option<Box<TargetUserKey>>,
    },
    LinkGroup {
        okta_group_id: OktaGroupId,
        name: GroupName,
    },
    CreateGroup {
        okta_group_id: OktaGroupId,
        name: GroupName,
    },
    RenameUser {
        okta_id: OktaUserId,
        from: Box<Username>,
        to: Username,
    },
    CreateUser {
        okta_id: OktaUserId,
        username: Username,
        /// Boxed: an `Op` is as large as its largest variant, and a million-op plan is
        /// nearly all memberships (two names, 48 bytes), so every rarer op keeps no
        /// more than that and a pointer inline: an `Op` is 64 bytes. The JSON is the same.
        #[serde(flatten)]
        account: Box<NewAccount>,
    },
    UpdateUser {
        okta_id: OktaUserId,
        /// The username after any rename in the same plan.
        username: Username,
        /// Boxed: attribute changes are rare and large, and an `Op` is as large as its
        /// largest variant, so inline they would grow every op of a million-op plan.
        changes: Box<UserChanges>,
    },
    ReactivateUser {
        okta_id: OktaUserId,
        username: Username,
    },
    AddMember {
        group: GroupName,
        username: Username,
    },
    RemoveMember {
        group: GroupName,
        username: Username,
    },
    DeactivateUser {
        okta_id: OktaUserId,
        username: Username,
    },
    DeleteUser {
        okta_id: OktaUserId,
        username: Username,
    },
    DeleteGroup {
        okta_group_id: OktaGroupId,
        name: GroupName,
    },
}

/// The account a `CreateUser` makes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAccount {
    pub display_name: String,
    pub email: Option<Email>,
    pub active: bool,
}

/// The attributes an `UpdateUser` changes; `None` means unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UserChanges {
    pub display_name: Option<Change<String>>,
    pub email: Option<Change<Option<Email>>>,
}

impl UserChanges {
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.display_name.is_none() && self.email.is_none()
    }
}

/// An attribute's value before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change<T> {
    pub from: T,
    pub to: T,
}

/// The kind of an [`Op`], in dependency order: applying ops sorted by kind never
/// adds a member to a group or user that does not exist yet, and removes before
/// it deactivates or deletes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpKind {
    LinkUser,
    LinkGroup,
    CreateGroup,
    RenameUser,
    CreateUser,
    UpdateUser,
    ReactivateUser,
    AddMember,
    RemoveMember,
    DeactivateUser,
    DeleteUser,
    DeleteGroup,
}

impl OpKind {
    /// Every kind, in dependency order.
    pub const ALL: [OpKind; 12] = [
        Self::LinkUser,
        Self::LinkGroup,
        Self::CreateGroup,
        Self::RenameUser,
        Self::CreateUser,
        Self::UpdateUser,
        Self::ReactivateUser,
        Self::AddMember,
        Self::RemoveMember,
        Self::DeactivateUser,
        Self::DeleteUser,
        Self::DeleteGroup,
    ];

    /// The snake_case spelling used in JSON and tables.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LinkUser => "link_user",
            Self::LinkGroup => "link_group",
            Self::CreateGroup => "create_group",
            Self::RenameUser => "rename_user",
            Self::CreateUser => "create_user",
            Self::UpdateUser => "update_user",
            Self::ReactivateUser => "reactivate_user",
            Self::AddMember => "add_member",
            Self::RemoveMember => "remove_member",
            Self::DeactivateUser => "deactivate_user",
            Self::DeleteUser => "delete_user",
            Self::DeleteGroup => "delete_group",
        }
    }

    /// How many apply stages there are (see [`OpKind::stage`]).
    pub const STAGES: usize = 5;

    /// The apply stage of the kind, from 0: the stages run one after another, and
    /// the ops of one stage may run at once. Links and group creation come first,
    /// then user creation and changes, then memberships, then deactivations and
    /// deletions of users, then deletions of groups: no stage needs what a later
    /// one makes, and nothing is removed before what still uses it.
    #[must_use]
    pub fn stage(self) -> usize {
        match self {
            Self::LinkUser | Self::LinkGroup | Self::CreateGroup => 0,
            Self::RenameUser | Self::CreateUser | Self::UpdateUser | Self::ReactivateUser => 1,
            Self::AddMember | Self::RemoveMember => 2,
            Self::DeactivateUser | Self::DeleteUser => 3,
            Self::DeleteGroup => 4,
        }
    }

    /// Deactivations, deletions and membership removals: what the guards hold back.
    #[must_use]
    pub fn is_destructive(self) -> bool {
        matches!(
            self,
            Self::RemoveMember | Self::DeactivateUser | Self::DeleteUser | Self::DeleteGroup
        )
    }
}

impl fmt::Display for OpKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Op {
    #[must_use]
    pub fn kind(&self) -> OpKind {
        match self {
            Self::LinkUser { .. } => OpKind::LinkUser,
            Self::LinkGroup { .. } => OpKind::LinkGroup,
            Self::CreateGroup { .. } => OpKind::CreateGroup,
            Self::RenameUser { .. } => OpKind::RenameUser,
            Self::CreateUser { .. } => OpKind::CreateUser,
            Self::UpdateUser { .. } => OpKind::UpdateUser,
            Self::ReactivateUser { .. } => OpKind::ReactivateUser,
            Self::AddMember { .. } => OpKind::AddMember,
            Self::RemoveMember { .. } => OpKind::RemoveMember,
            Self::DeactivateUser { .. } => OpKind::DeactivateUser,
            Self::DeleteUser { .. } => OpKind::DeleteUser,
            Self::DeleteGroup { .. } => OpKind::DeleteGroup,
        }
    }

    #[must_use]
    pub fn is_destructive(&self) -> bool {
        self.kind().is_destructive()
    }

    /// The Okta user the op is about, when it is about one user.
    #[must_use]
    pub fn okta_user(&self) -> Option<&OktaUserId> {
        match self {
            Self::LinkUser { okta_id, .. }
            | Self::RenameUser { okta_id, .. }
            | Self::CreateUser { okta_id, .. }
            | Self::UpdateUser { okta_id, .. }
            | Self::ReactivateUser { okta_id, .. }
            | Self::DeactivateUser { okta_id, .. }
            | Self::DeleteUser { okta_id, .. } => Some(okta_id),
            _ => None,
        }
    }

    /// The target username the op touches (the new name for a rename).
    #[must_use]
    pub fn username(&self) -> Option<&Username> {
        match self {
            Self::LinkUser { username, .. }
            | Self::CreateUser { username, .. }
            | Self::UpdateUser { username, .. }
            | Self::ReactivateUser { username, .. }
            | Self::AddMember { username, .. }
            | Self::RemoveMember { username, .. }
            | Self::DeactivateUser { username, .. }
            | Self::DeleteUser { username, .. } => Some(username),
            Self::RenameUser { to, .. } => Some(to),
            _ => None,
        }
    }

    /// The target group the op touches.
    #[must_use]
    pub fn group(&self) -> Option<&GroupName> {
        match self {
            Self::LinkGroup { name, .. }
            | Self::CreateGroup { name, .. }
            | Self::DeleteGroup { name, .. } => Some(name),
            Self::AddMember { group, .. } | Self::RemoveMember { group, .. } => Some(group),
            _ => None,
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LinkUser {
                okta_id, username, ..
            } => {
                write!(f, "link existing user {username} to Okta user {okta_id}")
            }
            Self::LinkGroup {
                okta_group_id,
                name,
            } => {
                write!(
                    f,
                    "link existing group {name} to Okta group {okta_group_id}"
                )
            }
            Self::CreateGroup { name, .. } => write!(f, "create group {name}"),
            Self::RenameUser { from, to, .. } => write!(f, "rename user {from} to {to}"),
            Self::CreateUser {
                username, account, ..
            } => {
                let NewAccount {
                    display_name,
                    email,
                    active,
                } = &**account;
                let email = email.as_ref().map_or("no e-mail", Email::as_str);
                let state = if *active { "active" } else { "inactive" };
                write!(
                    f,
                    "create {state} user {username} ({display_name}, {email})"
                )
            }
            Self::UpdateUser {
                username, changes, ..
            } => {
                write!(f, "update user {username}:")?;
                if let Some(c) = &changes.display_name {
                    write!(f, " display name {:?} -> {:?}", c.from, c.to)?;
                }
                if let Some(c) = &changes.email {
                    let show =
                        |e: &Option<Email>| e.as_ref().map_or("none", Email::as_str).to_owned();
                    write!(f, " e-mail {} -> {}", show(&c.from), show(&c.to))?;
                }
                Ok(())
            }
            Self::ReactivateUser { username, .. } => write!(f, "reactivate user {username}"),
            Self::AddMember { group, username } => write!(f, "add {username} to group {group}"),
            Self::RemoveMember { group, username } => {
                write!(f, "remove {username} from group {group}")
            }
            Self::DeactivateUser { username, .. } => write!(f, "deactivate user {username}"),
            Self::DeleteUser { username, .. } => write!(f, "delete user {username}"),
            Self::DeleteGroup { name, .. } => write!(f, "delete group {name}"),
        }
    }
}

/// Why an op was planned: the product setting or policy rule that caused it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Rule {
    /// "Enable Import Users": the user is in scope, importable and missing in the target.
    ImportUsers { status: OktaStatus },
    /// "Enable Update Users": a linked user's profile or login changed in Okta.
    UpdateUsers,
    /// "Enable/Disable Users": the user's Okta status says active or inactive.
    EnableDisableUsers { status: OktaStatus },
    /// A linked user is gone from a complete Okta read.
    Departed { policy: DepartedPolicy },
    /// A linked user is still in Okta but no longer in the app's scope.
    ScopeExit {
        policy: DepartedPolicy,
        reason: String,
    },
    /// "Adopt existing": an unlinked target user has the username the mapping gives.
    AdoptExisting,
    /// An in-scope Okta group needs its target group.
    GroupFromOkta { okta_group: CompactString },
    /// Membership mirrors the members of this Okta group.
    MembershipFromOkta { okta_group: CompactString },
    /// A configured default group for newly created users.
    DefaultGroupNewUsers,
    /// A configured default group for every managed user.
    DefaultGroupAllUsers,
    /// "Delete groups": usersync created the group and the Okta group is gone.
    GroupGoneFromOkta { okta_group: CompactString },
    /// `group_renames = recreate`: the Okta group was renamed, and this was its old target group.
    GroupRenamed {
        /// Boxed, as are the names and Okta users of the group-mapping rules below:
        /// these are rare, and a `Rule` is as large as its largest variant (one per op).
        okta_group: Box<str>,
        old_name: Box<CompactString>,
    },
    /// An explicit group-mapping rule (`policy.group_map`): the user is a member of its
    /// Okta group. `rule` names the rule, e.g. `group_map[0]: Okta group "Engineering"
    /// (00g1) -> jira-software-users`; the membership is remembered as usersync's.
    GroupMap {
        rule: Box<str>,
        okta_user: Box<OktaUserId>,
    },
    /// usersync added the membership by a group-mapping rule and the user is in none of
    /// the Okta groups mapped to the group any more (memberships others made stay).
    GroupMapLeft {
        group: Box<str>,
        okta_user: Box<OktaUserId>,
    },
}

fn policy_word(policy: DepartedPolicy) -> &'static str {
    match policy {
        DepartedPolicy::Deactivate => "deactivate",
        DepartedPolicy::Keep => "keep",
        DepartedPolicy::Delete => "delete",
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ImportUsers { status } => write!(
                f,
                "Import Users: {} in Okta and missing in the target",
                status.as_str()
            ),
            Self::UpdateUsers => f.write_str("Update Users: profile or login changed in Okta"),
            Self::EnableDisableUsers { status } => {
                write!(f, "Enable/Disable Users: {} in Okta", status.as_str())
            }
            Self::Departed { policy } => write!(
                f,
                "Departed users ({}): no longer in Okta",
                policy_word(*policy)
            ),
            Self::ScopeExit { policy, reason } => {
                write!(f, "Scope exit ({}): {reason}", policy_word(*policy))
            }
            Self::AdoptExisting => {
                f.write_str("Adopt existing: a target user already has the mapped username")
            }
            Self::GroupFromOkta { okta_group } => write!(f, "Group from Okta group {okta_group}"),
            Self::MembershipFromOkta { okta_group } => {
                write!(f, "Membership from Okta group {okta_group}")
            }
            Self::DefaultGroupNewUsers => f.write_str("Default group for new users"),
            Self::DefaultGroupAllUsers => f.write_str("Default group for all managed users"),
            Self::GroupGoneFromOkta { okta_group } => write!(
                f,
                "Delete groups: created by usersync and Okta group {okta_group} is gone"
            ),
            Self::GroupRenamed {
                okta_group,
                old_name,
            } => write!(
                f,
                "Group renames (recreate): Okta group {okta_group} was renamed; {old_name} was its group"
            ),
            Self::GroupMap { rule, .. } => write!(f, "Group mapping {rule}"),
            Self::GroupMapLeft { group, .. } => write!(
                f,
                "Group mapping: usersync added this membership and the user is in no Okta group mapped to {group}"
            ),
        }
    }
}

/// An op and the rule that caused it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedOp {
    pub op: Op,
    pub rule: Rule,
}

impl fmt::Display for PlannedOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}]", self.op, self.rule)
    }
}

/// An Okta user the planner left alone on purpose, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedUser {
    pub okta_id: OktaUserId,
    pub login: String,
    pub reason: SkipReason,
}

/// Why a user was skipped; each is a per-user error or a deliberate hands-off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SkipReason {
    /// The mapping gave something the target cannot use as a username.
    InvalidUsername { username: String, problem: String },
    /// Another Okta user (or an existing target user) claims the same username.
    Collision { username: String, with: String },
    /// The target user is protected (policy list or the credential's own account).
    Protected { username: String },
    /// The target user lives in a read-only directory.
    ManagedElsewhere { username: String },
    /// A target user has the username but adopting existing users is off.
    ExistsNotAdopted { username: String },
    /// The user would be created, but has no e-mail address and the target requires one.
    NoEmail { username: String },
    /// The user would be created or adopted, but the Okta read was incomplete, so
    /// an unread Okta user may map to the same username (`why` says what was not read).
    UniquenessUnknown { username: String, why: String },
    /// The linked target user is in a read-only directory: these changes (op texts)
    /// are not made; the user's memberships of writable groups still are.
    NotWritable {
        username: String,
        not_done: Vec<String>,
    },
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidUsername { username, problem } => {
                write!(
                    f,
                    "mapped username {username:?} is not valid in the target: {problem}"
                )
            }
            Self::Collision { username, with } => {
                write!(f, "mapped username {username:?} is also claimed by {with}")
            }
            Self::Protected { username } => {
                write!(f, "target user {username} is protected and never changed")
            }
            Self::ManagedElsewhere { username } => write!(
                f,
                "target user {username} is in a read-only directory and managed elsewhere"
            ),
            Self::ExistsNotAdopted { username } => write!(
                f,
                "target user {username} exists, is not linked, and adopting existing users is off"
            ),
            Self::NotWritable { username, not_done } => write!(
                f,
                "not writable: target user {username} is in a read-only directory, so usersync \
                 does not {} (memberships of writable groups are still synced)",
                not_done.join("; ")
            ),
            Self::NoEmail { username } => write!(
                f,
                "user {username} would be created, but the Okta user has no e-mail address and \
                 the target requires one; set it in Okta or map another attribute (attributes.email)"
            ),
            Self::UniquenessUnknown { username, why } => write!(
                f,
                "user {username} was neither created nor adopted: only a complete Okta user \
                 listing shows that no other Okta user maps to that username, and this one was \
                 not complete ({why}); the next complete sync decides"
            ),
        }
    }
}

impl fmt::Display for SkippedUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.login, self.okta_id, self.reason)
    }
}
