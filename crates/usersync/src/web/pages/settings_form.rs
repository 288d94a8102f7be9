//! The app settings form: its fields are named by the draft's paths
//! (`okta.url`, `policy.username.replacement`), so one parser turns the submitted
//! pairs into the same [`AppDraft`] the API and the TOML file give, and a
//! [`FieldProblem`] shows beside the field of its path.
//!
//! A form sends only text, so [`draft_from_form`] reads each value as the type the
//! draft of a new app has at that path (checkboxes come after a hidden `false`, lists
//! are one entry per line); settings the form does not show are the stored app's.
//! An empty secret field keeps the stored secret.

use std::collections::BTreeMap;

use serde_json::Value;
use usersync_core::FieldProblem;
use usersync_core::app::events::HANDLED_EVENTS;
use usersync_core::app::labels;
use usersync_core::app::{App, NotifyOn, SecretSlot, SecretState};
use usersync_store::AppDraft;

mod group_map;

use crate::web::adapter::convert::{
    draft_from_json, draft_json, new_draft_json, pointer, remove_path, set_path,
};

/// The submitted or stored values of the form, and the problems found with them.
#[derive(Clone, Default)]
pub struct FormState {
    /// Field path and value, in order; a field may appear more than once.
    pairs: Vec<(String, String)>,
    errors: BTreeMap<String, String>,
    secrets: BTreeMap<&'static str, SecretState>,
}

impl std::fmt::Debug for FormState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pairs: Vec<(&str, &str)> = self
            .pairs
            .iter()
            .map(|(k, v)| {
                let shown = if SecretSlot::from_field(k).is_some() {
                    "<redacted>"
                } else {
                    v.as_str()
                };
                (k.as_str(), shown)
            })
            .collect();
        f.debug_struct("FormState")
            .field("pairs", &pairs)
            .field("errors", &self.errors)
            .finish_non_exhaustive()
    }
}

impl FormState {
    /// The form for a new app: the product's defaults.
    #[must_use]
    pub fn for_new() -> Self {
        Self::showing(&new_draft_json())
    }

    /// The form showing an app's stored settings (secrets only as their state).
    #[must_use]
    pub fn for_app(app: &App) -> Self {
        let mut f = Self::showing(&draft_json(app));
        f.secrets = app
            .secret_states()
            .into_iter()
            .map(|(slot, state)| (slot.field(), state.clone()))
            .collect();
        f
    }

    /// The form as submitted, to show again with its problems (secret values dropped,
    /// so they are never rendered back); secret states are `stored`'s.
    #[must_use]
    pub fn submitted(pairs: Vec<(String, String)>, stored: Option<&App>) -> Self {
        let mut f = stored.map(Self::for_app).unwrap_or_default();
        f.pairs = pairs
            .into_iter()
            .filter(|(k, _)| SecretSlot::from_field(k).is_none())
            .collect();
        f
    }

    fn showing(draft: &Value) -> Self {
        let mut f = Self::default();
        flatten(draft, "", &mut f.pairs);
        f
    }

