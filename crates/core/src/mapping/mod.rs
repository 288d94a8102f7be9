//! Mapping: a [`SyncPolicy`] compiled for planning, and how an Okta user becomes a
//! target user (username, display name, e-mail) and an Okta group a target group.
//!
//! Compiling validates every regex and name once, up front, and reports every
//! problem with the field it came from, so a bad setting is refused before a run
//! instead of failing per user. Username validity depends on the target product,
//! which [`TargetConstraints`] describes.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::ids::{Email, GroupName, IdError, Username};
use crate::policy::{SyncPolicy, UsernameRule};
use crate::replace::{Rewrite, RewriteError};
use crate::snapshot::{OktaStatus, OktaUser};
use crate::template::{ProfileSchema, Template};

pub mod group_map;

pub use group_map::{GroupMap, MappedRule};

/// One invalid setting: the field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{field}: {message}")]
pub struct FieldProblem {
    /// The setting's path, e.g. `username.regex` or `default_groups_new_users[2]`.
    pub field: String,
    pub message: String,
}

impl FieldProblem {
    /// A problem with the setting at `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Every problem found while compiling a policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{}", self.problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct PolicyError {
    pub problems: Vec<FieldProblem>,
}

/// What the target product accepts as a username.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetConstraints {
    /// Confluence rejects upper case on create, so mapped names are lower-cased first.
    pub lowercase_usernames: bool,
    pub max_username_len: usize,
    /// Characters the product refuses in a username (besides whitespace and controls).
    pub forbidden_username_chars: String,
    /// Names the product reserves.
    pub reserved_usernames: Vec<String>,
    /// Whether reads of the target return users' e-mail addresses. Confluence's do not, so
    /// an e-mail there is never compared (it would look changed on every run).
    pub reports_email: bool,
    /// Whether a user can be created only with an e-mail address (both products: their
    /// create calls refuse a user without one), so the planner skips such users.
    pub requires_email: bool,
}

impl TargetConstraints {
    /// Jira Data Center: usernames up to 255 characters, no whitespace.
    #[must_use]
    pub fn jira() -> Self {
        Self {
            lowercase_usernames: false,
            max_username_len: 255,
            forbidden_username_chars: String::new(),
            reserved_usernames: Vec::new(),
            reports_email: true,
            requires_email: true,
        }
    }

    /// Confluence Data Center: lower case, no whitespace, none of `\ , + < > ' "`, not `anonymous`.
    #[must_use]
    pub fn confluence() -> Self {
        Self {
            lowercase_usernames: true,
            max_username_len: 255,
            forbidden_username_chars: "\\,+<>'\"".into(),
            reserved_usernames: vec!["anonymous".into()],
            reports_email: false,
            requires_email: true,
        }
    }

    /// A SCIM 2.0 service: `userName` is any non-empty string (RFC 7643 §4.1.1); usersync
    /// keeps whitespace out as for the other targets. Reads return `emails`, and
    /// Atlassian Cloud refuses a user without one, so one is required.
    #[must_use]
    pub fn scim() -> Self {
        Self {
            lowercase_usernames: false,
            max_username_len: 255,
            forbidden_username_chars: String::new(),
            reserved_usernames: Vec::new(),
            reports_email: true,
            requires_email: true,
        }
    }

    /// The rules of `kind`'s product.
    #[must_use]
    pub fn for_kind(kind: crate::app::TargetKind) -> Self {
        match kind {
            crate::app::TargetKind::Jira => Self::jira(),
            crate::app::TargetKind::Confluence => Self::confluence(),
            crate::app::TargetKind::Crowd => Self::crowd(),
            crate::app::TargetKind::Scim | crate::app::TargetKind::AtlassianCloud => Self::scim(),
        }
    }

    /// Crowd Data Center: usernames compare ignoring case (as usersync's do) and keep the
    /// case they are created with; e-mail is part of every user and required on create.
    #[must_use]
    pub fn crowd() -> Self {
        // The same rules as a SCIM service's, by coincidence of the products, not by design.
        Self::scim()
    }

    /// Turns a mapped name into a username the target accepts, or says why not.
    ///
    /// # Errors
    /// A sentence naming the problem (whitespace, a forbidden character, length, ...).
    pub fn username(&self, raw: &str) -> Result<Username, String> {
        let name = if self.lowercase_usernames {
            raw.to_lowercase()
        } else {
            raw.to_owned()
        };
        if let Some(c) = name.chars().find(|c| c.is_whitespace()) {
            return Err(format!("contains whitespace ({c:?})"));
        }
        if let Some(c) = name
            .chars()
            .find(|c| self.forbidden_username_chars.contains(*c))
        {
            return Err(format!("contains {c:?}, which the target does not allow"));
        }
        let len = name.chars().count();
        if len > self.max_username_len {
            return Err(format!(
                "is {len} characters long, at most {} allowed",
                self.max_username_len
            ));
        }
        if self
            .reserved_usernames
            .iter()
            .any(|r| r.eq_ignore_ascii_case(&name))
        {
            return Err("is reserved by the target".into());
        }
        Username::parse(name).map_err(|e| match e {
            IdError::Empty { .. } => "is empty".to_owned(),
            other => other.to_string(),
        })
    }
}

