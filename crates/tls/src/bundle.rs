//! Extra CA certificates an outbound client trusts, and how every outbound client is built.
//!
//! The built-in roots (Mozilla's list, and the operating system's store, read through
//! `rustls-native-certs`, which honours `SSL_CERT_FILE` and `SSL_CERT_DIR`) are always on: a
//! host with an empty store still reaches public servers, and a company CA installed in the
//! store is trusted as curl trusts it. A [`CaBundle`] adds the CAs of one PEM file; a
//! [`TrustRoots`] is every bundle one client adds (the global `--ca-file` and the app's
//! side's `ca_file`).

use std::fmt;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::{self, PemObject as _};

/// The largest CA file read: a whole operating-system bundle is about 200 KiB.
pub(crate) const MAX_PEM_BYTES: u64 = 4 * 1024 * 1024;

/// Why a CA file cannot be used. Each message names the file and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaFileError {
    #[error(
        "{path:?} is not an absolute path; give the CA file's full path, like /etc/ssl/corp.pem"
    )]
    NotAbsolute { path: String },
    #[error("{path} could not be read ({reason}); check the path and that usersync may read it")]
    Unreadable { path: String, reason: String },
    #[error(
        "{path} is larger than {MAX_PEM_BYTES} bytes; give a PEM file holding only the CA certificates"
    )]
    TooLarge { path: String },
    #[error(
        "{path} is not a PEM file ({reason}); give the CA certificates as -----BEGIN CERTIFICATE----- blocks"
    )]
    NotPem { path: String, reason: String },
    #[error(
        "{path} holds no certificate; give a PEM file with at least one -----BEGIN CERTIFICATE----- block"
    )]
    Empty { path: String },
    #[error("certificate {index} in {path} cannot be used as a trusted CA ({reason})")]
    BadCertificate {
        path: String,
        index: usize,
        reason: String,
    },
}

/// Reads at most `limit` bytes of `path`, refusing a larger file.
pub(crate) fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, (String, bool)> {
    let file = std::fs::File::open(path).map_err(|e| (e.to_string(), false))?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| (e.to_string(), false))?;
    if bytes.len() as u64 > limit {
        return Err((String::new(), true));
    }
    Ok(bytes)
}

/// The CA certificates of one PEM file.
#[derive(Clone, PartialEq, Eq)]
pub struct CaBundle {
    path: PathBuf,
    certs: Arc<Vec<CertificateDer<'static>>>,
}

impl fmt::Debug for CaBundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaBundle")
            .field("path", &self.path)
            .field("certificates", &self.certs.len())
            .finish()
    }
}

impl CaBundle {
    /// Reads and checks the PEM bundle at `path`: an absolute path to a readable file of at
    /// most 4 MiB holding at least one certificate, each usable as a trust anchor.
    ///
    /// # Errors
    /// A [`CaFileError`] saying what is wrong with the file.
    pub fn load(path: &Path) -> Result<Self, CaFileError> {
        let shown = path.display().to_string();
        if !path.is_absolute() {
            return Err(CaFileError::NotAbsolute { path: shown });
        }
        let bytes = read_bounded(path, MAX_PEM_BYTES).map_err(|(reason, too_large)| {
            if too_large {
                CaFileError::TooLarge {
                    path: shown.clone(),
                }
            } else {
                CaFileError::Unreadable {
                    path: shown.clone(),
                    reason,
                }
            }
        })?;
        let certs = parse_certificates(&bytes, &shown)?;
        Ok(Self {
            path: path.to_owned(),
            certs: Arc::new(certs),
        })
    }

    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The certificates, in file order.
    #[must_use]
    pub fn certificates(&self) -> &[CertificateDer<'static>] {
        &self.certs
    }
}