    /// The fields as the form would submit them (tests press buttons with them; a
    /// refused save checks them all, `form_problems`).
    #[must_use]
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// The console's label of the field at `key` (the one label table in core).
    #[must_use]
    pub fn label<'a>(&self, key: &'a str) -> &'a str {
        labels::label(key)
    }

    /// The event types offered as checkboxes: every type usersync handles, then any
    /// other type the app subscribes to (so a type set in TOML is shown and kept).
    #[must_use]
    pub fn event_choices(&self) -> Vec<&str> {
        let mut choices: Vec<&str> = HANDLED_EVENTS.to_vec();
        for chosen in self.values("events.event_types") {
            if !chosen.is_empty() && !choices.contains(&chosen) {
                choices.push(chosen);
            }
        }
        choices
    }

    /// The run endings offered as notification checkboxes: value and label.
    #[must_use]
    pub fn notify_choices(&self) -> Vec<(&'static str, &'static str)> {
        NotifyOn::ALL
            .iter()
            .map(|on| (on.as_str(), on.label()))
            .collect()
    }

    /// A field's value ("" when absent; the last one when sent twice).
    #[must_use]
    pub fn v(&self, key: &str) -> &str {
        self.values(key).last().unwrap_or("")
    }

    fn values<'a>(&'a self, key: &str) -> impl Iterator<Item = &'a str> + use<'a> {
        let key = key.to_owned();
        self.pairs
            .iter()
            .filter(move |(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A list field, one entry per line.
    #[must_use]
    pub fn lines(&self, key: &str) -> String {
        let entries: Vec<&str> = self.values(key).filter(|v| !v.is_empty()).collect();
        entries.join("\n")
    }

    /// For checkboxes of a setting that is on or off.
    #[must_use]
    pub fn checked(&self, key: &str) -> bool {
        matches!(self.v(key), "true" | "on")
    }

    /// For select options and radio buttons.
    #[must_use]
    pub fn is(&self, key: &str, value: &str) -> bool {
        self.v(key) == value
    }

    /// For checkboxes of a list's entries.
    #[must_use]
    pub fn has(&self, key: &str, value: &str) -> bool {
        self.values(key).any(|v| v == value)
    }

    #[must_use]
    pub fn err(&self, key: &str) -> Option<&str> {
        self.errors.get(key).map(String::as_str)
    }

    #[must_use]
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    /// How many fields have a problem.
    #[must_use]
    pub fn error_count(&self) -> usize {
        self.errors.len()
    }

    /// Problems at paths the form has no field for (shown above the form).
    #[must_use]
    pub fn unplaced_errors(&self) -> Vec<String> {
        self.errors
            .iter()
            .filter(|(path, _)| !self.pairs.iter().any(|(k, _)| k == *path))
            .filter(|(path, _)| SecretSlot::from_field(path).is_none())
            .map(|(path, message)| {
                if path.is_empty() {
                    message.clone()
                } else {
                    format!("{}: {message}", labels::describe(path))
                }
            })
            .collect()
    }

    /// Records a problem beside the field of its path (list entries beside their list).
    pub fn problem(&mut self, path: &str, message: impl Into<String>) {
        let field = path.split('[').next().unwrap_or(path);
        // The field keeps its path (the API's and the TOML's); the text names settings
        // by the labels the page shows.
        self.errors
            .entry(field.to_owned())
            .or_insert_with(|| labels::with_labels(&message.into()));
    }

    /// What the form says about a stored secret.
    #[must_use]
    pub fn secret_note(&self, key: &str) -> String {
        match self.secrets.get(key) {
            None | Some(SecretState::Unset) => "not set".into(),
            Some(SecretState::Stored) => "set".into(),
            Some(SecretState::Reference(reference)) => format!("read from {reference}"),
        }
    }

    #[must_use]
    pub fn secret_set(&self, key: &str) -> bool {
        !matches!(self.secrets.get(key), None | Some(SecretState::Unset))
    }
}

/// Every leaf of a draft as form pairs: lists one pair per entry, switches as `true`/`false`.
fn flatten(value: &Value, path: &str, out: &mut Vec<(String, String)>) {
    let join = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        Value::Object(fields) => {
            for (key, field) in fields {
                flatten(field, &join(key), out);
            }
        }
        Value::Array(entries) => {
            for entry in entries {
                flatten(entry, path, out);
            }
        }
        Value::Null => {}
        Value::String(text) => out.push((path.to_owned(), text.clone())),
        other => out.push((path.to_owned(), other.to_string())),
    }
}

/// The draft a submitted settings form describes, on top of `stored` (the app being
/// edited) so that settings the form does not show stay as they are.
///
/// Each field is read as the type a new app's draft has at its path; fields the
/// draft does not know (the CSRF token, the regex tester's sample, the other
/// credential type's inputs) are left out.
///
/// # Errors
/// A [`FieldProblem`] at the path of the first value that does not fit.
pub fn draft_from_form(
    pairs: &[(String, String)],
    stored: Option<&App>,
) -> Result<AppDraft, FieldProblem> {
    let types = form_types();
    let mut draft = stored.map_or_else(new_draft_json, draft_json);
    let mut fields: Vec<(&str, Vec<&str>)> = Vec::new();
    let mut webhook_off = false;
    for (key, value) in pairs {
        if key == WEBHOOK_OFF {
            webhook_off |= matches!(value.trim(), "true" | "on");
            continue;
        }
        match fields.iter_mut().find(|(k, _)| k == key) {
            Some((_, values)) => values.push(value),
            None => fields.push((key, vec![value])),
        }
    }
    if let Some(rules) = group_map::take_rules(&mut fields) {
        set_path(&mut draft, group_map::TABLE, rules);
    }
    for (path, values) in &fields {
        match read_field(path, values, types.pointer(&pointer(path)))? {
            Some(value) => set_path(&mut draft, path, value),
            None => {
                remove_path(&mut draft, path);
                // A blank secret keeps the stored one: its table (a stored webhook's,
                // empty without the secret) stays.
                if SecretSlot::from_field(path).is_none() {
                    drop_empty_parent(&mut draft, path);
                }
            }
        }
    }
    shape_notify(&mut draft, webhook_off);
    for _ in 0..=fields.len() {
        match draft_from_json(draft.clone(), stored) {
            Err(problem) if unknown_field(&problem).is_some() => {
                let name = unknown_field(&problem).unwrap_or_default();
                // The path names the field itself, or (inside a tagged credential) its object.
                let path = if problem.field.rsplit('.').next() == Some(name.as_str()) {
                    problem.field.clone()
                } else {
                    format!("{}.{name}", problem.field)
                };
                if !remove_path(&mut draft, &path) {
                    return Err(problem);
                }
            }
            other => return other,
        }
    }
    draft_from_json(draft, stored)
}

/// The checkbox that removes an app's webhook (a blank URL field keeps the stored one).
pub const WEBHOOK_OFF: &str = "notify.webhook.remove";

/// The type of each field as a new app's draft has it, plus the e-mail settings a new
/// app has none of (so recipients are a list and the port a number). The secrets and
/// the optional SMTP username stay untyped: blank leaves them out (kept, or none).
fn form_types() -> Value {
    let mut types = new_draft_json();
    set_path(
        &mut types,
        "notify.email",
        serde_json::json!({
            "to": [], "from": "", "smtp": { "host": "", "port": 587, "starttls": true }
        }),
    );
    types
}

/// A notification channel exists when it is filled in: e-mail when any of its
/// recipients, sender or server is given; the webhook when a URL is given or stored,
/// unless its removal is ticked.
fn shape_notify(draft: &mut Value, webhook_off: bool) {
    let blank = |v: Option<&Value>| match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.trim().is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        Some(_) => false,
    };
    if let Some(email) = draft.pointer("/notify/email")
        && blank(email.get("to"))
        && blank(email.get("from"))
        && blank(email.pointer("/smtp/host"))
    {
        remove_path(draft, "notify.email");
    }
    if webhook_off {
        remove_path(draft, "notify.webhook");
    }
}

