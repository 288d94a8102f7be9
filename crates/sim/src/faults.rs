//! Fault injection shared by every emulator.
//!
//! A [`Faults`] value sits in front of an emulator's router as a middleware and,
//! according to its [`FaultConfig`], delays requests, answers some with an error
//! status, answers the next N with 503, drops connections mid-response, or
//! truncates bodies. The latency is added precisely, never less and a fraction of a
//! millisecond more ([`crate::timer`]). Path rules target one endpoint (for example one group's
//! members). The random choices come from a seeded generator so a test that sets
//! a seed sees the same faults every run.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use bytes::Bytes;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// A fault aimed at requests whose path (with query) contains `path_contains`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathFault {
    pub path_contains: String,
    pub status: u16,
    /// How many matching requests fail; `None` means every one.
    pub remaining: Option<u32>,
}

/// What to do wrong, and how often.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FaultConfig {
    /// Added to every request before it is handled.
    pub latency_ms: u64,
    /// Share (0.0-1.0) of requests answered with `error_status`.
    pub error_rate: f64,
    pub error_status: u16,
    /// The next this-many requests are answered 503.
    pub burst_503: u32,
    /// Share of responses whose connection is dropped before the body is sent.
    pub drop_rate: f64,
    /// Share of responses whose body is cut short (the declared length is not met).
    pub truncate_rate: f64,
    pub path_faults: Vec<PathFault>,
    pub seed: u64,
}

impl Default for FaultConfig {
    fn default() -> Self {
        Self {
            latency_ms: 0,
            error_rate: 0.0,
            error_status: 500,
            burst_503: 0,
            drop_rate: 0.0,
            truncate_rate: 0.0,
            path_faults: Vec::new(),
            seed: 0,
        }
    }
}

/// Builds the error response an emulator would send for a status (each vendor has its own body).
pub type ErrorBody = fn(StatusCode) -> Response;

#[derive(Debug)]
struct Inner {
    config: FaultConfig,
    rng: ChaCha8Rng,
}

/// Live, shared fault settings; change them while the emulator runs.
#[derive(Clone)]
pub struct Faults {
    inner: Arc<Mutex<Inner>>,
    error_body: ErrorBody,
}

impl std::fmt::Debug for Faults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Faults")
            .field("config", &self.config())
            .finish_non_exhaustive()
    }
}

/// What the middleware decided for one request.
enum Decision {
    Pass,
    Fail(StatusCode),
    Drop,
    Truncate,
}

impl Faults {
    #[must_use]
    pub fn new(config: FaultConfig, error_body: ErrorBody) -> Self {
        let rng = ChaCha8Rng::seed_from_u64(config.seed);
        Self {
            inner: Arc::new(Mutex::new(Inner { config, rng })),
            error_body,
        }
    }

    /// Replaces the settings (and reseeds the generator).
    pub fn set(&self, config: FaultConfig) {
        let mut inner = self.lock();
        inner.rng = ChaCha8Rng::seed_from_u64(config.seed);
        inner.config = config;
    }

    #[must_use]
    pub fn config(&self) -> FaultConfig {
        self.lock().config.clone()
    }

    /// Changes part of the settings in place.
    pub fn update(&self, change: impl FnOnce(&mut FaultConfig)) {
        change(&mut self.lock().config);
    }

    /// Answers the next `n` requests with 503.
    pub fn burst_503(&self, n: u32) {
        self.lock().config.burst_503 = n;
    }

