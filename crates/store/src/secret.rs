//! Reading a secret reference: the one piece of secret handling that is IO.
//!
//! The shapes of secrets ([`SecretInput`], [`SecretState`], [`SecretSlot`], [`SecretRef`])
//! belong to the app model in `usersync_core::app`; the store seals values and, through
//! [`resolve`], reads what a reference points at when a secret is used.
//!
//! Whoever gives a reference, it may not point at the store's own secrets: no file inside
//! the data directory (the master key, the database) and not `env:USERSYNC_MASTER_KEY`,
//! checked when the reference is saved ([`check_location`]) and again, on the real path
//! after symbolic links, when it is read. Only a regular file of at most
//! [`MAX_SECRET_FILE_BYTES`] is read, so a device or a pipe cannot hang or exhaust usersync.

use std::io::Read as _;
use std::path::Path;

use secrecy::SecretString;
pub use usersync_core::app::{SecretInput, SecretRef, SecretSlot, SecretState};

use crate::crypto::MASTER_KEY_ENV;
use crate::error::StoreError;

/// The largest secret file read: far more than any token or private key needs.
pub const MAX_SECRET_FILE_BYTES: u64 = 64 * 1024;

/// Refuses a reference to the store's own secrets; `data_dir` is `None` for an in-memory store.
///
/// # Errors
/// [`StoreError::Validation`] on `field` saying why.
pub fn check_location(
    reference: &SecretRef,
    data_dir: Option<&Path>,
    field: &str,
) -> Result<(), StoreError> {
    match reference {
        SecretRef::Env(name) if name == MASTER_KEY_ENV => Err(StoreError::validation(
            field,
            format!("env:{MASTER_KEY_ENV} is the store's master key and cannot be an app's secret"),
        )),
        SecretRef::File(path) if data_dir.is_some_and(|dir| inside(path, dir)) => {
            Err(StoreError::validation(
                field,
                format!(
                    "file:{} is inside usersync's data directory, which holds the master key \
                     and the database; keep app secrets elsewhere, e.g. /run/secrets/",
                    path.display()
                ),
            ))
        }
        SecretRef::Env(_) | SecretRef::File(_) => Ok(()),
    }
}

/// True when `path` is `dir` or below it, compared as written and after resolving links.
fn inside(path: &Path, dir: &Path) -> bool {
    if path.starts_with(dir) {
        return true;
    }
    let real_dir = std::fs::canonicalize(dir);
    let real_path = std::fs::canonicalize(path);
    match (real_path, real_dir) {
        (Ok(path), Ok(dir)) => path.starts_with(dir),
        _ => false,
    }
}

