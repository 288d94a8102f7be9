//! Turning an [`AppDraft`] into a [`ValidApp`]: every check that needs no database.
//!
//! Each refusal is a [`FieldProblem`] whose `field` is the path a person would edit
//! (`okta.url`, `policy.username.replacement`), the same path in TOML, the API and the
//! console form, with a message saying what to do. The policy is checked by compiling it
//! with the engine's own [`CompiledPolicy`], so what is accepted here is exactly what a
//! run accepts. Checks that need the stored app (is a kept secret really there?) happen
//! when saving.

use secrecy::ExposeSecret as _;
use url::{Host, Url};

use super::model::{
    AppDraft, EventSettings, OktaCredential, Schedule, TargetCredential, TargetKind, UserServer,
    parse_cron,
};
use super::notify::NotifySettings;
use super::notify_check::check_notify;
use super::secret::{SecretInput, SecretRef, SecretSide, SecretSlot, origin_of};
use crate::mapping::{CompiledPolicy, FieldProblem};
use crate::policy::SyncPolicy;

const MAX_NAME_CHARS: usize = 100;
const MAX_INTERVAL_MINUTES: u32 = 7 * 24 * 60;

/// A draft that passed every check; secrets are still inputs.
#[derive(Debug)]
pub struct ValidApp {
    pub name: String,
    pub okta_url: Url,
    pub okta_credential: OktaCredential<SecretInput>,
    /// `okta.ca_file`: an absolute path (whether it is a readable bundle is checked on save).
    pub okta_ca_file: Option<String>,
    pub target_kind: TargetKind,
    pub target_url: Url,
    pub target_credential: TargetCredential<SecretInput>,
    /// `target.ca_file`, as `okta_ca_file`.
    pub target_ca_file: Option<String>,
    /// `target.user_server`: Jira only, its name trimmed and non-empty.
    pub target_user_server: Option<UserServer<SecretInput>>,
    pub schedule: Schedule,
    pub policy: SyncPolicy,
    pub events: EventSettings<SecretInput>,
    pub notify: NotifySettings<SecretInput>,
}

type Checked<T> = Result<T, FieldProblem>;

impl ValidApp {
    /// The origin `slot`'s secret is bound to: of the Okta or target URL, or the SMTP server.
    #[must_use]
    pub fn origin_for(&self, slot: SecretSlot) -> String {
        match slot.side() {
            SecretSide::Okta => origin_of(&self.okta_url),
            SecretSide::Target => origin_of(&self.target_url),
            SecretSide::Webhook | SecretSide::Smtp => self.notify.origin_for(slot),
        }
    }
}

impl AppDraft {
    /// Checks everything that needs no database, returning the validated app.
    ///
    /// # Errors
    /// The first [`FieldProblem`] found, in the order the fields appear in a file.
    pub fn validate(self) -> Checked<ValidApp> {
        self.validate_all().map_err(|problems| {
            problems.into_iter().next().unwrap_or_else(|| {
                FieldProblem::new("", "the settings were refused without a reason")
            })
        })
    }