    /// Clears every fault.
    pub fn clear(&self) {
        self.set(FaultConfig::default());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The configured latency (see [`delay`]).
    pub fn latency(&self) -> Duration {
        Duration::from_millis(self.lock().config.latency_ms)
    }

    fn decide(&self, path: &str) -> Decision {
        let mut inner = self.lock();
        if let Some(rule) = inner
            .config
            .path_faults
            .iter_mut()
            .find(|r| path.contains(&r.path_contains) && r.remaining != Some(0))
        {
            if let Some(n) = rule.remaining.as_mut() {
                *n -= 1;
            }
            let status =
                StatusCode::from_u16(rule.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return Decision::Fail(status);
        }
        if inner.config.burst_503 > 0 {
            inner.config.burst_503 -= 1;
            return Decision::Fail(StatusCode::SERVICE_UNAVAILABLE);
        }
        let Inner { config, rng } = &mut *inner;
        if config.error_rate > 0.0 && rng.random_bool(config.error_rate.min(1.0)) {
            Decision::Fail(
                StatusCode::from_u16(config.error_status)
                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            )
        } else if config.drop_rate > 0.0 && rng.random_bool(config.drop_rate.min(1.0)) {
            Decision::Drop
        } else if config.truncate_rate > 0.0 && rng.random_bool(config.truncate_rate.min(1.0)) {
            Decision::Truncate
        } else {
            Decision::Pass
        }
    }
}

/// The fault middleware: `axum::middleware::from_fn_with_state(faults, faults::layer)`,
/// inside the emulator's request log so that the log sees the injected statuses.
/// The latency is [`delay`]'s, outside the log.
pub async fn layer(State(faults): State<Faults>, request: Request, next: Next) -> Response {
    let uri = request.uri();
    let path = uri
        .path_and_query()
        .map_or_else(|| uri.path(), |p| p.as_str());
    let decision = faults.decide(path);
    match decision {
        Decision::Pass => next.run(request).await,
        Decision::Fail(status) => (faults.error_body)(status),
        Decision::Drop => {
            // The handler runs (the change may or may not have happened, as with a real
            // dropped connection), but the client never sees a complete response.
            let _ = next.run(request).await;
            broken_response(Bytes::new(), 1)
        }
        Decision::Truncate => truncated(next.run(request).await).await,
    }
}

/// The latency middleware, outermost: `from_fn_with_state(faults, faults::delay)`.
///
/// The latency is the time from a request's arrival to its response, the emulator's
/// own work inside it: the request is handled (and logged) at once, and the response
/// waits out the rest, as a server's does when it answers in that time. Run after the
/// wait, the handler's work came on top of every request's latency (about 0.1 ms a
/// request on a loaded 2-core machine, counted by the benchmark against the client);
/// and a client that went away during the wait, as a killed process does, left no
/// change, where a server would have made it.
pub async fn delay(State(faults): State<Faults>, request: Request, next: Next) -> Response {
    let arrived = std::time::Instant::now();
    let latency = faults.latency();
    let response = next.run(request).await;
    if !latency.is_zero() {
        // Exactly the configured latency: tokio's millisecond timer would add up to
        // another millisecond to every request (see `timer`).
        crate::timer::sleep_until(arrived + latency).await;
    }
    response
}

/// `response` with half its body, then a broken connection.
async fn truncated(response: Response) -> Response {
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let cut = bytes.slice(..bytes.len() / 2);
    let mut broken = broken_response(cut, bytes.len().max(1));
    *broken.status_mut() = parts.status;
    for (name, value) in &parts.headers {
        if name != header::CONTENT_LENGTH {
            broken.headers_mut().insert(name.clone(), value.clone());
        }
    }
    broken
}

/// A response that promises `declared` bytes, sends `sent`, then fails the stream so
/// the server aborts the connection.
fn broken_response(sent: Bytes, declared: usize) -> Response {
    let stream = futures::stream::iter(vec![
        Ok::<Bytes, std::io::Error>(sent),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "fault: connection dropped",
        )),
    ]);
    let mut response = Response::new(Body::from_stream(stream));
    response
        .headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(declared));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(status: StatusCode) -> Response {
        let mut r = Response::new(Body::empty());
        *r.status_mut() = status;
        r
    }

    #[test]
    fn a_burst_fails_exactly_that_many_requests_then_passes() {
        let faults = Faults::new(FaultConfig::default(), plain);
        faults.burst_503(2);
        let seen: Vec<bool> = (0..4)
            .map(|_| {
                matches!(
                    faults.decide("/x"),
                    Decision::Fail(StatusCode::SERVICE_UNAVAILABLE)
                )
            })
            .collect();
        assert_eq!(seen, vec![true, true, false, false]);
    }

    #[test]
    fn a_path_rule_with_a_count_stops_after_its_count() {
        let faults = Faults::new(
            FaultConfig {
                path_faults: vec![PathFault {
                    path_contains: "/groups/g1/users".into(),
                    status: 500,
                    remaining: Some(1),
                }],
                ..FaultConfig::default()
            },
            plain,
        );
        assert!(matches!(
            faults.decide("/api/v1/groups/g2/users"),
            Decision::Pass
        ));
        assert!(matches!(
            faults.decide("/api/v1/groups/g1/users"),
            Decision::Fail(_)
        ));
        assert!(matches!(
            faults.decide("/api/v1/groups/g1/users"),
            Decision::Pass
        ));
    }

    #[test]
    fn the_same_seed_gives_the_same_faults() {
        let config = FaultConfig {
            error_rate: 0.3,
            seed: 7,
            ..FaultConfig::default()
        };
        let run = || {
            let f = Faults::new(config.clone(), plain);
            (0..50)
                .map(|_| matches!(f.decide("/"), Decision::Fail(_)))
                .collect::<Vec<_>>()
        };
        let first = run();
        assert_eq!(first, run());
        assert!(first.iter().any(|x| *x) && first.iter().any(|x| !*x));
    }

    /// The time each of `n` requests spent in the fault layer set to `latency_ms`
    /// (the handler behind it answers at once).
    async fn time_in_layer(latency_ms: u64, n: usize) -> Vec<Duration> {
        use tower::ServiceExt as _;
        let faults = Faults::new(
            FaultConfig {
                latency_ms,
                ..FaultConfig::default()
            },
            plain,
        );
        let app = axum::Router::new()
            .route("/", axum::routing::get(|| async { "ok" }))
            .layer(axum::middleware::from_fn_with_state(faults.clone(), layer))
            .layer(axum::middleware::from_fn_with_state(faults, delay));
        let mut took = Vec::with_capacity(n);
        for _ in 0..n {
            let request = Request::builder()
                .uri("/")
                .body(Body::empty())
                .expect("a valid request");
            let start = std::time::Instant::now();
            let response = app.clone().oneshot(request).await.expect("infallible");
            took.push(start.elapsed());
            assert_eq!(response.status(), StatusCode::OK);
        }
        took
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_added_latency_is_the_configured_one_never_less_and_not_a_tick_more() {
        let configured = Duration::from_millis(2);
        let took = time_in_layer(2, 300).await;
        let shortest = took.iter().min().copied().unwrap_or_default();
        assert!(shortest >= configured, "a request took only {shortest:?}");
        // Tokio's millisecond timer made this 2.5-3 ms; a precise delay adds only
        // wake-ups. The median, so that a loaded machine's stray late wake-ups do not
        // count; below half a tick.
        let median = crate::timer::tests::median(&took);
        assert!(
            median < configured + Duration::from_micros(400),
            "median time in the layer {median:?} for {configured:?} configured"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_emulators_own_work_is_inside_the_latency_not_added_to_it() {
        use tower::ServiceExt as _;
        let latency = Duration::from_millis(60);
        let work = Duration::from_millis(40);
        let faults = Faults::new(
            FaultConfig {
                latency_ms: 60,
                ..FaultConfig::default()
            },
            plain,
        );
        let app = axum::Router::new()
            .route(
                "/",
                axum::routing::get(move || async move {
                    tokio::time::sleep(work).await;
                    "ok"
                }),
            )
            .layer(axum::middleware::from_fn_with_state(faults.clone(), layer))
            .layer(axum::middleware::from_fn_with_state(faults, delay));
        let mut took = Vec::new();
        for _ in 0..3 {
            let request = Request::builder().uri("/").body(Body::empty()).unwrap();
            let start = std::time::Instant::now();
            let response = app.clone().oneshot(request).await.unwrap();
            took.push(start.elapsed());
            assert_eq!(response.status(), StatusCode::OK);
        }
        let shortest = took.iter().min().copied().unwrap_or_default();
        assert!(
            shortest >= latency,
            "a response came before the latency: {shortest:?}"
        );
        // Work after the wait would make it 100 ms or more; a loaded machine adds a few.
        assert!(
            shortest < latency + work / 2,
            "the handler's {work:?} came on top of the {latency:?} latency: {took:?}"
        );
    }
}