/// The field named by serde's "unknown field `name`, expected ..." message (the wording
/// of `serde::de::Error::unknown_field`, which `deny_unknown_fields` raises).
fn unknown_field(problem: &FieldProblem) -> Option<String> {
    let rest = problem.message.strip_prefix("unknown field `")?;
    Some(rest.split('`').next()?.to_owned())
}

/// Removes the object holding `path` when it was left empty (a schedule with neither
/// an interval nor a cron expression is manual).
fn drop_empty_parent(draft: &mut Value, path: &str) {
    if let Some((parent, _)) = path.rsplit_once('.')
        && draft
            .pointer(&pointer(parent))
            .and_then(Value::as_object)
            .is_some_and(serde_json::Map::is_empty)
    {
        remove_path(draft, parent);
    }
}

/// One form field's text as the JSON the draft has there; `None` leaves it out.
fn read_field(
    path: &str,
    values: &[&str],
    type_of: Option<&Value>,
) -> Result<Option<Value>, FieldProblem> {
    let last = values.last().map_or("", |v| v.trim());
    Ok(match type_of {
        Some(Value::Bool(_)) => Some(Value::Bool(matches!(last, "true" | "on"))),
        Some(Value::Array(_)) => Some(Value::Array(
            values
                .iter()
                .flat_map(|v| v.lines())
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(|l| Value::String(l.to_owned()))
                .collect(),
        )),
        Some(Value::String(_)) => Some(Value::String(last.to_owned())),
        _ if last.is_empty() => None,
        Some(Value::Number(_)) => Some(Value::Number(read_number(path, last)?)),
        _ => Some(Value::String(last.to_owned())),
    })
}

