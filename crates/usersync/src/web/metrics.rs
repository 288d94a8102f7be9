//! Prometheus metrics in the text exposition format, written by hand: request
//! latencies measured by a middleware, Okta rate-limit headroom per app and bucket
//! as each app's latest run ended, and run and operation counts read from the store at scrape time
//! (so runs started by the scheduler or the command line are counted too).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
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
    requests: Mutex<BTreeMap<(String, String, u16), Histogram>>,
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
    /// Records one request's latency under its route template (never the raw
    /// path, so ids in URLs do not explode the number of series).
    pub fn observe_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut requests = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        let h = requests
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default();
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

    /// The whole exposition, store counts included.
    #[must_use]
    pub fn render(&self, stored: &StoredCounts) -> String {
        let mut out = String::new();
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
                "method=\"{}\",route=\"{}\",status=\"{status}\"",
                escape(method),
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
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    metrics.observe_request(
        &method,
        &route,
        response.status().as_u16(),
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
        m.observe_request("GET", "/runs/{id}", 200, 0.02);
        m.observe_request("GET", "/runs/{id}", 200, 3.0);
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
        let text = m.render(&stored);
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
}
