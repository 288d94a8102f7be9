//! An HTTP receiver on 127.0.0.1 that records every request it is sent (a webhook's
//! far end), answering each with a status the test chooses; and [`unused_url`], a
//! loopback URL where nothing listens (a receiver that is down).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};

/// One request as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub content_type: Option<String>,
    pub body: String,
}

impl Received {
    /// The body as JSON.
    ///
    /// # Panics
    /// When the body is not JSON.
    #[must_use]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }
}

#[derive(Clone)]
struct Shared {
    log: Arc<Mutex<Vec<Received>>>,
    status: StatusCode,
}

/// A running receiver; stops when dropped.
pub struct HttpReceiver {
    url: String,
    shared: Shared,
    task: tokio::task::JoinHandle<()>,
}

impl HttpReceiver {
    /// Starts a receiver answering 200 to everything.
    pub async fn start() -> Self {
        Self::answering(StatusCode::OK).await
    }

    /// Starts a receiver answering `status` to everything (e.g. 500, to test retries).
    ///
    /// # Panics
    /// When no loopback port can be bound.
    pub async fn answering(status: StatusCode) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let url = format!("http://{}/", listener.local_addr().expect("its address"));
        let shared = Shared {
            log: Arc::default(),
            status,
        };
        let app = Router::new().fallback(record).with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, shared, task }
    }

    /// The receiver's base URL, ending in `/`.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Everything received so far.
    ///
    /// # Panics
    /// When the log's lock is poisoned.
    #[must_use]
    pub fn received(&self) -> Vec<Received> {
        self.shared.log.lock().expect("the log").clone()
    }

    /// Waits (up to `limit`) until at least `count` requests arrived; returns them all.
    pub async fn wait_for(&self, count: usize, limit: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let now = self.received();
            if now.len() >= count || tokio::time::Instant::now() >= deadline {
                return now;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for HttpReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn record(
    State(shared): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let received = Received {
        method: method.to_string(),
        path: uri.path().to_owned(),
        content_type: headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    if let Ok(mut log) = shared.log.lock() {
        log.push(received);
    }
    shared.status
}

/// A loopback URL where nothing listens: a port bound and released at once.
///
/// # Panics
/// When no loopback port can be bound.
pub async fn unused_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let addr = listener.local_addr().expect("its address");
    drop(listener);
    format!("http://{addr}/")
}
