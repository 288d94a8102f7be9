//! Delivering one notification: a JSON POST to the webhook and an e-mail over SMTP, each
//! within a timeout and a bounded number of attempts.
//!
//! Errors say what failed without the webhook URL (it is a secret: `reqwest`'s errors
//! carry the URL unless told not to) and without the SMTP password.

use std::time::Duration;

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};
use secrecy::{ExposeSecret as _, SecretString};

use usersync_tls::{CertProblem, TrustRoots};

use super::message::Notice;

/// How hard delivery tries.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// Each attempt's limit (connect, send, answer).
    pub timeout: Duration,
    /// Attempts per channel, the first included.
    pub attempts: u32,
    /// Wait before the second attempt; doubled after each.
    pub backoff: Duration,
}

impl Default for Delivery {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(15),
            attempts: 3,
            backoff: Duration::from_secs(2),
        }
    }
}

/// Where one app's notification goes, with its secrets resolved.
pub struct Channels {
    pub webhook: Option<SecretString>,
    pub email: Option<EmailChannel>,
}

/// An app's e-mail settings with the password resolved.
pub struct EmailChannel {
    pub to: Vec<String>,
    pub from: String,
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<SecretString>,
    pub starttls: bool,
}

/// Runs `attempt` up to `delivery.attempts` times, backing off between failures.
async fn with_retries<F, Fut>(delivery: &Delivery, mut attempt: F) -> Result<(), String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let mut wait = delivery.backoff;
    let mut last = String::from("no attempt was made");
    for n in 1..=delivery.attempts.max(1) {
        match tokio::time::timeout(delivery.timeout, attempt()).await {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(e)) => last = e,
            Err(_) => last = format!("no answer within {:?}", delivery.timeout),
        }
        if n < delivery.attempts {
            tokio::time::sleep(wait).await;
            wait *= 2;
        }
    }
    Err(format!(
        "{last} (after {} attempts)",
        delivery.attempts.max(1)
    ))
}

/// Posts the notice's JSON body to the webhook.
pub async fn webhook(
    http: &reqwest::Client,
    url: &SecretString,
    notice: &Notice,
    delivery: &Delivery,
) -> Result<(), String> {
    let body = notice.body();
    with_retries(delivery, || async {
        let answer = http
            .post(url.expose_secret())
            .json(&body)
            .send()
            .await
            .map_err(|e| format!("the webhook could not be reached: {}", e.without_url()))?;
        let status = answer.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("the webhook answered {status}"))
        }
    })
    .await
}

/// Sends the notice as a plain-text e-mail through the app's SMTP server.
pub async fn email(
    channel: &EmailChannel,
    notice: &Notice,
    delivery: &Delivery,
    trust: &TrustRoots,
) -> Result<(), String> {
    let message = build_message(channel, notice)?;
    let transport = transport(channel, delivery, trust)?;
    with_retries(delivery, || async {
        transport
            .send(message.clone())
            .await
            .map(drop)
            .map_err(|e| {
                format!(
                    "the SMTP server {}:{} refused or failed: {e}{}",
                    channel.host,
                    channel.port,
                    certificate_hint(&e)
                )
            })
    })
    .await
}

/// What to do when STARTTLS failed on the relay's certificate (nothing otherwise).
fn certificate_hint(error: &lettre::transport::smtp::Error) -> String {
    match CertProblem::of(error) {
        Some(CertProblem::UnknownIssuer) => {
            "; the relay's certificate is signed by a CA this machine does not trust: add that \
             CA to the system's trust store or give its PEM file as --ca-file (USERSYNC_CA_FILE)"
                .to_owned()
        }
        Some(problem) => format!(
            "; the relay's certificate was refused ({}): {}",
            problem.code(),
            problem.fix("--ca-file")
        ),
        None => String::new(),
    }
}

fn build_message(channel: &EmailChannel, notice: &Notice) -> Result<Message, String> {
    let mailbox = |text: &str, field: &str| {
        text.parse::<Mailbox>()
            .map_err(|e| format!("{field} {text:?} is not a usable address: {e}"))
    };
    let mut builder = Message::builder()
        .from(mailbox(&channel.from, "notify.email.from")?)
        .subject(notice.subject())
        .header(ContentType::TEXT_PLAIN);
    for to in &channel.to {
        builder = builder.to(mailbox(to, "notify.email.to")?);
    }
    // The text is wrapped to fit 7bit/8bit lines, so it reads as sent; a line that still
    // does not fit (a very long link) makes lettre choose quoted-printable.
    let text = notice.plain_text();
    let body = Body::new_with_encoding(text.clone(), ContentTransferEncoding::EightBit)
        .unwrap_or_else(|_| Body::new(text));
    builder
        .body(body)
        .map_err(|e| format!("the e-mail could not be built: {e}"))
}

/// The SMTP transport. STARTTLS trusts what every other client of usersync trusts:
/// the built-in roots (lettre's default store: the operating system's) plus `trust`
/// (`--ca-file`), so a relay signed by the company CA works as a Jira signed by it does.
fn transport(
    channel: &EmailChannel,
    delivery: &Delivery,
    trust: &TrustRoots,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let tls = if channel.starttls {
        let mut params = TlsParameters::builder(channel.host.clone());
        for der in trust.certificates() {
            let root = Certificate::from_der(der.to_vec())
                .map_err(|e| format!("a CA certificate of --ca-file is not usable: {e}"))?;
            params = params.add_root_certificate(root);
        }
        let params = params
            .build_rustls()
            .map_err(|e| format!("TLS for the SMTP server could not be set up: {e}"))?;
        Tls::Required(params)
    } else {
        // Validation allows this only for a relay on loopback.
        Tls::None
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&channel.host)
        .port(channel.port)
        .tls(tls)
        .timeout(Some(delivery.timeout));
    if let (Some(user), Some(password)) = (&channel.username, &channel.password) {
        builder = builder.credentials(Credentials::new(
            user.clone(),
            password.expose_secret().to_owned(),
        ));
    }
    Ok(builder.build())
}
