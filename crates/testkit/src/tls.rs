//! A certificate authority made by the test: its PEM for the client to trust, and a
//! server certificate for 127.0.0.1 and localhost signed by it, as a rustls server
//! configuration. Nothing is written to disk unless a test does it.

use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::crypto::ring::default_provider;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

/// A test CA and one loopback server certificate it signed.
pub struct TestCa {
    /// The CA certificate (PEM): what a client is told to trust.
    pub ca_pem: String,
    /// The server certificate (PEM) for `127.0.0.1` and `localhost`.
    pub server_pem: String,
    server_der: Vec<u8>,
    server_key_der: Vec<u8>,
}

impl TestCa {
    /// A new CA ("usersync test CA") and a loopback server certificate.
    ///
    /// # Panics
    /// When key generation fails (a broken test environment).
    #[must_use]
    pub fn new() -> Self {
        let ca_key = KeyPair::generate().expect("a CA key");
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "usersync test CA");
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca.self_signed(&ca_key).expect("a self-signed CA");
        let issuer = Issuer::new(ca, ca_key);
        let key = KeyPair::generate().expect("a server key");
        let mut server =
            CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
                .expect("server parameters");
        server
            .distinguished_name
            .push(DnType::CommonName, "usersync test server");
        let cert = server
            .signed_by(&key, &issuer)
            .expect("a server certificate");
        Self {
            ca_pem: ca_cert.pem(),
            server_pem: cert.pem(),
            server_der: cert.der().to_vec(),
            server_key_der: key.serialize_der(),
        }
    }

    /// A rustls server configuration presenting the server certificate.
    ///
    /// # Panics
    /// When rustls refuses the generated certificate (a broken test environment).
    #[must_use]
    pub fn server_config(&self) -> Arc<ServerConfig> {
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.server_key_der.clone()));
        let config = ServerConfig::builder_with_provider(Arc::new(default_provider()))
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(vec![self.server_der.clone().into()], key)
            .expect("the server certificate");
        Arc::new(config)
    }
}

impl Default for TestCa {
    fn default() -> Self {
        Self::new()
    }
}
