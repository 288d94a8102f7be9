//! Prometheus metrics in the text exposition format, written by hand: request
//! latencies measured by a middleware, Okta rate-limit headroom per app and bucket
//! as each app's latest run ended, and run and operation counts read from the store at scrape time
//! (so runs started by the scheduler or the command line are counted too).
//!
//! Every label of the request histogram comes from a fixed set, whatever callers
//! send: the method if HTTP defines it (else `other`), the route's template (else
//! `unmatched`), the status code if it is a registered one (else its class, `5xx`).
//! A label copied from a request would let anyone grow the scrape and the process
//! without bound (25,000 made-up methods made one scrape 1.29 GB).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use usersync_okta::BucketHeadroom;

/// Upper bounds (seconds) of the request latency histogram's buckets.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// What the server measures itself.
#[derive(Debug, Default)]
pub struct Metrics {
    /// (method, route template, status) labels to the latency histogram.
    requests: Mutex<BTreeMap<(&'static str, String, String), Histogram>>,
    /// App name to its latest run's rate-limit buckets.
    okta_headroom: Mutex<BTreeMap<String, Vec<BucketHeadroom>>>,
}

/// Counts read from the store when scraped.
#[derive(Debug, Default, Clone)]
pub struct StoredCounts {
    /// Run status to number of runs.
    pub runs_by_status: BTreeMap<String, u64>,
    /// (operation kind, outcome) to number of operations.
    pub operations: BTreeMap<(String, String), u64>,
}

impl Metrics {
    /// Records one request's latency under bounded labels: see the module's doc.
    /// `route` is the matched route's template (never the raw path, so ids in URLs
    /// do not explode the number of series), `None` when no route matched.
    pub fn observe_request(
        &self,
        method: &Method,
        route: Option<&str>,
        status: StatusCode,
        seconds: f64,
    ) {
        let key = (
            method_label(method),
            route.unwrap_or(UNMATCHED).to_owned(),
            status_label(status),
        );
        let mut requests = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        let h = requests.entry(key).or_default();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                h.counts[i] += 1;
            }
        }
        h.count += 1;
        h.sum += seconds;
    }

    /// Remembers the Okta rate-limit headroom an app's last run ended with,
    /// replacing what was known about that app.
    pub fn set_okta_headroom(&self, app: &str, buckets: &[BucketHeadroom]) {
        self.okta_headroom
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(app.to_owned(), buckets.to_vec());
    }

    /// The whole exposition, store counts and whether this replica leads included.
    #[must_use]
    pub fn render(&self, stored: &StoredCounts, leader: bool) -> String {
        let mut out = String::new();
        out.push_str("# HELP usersync_leader 1 when this replica leads (runs the scheduler and the System Log pollers), else 0.\n");
        out.push_str("# TYPE usersync_leader gauge\n");
        let _ = writeln!(out, "usersync_leader {}", u8::from(leader));
        out.push_str("# HELP usersync_runs Sync runs recorded in the store, by status.\n");
        out.push_str("# TYPE usersync_runs gauge\n");
        for (status, n) in &stored.runs_by_status {
            let _ = writeln!(out, "usersync_runs{{status=\"{}\"}} {n}", escape(status));
        }
        out.push_str("# HELP usersync_operations Planned operations recorded in the store, by kind and outcome.\n");
        out.push_str("# TYPE usersync_operations gauge\n");
        for ((kind, outcome), n) in &stored.operations {
            let _ = writeln!(
                out,
                "usersync_operations{{kind=\"{}\",outcome=\"{}\"}} {n}",
                escape(kind),
                escape(outcome)
            );
        }
        self.render_headroom(&mut out);
        self.render_requests(&mut out);
        out
    }

    fn render_headroom(&self, out: &mut String) {
        let headroom = self.okta_headroom.lock().unwrap_or_else(|e| e.into_inner());
        let gauges: [(&str, &str, Figure); 3] = [
            (
                "remaining",
                "Requests left in the Okta rate-limit window (used by every client of the org), as the app's last run ended.",
                |b| i64::from(b.remaining),
            ),
            (
                "limit",
                "Requests Okta allows in the rate-limit window, as of the app's last run.",
                |b| i64::from(b.limit),
            ),
            (
                "reset_timestamp_seconds",
                "When the Okta rate-limit window resets (Unix time), as of the app's last run.",
                |b| b.resets_at.timestamp(),
            ),
        ];
        for (suffix, help, value) in gauges {
            let name = format!("usersync_okta_rate_limit_{suffix}");
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} gauge");
            for (app, buckets) in headroom.iter() {
                for b in buckets {
                    let _ = writeln!(
                        out,
                        "{name}{{app=\"{}\",bucket=\"{}\"}} {}",
                        escape(app),
                        escape(&b.bucket),
                        value(b)
                    );
                }
            }
        }
    }

    fn render_requests(&self, out: &mut String) {
        let requests = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        out.push_str(
            "# HELP usersync_http_request_duration_seconds Time to answer HTTP requests.\n",
        );
        out.push_str("# TYPE usersync_http_request_duration_seconds histogram\n");
        for ((method, route, status), h) in requests.iter() {
            let labels = format!(
                "method=\"{method}\",route=\"{}\",status=\"{status}\"",
                escape(route)
            );
            for (bound, n) in BUCKETS.iter().zip(h.counts) {
                let _ = writeln!(
                    out,
                    "usersync_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "usersync_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "usersync_http_request_duration_seconds_sum{{{labels}}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "usersync_http_request_duration_seconds_count{{{labels}}} {}",
                h.count
            );
        }
    }
}

