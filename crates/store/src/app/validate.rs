//! Turning an [`AppDraft`] into a [`ValidApp`]: every check that needs no database.
//!
//! Each refusal is a `StoreError::Validation` whose `field` is the path a person would
//! edit (`okta.url`, `policy.username.replacement`), with a message saying what to do.
//! Checks that need the stored app (is a kept secret really there?) happen when saving.

use regex::Regex;
use secrecy::ExposeSecret as _;
use url::{Host, Url};
use usersync_core::policy::SyncPolicy;

use super::model::{
    AppDraft, EventSettings, OktaCredential, Schedule, TargetCredential, TargetKind, parse_cron,
};
use crate::error::StoreError;
use crate::secret::{SecretInput, SecretRef};

const MAX_NAME_CHARS: usize = 100;
const MAX_INTERVAL_MINUTES: u32 = 7 * 24 * 60;

/// A draft that passed every check; secrets are still inputs.
#[derive(Debug)]
pub(crate) struct ValidApp {
    pub name: String,
    pub okta_url: Url,
    pub okta_credential: OktaCredential<SecretInput>,
    pub target_kind: TargetKind,
    pub target_url: Url,
    pub target_credential: TargetCredential<SecretInput>,
    pub schedule: Schedule,
    pub policy: SyncPolicy,
    pub events: EventSettings<SecretInput>,
}

type Checked<T> = Result<T, StoreError>;

impl AppDraft {
    /// Checks everything that needs no database, returning the validated app.
    pub(crate) fn validate(self) -> Checked<ValidApp> {
        let name = check_name(&self.name)?;
        let okta_url = check_okta_url(&self.okta.url)?;
        check_okta_credential(&self.okta.credential)?;
        let target_kind = TargetKind::parse(&self.target.kind).ok_or_else(|| {
            StoreError::validation(
                "target.kind",
                format!(
                    "unknown target kind {:?}; use \"jira\" or \"confluence\"",
                    self.target.kind
                ),
            )
        })?;
        let target_url = check_target_url(&self.target.url)?;
        check_target_credential(&self.target.credential)?;
        check_schedule(&self.schedule)?;
        check_policy(&self.policy)?;
        check_events(&self.events)?;
        Ok(ValidApp {
            name,
            okta_url,
            okta_credential: self.okta.credential,
            target_kind,
            target_url,
            target_credential: self.target.credential,
            schedule: self.schedule,
            policy: self.policy,
            events: self.events,
        })
    }
}

