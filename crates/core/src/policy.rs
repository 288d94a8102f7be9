//! The sync policy of one app: the settings that decide what usersync plans.
//!
//! These are plain data with serde defaults, so an app's settings can be stored
//! as JSON and grow new fields without a migration. Validation of the regexes
//! and names in here happens when a policy is compiled for planning.

use serde::{Deserialize, Serialize};

use crate::snapshot::{OktaGroupType, OktaStatus};

/// The product page's three toggles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Toggles {
    /// "Enable Import Users": create active Okta users that the target lacks.
    pub import_users: bool,
    /// "Enable Update Users": update display name, e-mail and username of linked users.
    pub update_users: bool,
    /// "Enable/Disable Users": deactivate users inactive in Okta, reactivate active ones.
    pub enable_disable_users: bool,
}

impl Default for Toggles {
    fn default() -> Self {
        Self {
            import_users: true,
            update_users: true,
            enable_disable_users: true,
        }
    }
}

/// "Regex on Username": a regex and its replacement, applied to the Okta login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct UsernameRule {
    /// Empty means "use the login as it is".
    pub regex: String,
    /// `$1`, `${name}` and literal text, as in the product page's examples.
    pub replacement: String,
}

/// Which Okta profile attributes feed the target's display name and e-mail. Each is a
/// profile attribute name (custom ones included) or a template such as
/// `{firstName} {lastName}` (see [`crate::template`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttributeMapping {
    /// The display name's attribute or template; when empty or without a value for a
    /// user, `firstName lastName`.
    pub display_name: String,
    /// The e-mail's attribute or template (every placeholder must have a value).
    pub email: String,
}

impl Default for AttributeMapping {
    fn default() -> Self {
        Self {
            display_name: "displayName".into(),
            email: "email".into(),
        }
    }
}

/// Which Okta users and groups an app manages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scope {
    /// When non-empty, only members of these Okta groups (by name) are in scope.
    pub only_members_of: Vec<String>,
    /// Okta group types that are synced as groups.
    pub group_types: Vec<OktaGroupType>,
    /// When set, only groups whose Okta name matches are synced.
    pub group_include: Option<String>,
    /// When set, groups whose Okta name matches are not synced.
    pub group_exclude: Option<String>,
    /// Statuses that are imported when the user is missing in the target.
    /// STAGED and PROVISIONED are not imported by default.
    pub import_statuses: Vec<OktaStatus>,
}

impl Default for Scope {
    fn default() -> Self {
        Self {
            only_members_of: Vec::new(),
            group_types: vec![OktaGroupType::OktaGroup],
            group_include: None,
            group_exclude: None,
            import_statuses: vec![
                OktaStatus::Active,
                OktaStatus::PasswordExpired,
                OktaStatus::LockedOut,
                OktaStatus::Recovery,
            ],
        }
    }
}

/// How Okta group names become target group names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct GroupNaming {
    /// Prepended to every synced group's name.
    pub prefix: String,
    /// Optional regex applied to the Okta name (after which `prefix` is added).
    pub regex: String,
    pub replacement: String,
}

/// One explicit group-mapping rule: members of an Okta group are kept in a target
/// group, e.g. an existing product group such as `jira-software-users`. Several
/// rules may name one target group (many Okta groups to one). The Okta group is
/// named by its id, which survives renames; its name is shown, never matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct GroupMapRule {
    /// Okta's group id, e.g. `00g1emaKYZTWRYYRRTSK`.
    pub okta_group_id: String,
    /// The Okta group's name as the administrator knows it (shown beside the id).
    pub okta_group_name: String,
    /// The target group its members are added to.
    pub target_group: String,
}

/// What happens to a linked user who disappears from a complete Okta read or leaves scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DepartedPolicy {
    #[default]
    Deactivate,
    Keep,
    Delete,
}

/// What happens when a synced Okta group is renamed in Okta. Jira and Confluence Data
/// Center cannot rename a group through REST, so a rename is either kept or done as a
/// new group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum GroupRenames {
    /// The target group keeps its old name; plans and `explain` say so.
    #[default]
    Keep,
    /// Create a group with the new name, move the members, and delete the old group
    /// if usersync created it (otherwise only the synced members leave it).
    Recreate,
}

impl GroupRenames {
    /// The spelling in TOML, JSON and the console.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Keep => "keep",
            Self::Recreate => "recreate",
        }
    }
}

/// Limits beyond which a run is held for an administrator's approval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SafetyLimits {
    /// Hold when more destructive operations than this are planned.
    pub max_destructive: u32,
    /// Hold when destructive operations touch more than this share (0-100) of managed users.
    pub max_destructive_percent: f64,
    /// The percentage limit applies only when more destructive operations than this are
    /// planned, so one departure in a team of ten is not held for approval.
    pub percent_applies_above: u32,
    /// The rolling window, in minutes, over which the limits are one budget for all
    /// of the app's runs (full, scheduled, event, login, single-user; approvals
    /// excepted): destructive operations applied in it count against the limits
    /// of every later run. 0 judges each run on its own.
    pub window_minutes: u32,
}

impl Default for SafetyLimits {
    fn default() -> Self {
        Self {
            max_destructive: 25,
            max_destructive_percent: 5.0,
            percent_applies_above: 5,
            window_minutes: 15,
        }
    }
}

/// A full reconcile a day, incremental cycles in between.
pub const DEFAULT_FULL_RECONCILE_HOURS: u32 = 24;
/// The longest gap between full reconciles: a year.
pub const MAX_FULL_RECONCILE_HOURS: u32 = 8760;

/// Everything that decides an app's plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SyncPolicy {
    pub toggles: Toggles,
    pub username: UsernameRule,
    pub attributes: AttributeMapping,
    pub scope: Scope,
    pub group_naming: GroupNaming,
    /// Explicit rules from Okta groups (by id) to target groups, beside the naming above.
    pub group_map: Vec<GroupMapRule>,
    /// Groups every newly created user joins (e.g. `jira-software-users`).
    pub default_groups_new_users: Vec<String>,
    /// Groups every managed user is kept in.
    pub default_groups_all_users: Vec<String>,
    pub departed: DepartedPolicy,
    /// Adopt an existing, unlinked target user with the same username on first sight.
    pub adopt_existing: bool,
    /// Target usernames never touched (the credential's own account is always added).
    pub protected_accounts: Vec<String>,
    /// Delete target groups that usersync created once they vanish from Okta.
    pub delete_groups: bool,
    /// What a group renamed in Okta becomes in the target.
    pub group_renames: GroupRenames,
    pub limits: SafetyLimits,
    /// Hours between full reconciles of a scheduled app (1 to 8760; 24 by default):
    /// scheduled cycles in between read only what changed in Okta (incremental
    /// sync). 0 makes every scheduled cycle a full sync.
    pub full_reconcile_hours: u32,
}

impl Default for SyncPolicy {
    fn default() -> Self {
        Self {
            toggles: Toggles::default(),
            username: UsernameRule::default(),
            attributes: AttributeMapping::default(),
            scope: Scope::default(),
            group_naming: GroupNaming::default(),
            group_map: Vec::new(),
            default_groups_new_users: Vec::new(),
            default_groups_all_users: Vec::new(),
            departed: DepartedPolicy::default(),
            adopt_existing: true,
            protected_accounts: Vec::new(),
            delete_groups: false,
            group_renames: GroupRenames::default(),
            limits: SafetyLimits::default(),
            full_reconcile_hours: DEFAULT_FULL_RECONCILE_HOURS,
        }
    }
}
