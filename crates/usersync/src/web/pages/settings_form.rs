//! The app settings form as flat fields, and its conversion to and from the
//! console's [`AppInput`] / [`AppView`].
//!
//! Field names follow the setting's path with dots as underscores
//! (`policy.username.regex` -> `username_regex`), so a validation problem
//! reported by the store or the policy compiler lands beside its own field.

use std::collections::{BTreeMap, HashMap};

use usersync_core::app::TargetKind;
use usersync_core::mapping::CompiledPolicy;
use usersync_core::policy::{DepartedPolicy, GroupRenames, SyncPolicy};
use usersync_core::snapshot::OktaGroupType;

use crate::web::model::{
    AppInput, AppView, OktaAuthKind, OktaInput, ScheduleView, TargetAuthKind, TargetInput,
};

/// The form fields that carry secrets (write-only: never rendered back or logged).
const SECRET_FIELDS: [&str; 3] = ["okta_api_token", "okta_private_key", "target_credential"];

/// The form's values and the problems found with them.
#[derive(Clone, Default)]
pub struct FormState {
    pub values: HashMap<String, String>,
    pub errors: BTreeMap<String, String>,
}

impl std::fmt::Debug for FormState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let values: BTreeMap<&str, &str> = self
            .values
            .iter()
            .map(|(k, v)| {
                let shown = if SECRET_FIELDS.contains(&k.as_str()) {
                    "<redacted>"
                } else {
                    v.as_str()
                };
                (k.as_str(), shown)
            })
            .collect();
        f.debug_struct("FormState")
            .field("values", &values)
            .field("errors", &self.errors)
            .finish()
    }
}

