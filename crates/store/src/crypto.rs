//! The master key and the encryption of secrets at rest.
//!
//! Secrets are sealed with XChaCha20-Poly1305 under a 32-byte master key, with a fresh
//! random 24-byte nonce per secret (large enough that random nonces never collide in
//! practice). The associated data binds each ciphertext to its app and slot, so a
//! ciphertext copied into another row fails to open instead of leaking into the wrong place.

use std::fmt;
use std::io::Write;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore as _;

use crate::error::StoreError;

/// The environment variable holding the master key (64 hex digits or base64 of 32 bytes).
pub const MASTER_KEY_ENV: &str = "USERSYNC_MASTER_KEY";
/// The file in the data directory that holds a generated master key.
pub const MASTER_KEY_FILE: &str = "master.key";

/// The key every stored secret is encrypted under. Its `Debug` never shows the bytes.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

impl MasterKey {
    /// A new random key.
    #[must_use]
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// Parses a key written as 64 hex digits or as base64 (standard or URL-safe) of 32 bytes.
    ///
    /// # Errors
    /// [`StoreError::Crypto`] saying what was wrong; the text itself is never echoed.
    pub fn parse(text: &str, source: &str) -> Result<Self, StoreError> {
        let text = text.trim();
        let decoded = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode(text).ok()
        } else {
            [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
                .iter()
                .find_map(|engine| engine.decode(text).ok())
        };
        match decoded {
            Some(bytes) if bytes.len() == 32 => {
                let mut key = [0u8; 32];
                key.copy_from_slice(&bytes);
                Ok(Self(key))
            }
            Some(bytes) => Err(StoreError::Crypto(format!(
                "the master key in {source} decodes to {} bytes, but 32 are needed; \
                 generate one with `openssl rand -base64 32`",
                bytes.len()
            ))),
            None => Err(StoreError::Crypto(format!(
                "the master key in {source} is neither 64 hex digits nor base64; \
                 generate one with `openssl rand -base64 32`"
            ))),
        }
    }

    /// The key from `USERSYNC_MASTER_KEY` when set, else from `<data_dir>/master.key`,
    /// which is created with mode 0600 on first use.
    ///
    /// # Errors
    /// A malformed key, or a key file that cannot be read or written.
    pub fn from_env_or_data_dir(data_dir: &Path) -> Result<Self, StoreError> {
        match std::env::var(MASTER_KEY_ENV) {
            Ok(text) if !text.trim().is_empty() => Self::parse(&text, MASTER_KEY_ENV),
            _ => Self::load_or_create_file(&data_dir.join(MASTER_KEY_FILE)),
        }
    }

    /// The key from `USERSYNC_MASTER_KEY` or `<data_dir>/master.key`, without creating
    /// one: `None` when neither is there (a new machine, before a restore).
    ///
    /// # Errors
    /// A malformed key, or a key file that cannot be read.
    pub fn existing(data_dir: &Path) -> Result<Option<Self>, StoreError> {
        let path = data_dir.join(MASTER_KEY_FILE);
        match std::env::var(MASTER_KEY_ENV) {
            Ok(text) if !text.trim().is_empty() => Self::parse(&text, MASTER_KEY_ENV).map(Some),
            _ if path.exists() => Self::load_or_create_file(&path).map(Some),
            _ => Ok(None),
        }
    }

    fn load_or_create_file(path: &Path) -> Result<Self, StoreError> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                warn_if_shared(path);
                Self::parse(&text, &path.display().to_string())
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = Self::generate();
                write_private_file(path, STANDARD.encode(key.0).as_bytes())?;
                tracing::info!(path = %path.display(), "generated a new master key");
                Ok(key)
            }
            Err(source) => Err(StoreError::Io {
                context: format!("reading the master key {}", path.display()),
                source,
            }),
        }
    }

    /// Encrypts `plaintext`, returning `(nonce, ciphertext)`.
    pub(crate) fn seal(
        &self,
        aad: &str,
        plaintext: &[u8],
    ) -> Result<(Vec<u8>, Vec<u8>), StoreError> {
        let mut nonce = [0u8; 24];
        rand::rng().fill_bytes(&mut nonce);
        let cipher = XChaCha20Poly1305::new((&self.0).into());
        let payload = Payload {
            msg: plaintext,
            aad: aad.as_bytes(),
        };
        let sealed = cipher
            .encrypt(XNonce::from_slice(&nonce), payload)
            .map_err(|_| StoreError::Crypto(format!("could not encrypt {aad}")))?;
        Ok((nonce.to_vec(), sealed))
    }

    /// Decrypts what [`MasterKey::seal`] produced for the same `aad`.
    pub(crate) fn open(
        &self,
        aad: &str,
        nonce: &[u8],
        sealed: &[u8],
    ) -> Result<Vec<u8>, StoreError> {
        let fail = || {
            StoreError::Crypto(format!(
                "could not decrypt {aad}: the master key differs from the one it was stored with, \
                 or the database is damaged"
            ))
        };
        if nonce.len() != 24 {
            return Err(fail());
        }
        let cipher = XChaCha20Poly1305::new((&self.0).into());
        let payload = Payload {
            msg: sealed,
            aad: aad.as_bytes(),
        };
        cipher
            .decrypt(XNonce::from_slice(nonce), payload)
            .map_err(|_| fail())
    }
}

/// Warns when the key file can be read by others than its owner.
fn warn_if_shared(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(path = %path.display(), "the master key file is readable by others; run chmod 600 on it");
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// Writes a new file readable only by its owner (mode 0600 on Unix).
fn write_private_file(path: &Path, contents: &[u8]) -> Result<(), StoreError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let io = |source| StoreError::Io {
        context: format!("writing the master key {}", path.display()),
        source,
    };
    let mut file = options.open(path).map_err(io)?;
    file.write_all(contents).map_err(io)?;
    file.sync_all().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_from_hex_and_base64_and_refuse_other_lengths() {
        let hex_key = "00".repeat(32);
        assert!(MasterKey::parse(&hex_key, "test").is_ok());
        assert!(MasterKey::parse(&STANDARD.encode([7u8; 32]), "test").is_ok());
        let err = MasterKey::parse(&STANDARD.encode([7u8; 16]), "test").unwrap_err();
        assert!(err.to_string().contains("16 bytes"), "{err}");
        let err = MasterKey::parse("not a key!", "USERSYNC_MASTER_KEY").unwrap_err();
        assert!(err.to_string().contains("USERSYNC_MASTER_KEY"), "{err}");
    }

    #[test]
    fn a_sealed_secret_opens_only_with_the_same_key_and_associated_data() {
        let key = MasterKey::generate();
        let (nonce, sealed) = key.seal("app:1:token", b"s3cret").unwrap();
        assert_eq!(key.open("app:1:token", &nonce, &sealed).unwrap(), b"s3cret");
        assert!(key.open("app:2:token", &nonce, &sealed).is_err());
        assert!(
            MasterKey::generate()
                .open("app:1:token", &nonce, &sealed)
                .is_err()
        );
        assert!(!sealed.windows(6).any(|w| w == b"s3cret"));
    }

    #[test]
    fn debug_output_hides_the_key() {
        assert_eq!(format!("{:?}", MasterKey([1; 32])), "MasterKey(<redacted>)");
    }
}