/// A policy checked and ready for planning.
#[derive(Debug, Clone)]
pub struct CompiledPolicy {
    pub(crate) policy: SyncPolicy,
    username: Option<Rewrite>,
    group_rewrite: Option<Rewrite>,
    pub(crate) group_include: Option<regex::Regex>,
    pub(crate) group_exclude: Option<regex::Regex>,
    /// Lower-cased Okta group names whose members are in scope (empty: everyone).
    pub(crate) only_members_of: HashSet<String>,
    pub(crate) protected: HashSet<Username>,
    pub(crate) default_groups_new: Vec<GroupName>,
    pub(crate) default_groups_all: Vec<GroupName>,
    /// `attributes.display_name` parsed; `None` when empty (`firstName lastName`).
    display_name: Option<Template>,
    /// `attributes.email` parsed (required).
    email: Option<Template>,
    pub(crate) group_map: GroupMap,
}

impl CompiledPolicy {
    /// Validates and compiles `policy`.
    ///
    /// # Errors
    /// [`PolicyError`] listing every invalid field, e.g.
    /// `username.regex: unclosed group`.
    pub fn compile(policy: &SyncPolicy) -> Result<Self, PolicyError> {
        let mut problems = Vec::new();
        let mut report =
            |field: String, message: String| problems.push(FieldProblem { field, message });
        let username = compile_rewrite(
            "username",
            &policy.username.regex,
            &policy.username.replacement,
            &mut report,
        );
        let naming = &policy.group_naming;
        let group_rewrite = compile_rewrite(
            "group_naming",
            &naming.regex,
            &naming.replacement,
            &mut report,
        );
        let group_include = compile_regex(
            "scope.group_include",
            policy.scope.group_include.as_deref(),
            &mut report,
        );
        let group_exclude = compile_regex(
            "scope.group_exclude",
            policy.scope.group_exclude.as_deref(),
            &mut report,
        );
        let mut only_members_of = HashSet::new();
        for (i, name) in policy.scope.only_members_of.iter().enumerate() {
            if name.trim().is_empty() {
                report(
                    format!("scope.only_members_of[{i}]"),
                    "must name an Okta group, not be empty".into(),
                );
            }
            only_members_of.insert(name.to_lowercase());
        }
        let mut protected = HashSet::new();
        for (i, name) in policy.protected_accounts.iter().enumerate() {
            match Username::parse(name.as_str()) {
                Ok(u) => {
                    protected.insert(u);
                }
                Err(e) => report(format!("protected_accounts[{i}]"), e.to_string()),
            }
        }
        let default_groups_new = group_list(
            "default_groups_new_users",
            &policy.default_groups_new_users,
            &mut report,
        );
        let default_groups_all = group_list(
            "default_groups_all_users",
            &policy.default_groups_all_users,
            &mut report,
        );
        let (display_name, email) = compile_attributes(policy, &mut report);
        let group_map = group_map::compile(&policy.group_map, &mut report);
        check_scalars(policy, &mut report);
        if !problems.is_empty() {
            return Err(PolicyError { problems });
        }
        Ok(Self {
            policy: policy.clone(),
            username,
            group_rewrite,
            group_include,
            group_exclude,
            only_members_of,
            protected,
            default_groups_new,
            default_groups_all,
            display_name,
            email,
            group_map,
        })
    }

    /// The policy this was compiled from.
    #[must_use]
    pub fn policy(&self) -> &SyncPolicy {
        &self.policy
    }

    /// The login after "Regex on Username" (the login itself when the regex does not match).
    #[must_use]
    pub fn map_login(&self, login: &str) -> String {
        match &self.username {
            Some(rewrite) => rewrite
                .apply(login)
                .map_or_else(|| login.to_owned(), |c| c.into_owned()),
            None => login.to_owned(),
        }
    }

    /// True when every mapped username is shown to be a prefix of its login (no
    /// username regex, or one that keeps a prefix: [`crate::replace::Rewrite::keeps_a_prefix`]),
    /// so the logins that could map to a username are those starting with it: what a
    /// single-user sync's targeted Okta query relies on.
    #[must_use]
    pub fn username_is_a_login_prefix(&self) -> bool {
        self.username
            .as_ref()
            .is_none_or(crate::replace::Rewrite::keeps_a_prefix)
    }

