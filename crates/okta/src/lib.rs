//! Okta client (being written).