fn read_number(path: &str, text: &str) -> Result<serde_json::Number, FieldProblem> {
    let not_a_number = || FieldProblem::new(path, format!("{text:?} is not a number"));
    if let Ok(whole) = text.parse::<u64>() {
        return Ok(whole.into());
    }
    let real: f64 = text.parse().map_err(|_| not_a_number())?;
    serde_json::Number::from_f64(real).ok_or_else(not_a_number)
}

#[cfg(test)]
mod tests {
    use usersync_core::app::{OktaCredential, Schedule, SecretInput, TargetCredential};

    use super::*;

    fn form(fields: &[(&str, &str)]) -> Vec<(String, String)> {
        fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_form_becomes_the_draft_with_its_switches_lists_numbers_and_secrets() {
        let draft = draft_from_form(
            &form(&[
                ("csrf", "abc"),
                ("name", " Jira "),
                ("schedule.every_minutes", "30"),
                ("schedule.cron", ""),
                ("okta.url", "https://x.okta.com"),
                ("okta.credential.type", "api_token"),
                ("okta.credential.token", "okta-SECRET"),
                ("okta.credential.client_id", "left-over"),
                ("okta.credential.private_key", ""),
                ("policy.toggles.update_users", "false"),
                ("policy.toggles.enable_disable_users", "false"),
                ("policy.toggles.enable_disable_users", "true"),
                ("policy.scope.group_types", ""),
                ("policy.scope.group_types", "APP_GROUP"),
                (
                    "policy.default_groups_new_users",
                    "jira-software-users\n\n b \n",
                ),
                ("policy.limits.max_destructive_percent", "7.5"),
                ("target.kind", "confluence"),
                ("target.url", "https://wiki.example.com"),
                ("target.credential.type", "basic"),
                ("target.credential.username", "svc"),
                ("target.credential.token", ""),
                ("target.credential.password", ""),
            ]),
            None,
        )
        .expect("a draft");
        assert_eq!(draft.name, "Jira");
        assert!(!format!("{draft:?}").contains("okta-SECRET"), "{draft:?}");
        assert_eq!(draft.schedule, Schedule::EveryMinutes(30));
        assert!(matches!(
            draft.okta.credential,
            OktaCredential::ApiToken {
                token: SecretInput::Value(_)
            }
        ));
        assert!(matches!(
            draft.target.credential,
            TargetCredential::Basic { ref username, password: SecretInput::Keep } if username == "svc"
        ));
        assert!(
            draft.policy.toggles.import_users,
            "a switch the form leaves out keeps its default"
        );
        assert!(!draft.policy.toggles.update_users);
        assert!(draft.policy.toggles.enable_disable_users);
        assert_eq!(
            draft.policy.default_groups_new_users,
            ["jira-software-users", "b"]
        );
        assert_eq!(draft.policy.limits.max_destructive_percent, 7.5);
        assert_eq!(draft.target.kind, "confluence");
        assert_eq!(draft.policy.scope.group_types.len(), 1);
    }

    #[test]
    fn a_crowd_form_becomes_a_crowd_draft_with_its_application_credential() {
        let draft = draft_from_form(
            &form(&[
                ("name", "Crowd"),
                ("okta.url", "https://x.okta.com"),
                ("okta.credential.type", "api_token"),
                ("okta.credential.token", "t"),
                ("target.kind", "crowd"),
                ("target.url", "https://crowd.example.com/crowd"),
                ("target.credential.type", "application"),
                ("target.credential.username", "left-over"),
                ("target.credential.name", "usersync"),
                ("target.credential.token", ""),
                ("target.credential.password", "app-SECRET"),
            ]),
            None,
        )
        .expect("a draft");
        assert_eq!(draft.target.kind, "crowd");
        assert!(matches!(
            draft.target.credential,
            TargetCredential::Application { ref name, password: SecretInput::Value(_) } if name == "usersync"
        ));
        assert!(!format!("{draft:?}").contains("app-SECRET"), "{draft:?}");
        draft.validate().expect("a valid Crowd app");
    }

    #[test]
    fn a_form_without_an_interval_or_cron_is_manual_and_a_bad_number_names_its_field() {
        let manual = draft_from_form(
            &form(&[
                ("name", "x"),
                ("schedule.every_minutes", ""),
                ("schedule.cron", ""),
            ]),
            None,
        )
        .expect("a draft");
        assert_eq!(manual.schedule, Schedule::Manual);
        let problem =
            draft_from_form(&form(&[("policy.limits.max_destructive", "many")]), None).unwrap_err();
        assert_eq!(problem.field, "policy.limits.max_destructive");
    }

    #[test]
    fn problems_show_beside_the_field_of_their_path_and_secrets_are_not_kept() {
        let mut f = FormState::submitted(
            form(&[
                ("policy.username.regex", "(.*@"),
                ("okta.credential.token", "s3cr3t"),
            ]),
            None,
        );
        f.problem("policy.username.regex", "bad");
        f.problem("policy.default_groups_new_users[2]", "blank");
        f.problem("schedule", "both given");
        assert_eq!(f.err("policy.username.regex"), Some("bad"));
        assert_eq!(f.err("policy.default_groups_new_users"), Some("blank"));
        assert_eq!(f.v("okta.credential.token"), "");
        assert!(
            f.unplaced_errors()
                .contains(&"schedule: both given".to_owned())
        );
        assert!(!format!("{f:?}").contains("s3cr3t"));
    }

    #[test]
    fn a_problem_shown_in_the_console_keeps_its_path_and_names_settings_by_their_labels() {
        let mut f = FormState::submitted(Vec::new(), None);
        f.problem(
            "policy.scope.group_include",
            "scope.group_include is not a valid regex",
        );
        f.problem(
            "okta.credential",
            "policy.limits.window_minutes is too long",
        );
        assert_eq!(
            f.err("policy.scope.group_include"),
            Some("Only groups matching (Scope) is not a valid regex")
        );
        assert!(
            f.unplaced_errors().contains(
                &"okta.credential: Budget window (minutes) (Safety limits) is too long".to_owned()
            ),
            "{:?}",
            f.unplaced_errors()
        );
    }

    #[test]
    fn a_new_form_shows_the_defaults_at_their_paths() {
        let f = FormState::for_new();
        assert!(f.is("okta.credential.type", "api_token"));
        assert!(f.is("target.kind", "jira"));
        assert_eq!(f.v("schedule.every_minutes"), "60");
        assert!(f.checked("policy.toggles.import_users"));
        assert!(f.has("policy.scope.group_types", "OKTA_GROUP"));
    }

    #[test]
    fn blank_e_mail_fields_send_no_e_mail_and_a_filled_in_section_becomes_the_notify_settings() {
        let base = [
            ("name", "x"),
            ("okta.url", "https://x.okta.com"),
            ("okta.credential.type", "api_token"),
            ("okta.credential.token", "t"),
            ("target.url", "https://jira.example.com"),
            ("target.credential.token", "t"),
            ("notify.on", ""),
            ("notify.on", "failed"),
            ("notify.webhook.url", ""),
            ("notify.email.to", ""),
            ("notify.email.from", ""),
            ("notify.email.smtp.host", ""),
            ("notify.email.smtp.port", ""),
            ("notify.email.smtp.username", ""),
            ("notify.email.smtp.password", ""),
            ("notify.email.smtp.starttls", "false"),
            ("notify.email.smtp.starttls", "true"),
        ];
        let none = draft_from_form(&form(&base), None).expect("a draft");
        assert!(none.notify.webhook.is_none() && none.notify.email.is_none());
        assert_eq!(none.notify.on, [NotifyOn::Failed]);

        let mut filled = form(&base);
        for (key, value) in [
            ("notify.webhook.url", "https://hooks.example.com/x"),
            ("notify.email.to", "a@example.com\n b@example.com \n"),
            ("notify.email.from", "usersync@example.com"),
            ("notify.email.smtp.host", "smtp.example.com"),
            ("notify.email.smtp.port", "2525"),
            ("notify.email.smtp.username", "relay"),
            ("notify.email.smtp.password", "pw-SECRET"),
        ] {
            filled.retain(|(k, _)| k != key);
            filled.push((key.to_owned(), value.to_owned()));
        }
        let draft = draft_from_form(&filled, None).expect("a draft");
        let email = draft.notify.email.as_ref().expect("e-mail");
        assert_eq!(email.to, ["a@example.com", "b@example.com"]);
        assert_eq!(email.smtp.port, 2525);
        assert_eq!(email.smtp.username.as_deref(), Some("relay"));
        assert!(email.smtp.starttls);
        assert!(matches!(
            draft.notify.webhook.as_ref().map(|w| &w.url),
            Some(SecretInput::Value(_))
        ));
        assert!(!format!("{draft:?}").contains("pw-SECRET"));
        draft.validate().expect("valid notify settings");
    }

    #[test]
    fn ticking_remove_drops_the_webhook() {
        let mut pairs = form(&[
            ("name", "x"),
            ("notify.webhook.url", "https://h.example.com/x"),
        ]);
        pairs.push((WEBHOOK_OFF.to_owned(), "false".to_owned()));
        assert!(
            draft_from_form(&pairs, None)
                .unwrap()
                .notify
                .webhook
                .is_some()
        );
        pairs.push((WEBHOOK_OFF.to_owned(), "true".to_owned()));
        assert!(
            draft_from_form(&pairs, None)
                .unwrap()
                .notify
                .webhook
                .is_none()
        );
    }

    #[test]
    fn the_ca_file_fields_become_each_sides_ca_file_and_a_blank_one_none() {
        let draft = draft_from_form(
            &form(&[
                ("name", "x"),
                ("okta.ca_file", ""),
                ("target.ca_file", " /etc/ssl/corp.pem "),
            ]),
            None,
        )
        .expect("a draft");
        assert_eq!(draft.okta.ca_file, None);
        assert_eq!(draft.target.ca_file.as_deref(), Some("/etc/ssl/corp.pem"));
    }

    #[test]
    fn the_jira_user_server_fields_become_target_user_server_and_blank_ones_none() {
        let draft = draft_from_form(
            &form(&[
                ("name", "x"),
                ("target.user_server.name", " usersync "),
                ("target.user_server.password", "app-SECRET"),
            ]),
            None,
        )
        .expect("a draft");
        let server = draft.target.user_server.expect("a user server");
        assert_eq!(server.name, "usersync");
        assert!(matches!(server.password, SecretInput::Value(_)));
        let draft = draft_from_form(
            &form(&[
                ("name", "x"),
                ("target.user_server.name", ""),
                ("target.user_server.password", ""),
            ]),
            None,
        )
        .expect("a draft");
        assert!(draft.target.user_server.is_none());
    }
}