    /// As [`AppDraft::validate`], reporting every problem at once (the console's form
    /// shows each beside its field after one submit).
    ///
    /// # Errors
    /// Every [`FieldProblem`] found, in the order the fields appear in a file; checks
    /// that depend on a refused field (the credential of an unknown kind) are left out.
    pub fn validate_all(self) -> Result<ValidApp, Vec<FieldProblem>> {
        let mut problems = Vec::new();
        let p = &mut problems;
        let name = note(p, check_name(&self.name));
        let okta_url = note(p, check_okta_url(&self.okta.url));
        note(p, check_okta_credential(&self.okta.credential));
        let okta_ca_file = note(
            p,
            check_ca_file("okta.ca_file", self.okta.ca_file.as_deref()),
        );
        let target_kind = note(
            p,
            TargetKind::parse(&self.target.kind).ok_or_else(|| {
                FieldProblem::new(
                    "target.kind",
                    format!(
                        "unknown target kind {:?}; use \"jira\", \"confluence\", \"crowd\", \"scim\" or \"atlassian-cloud\"",
                        self.target.kind
                    ),
                )
            }),
        );
        let target_url = note(p, check_target_url(&self.target.url));
        if let Some(kind) = target_kind {
            note(p, check_target_credential(kind, &self.target.credential));
        }
        let target_ca_file = note(
            p,
            check_ca_file("target.ca_file", self.target.ca_file.as_deref()),
        );
        let target_user_server =
            target_kind.and_then(|kind| note(p, check_user_server(kind, self.target.user_server)));
        note(p, check_schedule(&self.schedule));
        p.extend(policy_problems(&self.policy));
        note(p, check_events(&self.events));
        note(p, check_notify(&self.notify));
        match (
            name,
            okta_url,
            okta_ca_file,
            target_kind,
            target_url,
            target_ca_file,
        ) {
            (
                Some(name),
                Some(okta_url),
                Some(okta_ca_file),
                Some(target_kind),
                Some(target_url),
                Some(target_ca_file),
            ) if problems.is_empty() => Ok(ValidApp {
                name,
                okta_url,
                okta_credential: self.okta.credential,
                okta_ca_file,
                target_kind,
                target_url,
                target_credential: self.target.credential,
                target_ca_file,
                target_user_server: target_user_server.flatten(),
                schedule: self.schedule,
                policy: self.policy,
                events: self.events,
                notify: self.notify,
            }),
            _ => Err(problems),
        }
    }
}

/// The value of a check that passed; a refusal goes to `problems`.
fn note<T>(problems: &mut Vec<FieldProblem>, checked: Checked<T>) -> Option<T> {
    checked.map_err(|problem| problems.push(problem)).ok()
}

