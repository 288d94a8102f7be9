//! The console's name for every setting of an app, in one table: the settings form
//! labels its fields from it, and messages (explain, held runs, field problems) name a
//! setting by its label and section, e.g. "Only members of (Scope)", rather than by the
//! path `policy.scope.only_members_of` that the TOML file and the API use.
//!
//! Every leaf path of a draft has an entry; a test walks a fully populated draft so a
//! new setting cannot be added without its label (and its field in the form).

/// The form's sections (fieldsets), in the order the page shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Section {
    App,
    Okta,
    Target,
    UsernameMapping,
    Actions,
    Scope,
    Groups,
    SafetyLimits,
    LoginSync,
    Notifications,
}

impl Section {
    /// The section's heading on the settings page.
    #[must_use]
    pub fn title(self) -> &'static str {
        match self {
            Self::App => "App",
            Self::Okta => "Okta",
            Self::Target => "Target",
            Self::UsernameMapping => "Username mapping",
            Self::Actions => "Actions",
            Self::Scope => "Scope",
            Self::Groups => "Groups",
            Self::SafetyLimits => "Safety limits",
            Self::LoginSync => "Login-time sync",
            Self::Notifications => "Notifications",
        }
    }
}

/// One setting: its path (TOML, API and form field name), label and section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    pub path: &'static str,
    pub label: &'static str,
    pub section: Section,
}

const fn s(path: &'static str, label: &'static str, section: Section) -> Setting {
    Setting {
        path,
        label,
        section,
    }
}

use Section as S;

/// Every setting of an app, in the form's order.
pub const SETTINGS: &[Setting] = &[
    s("name", "App Name", S::App),
    s(
        "schedule.every_minutes",
        "Scheduler Time Interval (minutes)",
        S::App,
    ),
    s("schedule.cron", "Or a cron expression", S::App),
    s(
        "policy.full_reconcile_hours",
        "Full reconcile every (hours)",
        S::App,
    ),
    s("okta.url", "Okta Domain URL", S::Okta),
    s("okta.credential.type", "Okta credential", S::Okta),
    s("okta.credential.token", "Okta API token", S::Okta),
    s("okta.credential.client_id", "OAuth client id", S::Okta),
    s("okta.credential.key_id", "OAuth key id (kid)", S::Okta),
    s(
        "okta.credential.private_key",
        "OAuth private key (PEM)",
        S::Okta,
    ),
    s(
        "okta.ca_file",
        "Extra CA certificates for Okta (PEM file)",
        S::Okta,
    ),
    s("target.kind", "Product", S::Target),
    s("target.url", "Base URL", S::Target),
    s("target.credential.type", "Target credential", S::Target),
    s(
        "target.credential.username",
        "Username (for username and password)",
        S::Target,
    ),
    s(
        "target.credential.name",
        "Application name (Crowd)",
        S::Target,
    ),
    s(
        "target.credential.token",
        "Token (personal access token; SCIM: bearer token)",
        S::Target,
    ),
    s(
        "target.credential.password",
        "Password (of the user, or of the Crowd application)",
        S::Target,
    ),
    s(
        "target.ca_file",
        "Extra CA certificates (PEM file)",
        S::Target,
    ),
    s(
        "target.user_server.name",
        "Jira user server application name (Jira before 8.3)",
        S::Target,
    ),
    s(
        "target.user_server.password",
        "Jira user server application password",
        S::Target,
    ),
    s(
        "policy.username.regex",
        "Regex on Username",
        S::UsernameMapping,
    ),
    s(
        "policy.username.replacement",
        "Replacement",
        S::UsernameMapping,
    ),
    s(
        "policy.attributes.display_name",
        "Display name attribute",
        S::UsernameMapping,
    ),
    s(
        "policy.attributes.email",
        "E-mail attribute",
        S::UsernameMapping,
    ),
    s(
        "policy.toggles.import_users",
        "Enable Import Users",
        S::Actions,
    ),
    s(
        "policy.toggles.update_users",
        "Enable Update Users",
        S::Actions,
    ),
    s(
        "policy.toggles.enable_disable_users",
        "Enable/Disable Users",
        S::Actions,
    ),
    s(
        "policy.adopt_existing",
        "Adopt existing target users",
        S::Actions,
    ),
    s(
        "policy.departed",
        "Users who leave Okta or the scope",
        S::Actions,
    ),
    s("policy.scope.only_members_of", "Only members of", S::Scope),
    s(
        "policy.scope.import_statuses",
        "Import users with these Okta statuses",
        S::Scope,
    ),
    s(
        "policy.scope.group_types",
        "Okta group types to sync",
        S::Scope,
    ),
    s(
        "policy.scope.group_include",
        "Only groups matching",
        S::Scope,
    ),
    s(
        "policy.scope.group_exclude",
        "Except groups matching",
        S::Scope,
    ),
    s("policy.group_naming.prefix", "Group name prefix", S::Groups),
    s(
        "policy.group_naming.regex",
        "Regex on group name",
        S::Groups,
    ),
    s(
        "policy.group_naming.replacement",
        "Group name replacement",
        S::Groups,
    ),
    s("policy.group_renames", "Groups renamed in Okta", S::Groups),
    s("policy.group_map", "Group mapping", S::Groups),
    s("policy.group_map.okta_group_id", "Okta group id", S::Groups),
    s(
        "policy.group_map.okta_group_name",
        "Okta group name",
        S::Groups,
    ),
    s("policy.group_map.target_group", "Target group", S::Groups),
    s(
        "policy.delete_groups",
        "Delete groups usersync created",
        S::Groups,
    ),
    s(
        "policy.default_groups_new_users",
        "Default groups for new users",
        S::Groups,
    ),
    s(
        "policy.default_groups_all_users",
        "Default groups for all managed users",
        S::Groups,
    ),
    s(
        "policy.protected_accounts",
        "Protected accounts",
        S::SafetyLimits,
    ),
    s(
        "policy.limits.max_destructive",
        "Destructive operations allowed without approval",
        S::SafetyLimits,
    ),
    s(
        "policy.limits.max_destructive_percent",
        "Percent of managed users allowed without approval",
        S::SafetyLimits,
    ),
    s(
        "policy.limits.percent_applies_above",
        "The % limit applies above this many operations",
        S::SafetyLimits,
    ),
    s(
        "policy.limits.window_minutes",
        "Budget window (minutes)",
        S::SafetyLimits,
    ),
    s(
        "events.hook_enabled",
        "Sync a user when Okta reports an event (event hook)",
        S::LoginSync,
    ),
    s(
        "events.event_types",
        "Events that trigger a sync",
        S::LoginSync,
    ),
    s("events.hook_secret", "Shared secret", S::LoginSync),
    s(
        "events.poll_system_log",
        "Poll the Okta System Log",
        S::LoginSync,
    ),
    s(
        "events.poll_interval_seconds",
        "Polling interval (seconds)",
        S::LoginSync,
    ),
    s("notify.on", "Tell when", S::Notifications),
    s("notify.webhook.url", "Webhook URL", S::Notifications),
    s("notify.email.to", "E-mail recipients", S::Notifications),
    s("notify.email.from", "E-mail sender", S::Notifications),
    s("notify.email.smtp.host", "SMTP server", S::Notifications),
    s("notify.email.smtp.port", "SMTP port", S::Notifications),
    s(
        "notify.email.smtp.username",
        "SMTP username",
        S::Notifications,
    ),
    s(
        "notify.email.smtp.password",
        "SMTP password",
        S::Notifications,
    ),
    s(
        "notify.email.smtp.starttls",
        "Require STARTTLS",
        S::Notifications,
    ),
];