/// Reads the value `reference` points at now.
///
/// # Errors
/// [`StoreError::SecretReference`] naming the reference when it is missing, empty, not a
/// regular file, too large, or inside the data directory.
pub fn resolve(reference: &SecretRef, data_dir: Option<&Path>) -> Result<SecretString, StoreError> {
    let fail = |message: String| StoreError::SecretReference {
        reference: reference.to_string(),
        message,
    };
    if let Err(StoreError::Validation { message, .. }) =
        check_location(reference, data_dir, "reference")
    {
        return Err(fail(message));
    }
    let value = match reference {
        SecretRef::Env(name) => std::env::var(name).map_err(|_| {
            fail(format!(
                "the environment variable {name} is not set where usersync runs; set it \
                 there (for a service: in its unit or container environment), or point the \
                 app at another secret with `usersync app apply`"
            ))
        })?,
        SecretRef::File(path) => {
            let mut text = read_secret_file(path).map_err(fail)?;
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

/// Reads a regular file of at most [`MAX_SECRET_FILE_BYTES`] as text. The type is checked
/// before opening (opening a pipe would wait for a writer) and again on the open file.
fn read_secret_file(path: &Path) -> Result<String, String> {
    let advice = "create the file, readable by the account usersync runs as, or point the app \
                  at another secret with `usersync app apply`";
    let regular = |meta: &std::fs::Metadata| -> Result<(), String> {
        if !meta.is_file() {
            return Err(format!(
                "{} is not a regular file; point the reference at a file holding only the secret",
                path.display()
            ));
        }
        if meta.len() > MAX_SECRET_FILE_BYTES {
            return Err(format!(
                "{} is larger than {MAX_SECRET_FILE_BYTES} bytes, more than any secret needs",
                path.display()
            ));
        }
        Ok(())
    };
    let io = |e: std::io::Error| format!("reading {}: {e}; {advice}", path.display());
    regular(&std::fs::metadata(path).map_err(io)?)?;
    let file = std::fs::File::open(path).map_err(io)?;
    regular(&file.metadata().map_err(io)?)?;
    let mut bytes = Vec::new();
    file.take(MAX_SECRET_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_SECRET_FILE_BYTES {
        return Err(format!(
            "{} grew beyond {MAX_SECRET_FILE_BYTES} bytes while being read",
            path.display()
        ));
    }
    String::from_utf8(bytes).map_err(|_| format!("{} is not UTF-8 text", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_environment_reference_names_itself() {
        let reference = SecretRef::Env("USERSYNC_TEST_SURELY_UNSET_VARIABLE".into());
        let err = resolve(&reference, None).unwrap_err();
        assert!(
            err.to_string()
                .contains("env:USERSYNC_TEST_SURELY_UNSET_VARIABLE"),
            "{err}"
        );
    }

    #[test]
    fn an_unresolvable_reference_says_what_to_do() {
        let env = SecretRef::Env("USERSYNC_TEST_SURELY_UNSET_VARIABLE".into());
        let err = resolve(&env, None).unwrap_err().to_string();
        assert!(
            err.contains("is not set where usersync runs; set it"),
            "{err}"
        );
        let file = SecretRef::File("/nonexistent/usersync-test-secret".into());
        let err = resolve(&file, None).unwrap_err().to_string();
        assert!(err.contains("/nonexistent/usersync-test-secret"), "{err}");
        assert!(err.contains("create the file"), "{err}");
    }

    fn file_error(path: &Path, data_dir: Option<&Path>) -> String {
        resolve(&SecretRef::File(path.to_path_buf()), data_dir)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn dev_zero_is_refused_at_once_without_reading_it() {
        let started = std::time::Instant::now();
        let err = file_error(Path::new("/dev/zero"), None);
        assert!(err.contains("not a regular file"), "{err}");
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }

    #[cfg(unix)]
    #[test]
    fn a_directory_and_a_fifo_are_refused_without_waiting_for_a_writer() {
        let dir = tempfile::tempdir().unwrap();
        assert!(file_error(dir.path(), None).contains("not a regular file"));
        let fifo = dir.path().join("pipe");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let started = std::time::Instant::now();
        let err = file_error(&fifo, None);
        assert!(err.contains("not a regular file"), "{err}");
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }

    #[test]
    fn a_file_larger_than_64_kib_is_refused_without_reading_it() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big");
        // Sparse: a gigabyte that takes no space, refused by its size alone.
        std::fs::File::create(&big)
            .unwrap()
            .set_len(1 << 30)
            .unwrap();
        let err = file_error(&big, None);
        assert!(err.contains("larger than 65536 bytes"), "{err}");
        let small = dir.path().join("small");
        std::fs::write(&small, "x".repeat(64 * 1024)).unwrap();
        assert!(resolve(&SecretRef::File(small), None).is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn files_in_the_data_directory_are_refused_even_through_a_link() {
        let data = tempfile::tempdir().unwrap();
        let key = data.path().join("master.key");
        std::fs::write(&key, "the-master-key").unwrap();
        let err = file_error(&key, Some(data.path()));
        assert!(err.contains("inside usersync's data directory"), "{err}");
        assert!(!err.contains("the-master-key"), "{err}");
        let elsewhere = tempfile::tempdir().unwrap();
        let link = elsewhere.path().join("innocent");
        std::os::unix::fs::symlink(&key, &link).unwrap();
        let err = file_error(&link, Some(data.path()));
        assert!(err.contains("inside usersync's data directory"), "{err}");
    }

    #[test]
    fn the_master_key_variable_is_never_a_reference() {
        let reference = SecretRef::Env(MASTER_KEY_ENV.into());
        let err = check_location(&reference, None, "okta.credential.token").unwrap_err();
        assert!(
            err.to_string().starts_with("okta.credential.token:"),
            "{err}"
        );
        assert!(resolve(&reference, None).is_err());
    }
}
