//! Retry timing: exponential backoff with jitter, and the wait after a 429; what a
//! failed attempt is called in messages.
//!
//! The 429 wait follows Okta's SDKs: `X-Rate-Limit-Reset - Date + 1 s`, computed
//! against the server's `Date` so a skewed local clock cannot make usersync hammer
//! the org (or sleep for an hour), then capped. Okta may send duplicate rate-limit
//! headers; the smallest value of each wins, as in the Python SDK.

use std::time::Duration;

use chrono::{DateTime, Utc};
use http::HeaderMap;
use rand::Rng;

use crate::config::RetrySettings;
use crate::governor::RateHeaders;

/// Backoff before transient retry number `retry` (0-based): doubles each time up to
/// the cap, and the second half of each step is random so clients spread out.
pub(crate) fn backoff(settings: &RetrySettings, retry: u32) -> Duration {
    let base = settings
        .initial_backoff
        .saturating_mul(1u32 << retry.min(16))
        .min(settings.max_backoff);
    let half = base / 2;
    let jitter_ms = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
    half + Duration::from_millis(rand::rng().random_range(0..=jitter_ms))
}

/// The smallest numeric value among every field (and comma-joined part) of a header.
fn min_header(headers: &HeaderMap, name: &str) -> Option<i64> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|v| v.trim().parse::<i64>().ok())
        .min()
}

/// The server's clock, from `Date`; the local clock when it is missing or unreadable.
fn server_now(headers: &HeaderMap) -> DateTime<Utc> {
    headers
        .get(http::header::DATE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| DateTime::parse_from_rfc2822(v).ok())
        .map_or_else(Utc::now, |d| d.with_timezone(&Utc))
}

/// Seconds from the server's now until `X-Rate-Limit-Reset`, never negative.
fn reset_in(headers: &HeaderMap) -> Option<Duration> {
    let reset = min_header(headers, "x-rate-limit-reset")?;
    Some(until(reset, headers))
}

fn until(reset: i64, headers: &HeaderMap) -> Duration {
    let secs = reset.saturating_sub(server_now(headers).timestamp()).max(0);
    Duration::from_secs(u64::try_from(secs).unwrap_or(0))
}

/// The bucket state an answer reports, when it carries the three headers.
pub(crate) fn rate_headers(headers: &HeaderMap) -> Option<RateHeaders> {
    let limit = min_header(headers, "x-rate-limit-limit")?;
    let remaining = min_header(headers, "x-rate-limit-remaining")?;
    let reset = min_header(headers, "x-rate-limit-reset")?;
    Some(RateHeaders {
        limit: u32::try_from(limit.max(0)).unwrap_or(u32::MAX),
        remaining: u32::try_from(remaining.max(0)).unwrap_or(u32::MAX),
        reset_in: until(reset, headers),
        window: reset,
    })
}

/// How long to wait after a 429: until the window resets plus one second, capped.
/// Without a Reset header, the transient backoff for this attempt.
pub(crate) fn rate_limit_wait(
    settings: &RetrySettings,
    headers: &HeaderMap,
    retry: u32,
) -> Duration {
    reset_in(headers).map_or_else(
        || backoff(settings, retry),
        |d| (d + Duration::from_secs(1)).min(settings.max_rate_limit_wait),
    )
}

/// Okta's id of a request (`X-Okta-Request-Id`), echoed in `X-Okta-Retry-For`.
pub(crate) fn request_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-okta-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// A person-readable reason for a failed attempt, without the URL's secrets (there are none
/// in Okta URLs, but the error's source chain is more useful than its top line).
pub(crate) fn transport_message(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the response body was cut off"
    } else {
        "the connection failed"
    };
    let mut detail = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind} ({detail})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn map(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.append(*k, HeaderValue::from_str(v).unwrap());
        }
        m
    }

    #[test]
    fn the_429_wait_is_reset_minus_server_date_plus_one_second() {
        // 2021-01-01T00:00:00Z = 1609459200.
        let h = map(&[
            ("date", "Fri, 01 Jan 2021 00:00:00 GMT"),
            ("x-rate-limit-reset", "1609459207"),
        ]);
        let wait = rate_limit_wait(&RetrySettings::default(), &h, 0);
        assert_eq!(wait, Duration::from_secs(8));
    }

    #[test]
    fn the_429_wait_is_capped_and_duplicate_resets_take_the_smallest() {
        let settings = RetrySettings {
            max_rate_limit_wait: Duration::from_secs(3),
            ..RetrySettings::default()
        };
        let h = map(&[
            ("date", "Fri, 01 Jan 2021 00:00:00 GMT"),
            ("x-rate-limit-reset", "1609459300, 1609459290"),
        ]);
        assert_eq!(rate_limit_wait(&settings, &h, 0), Duration::from_secs(3));
        let h = map(&[
            ("date", "Fri, 01 Jan 2021 00:00:00 GMT"),
            ("x-rate-limit-reset", "1609459260"),
            ("x-rate-limit-reset", "1609459201"),
        ]);
        assert_eq!(rate_limit_wait(&settings, &h, 0), Duration::from_secs(2));
    }

    #[test]
    fn rate_headers_are_read_against_the_server_clock() {
        let h = map(&[
            ("date", "Fri, 01 Jan 2021 00:00:00 GMT"),
            ("x-rate-limit-limit", "600"),
            ("x-rate-limit-remaining", "598"),
            ("x-rate-limit-reset", "1609459260"),
        ]);
        let r = rate_headers(&h).unwrap();
        assert_eq!(
            (r.limit, r.remaining, r.reset_in, r.window),
            (600, 598, Duration::from_secs(60), 1_609_459_260)
        );
        assert_eq!(rate_headers(&HeaderMap::new()), None);
    }

    #[test]
    fn backoff_grows_and_stays_within_the_cap() {
        let s = RetrySettings {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(800),
            ..RetrySettings::default()
        };
        for retry in 0..10 {
            let d = backoff(&s, retry);
            let step = (100u64 << retry.min(16)).min(800);
            assert!(d >= Duration::from_millis(step / 2) && d <= Duration::from_millis(step));
        }
    }
}