/// The form field a setting's path belongs to: `policy.scope.only_members_of[2]`
/// -> `scope_only_members_of`.
#[must_use]
pub fn field_key(path: &str) -> String {
    let path = path.strip_prefix("policy.").unwrap_or(path);
    let mut out = String::new();
    let mut depth = 0;
    for c in path.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            '.' if depth == 0 => out.push('_'),
            c if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

impl FormState {
    /// A field's value ("" when absent).
    #[must_use]
    pub fn v(&self, key: &str) -> &str {
        self.values.get(key).map_or("", String::as_str)
    }

    #[must_use]
    pub fn err(&self, key: &str) -> Option<&str> {
        self.errors.get(key).map(String::as_str)
    }

    /// For checkboxes.
    #[must_use]
    pub fn checked(&self, key: &str) -> bool {
        matches!(self.v(key), "on" | "true" | "1")
    }

    /// For select options and radio buttons.
    #[must_use]
    pub fn is(&self, key: &str, value: &str) -> bool {
        self.v(key) == value
    }

    /// Records a problem against the field its path names (the first one wins).
    pub fn problem(&mut self, path: &str, message: impl Into<String>) {
        self.errors
            .entry(field_key(path))
            .or_insert_with(|| message.into());
    }

    fn set(&mut self, key: &str, value: impl Into<String>) {
        self.values.insert(key.to_owned(), value.into());
    }

    fn flag(&mut self, key: &str, on: bool) {
        if on {
            self.set(key, "on");
        }
    }

    /// The form for a new app: the product's defaults.
    #[must_use]
    pub fn for_new() -> Self {
        let mut f = Self::default();
        f.set("okta_auth", "api_token");
        f.set("target_kind", "jira");
        f.set("target_auth", "pat");
        f.set("schedule_interval_minutes", "60");
        f.fill_policy(&SyncPolicy::default());
        f
    }

    /// The form showing an app's stored settings (secrets are never values here).
    #[must_use]
    pub fn from_view(app: &AppView) -> Self {
        let mut f = Self::default();
        f.set("name", &app.name);
        f.set("okta_url", &app.okta.url);
        f.set(
            "okta_auth",
            match app.okta.auth {
                OktaAuthKind::ApiToken => "api_token",
                OktaAuthKind::Oauth => "oauth",
            },
        );
        f.set(
            "okta_client_id",
            app.okta.client_id.clone().unwrap_or_default(),
        );
        f.set("okta_key_id", app.okta.key_id.clone().unwrap_or_default());
        f.set("target_kind", app.target.kind.as_str());
        f.set("target_url", &app.target.url);
        f.set(
            "target_auth",
            match app.target.auth {
                TargetAuthKind::Pat => "pat",
                TargetAuthKind::Basic => "basic",
            },
        );
        f.set(
            "target_username",
            app.target.username.clone().unwrap_or_default(),
        );
        f.set(
            "schedule_interval_minutes",
            app.schedule
                .interval_minutes
                .map(|m| m.to_string())
                .unwrap_or_default(),
        );
        f.set(
            "schedule_cron",
            app.schedule.cron.clone().unwrap_or_default(),
        );
        f.fill_policy(&app.policy);
        f
    }

    fn fill_policy(&mut self, p: &SyncPolicy) {
        self.flag("toggles_import_users", p.toggles.import_users);
        self.flag("toggles_update_users", p.toggles.update_users);
        self.flag(
            "toggles_enable_disable_users",
            p.toggles.enable_disable_users,
        );
        self.set("username_regex", &p.username.regex);
        self.set("username_replacement", &p.username.replacement);
        self.set("attributes_display_name", &p.attributes.display_name);
        self.set("attributes_email", &p.attributes.email);
        self.set("scope_only_members_of", p.scope.only_members_of.join("\n"));
        self.flag(
            "scope_group_types_okta_group",
            p.scope.group_types.contains(&OktaGroupType::OktaGroup),
        );
        self.flag(
            "scope_group_types_app_group",
            p.scope.group_types.contains(&OktaGroupType::AppGroup),
        );
        self.set(
            "scope_group_include",
            p.scope.group_include.clone().unwrap_or_default(),
        );
        self.set(
            "scope_group_exclude",
            p.scope.group_exclude.clone().unwrap_or_default(),
        );
        self.set("group_naming_prefix", &p.group_naming.prefix);
        self.set(
            "default_groups_new_users",
            p.default_groups_new_users.join("\n"),
        );
        self.set(
            "default_groups_all_users",
            p.default_groups_all_users.join("\n"),
        );
        self.set(
            "departed",
            match p.departed {
                DepartedPolicy::Deactivate => "deactivate",
                DepartedPolicy::Keep => "keep",
                DepartedPolicy::Delete => "delete",
            },
        );
        self.flag("adopt_existing", p.adopt_existing);
        self.flag("delete_groups", p.delete_groups);
        self.set("group_renames", p.group_renames.as_str());
        self.set("protected_accounts", p.protected_accounts.join("\n"));
        self.set(
            "limits_max_destructive",
            p.limits.max_destructive.to_string(),
        );
        self.set(
            "limits_max_destructive_percent",
            p.limits.max_destructive_percent.to_string(),
        );
    }

    /// The submitted form.
    #[must_use]
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        Self {
            values: pairs.into_iter().collect(),
            errors: BTreeMap::new(),
        }
    }

    fn opt(&self, key: &str) -> Option<String> {
        Some(self.v(key).trim().to_owned()).filter(|v| !v.is_empty())
    }

    fn lines(&self, key: &str) -> Vec<String> {
        self.v(key)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    }

    fn number<T: std::str::FromStr>(&mut self, key: &str, what: &str) -> Option<T> {
        let raw = self.v(key).trim().to_owned();
        match raw.parse() {
            Ok(n) => Some(n),
            Err(_) => {
                self.errors
                    .insert(key.to_owned(), format!("{raw:?} is not {what}"));
                None
            }
        }
    }

    /// Builds the input from the form on top of `base` (so settings the form does
    /// not show are kept), recording every problem found beside its field.
    /// Returns `None` when there were problems.
    pub fn to_input(&mut self, base: &SyncPolicy) -> Option<AppInput> {
        let mut policy = base.clone();
        self.fill_mapping_and_scope(&mut policy);
        self.fill_safety(&mut policy);
        if let Err(e) = CompiledPolicy::compile(&policy) {
            for p in e.problems {
                self.problem(&p.field, p.message);
            }
        }
        let schedule = self.schedule();
        if self.v("name").trim().is_empty() {
            self.errors.insert(
                "name".into(),
                "give the app a name, e.g. \"Jira production\"".into(),
            );
        }
        if !self.errors.is_empty() {
            return None;
        }
        Some(AppInput {
            name: self.v("name").trim().to_owned(),
            okta: self.okta_input(),
            target: self.target_input(),
            schedule,
            policy,
        })
    }

    /// The product page's toggles, the username and attribute mapping, scope and groups.
    fn fill_mapping_and_scope(&self, policy: &mut SyncPolicy) {
        policy.toggles.import_users = self.checked("toggles_import_users");
        policy.toggles.update_users = self.checked("toggles_update_users");
        policy.toggles.enable_disable_users = self.checked("toggles_enable_disable_users");
        policy.username.regex = self.v("username_regex").trim().to_owned();
        policy.username.replacement = self.v("username_replacement").trim().to_owned();
        policy.attributes.display_name = self.v("attributes_display_name").trim().to_owned();
        policy.attributes.email = self.v("attributes_email").trim().to_owned();
        policy.scope.only_members_of = self.lines("scope_only_members_of");
        policy.scope.group_types = [
            ("scope_group_types_okta_group", OktaGroupType::OktaGroup),
            ("scope_group_types_app_group", OktaGroupType::AppGroup),
        ]
        .into_iter()
        .filter(|(k, _)| self.checked(k))
        .map(|(_, t)| t)
        .collect();
        policy.scope.group_include = self.opt("scope_group_include");
        policy.scope.group_exclude = self.opt("scope_group_exclude");
        policy.group_naming.prefix = self.v("group_naming_prefix").trim().to_owned();
        policy.default_groups_new_users = self.lines("default_groups_new_users");
        policy.default_groups_all_users = self.lines("default_groups_all_users");
    }

    /// Departed users, ownership, protected accounts and the hold limits.
    fn fill_safety(&mut self, policy: &mut SyncPolicy) {
        policy.departed = match self.v("departed") {
            "keep" => DepartedPolicy::Keep,
            "delete" => DepartedPolicy::Delete,
            _ => DepartedPolicy::Deactivate,
        };
        policy.adopt_existing = self.checked("adopt_existing");
        policy.delete_groups = self.checked("delete_groups");
        policy.group_renames = match self.v("group_renames") {
            "" | "keep" => GroupRenames::Keep,
            "recreate" => GroupRenames::Recreate,
            other => {
                self.errors.insert(
                    "group_renames".into(),
                    format!("must be keep or recreate, not {other:?}"),
                );
                GroupRenames::Keep
            }
        };
        policy.protected_accounts = self.lines("protected_accounts");
        if let Some(n) = self.number("limits_max_destructive", "a whole number of operations") {
            policy.limits.max_destructive = n;
        }
        if let Some(p) = self.number::<f64>("limits_max_destructive_percent", "a percentage") {
            if (0.0..=100.0).contains(&p) {
                policy.limits.max_destructive_percent = p;
            } else {
                self.errors.insert(
                    "limits_max_destructive_percent".into(),
                    "must be between 0 and 100".into(),
                );
            }
        }
    }

    fn okta_input(&self) -> OktaInput {
        OktaInput {
            url: self.v("okta_url").trim().to_owned(),
            auth: if self.is("okta_auth", "oauth") {
                OktaAuthKind::Oauth
            } else {
                OktaAuthKind::ApiToken
            },
            api_token: self.opt("okta_api_token"),
            client_id: self.opt("okta_client_id"),
            key_id: self.opt("okta_key_id"),
            private_key: self.opt("okta_private_key"),
        }
    }

    fn target_input(&self) -> TargetInput {
        TargetInput {
            kind: if self.is("target_kind", "confluence") {
                TargetKind::Confluence
            } else {
                TargetKind::Jira
            },
            url: self.v("target_url").trim().to_owned(),
            auth: if self.is("target_auth", "basic") {
                TargetAuthKind::Basic
            } else {
                TargetAuthKind::Pat
            },
            username: self.opt("target_username"),
            credential: self.opt("target_credential"),
        }
    }

    fn schedule(&mut self) -> ScheduleView {
        let interval_minutes = match self.opt("schedule_interval_minutes") {
            None => None,
            Some(_) => self
                .number::<u32>("schedule_interval_minutes", "a whole number of minutes")
                .filter(|m| *m > 0),
        };
        ScheduleView {
            interval_minutes,
            cron: self.opt("schedule_cron"),
        }
    }

    /// Drops submitted secret values so they are never rendered back into the page.
    pub fn forget_secrets(&mut self) {
        for key in SECRET_FIELDS {
            self.values.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setting_paths_map_to_the_form_field_beside_which_errors_show() {
        assert_eq!(field_key("policy.username.regex"), "username_regex");
        assert_eq!(field_key("username.regex"), "username_regex");
        assert_eq!(
            field_key("scope.only_members_of[2]"),
            "scope_only_members_of"
        );
        assert_eq!(field_key("okta.url"), "okta_url");
        assert_eq!(
            field_key("limits.max_destructive_percent"),
            "limits_max_destructive_percent"
        );
    }

    #[test]
    fn an_invalid_regex_is_reported_beside_the_regex_field_and_secrets_are_not_kept() {
        let mut f = FormState::for_new();
        f.values.insert("name".into(), "Jira".into());
        f.values.insert("username_regex".into(), "(.*@".into());
        f.values
            .insert("okta_api_token".into(), "s3cr3t-token".into());
        assert!(f.to_input(&SyncPolicy::default()).is_none());
        assert!(f.err("username_regex").is_some(), "{:?}", f.errors);
        f.forget_secrets();
        assert_eq!(f.v("okta_api_token"), "");
    }

    #[test]
    fn a_valid_form_becomes_an_input_with_its_toggles_and_lists() {
        let mut f = FormState::for_new();
        for (k, v) in [
            ("name", "Jira"),
            ("okta_url", "https://x.okta.com"),
            ("username_regex", "(.*)@.*"),
            ("username_replacement", "$1"),
            ("default_groups_new_users", "jira-software-users\n\n"),
            ("schedule_interval_minutes", "30"),
        ] {
            f.values.insert(k.into(), v.into());
        }
        f.values.remove("toggles_update_users");
        let input = f.to_input(&SyncPolicy::default()).expect("valid");
        assert!(input.policy.toggles.import_users);
        assert!(!input.policy.toggles.update_users);
        assert_eq!(
            input.policy.default_groups_new_users,
            vec!["jira-software-users".to_owned()]
        );
        assert_eq!(input.schedule.interval_minutes, Some(30));
        assert_eq!(input.okta.api_token, None);
    }

    #[test]
    fn debug_output_of_the_form_and_its_input_hides_the_secrets() {
        let mut f = FormState::for_new();
        for (k, v) in [
            ("name", "Jira"),
            ("okta_url", "https://x.okta.com"),
            ("okta_api_token", "okta-SECRET-token"),
            ("target_url", "https://jira.example.com"),
            ("target_credential", "jira-SECRET-pat"),
        ] {
            f.values.insert(k.into(), v.into());
        }
        let input = f.to_input(&SyncPolicy::default()).expect("valid");
        assert_eq!(input.okta.api_token.as_deref(), Some("okta-SECRET-token"));
        for debug in [format!("{f:?}"), format!("{input:?}")] {
            assert!(!debug.contains("SECRET"), "{debug}");
            assert!(
                debug.contains("<redacted>") && debug.contains("x.okta.com"),
                "{debug}"
            );
        }
    }
}