/// The setting at `path` (a list entry's path, `x[2]`, is its list's).
#[must_use]
pub fn setting(path: &str) -> Option<&'static Setting> {
    let path = path.split('[').next().unwrap_or(path);
    SETTINGS.iter().find(|s| s.path == path)
}

/// The label of the setting at `path`; the path itself when it has none.
#[must_use]
pub fn label(path: &str) -> &str {
    setting(path).map_or(path, |s| s.label)
}

/// How messages name the setting at `path`: "Only members of (Scope)". A path inside
/// the policy may be given without its `policy.` prefix, as the compiled policy
/// reports it (`scope.only_members_of`). Unknown paths are returned as they are.
#[must_use]
pub fn describe(path: &str) -> String {
    let found = setting(path).or_else(|| setting(&format!("policy.{path}")));
    found.map_or_else(
        || path.to_owned(),
        |s| format!("{} ({})", s.label, s.section.title()),
    )
}

/// `text` with every setting path in it (`policy.scope.only_members_of` or, in the
/// policy's own messages, `scope.only_members_of`) replaced by its description, longest
/// paths first so that no path is replaced inside a longer one.
#[must_use]
pub fn with_labels(text: &str) -> String {
    let mut paths: Vec<(&str, String)> = Vec::new();
    for setting in SETTINGS {
        paths.push((setting.path, describe(setting.path)));
        if let Some(short) = setting.path.strip_prefix("policy.")
            && short.contains('.')
        {
            paths.push((short, describe(setting.path)));
        }
    }
    paths.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
    let mut out = text.to_owned();
    for (path, described) in paths {
        out = replace_path(&out, path, &described);
    }
    out
}

/// Replaces `path` where it stands alone (not part of a longer dotted name or word).
fn replace_path(text: &str, path: &str, with: &str) -> String {
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(path) {
        let before = rest[..at].chars().next_back();
        let tail = &rest[at + path.len()..];
        let continues = tail.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
            || (tail.starts_with('.')
                && tail[1..].starts_with(|c: char| c.is_ascii_alphanumeric()));
        let alone = !before.is_some_and(is_name) && !continues;
        out.push_str(&rest[..at]);
        out.push_str(if alone { with } else { path });
        rest = &rest[at + path.len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_has_one_setting() {
        let mut paths: Vec<&str> = SETTINGS.iter().map(|s| s.path).collect();
        paths.sort_unstable();
        let before = paths.len();
        paths.dedup();
        assert_eq!(before, paths.len(), "a path is listed twice");
    }

    #[test]
    fn messages_name_a_setting_by_its_label_and_section() {
        assert_eq!(
            describe("policy.scope.only_members_of"),
            "Only members of (Scope)"
        );
        assert_eq!(describe("scope.only_members_of"), "Only members of (Scope)");
        assert_eq!(
            describe("policy.default_groups_new_users[1]"),
            "Default groups for new users (Groups)"
        );
        assert_eq!(describe("no.such.path"), "no.such.path");
        assert_eq!(
            with_labels(
                "limits are set by policy.limits.max_destructive and limits.window_minutes."
            ),
            "limits are set by Destructive operations allowed without approval (Safety limits) and Budget window (minutes) (Safety limits)."
        );
        assert_eq!(
            with_labels("a user outside scope.only_members_of is skipped"),
            "a user outside Only members of (Scope) is skipped"
        );
    }
}
