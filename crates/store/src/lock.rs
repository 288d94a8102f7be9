//! The data directory's lock: every open store holds a shared lock on `usersync.lock`,
//! and a restore takes it exclusively, so a database is never replaced under a running
//! `usersync serve` (or a `sync` in progress), and no store opens while one is.
//!
//! Advisory `flock`-style locks on a file of their own: the kernel drops them when the
//! process dies, so a crash never leaves the directory locked, and they say nothing
//! about the database file, whose own locking SQLite keeps.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;

use crate::error::StoreError;

/// The lock file inside the data directory.
pub const LOCK_FILE: &str = "usersync.lock";

/// A held lock on a data directory, released when dropped.
#[derive(Debug)]
pub(crate) struct DirLock {
    _file: File,
}

impl DirLock {
    /// The shared lock an open store holds; refused only while a restore runs.
    pub(crate) fn shared(dir: &Path) -> Result<Self, StoreError> {
        let file = open(dir)?;
        match file.try_lock_shared() {
            Ok(()) => Ok(Self { _file: file }),
            Err(TryLockError::WouldBlock) => Err(StoreError::Conflict(format!(
                "a restore is replacing the database in {}; try again when it has finished",
                dir.display()
            ))),
            Err(TryLockError::Error(source)) => Err(lock_failed(dir, source)),
        }
    }

    /// The exclusive lock a restore needs; refused while any usersync process has the
    /// directory's store open.
    pub(crate) fn exclusive(dir: &Path) -> Result<Self, StoreError> {
        let file = open(dir)?;
        match file.try_lock() {
            Ok(()) => Ok(Self { _file: file }),
            Err(TryLockError::WouldBlock) => Err(StoreError::Conflict(format!(
                "the data directory {} is in use by a running usersync (`usersync serve`, or a \
                 command such as `sync`); stop it first (e.g. `systemctl stop usersync`) and \
                 run the restore again",
                dir.display()
            ))),
            Err(TryLockError::Error(source)) => Err(lock_failed(dir, source)),
        }
    }
}

fn open(dir: &Path) -> Result<File, StoreError> {
    let path = dir.join(LOCK_FILE);
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(&path).map_err(|source| StoreError::Io {
        context: format!("opening the lock file {}", path.display()),
        source,
    })
}

fn lock_failed(dir: &Path, source: std::io::Error) -> StoreError {
    StoreError::Io {
        context: format!("locking the data directory {}", dir.display()),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_share_the_directory_and_a_restore_waits_for_all_of_them() {
        let dir = tempfile::tempdir().unwrap();
        let first = DirLock::shared(dir.path()).unwrap();
        let second = DirLock::shared(dir.path()).unwrap();
        let refused = DirLock::exclusive(dir.path()).unwrap_err().to_string();
        assert!(
            refused.contains("in use by a running usersync"),
            "{refused}"
        );
        drop((first, second));
        let restore = DirLock::exclusive(dir.path()).unwrap();
        let refused = DirLock::shared(dir.path()).unwrap_err().to_string();
        assert!(refused.contains("a restore is replacing"), "{refused}");
        drop(restore);
        DirLock::shared(dir.path()).unwrap();
    }
}
