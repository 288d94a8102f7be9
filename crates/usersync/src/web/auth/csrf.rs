//! CSRF tokens: random values tied to a session (or, before sign-in, to a
//! short-lived cookie) that every state-changing form and htmx request must echo.
//!
//! Forms carry the token in a hidden `csrf` field; htmx and API calls made with a
//! session cookie carry it in the `X-CSRF-Token` header. API calls with a bearer
//! token need none: a browser never attaches one on its own.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use subtle::ConstantTimeEq;

/// The header htmx and API clients send the token in.
pub const HEADER: &str = "x-csrf-token";
/// The hidden form field name.
pub const FIELD: &str = "csrf";
/// The cookie holding the pre-sign-in token (double-submit) for the sign-in and setup forms.
pub const PRE_SESSION_COOKIE: &str = "usersync_csrf";

/// A new random token (32 bytes, URL-safe base64).
#[must_use]
pub fn new_token() -> String {
    random_token(32)
}

/// `bytes` random bytes as URL-safe base64 without padding.
#[must_use]
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// Compares a submitted token with the expected one in constant time.
#[must_use]
pub fn matches(expected: &str, submitted: Option<&str>) -> bool {
    match submitted {
        Some(s) if !expected.is_empty() => expected.as_bytes().ct_eq(s.as_bytes()).into(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_only_an_exact_echo_matches() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a, b);
        assert!(a.len() >= 43);
        assert!(matches(&a, Some(&a)));
        assert!(!matches(&a, Some(&b)));
        assert!(!matches(&a, None));
        assert!(!matches("", Some("")));
    }
}
