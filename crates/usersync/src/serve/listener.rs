//! The HTTP listener of `usersync serve`: its own accept loop, so that slow and greedy
//! clients cannot take the server down. A client gets [`Limits::header_timeout`] to
//! send its request's headers (hyper closes the connection after that); at most
//! [`Limits::max_connections`] connections are open at once (beyond that the kernel
//! queues new ones until one closes, instead of the process running out of
//! descriptors); accept errors (out of descriptors) are waited out, not fatal. On
//! shutdown it stops accepting, asks open connections to finish their request in
//! flight and waits for them. With a TLS acceptor (`serve --tls-cert/--tls-key`) each
//! connection's handshake runs in its own task within the same header timeout, so a
//! client that never finishes it holds one connection slot for that long at most.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;

/// How long the accept loop waits after an accept error (such as no descriptors left)
/// before trying again: long enough not to spin, short enough to recover at once.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// The listener's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub header_timeout: Duration,
    pub max_connections: usize,
}

/// Serves `router` on `listener` (over TLS when `tls` is given) until `shutdown`
/// completes, then waits for the open connections to finish the request they are serving.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    tls: Option<TlsAcceptor>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            () = &mut shutdown => break,
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let (stream, remote) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!("could not accept a connection: {e}");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
        let service =
            router
                .clone()
                .map_request(move |mut request: axum::http::Request<Incoming>| {
                    request.extensions_mut().insert(ConnectInfo(remote));
                    request
                });
        let (http, tls, watcher) = (http.clone(), tls.clone(), graceful.watcher());
        tokio::spawn(async move {
            let service = TowerToHyperService::new(service);
            let ended = match tls {
                None => {
                    let connection = http.serve_connection(TokioIo::new(stream), service);
                    watcher.watch(connection).await
                }
                Some(acceptor) => {
                    let handshake = acceptor.accept(stream);
                    match tokio::time::timeout(limits.header_timeout, handshake).await {
                        Ok(Ok(stream)) => {
                            let connection = http.serve_connection(TokioIo::new(stream), service);
                            watcher.watch(connection).await
                        }
                        Ok(Err(e)) => {
                            tracing::debug!("TLS handshake with {remote} failed: {e}");
                            Ok(())
                        }
                        Err(_) => {
                            tracing::debug!("TLS handshake with {remote} timed out");
                            Ok(())
                        }
                    }
                }
            };
            if let Err(e) = ended {
                tracing::debug!("connection from {remote} ended: {e}");
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}
