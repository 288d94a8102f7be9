//! TLS for usersync in one place, so the Okta client, the Atlassian clients, the server
//! and the emulators read certificates the same way.
//!
//! Outbound, [`TrustRoots`] is what a client trusts beyond the built-in roots (Mozilla's
//! list and the operating system's store, both always on): the certificates of extra PEM
//! bundles (`--ca-file`, an app's `okta.ca_file` / `target.ca_file`), each loaded by
//! [`CaBundle::load`], which says what is wrong with a file and never panics.
//! [`client_builder`] is how every outbound `reqwest` client starts, and
//! [`CertProblem::of`] finds, in a failed request, what was wrong with the server's
//! certificate, so an error can say it (unknown issuer, expired, another name) and name
//! the setting that fixes it.
//!
//! Inbound, [`ServerCert`] is a certificate chain and key loaded from two PEM files and
//! reloaded on demand: a bad new file keeps the old certificate and says why.

mod bundle;
mod problem;
mod server;

pub use bundle::{CaBundle, CaFileError, TrustRoots, client_builder};
pub use problem::CertProblem;
pub use server::{ServerCert, ServerCertError, server_config};

/// The cryptography every usersync TLS configuration uses (named explicitly: rustls
/// refuses to guess when more than one provider is compiled in).
#[must_use]
pub fn provider() -> std::sync::Arc<rustls::crypto::CryptoProvider> {
    std::sync::Arc::new(rustls::crypto::ring::default_provider())
}