fn check_name(name: &str) -> Checked<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(FieldProblem::new("name", "the app name must not be empty"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(FieldProblem::new(
            "name",
            format!("the app name is longer than {MAX_NAME_CHARS} characters; shorten it"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(FieldProblem::new(
            "name",
            "the app name contains a control character; use printable text",
        ));
    }
    Ok(name.to_owned())
}

fn parse_base_url(field: &str, text: &str, example: &str) -> Checked<Url> {
    let url = Url::parse(text.trim()).map_err(|e| {
        FieldProblem::new(
            field,
            format!("{text:?} is not a URL ({e}); write it like {example}"),
        )
    })?;
    if url.host().is_none() {
        return Err(FieldProblem::new(
            field,
            format!("{text:?} has no host; write it like {example}"),
        ));
    }
    // User info (`https://user:pw@host`, also `https://:pw@host` with an empty user) is refused
    // without echoing the text: it would carry a password into messages, lists and exports,
    // and credentials belong in the credential fields, which are stored sealed.
    if !url.username().is_empty() || url.password().is_some() {
        return Err(FieldProblem::new(
            field,
            format!(
                "the URL contains user info (a name or password before '@'); remove it and put \
                 the credential in the credential fields, like {example}"
            ),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(FieldProblem::new(
            field,
            format!("{text:?} must be a plain base URL without query or fragment, like {example}"),
        ));
    }
    Ok(url)
}

pub(super) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

fn check_okta_url(text: &str) -> Checked<Url> {
    let example = "https://example.okta.com";
    let url = parse_base_url("okta.url", text, example)?;
    let allowed = url.scheme() == "https" || (url.scheme() == "http" && is_loopback(&url));
    if !allowed {
        return Err(FieldProblem::new(
            "okta.url",
            format!(
                "{text:?} must use https (plain http is accepted only for loopback emulators); write it like {example}"
            ),
        ));
    }
    if url.path() != "/" {
        return Err(FieldProblem::new(
            "okta.url",
            format!(
                "{text:?} must be the Okta domain only, without a path; write it like {example}"
            ),
        ));
    }
    Ok(url)
}

fn check_target_url(text: &str) -> Checked<Url> {
    let example = "https://jira.example.com";
    let url = parse_base_url("target.url", text, example)?;
    // The Atlassian clients refuse plain http to other hosts (the credential would travel in
    // clear text); refusing it here says so when the app is configured, not at the first run.
    let allowed = url.scheme() == "https" || (url.scheme() == "http" && is_loopback(&url));
    if !allowed {
        return Err(FieldProblem::new(
            "target.url",
            format!(
                "{text:?} must use https (plain http is accepted only for loopback emulators, as \
                 the credential would travel in clear text); write it like {example}"
            ),
        ));
    }
    Ok(url)
}

/// A CA file is an absolute path (blank means none). Whether the file is a readable PEM
/// bundle is IO, checked by the store on save with the clients' own loader.
fn check_ca_file(field: &str, text: Option<&str>) -> Checked<Option<String>> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.chars().any(char::is_control) || !std::path::Path::new(text).is_absolute() {
        return Err(FieldProblem::new(
            field,
            format!(
                "{text:?} is not an absolute path; give the CA bundle's full path, like /etc/ssl/corp.pem"
            ),
        ));
    }
    Ok(Some(text.to_owned()))
}

/// Jira's user-server application: only for Jira (the other products have their own way to
/// deactivate), with a name and a usable password input.
fn check_user_server(
    kind: TargetKind,
    user_server: Option<UserServer<SecretInput>>,
) -> Checked<Option<UserServer<SecretInput>>> {
    let Some(UserServer { name, password }) = user_server else {
        return Ok(None);
    };
    if kind != TargetKind::Jira {
        return Err(FieldProblem::new(
            "target.user_server",
            format!(
                "a user-server application is for kind = \"jira\" before 8.3; remove it for {kind}"
            ),
        ));
    }
    let name = name.trim();
    if name.is_empty() || name.chars().any(char::is_control) {
        return Err(FieldProblem::new(
            "target.user_server.name",
            "the application name is missing; give the name of the application added under Jira user server in Jira's administration",
        ));
    }
    check_secret_input(SecretSlot::UserServerPassword.field(), &password)?;
    Ok(Some(UserServer {
        name: name.to_owned(),
        password,
    }))
}

/// Checks the shape of a secret input; whether a kept secret exists is checked on save.
pub(super) fn check_secret_input(field: &str, input: &SecretInput) -> Checked<()> {
    if input.is_empty_value() {
        return Err(FieldProblem::new(
            field,
            "the secret is empty; give a value, env:NAME or file:/path",
        ));
    }
    if let SecretInput::Reference(text) = input {
        SecretRef::parse(text, field)?;
    }
    Ok(())
}

fn check_okta_credential(credential: &OktaCredential<SecretInput>) -> Checked<()> {
    if let OktaCredential::OAuth {
        client_id, key_id, ..
    } = credential
    {
        if client_id.trim().is_empty() {
            return Err(FieldProblem::new(
                "okta.credential.client_id",
                "the OAuth service app's client id is missing; copy it from the app's General tab in Okta",
            ));
        }
        if key_id.as_deref().is_some_and(|k| k.trim().is_empty()) {
            return Err(FieldProblem::new(
                "okta.credential.key_id",
                "the key id is empty; leave it out or give the key's kid",
            ));
        }
    }
    for (slot, input) in credential.secrets() {
        check_secret_input(slot.field(), input)?;
    }
    if let OktaCredential::OAuth {
        private_key: SecretInput::Value(key),
        ..
    } = credential
    {
        let text = key.expose_secret().trim_start();
        if !(text.starts_with("-----BEGIN") && text.contains("PRIVATE KEY-----")
            || text.starts_with('{'))
        {
            return Err(FieldProblem::new(
                "okta.credential.private_key",
                "expected a PEM private key (-----BEGIN PRIVATE KEY-----) or a JWK JSON object",
            ));
        }
    }
    Ok(())
}

fn check_target_credential(
    kind: TargetKind,
    credential: &TargetCredential<SecretInput>,
) -> Checked<()> {
    let (types, how) = kind.credential_types();
    let given = credential.type_name();
    if !types.contains(&given) {
        let fits: Vec<&str> = TargetKind::ALL
            .into_iter()
            .filter(|k| k.credential_types().0.contains(&given))
            .map(TargetKind::as_str)
            .collect();
        return Err(FieldProblem::new(
            "target.credential.type",
            format!(
                "a {kind} target signs in with {how}; a \"{given}\" credential is for kind = \"{}\"",
                fits.join("\" or \"")
            ),
        ));
    }
    match credential {
        TargetCredential::Application { name, .. } if name.trim().is_empty() => {
            return Err(FieldProblem::new(
                "target.credential.name",
                "the application name is missing; give the name of the application created for usersync in Crowd",
            ));
        }
        TargetCredential::Basic { username, .. } if username.trim().is_empty() => {
            return Err(FieldProblem::new(
                "target.credential.username",
                "the username is missing; give the account usersync signs in as",
            ));
        }
        _ => {}
    }
    for (slot, input) in credential.secrets() {
        check_secret_input(slot.field(), input)?;
    }
    Ok(())
}

fn check_schedule(schedule: &Schedule) -> Checked<()> {
    match schedule {
        Schedule::Manual => Ok(()),
        Schedule::EveryMinutes(minutes) if (1..=MAX_INTERVAL_MINUTES).contains(minutes) => Ok(()),
        Schedule::EveryMinutes(minutes) => Err(FieldProblem::new(
            "schedule.every_minutes",
            format!("{minutes} is not a usable interval; give 1 to {MAX_INTERVAL_MINUTES} minutes"),
        )),
        Schedule::Cron(expression) => parse_cron(expression)
            .map(|_| ())
            .map_err(|e| FieldProblem::new("schedule.cron", cron_words(expression, &e))),
    }
}

/// The five fields of a cron expression, in order, as people name them.
const CRON_FIELDS: [&str; 5] = ["minute", "hour", "day", "month", "weekday"];

/// Why `expression` is no cron expression, in words: how many fields it needs, or
/// which field is wrong and what it takes.
fn cron_words(expression: &str, error: &str) -> String {
    const HOW: &str =
        "use 5 fields: minute hour day month weekday, e.g. \"0 */2 * * *\" (every two hours)";
    let fields: Vec<&str> = expression.split_whitespace().collect();
    if fields.is_empty() {
        return format!("the cron expression is empty; {HOW}");
    }
    if fields.len() != 5 && fields.len() != 6 {
        return format!(
            "{expression:?} has {} field(s); {HOW} (or 6, with seconds first)",
            fields.len()
        );
    }
    // Name the first field that is wrong on its own, the others left as `*`.
    let offset = fields.len() - 5;
    for (i, name) in CRON_FIELDS.iter().enumerate() {
        let mut alone = ["*"; 5];
        alone[i] = fields[offset + i];
        if parse_cron(&alone.join(" ")).is_err() {
            let range = ["0-59", "0-23", "1-31", "1-12 or JAN-DEC", "SUN-SAT"][i];
            return format!(
                "the {name} field {:?} of {expression:?} is not valid (it takes {range}, *, lists a,b, ranges a-b and steps */n); {HOW}",
                fields[offset + i]
            );
        }
    }
    format!("{expression:?} is not a cron expression ({error}); {HOW}")
}

/// Compiles the policy as a run would and reports each of its problems under `policy.`.
fn policy_problems(policy: &SyncPolicy) -> Vec<FieldProblem> {
    match CompiledPolicy::compile(policy) {
        Ok(_) => Vec::new(),
        Err(error) if error.problems.is_empty() => vec![FieldProblem::new(
            "policy",
            "the policy was refused without a reason",
        )],
        Err(error) => error
            .problems
            .into_iter()
            .map(|p| FieldProblem::new(format!("policy.{}", p.field), p.message))
            .collect(),
    }
}

fn check_events(events: &EventSettings<SecretInput>) -> Checked<()> {
    if !(10..=86_400).contains(&events.poll_interval_seconds) {
        return Err(FieldProblem::new(
            "events.poll_interval_seconds",
            format!(
                "{} is not a usable interval; give 10 to 86400 seconds",
                events.poll_interval_seconds
            ),
        ));
    }
    let valid_type = |t: &String| {
        !t.is_empty()
            && t.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '_')
    };
    if let Some(bad) = events.event_types.iter().find(|t| !valid_type(t)) {
        return Err(FieldProblem::new(
            "events.event_types",
            format!("{bad:?} is not an Okta event type; write e.g. \"user.lifecycle.create\""),
        ));
    }
    check_secret_input("events.hook_secret", &events.hook_secret)
}
