//! How an app's secrets appear: handed in, reported back, or pointed at.
//!
//! Secrets are write-only. A caller hands one in as a [`SecretInput`] (a value, a
//! reference, or "keep what is stored"); everything that reads an app sees only a
//! [`SecretState`]. A [`SecretRef`] is parsed here; reading what it points at is IO,
//! so it happens in the store (`Store::resolve_secret` is the one way back to a value).

use std::fmt;
use std::path::{Component, PathBuf};

use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Deserializer, Serialize};
use url::Url;

use crate::mapping::FieldProblem;

/// Which secret of an app: one slot per credential field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretSlot {
    /// The Okta API token (`okta.credential.token`).
    OktaApiToken,
    /// The private key of an Okta OAuth service app (`okta.credential.private_key`).
    OktaPrivateKey,
    /// The target's personal access token (`target.credential.token`).
    TargetToken,
    /// The target account's password (`target.credential.password`).
    TargetPassword,
    /// The shared secret Okta event hooks present (`events.hook_secret`).
    HookSecret,
    /// The notification webhook's URL, which grants posting (`notify.webhook.url`).
    NotifyWebhookUrl,
    /// The password of the SMTP server notifications are sent through
    /// (`notify.email.smtp.password`).
    SmtpPassword,
    /// The password of Jira's user-server application (`target.user_server.password`).
    UserServerPassword,
}

impl SecretSlot {
    pub const ALL: [SecretSlot; 8] = [
        Self::OktaApiToken,
        Self::OktaPrivateKey,
        Self::TargetToken,
        Self::TargetPassword,
        Self::HookSecret,
        Self::NotifyWebhookUrl,
        Self::SmtpPassword,
        Self::UserServerPassword,
    ];

    /// The field path, as in validation errors, audit rows and the TOML file.
    #[must_use]
    pub fn field(self) -> &'static str {
        match self {
            Self::OktaApiToken => "okta.credential.token",
            Self::OktaPrivateKey => "okta.credential.private_key",
            Self::TargetToken => "target.credential.token",
            Self::TargetPassword => "target.credential.password",
            Self::HookSecret => "events.hook_secret",
            Self::NotifyWebhookUrl => "notify.webhook.url",
            Self::SmtpPassword => "notify.email.smtp.password",
            Self::UserServerPassword => "target.user_server.password",
        }
    }

    #[must_use]
    pub fn from_field(field: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|slot| slot.field() == field)
    }

    /// What the secret is, in words: "token", "private key", "password", "hook secret".
    #[must_use]
    pub fn noun(self) -> &'static str {
        match self {
            Self::OktaApiToken | Self::TargetToken => "token",
            Self::OktaPrivateKey => "private key",
            Self::TargetPassword | Self::SmtpPassword | Self::UserServerPassword => "password",
            Self::HookSecret => "hook secret",
            Self::NotifyWebhookUrl => "webhook URL",
        }
    }

    /// Which of the app's URLs the secret is bound to: the Okta org it authenticates to (or,
    /// for the hook secret, the org that presents it), or the target.
    #[must_use]
    pub fn side(self) -> SecretSide {
        match self {
            Self::OktaApiToken | Self::OktaPrivateKey | Self::HookSecret => SecretSide::Okta,
            Self::TargetToken | Self::TargetPassword | Self::UserServerPassword => {
                SecretSide::Target
            }
            Self::NotifyWebhookUrl => SecretSide::Webhook,
            Self::SmtpPassword => SecretSide::Smtp,
        }
    }
}

/// The URL a secret belongs with (see [`SecretSlot::side`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretSide {
    Okta,
    Target,
    /// The webhook URL is its own destination.
    Webhook,
    /// The SMTP server (`notify.email.smtp.host` and `port`).
    Smtp,
}

impl SecretSide {
    /// The URL's name in messages.
    #[must_use]
    pub fn url_name(self) -> &'static str {
        match self {
            Self::Okta => "the Okta URL",
            Self::Target => "the target URL",
            Self::Webhook => "the webhook URL",
            Self::Smtp => "the SMTP server",
        }
    }
}

/// The origin (scheme, host and port, e.g. `https://example.okta.com`) a secret is bound to:
/// a stored secret is only ever sent to the origin it was given for.
#[must_use]
pub fn origin_of(url: &Url) -> String {
    url.origin().ascii_serialization()
}

impl fmt::Display for SecretSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.field())
    }
}

/// A pointer to a secret kept outside the store, resolved each time it is used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretRef {
    /// `env:NAME`: the value of an environment variable.
    Env(String),
    /// `file:/path`: the contents of a file (one trailing newline is dropped).
    File(PathBuf),
}

