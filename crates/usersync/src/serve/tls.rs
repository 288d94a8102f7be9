//! HTTPS for `usersync serve --tls-cert F --tls-key K`: the certificate is loaded once at
//! start (a bad file stops the start, naming it) and reloaded while serving, on SIGHUP and
//! when either file changes (polled every `--tls-reload-secs`), so a renewed certificate
//! (certbot, an internal PKI agent) reaches new connections without a restart. A bad new
//! file keeps the certificate being served and is logged with the reason.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use usersync_tls::{ServerCert, server_config};

/// The certificate and the acceptor that presents it.
pub(super) struct Https {
    pub cert: Arc<ServerCert>,
    pub acceptor: TlsAcceptor,
}

impl Https {
    /// Loads the pair and builds the acceptor.
    ///
    /// # Errors
    /// A file that is not a readable PEM certificate chain, or a key that is missing or
    /// does not match it; the message names the flag.
    pub(super) fn load(cert: &Path, key: &Path) -> anyhow::Result<Self> {
        let cert = Arc::new(ServerCert::load(cert, key).context("--tls-cert / --tls-key")?);
        let config = server_config(cert.clone()).context("building the TLS configuration")?;
        Ok(Self {
            cert,
            acceptor: TlsAcceptor::from(config),
        })
    }
}

/// Reloads `cert` on SIGHUP and when its files change, until `stop` is cancelled. The
/// SIGHUP handler is installed before this returns (before the server accepts), so a
/// SIGHUP never meets the default action, which would end the process.
pub(super) fn watch(cert: Arc<ServerCert>, every: Duration, stop: CancellationToken) {
    let mut hangups = hangups();
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every.max(Duration::from_millis(100)));
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let forced = tokio::select! {
                () = stop.cancelled() => return,
                _ = ticks.tick() => false,
                Some(()) = next_hangup(&mut hangups) => true,
            };
            let result = if forced {
                cert.reload().map(|()| true)
            } else {
                cert.reload_if_changed()
            };
            match result {
                Ok(true) => tracing::info!(
                    "TLS certificate reloaded from {}",
                    cert.cert_path().display()
                ),
                Ok(false) => {}
                Err(e) => tracing::warn!(
                    "TLS certificate not reloaded, still serving the previous one: {e}"
                ),
            }
        }
    });
}

#[cfg(unix)]
type Hangups = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Hangups = Option<()>;

#[cfg(unix)]
fn hangups() -> Hangups {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::hangup()) {
        Ok(signal) => Some(signal),
        Err(e) => {
            tracing::warn!("SIGHUP will not reload the TLS certificate: {e}");
            None
        }
    }
}

#[cfg(not(unix))]
fn hangups() -> Hangups {
    None
}

/// The next SIGHUP; never, without a handler.
async fn next_hangup(hangups: &mut Hangups) -> Option<()> {
    #[cfg(unix)]
    if let Some(signal) = hangups {
        return signal.recv().await;
    }
    let _ = hangups;
    std::future::pending().await
}