/// The route label of requests no route matched (the fallback's 404s).
const UNMATCHED: &str = "unmatched";

/// The method label: the methods HTTP defines, anything else `other`.
fn method_label(method: &Method) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE",
    ];
    KNOWN
        .into_iter()
        .find(|known| *known == method.as_str())
        .unwrap_or("other")
}

/// The status label: a registered code as itself, any other by its class (`4xx`).
fn status_label(status: StatusCode) -> String {
    if status.canonical_reason().is_some() {
        status.as_str().to_owned()
    } else {
        format!("{}xx", status.as_u16() / 100)
    }
}

/// Reads one figure of a rate-limit bucket.
type Figure = fn(&BucketHeadroom) -> i64;

/// Escapes a label value as the exposition format requires.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Middleware measuring every request against its matched route.
pub async fn track(
    State(metrics): State<std::sync::Arc<Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let response = next.run(request).await;
    metrics.observe_request(
        &method,
        route.as_deref(),
        response.status(),
        started.elapsed().as_secs_f64(),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_has_cumulative_buckets_and_escaped_labels() {
        let m = Metrics::default();
        m.observe_request(&Method::GET, Some("/runs/{id}"), StatusCode::OK, 0.02);
        m.observe_request(&Method::GET, Some("/runs/{id}"), StatusCode::OK, 3.0);
        m.set_okta_headroom(
            "hr \"main\"",
            &[BucketHeadroom {
                bucket: "GET /api/v1/users".into(),
                remaining: 580,
                limit: 600,
                resets_at: chrono::DateTime::from_timestamp(1_700_000_060, 0).unwrap(),
            }],
        );
        let mut stored = StoredCounts::default();
        stored.runs_by_status.insert("succeeded".into(), 3);
        stored
            .operations
            .insert(("create_user".into(), "applied".into()), 7);
        let text = m.render(&stored, true);
        assert!(text.contains("usersync_leader 1\n"), "{text}");
        assert!(
            text.contains("usersync_runs{status=\"succeeded\"} 3"),
            "{text}"
        );
        assert!(text.contains("usersync_operations{kind=\"create_user\",outcome=\"applied\"} 7"));
        let bucket = "app=\"hr \\\"main\\\"\",bucket=\"GET /api/v1/users\"";
        assert!(
            text.contains(&format!(
                "usersync_okta_rate_limit_remaining{{{bucket}}} 580"
            )),
            "{text}"
        );
        assert!(text.contains(&format!("usersync_okta_rate_limit_limit{{{bucket}}} 600")));
        assert!(text.contains(&format!(
            "usersync_okta_rate_limit_reset_timestamp_seconds{{{bucket}}} 1700000060"
        )));
        let labels = "method=\"GET\",route=\"/runs/{id}\",status=\"200\"";
        assert!(text.contains(&format!("_bucket{{{labels},le=\"0.01\"}} 0")));
        assert!(text.contains(&format!("_bucket{{{labels},le=\"0.025\"}} 1")));
        assert!(text.contains(&format!("_bucket{{{labels},le=\"5\"}} 2")));
        assert!(text.contains(&format!("_count{{{labels}}} 2")));
    }

    #[test]
    fn labels_come_from_fixed_sets_whatever_the_request_says() {
        let m = Metrics::default();
        let made_up = Method::from_bytes(b"PURGEALL").expect("a token method");
        m.observe_request(&made_up, None, StatusCode::NOT_FOUND, 0.001);
        m.observe_request(
            &Method::DELETE,
            Some("/runs/{id}"),
            StatusCode::from_u16(599).unwrap(),
            0.001,
        );
        m.observe_request(
            &Method::GET,
            None,
            StatusCode::from_u16(299).unwrap(),
            0.001,
        );
        let text = m.render(&StoredCounts::default(), false);
        assert!(
            text.contains("_count{method=\"other\",route=\"unmatched\",status=\"404\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("_count{method=\"DELETE\",route=\"/runs/{id}\",status=\"5xx\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("_count{method=\"GET\",route=\"unmatched\",status=\"2xx\"} 1"),
            "{text}"
        );
        assert!(!text.contains("PURGE"), "{text}");
    }
}