    /// The Okta profile attributes the mapping reads (besides the login): all a
    /// full read needs to keep of each user's profile, custom ones named in
    /// templates included.
    #[must_use]
    pub fn profile_attributes(&self) -> Vec<String> {
        let templates = self.display_name.iter().chain(self.email.iter());
        let mut names: Vec<String> = ["firstName", "lastName"]
            .into_iter()
            .chain(templates.flat_map(Template::attributes))
            .map(str::to_owned)
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// The display name: the configured attribute or template when it gives a value,
    /// else `firstName lastName`, else the login (targets refuse an empty display name).
    #[must_use]
    pub fn display_name(&self, user: &OktaUser) -> String {
        if let Some(value) = self
            .display_name
            .as_ref()
            .and_then(|t| t.render(user, false))
        {
            return value;
        }
        let parts: Vec<&str> = ["firstName", "lastName"]
            .iter()
            .filter_map(|a| user.attribute(a))
            .map(str::trim)
            .collect();
        if parts.is_empty() {
            user.login.clone()
        } else {
            parts.join(" ")
        }
    }

    /// Which setting gave `user`'s display name, in words (for `explain`).
    #[must_use]
    pub fn display_name_source(&self, user: &OktaUser) -> String {
        let setting = crate::app::labels::describe("policy.attributes.display_name");
        match &self.display_name {
            Some(t) if t.render(user, false).is_some() => {
                format!("from {setting} {:?}", t.source())
            }
            Some(t) => format!(
                "firstName lastName, as {setting} {:?} has no value for this user",
                t.source()
            ),
            None => format!("firstName lastName, as {setting} is empty"),
        }
    }

    /// The e-mail from the configured attribute or template (every placeholder must
    /// have a value); `None` when absent or not e-mail-shaped.
    #[must_use]
    pub fn email(&self, user: &OktaUser) -> Option<Email> {
        self.email
            .as_ref()?
            .render(user, true)
            .filter(|v| v.contains('@'))
            .and_then(|v| Email::parse(v).ok())
    }

    /// The `attributes.*` placeholders the org's profile `schema` lacks, each a problem
    /// naming the field, the unknown attributes and the fix (`check` asks Okta).
    #[must_use]
    pub fn profile_schema_problems(&self, schema: &ProfileSchema) -> Vec<FieldProblem> {
        let fields = [
            ("policy.attributes.display_name", &self.display_name),
            ("policy.attributes.email", &self.email),
        ];
        fields
            .into_iter()
            .filter_map(|(field, t)| {
                let unknown = t.as_ref()?.unknown_in(schema);
                (!unknown.is_empty()).then(|| {
                    let list: Vec<String> = unknown.iter().map(|a| format!("{{{a}}}")).collect();
                    FieldProblem::new(
                        field,
                        format!(
                            "the Okta org's user profile has no attribute {}; fix the spelling (names are case-sensitive) or add the attribute to the profile in Okta",
                            list.join(", ")
                        ),
                    )
                })
            })
            .collect()
    }

    /// The explicit group-mapping rules.
    #[must_use]
    pub fn group_map(&self) -> &GroupMap {
        &self.group_map
    }

    /// The target group name for an Okta group name: optional rewrite, then the prefix.
    ///
    /// # Errors
    /// [`IdError`] when the result is not a usable group name.
    pub fn group_name(&self, okta_name: &str) -> Result<GroupName, IdError> {
        let rewritten = match &self.group_rewrite {
            Some(rewrite) => rewrite
                .apply(okta_name)
                .map_or_else(|| okta_name.to_owned(), |c| c.into_owned()),
            None => okta_name.to_owned(),
        };
        GroupName::parse(format!("{}{rewritten}", self.policy.group_naming.prefix))
    }

    /// Protected accounts: the policy's list plus the credential's own account.
    #[must_use]
    pub fn is_protected(&self, username: &Username, credential: Option<&Username>) -> bool {
        credential == Some(username) || self.protected.contains(username)
    }

    /// Whether a missing user with this status is created.
    #[must_use]
    pub fn is_importable(&self, status: OktaStatus) -> bool {
        self.policy.scope.import_statuses.contains(&status)
    }

    #[must_use]
    pub fn default_groups_new_users(&self) -> &[GroupName] {
        &self.default_groups_new
    }

    #[must_use]
    pub fn default_groups_all_users(&self) -> &[GroupName] {
        &self.default_groups_all
    }
}

fn compile_rewrite(
    field: &str,
    regex: &str,
    replacement: &str,
    report: &mut impl FnMut(String, String),
) -> Option<Rewrite> {
    if regex.is_empty() {
        if !replacement.is_empty() {
            report(
                format!("{field}.replacement"),
                format!("is set but {field}.regex is empty; set both or neither"),
            );
        }
        return None;
    }
    match Rewrite::new(regex, replacement) {
        Ok(r) => Some(r),
        Err(RewriteError::Regex(m)) => {
            report(format!("{field}.regex"), m);
            None
        }
        Err(RewriteError::Replacement(m)) => {
            report(format!("{field}.replacement"), m);
            None
        }
    }
}

fn compile_regex(
    field: &str,
    regex: Option<&str>,
    report: &mut impl FnMut(String, String),
) -> Option<regex::Regex> {
    let regex = regex.filter(|r| !r.is_empty())?;
    match crate::replace::compile(regex) {
        Ok(r) => Some(r),
        Err(m) => {
            report(field.to_owned(), m);
            None
        }
    }
}

fn group_list(
    field: &str,
    names: &[String],
    report: &mut impl FnMut(String, String),
) -> Vec<GroupName> {
    let mut out = Vec::new();
    for (i, name) in names.iter().enumerate() {
        match GroupName::parse(name.as_str()) {
            Ok(g) if !out.contains(&g) => out.push(g),
            Ok(_) => {}
            Err(e) => report(format!("{field}[{i}]"), e.to_string()),
        }
    }
    out
}

/// Parses `attributes.display_name` (optional) and `attributes.email` (required).
fn compile_attributes(
    policy: &SyncPolicy,
    report: &mut impl FnMut(String, String),
) -> (Option<Template>, Option<Template>) {
    fn parse(
        field: &str,
        source: &str,
        report: &mut impl FnMut(String, String),
    ) -> Option<Template> {
        Template::parse(source)
            .map_err(|e| report(field.to_owned(), e.to_string()))
            .ok()
    }
    let a = &policy.attributes;
    let display_name = if a.display_name.trim().is_empty() {
        None
    } else {
        parse("attributes.display_name", &a.display_name, report)
    };
    let email = if a.email.trim().is_empty() {
        report(
            "attributes.email".into(),
            "must name an Okta profile attribute, e.g. \"email\", or be a template such as {employeeId}@example.com".into(),
        );
        None
    } else {
        parse("attributes.email", &a.email, report)
    };
    (display_name, email)
}

fn check_scalars(policy: &SyncPolicy, report: &mut impl FnMut(String, String)) {
    if policy.group_naming.prefix.chars().any(char::is_control) {
        report(
            "group_naming.prefix".into(),
            "contains a control character".into(),
        );
    }
    let percent = policy.limits.max_destructive_percent;
    if !(0.0..=100.0).contains(&percent) {
        report(
            "limits.max_destructive_percent".into(),
            format!("is {percent}; use a share between 0 and 100"),
        );
    }
    let hours = policy.full_reconcile_hours;
    if hours > crate::policy::MAX_FULL_RECONCILE_HOURS {
        report(
            "full_reconcile_hours".into(),
            format!(
                "is {hours}; use 1 to {} hours between full reconciles, or 0 for a full sync every cycle",
                crate::policy::MAX_FULL_RECONCILE_HOURS
            ),
        );
    }
}

/// What the console's live tester shows for one login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsernamePreview {
    /// The login after the regex and replacement.
    pub mapped: String,
    /// False when the regex did not match (the login is used as it is).
    pub matched: bool,
    pub jira: UsernameVerdict,
    pub confluence: UsernameVerdict,
}

