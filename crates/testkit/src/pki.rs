//! Certificates made by the test: a CA of its own ([`TestCa`]) that issues server
//! certificates for loopback names, written as PEM files in a temporary directory, so
//! HTTPS tests need no network, no fixed files and nothing from the machine's trust store.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use tempfile::TempDir;
use usersync_sim::tls::TlsFiles;

/// A certificate authority living in a temporary directory.
pub struct TestCa {
    dir: TempDir,
    issuer: Issuer<'static, KeyPair>,
    ca_file: PathBuf,
    issued: AtomicUsize,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa")
            .field("ca_file", &self.ca_file)
            .finish_non_exhaustive()
    }
}

impl TestCa {
    /// A new CA named `name`, its certificate written to [`TestCa::ca_file`].
    ///
    /// # Panics
    /// When the key or certificate cannot be made or written.
    #[must_use]
    pub fn new(name: &str) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory for the CA");
        let key = KeyPair::generate().expect("a CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let cert = params.self_signed(&key).expect("the CA certificate");
        let ca_file = dir.path().join("ca.pem");
        std::fs::write(&ca_file, cert.pem()).expect("writing the CA certificate");
        Self {
            dir,
            issuer: Issuer::new(params, key),
            ca_file,
            issued: AtomicUsize::new(0),
        }
    }

    /// The CA's certificate (PEM), what a client must trust.
    #[must_use]
    pub fn ca_file(&self) -> &Path {
        &self.ca_file
    }

    /// The CA file's path as text, for TOML and flags.
    #[must_use]
    pub fn ca_path(&self) -> String {
        self.ca_file.display().to_string()
    }

    /// A server certificate for `names` (DNS names or IP addresses such as `127.0.0.1`)
    /// and its key, written to new files.
    #[must_use]
    pub fn issue(&self, names: &[&str]) -> TlsFiles {
        let n = self.issued.fetch_add(1, Ordering::Relaxed);
        let files = TlsFiles {
            cert: self.dir.path().join(format!("server{n}.pem")),
            key: self.dir.path().join(format!("server{n}.key")),
        };
        self.issue_into(names, &files);
        files
    }

    /// A server certificate for `names` written over `files` (key first, then the
    /// certificate), as a renewal replaces a server's files in place.
    ///
    /// # Panics
    /// When the certificate cannot be made or written.
    pub fn issue_into(&self, names: &[&str], files: &TlsFiles) {
        let key = KeyPair::generate().expect("a server key");
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let params = CertificateParams::new(names).expect("server certificate parameters");
        let cert = params
            .signed_by(&key, &self.issuer)
            .expect("the CA signs the server certificate");
        std::fs::write(&files.key, key.serialize_pem()).expect("writing the server key");
        std::fs::write(&files.cert, cert.pem()).expect("writing the server certificate");
    }
}
