//! Static files compiled into the binary: the stylesheet, the small progress
//! script and the vendored htmx (0BSD licence, header kept), so the console needs
//! no CDN and no Node build step.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

const APP_CSS: &[u8] = include_bytes!("../../static/app.css");
const APP_JS: &[u8] = include_bytes!("../../static/app.js");
const HTMX_JS: &[u8] = include_bytes!("../../static/vendor/htmx.min.js");
const HTMX_LICENSE: &[u8] = include_bytes!("../../static/vendor/htmx.LICENSE");

/// The bytes and content type of a static file, by its path under `/static/`.
#[must_use]
pub fn lookup(path: &str) -> Option<(&'static [u8], &'static str)> {
    Some(match path {
        "app.css" => (APP_CSS, "text/css; charset=utf-8"),
        "app.js" => (APP_JS, "text/javascript; charset=utf-8"),
        "vendor/htmx.min.js" => (HTMX_JS, "text/javascript; charset=utf-8"),
        "vendor/htmx.LICENSE" => (HTMX_LICENSE, "text/plain; charset=utf-8"),
        _ => return None,
    })
}

/// `GET /static/{*path}`.
pub async fn serve(Path(path): Path<String>) -> Response {
    match lookup(&path) {
        Some((bytes, content_type)) => (
            [
                (header::CONTENT_TYPE, content_type),
                // Short: the files change with the binary, and there is no hashed name.
                (header::CACHE_CONTROL, "public, max-age=300"),
            ],
            bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such static file").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendored_htmx_keeps_its_licence_header() {
        let (js, kind) = lookup("vendor/htmx.min.js").unwrap();
        assert!(kind.starts_with("text/javascript"));
        let head = String::from_utf8_lossy(&js[..200]);
        assert!(head.contains("Zero-Clause BSD"), "{head}");
        assert!(lookup("../Cargo.toml").is_none());
    }
}
