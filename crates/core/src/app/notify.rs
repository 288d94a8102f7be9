//! Being told: which run endings an app reports, and where (a webhook, e-mail over SMTP).
//!
//! [`NotifySettings`] is the `notify` part of an app (`[app.notify]` in TOML), generic over
//! how its two secrets appear like the credentials: the webhook URL (a Slack or Teams
//! incoming-webhook URL is itself the credential) and the SMTP password. The SMTP server is
//! per app, as the issue asks and as the rest of an app's connections are: each app's
//! owners may use their own relay, its password is sealed and origin-bound with the app's
//! other secrets, and `serve` needs no extra flags. Sending is the application's
//! (`usersync::notify`); this module only describes and checks.

use serde::{Deserialize, Serialize};

use super::secret::SecretSlot;

/// The run endings an app can be told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyOn {
    /// A run stopped before its destructive operations, waiting for approval.
    Held,
    /// A run failed.
    Failed,
    /// A run ended partial (incomplete read, failed or skipped operations).
    Partial,
    /// A login- or event-triggered sync of one user was held, failed, or did not create them.
    LoginRefused,
}

impl NotifyOn {
    /// Every kind, in the order forms list them; also the default.
    pub const ALL: [NotifyOn; 4] = [Self::Held, Self::Failed, Self::Partial, Self::LoginRefused];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Held => "held",
            Self::Failed => "failed",
            Self::Partial => "partial",
            Self::LoginRefused => "login_refused",
        }
    }

    /// The console's label.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Held => "A run is held for approval",
            Self::Failed => "A run fails",
            Self::Partial => "A run ends partial",
            Self::LoginRefused => "A login-time sync is refused",
        }
    }

    /// The kind written as `text`, if any.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|on| on.as_str() == text.trim())
    }
}

fn all_kinds() -> Vec<NotifyOn> {
    NotifyOn::ALL.to_vec()
}

/// Where and when an app's notifications go. Without a webhook or e-mail, nothing is sent.
#[derive(Debug, Serialize, Deserialize)]
#[serde(
    deny_unknown_fields,
    bound(deserialize = "S: Deserialize<'de> + Default")
)]
pub struct NotifySettings<S> {
    /// Which endings are reported (all by default).
    #[serde(default = "all_kinds")]
    pub on: Vec<NotifyOn>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<WebhookSettings<S>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailSettings<S>>,
}

impl<S> Default for NotifySettings<S> {
    fn default() -> Self {
        Self {
            on: all_kinds(),
            webhook: None,
            email: None,
        }
    }
}

/// A generic JSON webhook (Slack- and Teams-compatible `text`).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings<S> {
    /// The URL posted to: a secret, as an incoming-webhook URL grants posting.
    #[serde(default)]
    pub url: S,
}

/// E-mail over SMTP.
#[derive(Debug, Serialize, Deserialize)]
#[serde(
    deny_unknown_fields,
    bound(deserialize = "S: Deserialize<'de> + Default")
)]
pub struct EmailSettings<S> {
    /// The recipients.
    pub to: Vec<String>,
    /// The sender address.
    pub from: String,
    pub smtp: SmtpSettings<S>,
}

/// The SMTP server an app's e-mail is handed to.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings<S> {
    pub host: String,
    /// 587 (submission) by default.
    #[serde(default = "default_port")]
    pub port: u16,
    /// Sign in with this user (and `password`); none: send without authentication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default)]
    pub password: S,
    /// Upgrade the connection with STARTTLS before anything else is sent (required unless
    /// the server is on loopback, such as a local relay).
    #[serde(default = "default_starttls")]
    pub starttls: bool,
}

fn default_port() -> u16 {
    587
}

fn default_starttls() -> bool {
    true
}

/// The origin an SMTP password is bound to: `smtp://host:port`.
#[must_use]
pub fn smtp_origin(host: &str, port: u16) -> String {
    format!("smtp://{}:{port}", host.trim().to_ascii_lowercase())
}

/// The binding of a webhook URL: the URL is its own destination, so there is no other
/// URL it could be redirected to; the slot is bound to this constant instead.
pub const WEBHOOK_ORIGIN: &str = "webhook:self";

impl<S> NotifySettings<S> {
    /// Whether runs ending as `on` are reported anywhere.
    #[must_use]
    pub fn wants(&self, on: NotifyOn) -> bool {
        (self.webhook.is_some() || self.email.is_some()) && self.on.contains(&on)
    }

    /// The secrets in use, each with its slot and whether saving requires it.
    pub fn secrets(&self) -> Vec<(SecretSlot, &S, bool)> {
        let mut all = Vec::new();
        if let Some(webhook) = &self.webhook {
            all.push((SecretSlot::NotifyWebhookUrl, &webhook.url, true));
        }
        if let Some(email) = &self.email {
            let required = email.smtp.username.is_some();
            all.push((SecretSlot::SmtpPassword, &email.smtp.password, required));
        }
        all
    }

    /// The origin `slot`'s secret is bound to (see [`smtp_origin`], [`WEBHOOK_ORIGIN`]).
    #[must_use]
    pub fn origin_for(&self, slot: SecretSlot) -> String {
        match (&self.email, slot) {
            (Some(email), SecretSlot::SmtpPassword) => {
                smtp_origin(&email.smtp.host, email.smtp.port)
            }
            _ => WEBHOOK_ORIGIN.to_owned(),
        }
    }

    /// The same settings with each secret replaced by `f(slot, &secret)`.
    pub fn map_ref<T>(&self, mut f: impl FnMut(SecretSlot, &S) -> T) -> NotifySettings<T> {
        NotifySettings {
            on: self.on.clone(),
            webhook: self.webhook.as_ref().map(|w| WebhookSettings {
                url: f(SecretSlot::NotifyWebhookUrl, &w.url),
            }),
            email: self.email.as_ref().map(|e| EmailSettings {
                to: e.to.clone(),
                from: e.from.clone(),
                smtp: SmtpSettings {
                    host: e.smtp.host.clone(),
                    port: e.smtp.port,
                    username: e.smtp.username.clone(),
                    password: f(SecretSlot::SmtpPassword, &e.smtp.password),
                    starttls: e.smtp.starttls,
                },
            }),
        }
    }
}
