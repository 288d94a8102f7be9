//! Reading a secret reference: the one piece of secret handling that is IO.
//!
//! The shapes of secrets ([`SecretInput`], [`SecretState`], [`SecretSlot`], [`SecretRef`])
//! belong to the app model in `usersync_core::app`; the store seals values and, through
//! [`resolve`], reads what a reference points at when a secret is used.

use secrecy::SecretString;
pub use usersync_core::app::{SecretInput, SecretRef, SecretSlot, SecretState};

use crate::error::StoreError;

/// Reads the value `reference` points at now.
///
/// # Errors
/// [`StoreError::SecretReference`] naming the reference when it is missing or empty.
pub fn resolve(reference: &SecretRef) -> Result<SecretString, StoreError> {
    let fail = |message: String| StoreError::SecretReference {
        reference: reference.to_string(),
        message,
    };
    let value = match reference {
        SecretRef::Env(name) => std::env::var(name).map_err(|_| {
            fail(format!(
                "the environment variable {name} is not set where usersync runs; set it \
                 there (for a service: in its unit or container environment), or point the \
                 app at another secret with `usersync app apply`"
            ))
        })?,
        SecretRef::File(path) => {
            let mut text = std::fs::read_to_string(path).map_err(|e| {
                fail(format!(
                    "reading {}: {e}; create the file, readable by the account usersync \
                     runs as, or point the app at another secret with `usersync app apply`",
                    path.display()
                ))
            })?;
            if text.ends_with('\n') {
                text.pop();
                if text.ends_with('\r') {
                    text.pop();
                }
            }
            text
        }
    };
    if value.is_empty() {
        return Err(fail(
            "it is empty; put the secret's value there, or point the app at another secret".into(),
        ));
    }
    Ok(SecretString::from(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_environment_reference_names_itself() {
        let reference = SecretRef::Env("USERSYNC_TEST_SURELY_UNSET_VARIABLE".into());
        let err = resolve(&reference).unwrap_err();
        assert!(
            err.to_string()
                .contains("env:USERSYNC_TEST_SURELY_UNSET_VARIABLE"),
            "{err}"
        );
    }

    #[test]
    fn an_unresolvable_reference_says_what_to_do() {
        let env = SecretRef::Env("USERSYNC_TEST_SURELY_UNSET_VARIABLE".into());
        let err = resolve(&env).unwrap_err().to_string();
        assert!(
            err.contains("is not set where usersync runs; set it"),
            "{err}"
        );
        let file = SecretRef::File("/nonexistent/usersync-test-secret".into());
        let err = resolve(&file).unwrap_err().to_string();
        assert!(err.contains("/nonexistent/usersync-test-secret"), "{err}");
        assert!(err.contains("create the file"), "{err}");
    }
}