fn check_name(name: &str) -> Checked<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(StoreError::validation(
            "name",
            "the app name must not be empty",
        ));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(StoreError::validation(
            "name",
            format!("the app name is longer than {MAX_NAME_CHARS} characters; shorten it"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(StoreError::validation(
            "name",
            "the app name contains a control character; use printable text",
        ));
    }
    Ok(name.to_owned())
}

fn parse_base_url(field: &str, text: &str, example: &str) -> Checked<Url> {
    let url = Url::parse(text.trim()).map_err(|e| {
        StoreError::validation(
            field,
            format!("{text:?} is not a URL ({e}); write it like {example}"),
        )
    })?;
    if url.host().is_none() {
        return Err(StoreError::validation(
            field,
            format!("{text:?} has no host; write it like {example}"),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(StoreError::validation(
            field,
            format!(
                "{text:?} must be a plain base URL without credentials, query or fragment, like {example}"
            ),
        ));
    }
    Ok(url)
}

fn is_loopback(url: &Url) -> bool {
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
        return Err(StoreError::validation(
            "okta.url",
            format!(
                "{text:?} must use https (plain http is accepted only for loopback emulators); write it like {example}"
            ),
        ));
    }
    if url.path() != "/" {
        return Err(StoreError::validation(
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
        return Err(StoreError::validation(
            "target.url",
            format!(
                "{text:?} must use https (plain http is accepted only for loopback emulators, as \
                 the credential would travel in clear text); write it like {example}"
            ),
        ));
    }
    Ok(url)
}

/// Checks the shape of a secret input; whether a kept secret exists is checked on save.
pub(crate) fn check_secret_input(field: &str, input: &SecretInput) -> Checked<()> {
    if input.is_empty_value() {
        return Err(StoreError::validation(
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
            return Err(StoreError::validation(
                "okta.credential.client_id",
                "the OAuth service app's client id is missing; copy it from the app's General tab in Okta",
            ));
        }
        if key_id.as_deref().is_some_and(|k| k.trim().is_empty()) {
            return Err(StoreError::validation(
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
            return Err(StoreError::validation(
                "okta.credential.private_key",
                "expected a PEM private key (-----BEGIN PRIVATE KEY-----) or a JWK JSON object",
            ));
        }
    }
    Ok(())
}

fn check_target_credential(credential: &TargetCredential<SecretInput>) -> Checked<()> {
    if let TargetCredential::Basic { username, .. } = credential
        && username.trim().is_empty()
    {
        return Err(StoreError::validation(
            "target.credential.username",
            "the username is missing; give the account usersync signs in as",
        ));
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
        Schedule::EveryMinutes(minutes) => Err(StoreError::validation(
            "schedule.every_minutes",
            format!("{minutes} is not a usable interval; give 1 to {MAX_INTERVAL_MINUTES} minutes"),
        )),
        Schedule::Cron(expression) => parse_cron(expression).map(|_| ()).map_err(|e| {
            StoreError::validation(
                "schedule.cron",
                format!(
                    "{expression:?} is not a cron expression ({e}); write e.g. \"0 */2 * * *\""
                ),
            )
        }),
    }
}

fn compile(field: &str, pattern: &str) -> Checked<Regex> {
    Regex::new(pattern)
        .map_err(|e| StoreError::validation(field, format!("invalid regular expression: {e}")))
}

/// Refuses a replacement that names a capture group the regex does not have.
pub(crate) fn check_replacement(field: &str, regex: &Regex, replacement: &str) -> Checked<()> {
    for group in replacement_groups(replacement) {
        let known = match group.parse::<usize>() {
            Ok(index) => index < regex.captures_len(),
            Err(_) => regex.capture_names().flatten().any(|name| name == group),
        };
        if !known {
            return Err(StoreError::validation(
                field,
                format!(
                    "the replacement refers to group ${group}, but the regex has {} numbered group(s){}; \
                     add the group to the regex or fix the replacement",
                    regex.captures_len() - 1,
                    named_groups_hint(regex)
                ),
            ));
        }
    }
    Ok(())
}

fn named_groups_hint(regex: &Regex) -> String {
    let names: Vec<_> = regex.capture_names().flatten().collect();
    if names.is_empty() {
        String::new()
    } else {
        format!(" and named group(s) {}", names.join(", "))
    }
}

/// The group references in a replacement, read the way the `regex` crate expands them.
fn replacement_groups(replacement: &str) -> Vec<&str> {
    let mut groups = Vec::new();
    let mut rest = replacement;
    while let Some(at) = rest.find('$') {
        rest = &rest[at + 1..];
        if let Some(after) = rest.strip_prefix('$') {
            rest = after;
        } else if let Some(braced) = rest.strip_prefix('{') {
            if let Some(end) = braced.find('}') {
                groups.push(&braced[..end]);
                rest = &braced[end + 1..];
            }
        } else {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            if end > 0 {
                groups.push(&rest[..end]);
            }
            rest = &rest[end..];
        }
    }
    groups
}

fn check_rule(prefix: &str, regex: &str, replacement: &str) -> Checked<()> {
    if regex.is_empty() {
        if !replacement.is_empty() {
            return Err(StoreError::validation(
                format!("{prefix}.replacement"),
                "a replacement is given without a regex; add the regex or remove the replacement",
            ));
        }
        return Ok(());
    }
    let compiled = compile(&format!("{prefix}.regex"), regex)?;
    check_replacement(&format!("{prefix}.replacement"), &compiled, replacement)
}

fn check_policy(policy: &SyncPolicy) -> Checked<()> {
    check_rule(
        "policy.username",
        &policy.username.regex,
        &policy.username.replacement,
    )?;
    let naming = &policy.group_naming;
    check_rule("policy.group_naming", &naming.regex, &naming.replacement)?;
    if let Some(pattern) = &policy.scope.group_include {
        compile("policy.scope.group_include", pattern)?;
    }
    if let Some(pattern) = &policy.scope.group_exclude {
        compile("policy.scope.group_exclude", pattern)?;
    }
    let percent = policy.limits.max_destructive_percent;
    if !(0.0..=100.0).contains(&percent) {
        return Err(StoreError::validation(
            "policy.limits.max_destructive_percent",
            format!("{percent} is not a percentage; give 0 to 100"),
        ));
    }
    Ok(())
}

fn check_events(events: &EventSettings<SecretInput>) -> Checked<()> {
    if !(10..=86_400).contains(&events.poll_interval_seconds) {
        return Err(StoreError::validation(
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
        return Err(StoreError::validation(
            "events.event_types",
            format!("{bad:?} is not an Okta event type; write e.g. \"user.lifecycle.create\""),
        ));
    }
    check_secret_input("events.hook_secret", &events.hook_secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replacement_groups_are_read_like_the_regex_crate_reads_them() {
        assert_eq!(
            replacement_groups("$1-${name}$$x$user_2!"),
            vec!["1", "name", "user_2"]
        );
        assert!(replacement_groups("literal").is_empty());
    }

    #[test]
    fn a_replacement_naming_a_missing_group_is_refused() {
        let regex = Regex::new(r"^(?P<user>[^@]+)@").unwrap();
        assert!(check_replacement("f", &regex, "${user}").is_ok());
        assert!(check_replacement("f", &regex, "$1").is_ok());
        let err = check_replacement("policy.username.replacement", &regex, "$2").unwrap_err();
        assert!(err.to_string().contains("$2"), "{err}");
    }
}
