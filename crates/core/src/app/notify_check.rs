//! Checking an app's `notify` settings: addresses, the SMTP server, the webhook URL.
//!
//! Each refusal names its path (`notify.email.to`, `notify.email.smtp.starttls`) as the
//! rest of validation does. Whether a required secret is stored is checked on save.

use secrecy::ExposeSecret as _;
use url::{Host, Url};

use super::notify::NotifySettings;
use super::secret::SecretInput;
use super::validate::{check_secret_input, is_loopback};
use crate::mapping::FieldProblem;

const MAX_RECIPIENTS: usize = 50;

type Checked<T> = Result<T, FieldProblem>;

/// Checks the notification settings of a draft.
pub(super) fn check_notify(notify: &NotifySettings<SecretInput>) -> Checked<()> {
    if let Some(webhook) = &notify.webhook {
        check_secret_input("notify.webhook.url", &webhook.url)?;
        if let SecretInput::Value(url) = &webhook.url {
            check_webhook_url(url.expose_secret())?;
        }
    }
    let Some(email) = &notify.email else {
        return Ok(());
    };
    if email.to.is_empty() {
        return Err(FieldProblem::new(
            "notify.email.to",
            "no recipient; give at least one address, e.g. [\"ops@example.com\"]",
        ));
    }
    if email.to.len() > MAX_RECIPIENTS {
        return Err(FieldProblem::new(
            "notify.email.to",
            format!("more than {MAX_RECIPIENTS} recipients; use a mailing list address"),
        ));
    }
    for address in &email.to {
        check_address("notify.email.to", address)?;
    }
    check_address("notify.email.from", &email.from)?;
    check_smtp(notify)
}

fn check_smtp(notify: &NotifySettings<SecretInput>) -> Checked<()> {
    let Some(email) = &notify.email else {
        return Ok(());
    };
    let smtp = &email.smtp;
    let host = smtp.host.trim();
    let parsed = Host::parse(host);
    if host.is_empty() || parsed.is_err() || host.contains(':') && !host.starts_with('[') {
        return Err(FieldProblem::new(
            "notify.email.smtp.host",
            format!("{host:?} is not a host name; write it like smtp.example.com"),
        ));
    }
    if smtp.port == 0 {
        return Err(FieldProblem::new(
            "notify.email.smtp.port",
            "0 is not a port; 587 is the usual submission port",
        ));
    }
    if let Some(username) = &smtp.username
        && username.trim().is_empty()
    {
        return Err(FieldProblem::new(
            "notify.email.smtp.username",
            "the username is empty; leave it out to send without signing in",
        ));
    }
    if smtp.username.is_none() && !matches!(smtp.password, SecretInput::Keep) {
        return Err(FieldProblem::new(
            "notify.email.smtp.password",
            "a password without a username; give notify.email.smtp.username too",
        ));
    }
    check_secret_input("notify.email.smtp.password", &smtp.password)?;
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if !smtp.starttls && !loopback {
        return Err(FieldProblem::new(
            "notify.email.smtp.starttls",
            "STARTTLS may be turned off only for a relay on loopback (127.0.0.1, localhost): \
             the password and the mail would travel in clear text; set starttls = true",
        ));
    }
    Ok(())
}

/// An address as `local@domain`: printable, without spaces or angle brackets.
fn check_address(field: &str, address: &str) -> Checked<()> {
    let fine = address.len() <= 254
        && address.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && (domain.contains('.') || domain == "localhost")
        })
        && !address
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'));
    if fine {
        Ok(())
    } else {
        Err(FieldProblem::new(
            field,
            format!("{address:?} is not an e-mail address; write it like ops@example.com"),
        ))
    }
}

/// A webhook URL must be https (or plain http on loopback, for a local receiver). The
/// message never repeats the URL: it is a secret.
fn check_webhook_url(text: &str) -> Checked<()> {
    let field = "notify.webhook.url";
    let Ok(url) = Url::parse(text.trim()) else {
        return Err(FieldProblem::new(
            field,
            "not a URL; paste the incoming webhook's URL, like https://hooks.slack.com/services/...",
        ));
    };
    let allowed = url.scheme() == "https" || (url.scheme() == "http" && is_loopback(&url));
    if !allowed || url.host().is_none() {
        return Err(FieldProblem::new(
            field,
            "the webhook URL must use https (plain http only on loopback)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::notify::{EmailSettings, SmtpSettings, WebhookSettings};
    use super::*;

    fn email(host: &str, starttls: bool, to: &[&str]) -> NotifySettings<SecretInput> {
        NotifySettings {
            email: Some(EmailSettings {
                to: to.iter().map(|s| (*s).to_owned()).collect(),
                from: "usersync@example.com".into(),
                smtp: SmtpSettings {
                    host: host.into(),
                    port: 587,
                    username: Some("svc".into()),
                    password: SecretInput::from_text("pw"),
                    starttls,
                },
            }),
            ..NotifySettings::default()
        }
    }

    fn field_of(result: Checked<()>) -> String {
        result.unwrap_err().field
    }

    #[test]
    fn plain_smtp_is_refused_except_to_a_relay_on_loopback() {
        let remote = email("smtp.example.com", false, &["ops@example.com"]);
        assert_eq!(
            field_of(check_notify(&remote)),
            "notify.email.smtp.starttls"
        );
        assert!(check_notify(&email("127.0.0.1", false, &["ops@example.com"])).is_ok());
        assert!(check_notify(&email("smtp.example.com", true, &["ops@example.com"])).is_ok());
    }

    #[test]
    fn a_bad_recipient_or_no_recipient_names_the_field() {
        let bad = email("smtp.example.com", true, &["ops at example"]);
        assert_eq!(field_of(check_notify(&bad)), "notify.email.to");
        let none = email("smtp.example.com", true, &[]);
        assert_eq!(field_of(check_notify(&none)), "notify.email.to");
        let host = email("smtp example", true, &["ops@example.com"]);
        assert_eq!(field_of(check_notify(&host)), "notify.email.smtp.host");
    }

    #[test]
    fn a_plain_http_webhook_to_another_host_is_refused_without_echoing_the_url() {
        let notify = NotifySettings {
            webhook: Some(WebhookSettings {
                url: SecretInput::from_text("http://hooks.example.com/T0/B0/sekrit"),
            }),
            ..NotifySettings::default()
        };
        let problem = check_notify(&notify).unwrap_err();
        assert_eq!(problem.field, "notify.webhook.url");
        assert!(!problem.message.contains("sekrit"), "{problem}");
    }
}
