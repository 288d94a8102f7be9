//! `/metrics` stays bounded whatever anonymous callers send: every label of the
//! request histogram takes its value from a fixed set (methods, route templates,
//! status codes), so junk requests add counts, never series.

use axum::http::{Method, StatusCode};

use super::{Harness, get, req};

/// Sends `n` anonymous requests, each with a made-up method and a path nobody routes,
/// plus made-up methods on real routes.
async fn junk(h: &Harness, from: usize, n: usize) {
    for i in from..from + n {
        let method = Method::from_bytes(format!("M{i:X}Q").as_bytes()).expect("a token");
        let path = format!("/junk-{i}/{}", i.wrapping_mul(7919));
        let reply = h.call(req(method.clone(), &path)).await;
        assert_ne!(reply.status, StatusCode::OK, "{path}");
        let real = if i % 2 == 0 { "/runs" } else { "/healthz" };
        h.call(req(method, real)).await;
        h.call(get(&format!("/static/{i}.css"))).await;
        h.call(get(&format!("/api/v1/apps/app-{i}"))).await;
    }
}

async fn scrape(h: &Harness, cookie: &str) -> String {
    let reply = h.call(get("/metrics").cookie(cookie)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body
}

#[tokio::test]
async fn made_up_methods_and_random_paths_do_not_grow_the_scrape() {
    let h = Harness::new().await;
    let b = h.admin().await;
    junk(&h, 0, 50).await;
    scrape(&h, &b.cookie).await;
    let before = scrape(&h, &b.cookie).await;

    junk(&h, 50, 2_000).await;
    scrape(&h, &b.cookie).await;
    let after = scrape(&h, &b.cookie).await;

    assert_eq!(
        after.lines().count(),
        before.lines().count(),
        "2,000 more junk requests added series ({} bytes before, {} after)",
        before.len(),
        after.len()
    );
    // Only the counts' digits may differ.
    assert!(
        after.len() < before.len() + before.lines().count() * 4,
        "the scrape grew from {} to {} bytes",
        before.len(),
        after.len()
    );
    assert!(!after.contains("M1Q"), "a made-up method became a label");
    assert!(!after.contains("junk-"), "a raw path became a label");
    assert!(
        after.contains("method=\"other\",route=\"unmatched\""),
        "{after}"
    );
    assert!(after.contains("route=\"/static/{*path}\""), "{after}");
}