/// Every certificate of a PEM text, each checked to be a usable trust anchor.
fn parse_certificates(
    bytes: &[u8],
    path: &str,
) -> Result<Vec<CertificateDer<'static>>, CaFileError> {
    let mut certs = Vec::new();
    for item in CertificateDer::pem_slice_iter(bytes) {
        let cert = item.map_err(|e: pem::Error| CaFileError::NotPem {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        let mut store = rustls::RootCertStore::empty();
        store
            .add(cert.clone())
            .map_err(|e| CaFileError::BadCertificate {
                path: path.to_owned(),
                index: certs.len() + 1,
                reason: e.to_string(),
            })?;
        certs.push(cert);
    }
    if certs.is_empty() {
        return Err(CaFileError::Empty {
            path: path.to_owned(),
        });
    }
    Ok(certs)
}

/// The extra CA bundles one client trusts besides the built-in roots.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustRoots {
    bundles: Vec<CaBundle>,
}

impl TrustRoots {
    /// No extra CA: the built-in roots only.
    #[must_use]
    pub fn none() -> Self {
        Self::default()
    }

    /// These roots plus `bundle` (a bundle already present is not added twice).
    #[must_use]
    pub fn with(mut self, bundle: CaBundle) -> Self {
        if !self.bundles.contains(&bundle) {
            self.bundles.push(bundle);
        }
        self
    }

    /// These roots plus every bundle of `other`.
    #[must_use]
    pub fn and(self, other: &TrustRoots) -> Self {
        other.bundles.iter().cloned().fold(self, Self::with)
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.bundles.is_empty()
    }

    /// The files the extra roots came from.
    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        self.bundles.iter().map(CaBundle::path)
    }

    /// Every certificate of the extra bundles (for TLS stacks other than `reqwest`'s,
    /// such as the SMTP client's, so they trust the same roots).
    pub fn certificates(&self) -> impl Iterator<Item = &CertificateDer<'static>> {
        self.bundles.iter().flat_map(|b| b.certificates().iter())
    }
}

/// The start of every outbound HTTPS client: rustls, the built-in roots (Mozilla's and
/// the operating system's) and `extra`.
pub fn client_builder(extra: &TrustRoots) -> reqwest::ClientBuilder {
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(true);
    for cert in extra.certificates() {
        match reqwest::Certificate::from_der(cert) {
            Ok(cert) => builder = builder.add_root_certificate(cert),
            // Checked when the bundle was loaded; a refusal here would only lose this CA.
            Err(e) => tracing::warn!("an extra CA certificate was not added: {e}"),
        }
    }
    builder
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ca_pem() -> String {
        let key = rcgen::KeyPair::generate().expect("key");
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.self_signed(&key).expect("cert").pem()
    }

    #[test]
    fn a_bundle_of_two_cas_loads_both_and_is_added_once() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("corp.pem");
        std::fs::write(&path, format!("{}\n{}", ca_pem(), ca_pem())).expect("write");
        let bundle = CaBundle::load(&path).expect("loads");
        assert_eq!(bundle.certificates().len(), 2);
        let roots = TrustRoots::none().with(bundle.clone()).with(bundle);
        assert_eq!(roots.paths().count(), 1);
    }

    #[test]
    fn a_relative_path_an_empty_file_and_a_missing_file_are_refused_saying_why() {
        let dir = tempfile::tempdir().expect("dir");
        let relative = CaBundle::load(Path::new("corp.pem")).unwrap_err();
        assert!(
            matches!(relative, CaFileError::NotAbsolute { .. }),
            "{relative}"
        );
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "no certificates here\n").expect("write");
        let error = CaBundle::load(&empty).unwrap_err();
        assert!(matches!(error, CaFileError::Empty { .. }), "{error}");
        assert!(error.to_string().contains("empty.pem"), "{error}");
        let missing = CaBundle::load(&dir.path().join("missing.pem")).unwrap_err();
        assert!(
            matches!(missing, CaFileError::Unreadable { .. }),
            "{missing}"
        );
    }

    #[test]
    fn a_pem_block_that_is_not_a_certificate_is_refused_with_its_position() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("bad.pem");
        let junk = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        std::fs::write(&path, format!("{}{junk}", ca_pem())).expect("write");
        let error = CaBundle::load(&path).unwrap_err();
        assert!(
            matches!(error, CaFileError::BadCertificate { index: 2, .. }),
            "{error}"
        );
    }
}
