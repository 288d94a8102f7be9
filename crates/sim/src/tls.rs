//! Serving an emulator over HTTPS, as the real products are served: a certificate and key
//! from PEM files (`usersync-sim jira --tls-cert F --tls-key K`, or
//! [`TlsFiles`] in an emulator's config), so clients can be tried against a server whose
//! CA they may or may not trust. The certificate is loaded by usersync's one TLS loader.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;
use usersync_tls::{ServerCert, server_config};

/// A handshake that takes longer than this is given up (the client is not speaking TLS).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The PEM files an emulator serves HTTPS with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain, server certificate first.
    pub cert: PathBuf,
    /// The server certificate's private key.
    pub key: PathBuf,
}

/// `--tls-cert` and `--tls-key`, shared by every emulator's command line.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TlsArgs {
    /// Serve HTTPS with this PEM certificate chain (with --tls-key).
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

impl TlsArgs {
    /// The files, when both flags are given.
    #[must_use]
    pub fn files(&self) -> Option<TlsFiles> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some(TlsFiles {
                cert: cert.clone(),
                key: key.clone(),
            }),
            _ => None,
        }
    }
}

/// The acceptor for `files`, checked before the emulator starts listening.
///
/// # Errors
/// A file that is not a readable PEM certificate chain or a matching key.
pub(crate) fn acceptor(files: &TlsFiles) -> anyhow::Result<TlsAcceptor> {
    let cert = ServerCert::load(&files.cert, &files.key).context("loading the TLS certificate")?;
    let config = server_config(Arc::new(cert)).context("building the TLS configuration")?;
    Ok(TlsAcceptor::from(config))
}

/// `https` when serving TLS, else `http`.
pub(crate) fn scheme(tls: Option<&TlsAcceptor>) -> &'static str {
    if tls.is_some() { "https" } else { "http" }
}

/// Serves `router` over TLS on `listener` until `shutdown`, each request carrying the
/// client's address as `ConnectInfo` (as `axum::serve` with connect info does), then waits
/// for open connections to finish.
pub(crate) async fn serve(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    router: Router,
    shutdown: impl Future<Output = ()> + Send,
) {
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!("the emulator could not accept a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let (acceptor, router, watcher) = (acceptor.clone(), router.clone(), graceful.watcher());
        tokio::spawn(async move {
            let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => return tracing::debug!("TLS handshake with {remote} failed: {e}"),
                Err(_) => return tracing::debug!("TLS handshake with {remote} timed out"),
            };
            let service = router.map_request(move |mut request: axum::http::Request<Incoming>| {
                request
                    .extensions_mut()
                    .insert(ConnectInfo::<SocketAddr>(remote));
                request
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tls), TowerToHyperService::new(service));
            if let Err(e) = watcher.watch(connection).await {
                tracing::debug!("connection from {remote} ended: {e}");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}
