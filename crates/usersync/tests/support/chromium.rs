//! What every browser test asks chromedriver for: headless Chromium with the flags this
//! closed-network machine needs, in a throw-away profile, and how it waits for an element.
//! Shared by the `browser` and `triggers` test binaries (each includes this file with
//! `#[path]`).

use std::path::Path;
use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};

/// Waits up to `patience` until `css` matches. A lookup that fails for another reason
/// than "no such element" is tried again too: right after a click that submits a form,
/// Chromium may abort it because the page is navigating ("aborted by navigation").
pub async fn wait_for_element(client: &Client, css: &str, patience: Duration) {
    let start = Instant::now();
    loop {
        let error = match client.find(Locator::Css(css)).await {
            Ok(_) => return,
            Err(e) => e,
        };
        assert!(start.elapsed() <= patience, "{css} never appeared: {error}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The W3C capabilities of a headless Chromium session using `profile` as its user data.
pub fn capabilities(chromium: &Path, profile: &Path) -> serde_json::Map<String, serde_json::Value> {
    // Without the background-networking flags Chromium keeps trying hosts this machine
    // cannot reach.
    let args = [
        "--headless".to_owned(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-quic".into(),
        "--no-first-run".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--disable-dev-shm-usage".into(),
        format!("--user-data-dir={}", profile.display()),
    ];
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({ "binary": chromium, "args": args }),
    );
    caps
}
