//! The certificate a server presents, loaded from a PEM chain and a PEM key and swapped in
//! place when reloaded, so new connections get the new certificate without a restart.
//!
//! [`ServerCert`] is rustls's certificate resolver: the `ServerConfig` made once by
//! [`server_config`] asks it for the current certificate on every handshake. A reload
//! that fails (unreadable file, no key, a key that does not match the certificate) keeps
//! the certificate being served and returns why.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::SystemTime;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use crate::bundle::read_bounded;

/// The largest certificate or key file read.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Why a certificate and key cannot be served. Each message names the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServerCertError {
    #[error("{path} could not be read ({reason})")]
    Unreadable { path: String, reason: String },
    #[error(
        "{path} holds no PEM certificate (-----BEGIN CERTIFICATE-----); give the server's certificate chain"
    )]
    NoCertificate { path: String },
    #[error(
        "{path} holds no PEM private key (-----BEGIN PRIVATE KEY-----, RSA or EC); give the certificate's key"
    )]
    NoKey { path: String },
    #[error("the key in {path} cannot be used ({reason})")]
    BadKey { path: String, reason: String },
    #[error(
        "the key in {key} does not belong to the certificate in {cert}; give the matching pair"
    )]
    Mismatch { cert: String, key: String },
}

/// When the two files last changed, as far as the file system says.
type Stamp = (Option<SystemTime>, Option<SystemTime>, u64, u64);

/// A server certificate and key, reloadable from their files.
pub struct ServerCert {
    cert_path: PathBuf,
    key_path: PathBuf,
    current: RwLock<Arc<CertifiedKey>>,
    /// The files' state at the last load attempt, good or bad, so a bad file is reported
    /// once, not at every poll.
    seen: Mutex<Stamp>,
}

impl fmt::Debug for ServerCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerCert")
            .field("cert_path", &self.cert_path)
            .field("key_path", &self.key_path)
            .finish_non_exhaustive()
    }
}

impl ServerCert {
    /// Loads the certificate chain at `cert` and its key at `key`.
    ///
    /// # Errors
    /// A [`ServerCertError`] naming the file and the problem.
    pub fn load(cert: &Path, key: &Path) -> Result<Self, ServerCertError> {
        let seen = stamp(cert, key);
        let loaded = load_pair(cert, key)?;
        Ok(Self {
            cert_path: cert.to_owned(),
            key_path: key.to_owned(),
            current: RwLock::new(Arc::new(loaded)),
            seen: Mutex::new(seen),
        })
    }

    /// Loads the files again and serves them from the next handshake on. On failure the
    /// certificate being served stays.
    ///
    /// # Errors
    /// Why the new files cannot be served.
    pub fn reload(&self) -> Result<(), ServerCertError> {
        *self.seen.lock().unwrap_or_else(PoisonError::into_inner) =
            stamp(&self.cert_path, &self.key_path);
        let loaded = load_pair(&self.cert_path, &self.key_path)?;
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(loaded);
        Ok(())
    }

    /// Reloads when either file changed (time or size) since the last attempt; `Ok(true)`
    /// when a new certificate is served.
    ///
    /// # Errors
    /// Why changed files cannot be served (reported once per change).
    pub fn reload_if_changed(&self) -> Result<bool, ServerCertError> {
        let now = stamp(&self.cert_path, &self.key_path);
        if *self.seen.lock().unwrap_or_else(PoisonError::into_inner) == now {
            return Ok(false);
        }
        self.reload().map(|()| true)
    }

    /// The certificate served now.
    #[must_use]
    pub fn current(&self) -> Arc<CertifiedKey> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    #[must_use]
    pub fn cert_path(&self) -> &Path {
        &self.cert_path
    }
}

impl ResolvesServerCert for ServerCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

/// A rustls server configuration presenting `cert`'s current certificate (HTTP/1.1).
///
/// # Errors
/// rustls refusing the protocol versions (does not happen with the built-in provider).
pub fn server_config(cert: Arc<ServerCert>) -> Result<Arc<rustls::ServerConfig>, rustls::Error> {
    let mut config = rustls::ServerConfig::builder_with_provider(crate::provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_cert_resolver(cert);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn stamp(cert: &Path, key: &Path) -> Stamp {
    let meta = |p: &Path| std::fs::metadata(p).ok();
    let (c, k) = (meta(cert), meta(key));
    (
        c.as_ref().and_then(|m| m.modified().ok()),
        k.as_ref().and_then(|m| m.modified().ok()),
        c.map_or(0, |m| m.len()),
        k.map_or(0, |m| m.len()),
    )
}

fn read(path: &Path) -> Result<Vec<u8>, ServerCertError> {
    read_bounded(path, MAX_FILE_BYTES).map_err(|(reason, too_large)| ServerCertError::Unreadable {
        path: path.display().to_string(),
        reason: if too_large {
            format!("larger than {MAX_FILE_BYTES} bytes")
        } else {
            reason
        },
    })
}

fn load_pair(cert: &Path, key: &Path) -> Result<CertifiedKey, ServerCertError> {
    let cert_text = read(cert)?;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_text)
        .filter_map(Result::ok)
        .collect();
    if chain.is_empty() {
        return Err(ServerCertError::NoCertificate {
            path: cert.display().to_string(),
        });
    }
    let key_text = read(key)?;
    let key_der = PrivateKeyDer::from_pem_slice(&key_text).map_err(|_| ServerCertError::NoKey {
        path: key.display().to_string(),
    })?;
    let signing = crate::provider()
        .key_provider
        .load_private_key(key_der)
        .map_err(|e| ServerCertError::BadKey {
            path: key.display().to_string(),
            reason: e.to_string(),
        })?;
    let certified = CertifiedKey::new(chain, signing);
    certified
        .keys_match()
        .map_err(|_| ServerCertError::Mismatch {
            cert: cert.display().to_string(),
            key: key.display().to_string(),
        })?;
    Ok(certified)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_pair(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
        let key = rcgen::KeyPair::generate().expect("key");
        let params = rcgen::CertificateParams::new(vec![name.to_owned()]).expect("params");
        let cert = params.self_signed(&key).expect("cert");
        let (c, k) = (dir.join("cert.pem"), dir.join("key.pem"));
        std::fs::write(&c, cert.pem()).expect("write cert");
        std::fs::write(&k, key.serialize_pem()).expect("write key");
        (c, k)
    }

    #[test]
    fn a_key_that_does_not_match_the_new_certificate_keeps_the_old_one() {
        let dir = tempfile::tempdir().expect("dir");
        let (cert, key) = write_pair(dir.path(), "one.test");
        let served = ServerCert::load(&cert, &key).expect("load");
        let before = served.current().cert[0].clone();
        let other = tempfile::tempdir().expect("dir");
        let (new_cert, _) = write_pair(other.path(), "two.test");
        std::fs::copy(&new_cert, &cert).expect("replace the certificate only");
        let error = served.reload().expect_err("mismatch refused");
        assert!(matches!(error, ServerCertError::Mismatch { .. }), "{error}");
        assert_eq!(served.current().cert[0], before);
    }

    #[test]
    fn a_file_without_a_key_is_refused_naming_the_file() {
        let dir = tempfile::tempdir().expect("dir");
        let (cert, _) = write_pair(dir.path(), "one.test");
        let error = ServerCert::load(&cert, &cert).expect_err("no key");
        assert!(error.to_string().contains("cert.pem"), "{error}");
    }
}
