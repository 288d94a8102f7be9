//! Serving an emulator's router in the background until told to stop: the start
//! and stop plumbing the Jira and Confluence emulators share.

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Serves `router` on `listener` in a spawned task. Sending on (or dropping) the
/// returned sender shuts the server down gracefully; the handle ends after that.
/// A server that stops on its own is logged, naming `product`, since nobody
/// awaits the task to see the error.
pub(crate) fn spawn(
    listener: TcpListener,
    router: Router,
    product: &'static str,
    tls: Option<tokio_rustls::TlsAcceptor>,
) -> (oneshot::Sender<()>, JoinHandle<()>) {
    let (stop, stopped) = oneshot::channel::<()>();
    if let Some(acceptor) = tls {
        let task = tokio::spawn(crate::tls::serve(listener, acceptor, router, async {
            let _ = stopped.await;
        }));
        return (stop, task);
    }
    let task = tokio::spawn(async move {
        // The peer's address reaches handlers, for emulators that check it (Crowd's
        // remote addresses).
        let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
        let serve = axum::serve(listener, service).with_graceful_shutdown(async {
            let _ = stopped.await;
        });
        if let Err(e) = serve.await {
            tracing::error!(error = %e, "the {product} emulator stopped");
        }
    });
    (stop, task)
}
