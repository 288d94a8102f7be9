//! Administrator passwords: Argon2id hashing into PHC strings and verification.
//!
//! Only PHC strings are ever stored; the password itself stays inside a
//! [`SecretString`] and is dropped as soon as it has been hashed or checked.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};

/// The shortest password the console accepts for an administrator.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Why a password cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PasswordError {
    #[error("password must be at least {MIN_PASSWORD_CHARS} characters long")]
    TooShort,
    #[error("password could not be hashed: {0}")]
    Hash(String),
}

fn argon2id() -> Argon2<'static> {
    // OWASP's second recommended Argon2id setting (19 MiB, 2 passes): strong, yet
    // a sign-in stays well under a second on a small 2-core server.
    let params = Params::new(19 * 1024, 2, 1, None).expect("static Argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Refuses passwords too short to be safe, naming the rule.
///
/// # Errors
/// [`PasswordError::TooShort`].
pub fn check_strength(password: &SecretString) -> Result<(), PasswordError> {
    if password.expose_secret().chars().count() < MIN_PASSWORD_CHARS {
        return Err(PasswordError::TooShort);
    }
    Ok(())
}

/// Hashes a password with Argon2id and a fresh random salt into a PHC string.
///
/// # Errors
/// [`PasswordError`] when the password is too short or hashing fails.
pub fn hash_password(password: &SecretString) -> Result<String, PasswordError> {
    check_strength(password)?;
    let mut salt_bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut salt_bytes);
    let salt =
        SaltString::encode_b64(&salt_bytes).map_err(|e| PasswordError::Hash(e.to_string()))?;
    argon2id()
        .hash_password(password.expose_secret().as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// True when `password` matches the stored PHC string (false for a malformed hash).
#[must_use]
pub fn verify_password(password: &SecretString, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    argon2id()
        .verify_password(password.expose_secret().as_bytes(), &parsed)
        .is_ok()
}

/// A hash to verify against when the username is unknown, so that an unknown
/// user takes as long to refuse as a wrong password (no username probing by timing).
#[must_use]
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        hash_password(&SecretString::from(
            "decoy-password-never-matches".to_owned(),
        ))
        .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    #[test]
    fn a_hashed_password_verifies_and_a_wrong_one_does_not() {
        let phc = hash_password(&secret("correct horse battery")).unwrap();
        assert!(phc.starts_with("$argon2id$v=19$"), "{phc}");
        assert!(!phc.contains("correct horse"));
        assert!(verify_password(&secret("correct horse battery"), &phc));
        assert!(!verify_password(&secret("correct horse battery!"), &phc));
    }

    #[test]
    fn short_passwords_are_refused_with_the_rule_named() {
        let err = hash_password(&secret("short")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "password must be at least 12 characters long"
        );
    }

    #[test]
    fn a_malformed_stored_hash_never_verifies() {
        assert!(!verify_password(
            &secret("anything at all"),
            "not a phc string"
        ));
    }
}