impl SecretRef {
    /// Parses `env:NAME` or `file:/absolute/path`; `Ok(None)` when `text` is not a reference.
    ///
    /// # Errors
    /// A [`FieldProblem`] on `field` for a reference with an unusable name or a relative path.
    pub fn parse(text: &str, field: &str) -> Result<Option<Self>, FieldProblem> {
        if let Some(name) = text.strip_prefix("env:") {
            let valid = name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return Err(FieldProblem::new(
                    field,
                    format!(
                        "{text:?} is not a usable environment variable reference; write env:NAME with letters, digits and _"
                    ),
                ));
            }
            return Ok(Some(Self::Env(name.to_owned())));
        }
        if let Some(path) = text.strip_prefix("file:") {
            let path = PathBuf::from(path);
            if !path.is_absolute() {
                return Err(FieldProblem::new(
                    field,
                    format!(
                        "{text:?} must name an absolute path, e.g. file:/run/secrets/okta-token"
                    ),
                ));
            }
            // `..` would let a path leave the directory it appears to be in (an allowed
            // secrets directory), so only plain paths are accepted.
            if path.components().any(|c| c == Component::ParentDir) {
                return Err(FieldProblem::new(
                    field,
                    format!("{text:?} must not contain \"..\"; write the file's plain path"),
                ));
            }
            return Ok(Some(Self::File(path)));
        }
        Ok(None)
    }
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Env(name) => write!(f, "env:{name}"),
            Self::File(path) => write!(f, "file:{}", path.display()),
        }
    }
}

/// A secret as a caller supplies it when creating or updating an app.
///
/// In TOML or JSON it is a string: `env:NAME` or `file:/path` become a reference,
/// anything else is the value itself. Leaving the field out, or a JSON `null`, means
/// [`SecretInput::Keep`].
#[derive(Default)]
pub enum SecretInput {
    /// Keep whatever is stored (an error on a new app when the secret is required).
    #[default]
    Keep,
    /// Store this value, encrypted.
    Value(SecretString),
    /// Store this reference (given as `env:NAME` or `file:/path`; checked on validation).
    Reference(String),
}

impl SecretInput {
    /// Builds an input from text the way the TOML file does.
    #[must_use]
    pub fn from_text(text: &str) -> Self {
        if text.starts_with("env:") || text.starts_with("file:") {
            Self::Reference(text.to_owned())
        } else {
            Self::Value(SecretString::from(text.to_owned()))
        }
    }

    #[must_use]
    pub fn is_empty_value(&self) -> bool {
        matches!(self, Self::Value(v) if v.expose_secret().is_empty())
    }
}

impl fmt::Debug for SecretInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Keep => f.write_str("Keep"),
            Self::Value(_) => f.write_str("Value(<redacted>)"),
            Self::Reference(r) => f.debug_tuple("Reference").field(r).finish(),
        }
    }
}

impl<'de> Deserialize<'de> for SecretInput {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = Option::<String>::deserialize(deserializer)?;
        Ok(text.map_or(Self::Keep, |text| Self::from_text(&text)))
    }
}

/// What reading an app tells about one of its secrets. Never the value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "state", content = "reference", rename_all = "snake_case")]
pub enum SecretState {
    #[default]
    Unset,
    /// An encrypted value is stored.
    Stored,
    /// A reference such as `env:OKTA_TOKEN`, resolved when used.
    Reference(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_recognised_and_bad_ones_name_the_field() {
        assert_eq!(
            SecretRef::parse("env:OKTA_TOKEN", "f").unwrap(),
            Some(SecretRef::Env("OKTA_TOKEN".into()))
        );
        assert_eq!(SecretRef::parse("plain-value", "f").unwrap(), None);
        let err = SecretRef::parse("file:relative/x", "okta.credential.token").unwrap_err();
        assert!(
            err.to_string().starts_with("okta.credential.token:"),
            "{err}"
        );
        assert!(SecretRef::parse("env:1BAD", "f").is_err());
    }

    #[test]
    fn a_null_secret_keeps_the_stored_one_and_text_is_a_value_or_reference() {
        let read = |json: &str| serde_json::from_str::<SecretInput>(json).unwrap();
        assert!(matches!(read("null"), SecretInput::Keep));
        assert!(matches!(read("\"env:TOKEN\""), SecretInput::Reference(r) if r == "env:TOKEN"));
        assert!(matches!(read("\"hunter2\""), SecretInput::Value(_)));
    }

    #[test]
    fn a_file_reference_climbing_out_with_dot_dot_is_refused() {
        let err = SecretRef::parse("file:/run/secrets/../../var/lib/usersync/master.key", "f")
            .unwrap_err();
        assert!(err.to_string().contains(".."), "{err}");
    }

    #[test]
    fn a_secret_is_bound_to_the_origin_of_its_url_not_its_path() {
        let url = Url::parse("https://Wiki.Example.com:443/confluence/").unwrap();
        assert_eq!(origin_of(&url), "https://wiki.example.com");
        let other = Url::parse("http://127.0.0.1:8080/").unwrap();
        assert_eq!(origin_of(&other), "http://127.0.0.1:8080");
    }

    #[test]
    fn debug_of_a_secret_value_is_redacted() {
        let input = SecretInput::from_text("hunter2");
        assert_eq!(format!("{input:?}"), "Value(<redacted>)");
    }
}
