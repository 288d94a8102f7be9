//! Prometheus metrics in the text exposition format, written by hand: request
//! latencies measured by a middleware, Okta rate-limit headroom reported after
//! each run, and run and operation counts read from the store at scrape time
//! (so runs started by the scheduler or the command line are counted too).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

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

/// The latest Okta rate-limit figures seen for one app.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimitHeadroom {
    pub remaining: u64,
    pub limit: u64,
}

/// What the server measures itself.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), Histogram>>,
    okta_headroom: Mutex<BTreeMap<String, RateLimitHeadroom>>,
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

    /// Remembers the Okta rate-limit headroom an app's last run ended with.
    pub fn set_okta_headroom(&self, app: &str, headroom: RateLimitHeadroom) {
        self.okta_headroom
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(app.to_owned(), headroom);
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
        out.push_str("# HELP usersync_okta_rate_limit_remaining Requests left in Okta's current rate-limit window, as of the app's last run.\n");
        out.push_str("# TYPE usersync_okta_rate_limit_remaining gauge\n");
        for (app, h) in headroom.iter() {
            let _ = writeln!(
                out,
                "usersync_okta_rate_limit_remaining{{app=\"{}\"}} {}",
                escape(app),
                h.remaining
            );
        }
        out.push_str("# HELP usersync_okta_rate_limit_limit Okta's rate limit for the window, as of the app's last run.\n");
        out.push_str("# TYPE usersync_okta_rate_limit_limit gauge\n");
        for (app, h) in headroom.iter() {
            let _ = writeln!(
                out,
                "usersync_okta_rate_limit_limit{{app=\"{}\"}} {}",
                escape(app),
                h.limit
            );
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
            RateLimitHeadroom {
                remaining: 580,
                limit: 600,
            },
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
        assert!(text.contains("usersync_okta_rate_limit_remaining{app=\"hr \\\"main\\\"\"} 580"));
        let labels = "method=\"GET\",route=\"/runs/{id}\",status=\"200\"";
        assert!(text.contains(&format!("_bucket{{{labels},le=\"0.01\"}} 0")));
        assert!(text.contains(&format!("_bucket{{{labels},le=\"0.025\"}} 1")));
        assert!(text.contains(&format!("_bucket{{{labels},le=\"5\"}} 2")));
        assert!(text.contains(&format!("_count{{{labels}}} 2")));
    }
}
