//! Serving an emulator's router in the background until told to stop: the start
//! and stop plumbing every emulator shares ([`Serving`]: stopped on request or on drop).

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Serves `router` on `listener` in a spawned task until the returned [`Serving`] is
/// stopped or dropped.
/// A server that stops on its own is logged, naming `product`, since nobody
/// awaits the task to see the error.
pub(crate) fn spawn(
    listener: TcpListener,
    router: Router,
    product: &'static str,
    tls: Option<tokio_rustls::TlsAcceptor>,
) -> Serving {
    let (stop, stopped) = oneshot::channel::<()>();
    if let Some(acceptor) = tls {
        let task = tokio::spawn(crate::tls::serve(listener, acceptor, router, async {
            let _ = stopped.await;
        }));
        return Serving::new(stop, task);
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
    Serving::new(stop, task)
}

/// A running emulator's server: shut down gracefully by [`Serving::stop`], which waits
/// for it to end, or told to stop when dropped (every emulator's `shutdown` and drop).
pub(crate) struct Serving {
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Serving {
    /// `task` serves until `stop` is sent on (or dropped).
    pub(crate) fn new(stop: oneshot::Sender<()>, task: JoinHandle<()>) -> Self {
        Self {
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Stops serving and waits for the server task to end.
    pub(crate) async fn stop(mut self) {
        self.signal();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    fn signal(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        self.signal();
    }
}