/// Whether a mapped name is usable in one product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum UsernameVerdict {
    Valid { username: String },
    Invalid { problem: String },
}

impl UsernameVerdict {
    fn of(result: Result<Username, String>) -> Self {
        match result {
            Ok(u) => Self::Valid {
                username: u.as_str().to_owned(),
            },
            Err(problem) => Self::Invalid { problem },
        }
    }
}

/// Applies a username rule to one login, for the console's live tester.
///
/// # Errors
/// [`PolicyError`] naming `username.regex` or `username.replacement` when the rule is invalid.
pub fn preview_username(rule: &UsernameRule, login: &str) -> Result<UsernamePreview, PolicyError> {
    let mut problems = Vec::new();
    let rewrite = compile_rewrite(
        "username",
        &rule.regex,
        &rule.replacement,
        &mut |field, message| {
            problems.push(FieldProblem { field, message });
        },
    );
    if !problems.is_empty() {
        return Err(PolicyError { problems });
    }
    let (mapped, matched) = match rewrite.as_ref().map(|r| r.apply(login)) {
        Some(Some(out)) => (out.into_owned(), true),
        Some(None) => (login.to_owned(), false),
        None => (login.to_owned(), true),
    };
    Ok(UsernamePreview {
        jira: UsernameVerdict::of(TargetConstraints::jira().username(&mapped)),
        confluence: UsernameVerdict::of(TargetConstraints::confluence().username(&mapped)),
        mapped,
        matched,
    })
}

#[cfg(test)]
mod tests;
