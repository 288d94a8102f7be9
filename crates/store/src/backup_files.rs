//! The file operations of backup and restore: private new files, a private copy, and
//! setting the replaced database (with its WAL files) aside under a dated name.

use std::path::{Path, PathBuf};

use chrono::Utc;

use crate::DATABASE_FILE;
use crate::error::StoreError;

/// SQLite's companions of a database file in WAL mode.
const COMPANIONS: [&str; 3] = ["", "-wal", "-shm"];

fn io(context: String) -> impl FnOnce(std::io::Error) -> StoreError {
    move |source| StoreError::Io { context, source }
}

fn private_options() -> std::fs::OpenOptions {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options
}

/// Creates `path` empty and readable by its owner only; refuses an existing file.
pub(super) fn create_new_private(path: &Path) -> Result<(), StoreError> {
    match private_options().open(path) {
        Ok(_) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Err(StoreError::Conflict(
            format!("{} already exists; choose a new file name", path.display()),
        )),
        Err(source) => Err(StoreError::Io {
            context: format!("creating the backup {}", path.display()),
            source,
        }),
    }
}

/// Copies `from` to the new file `to`, readable by its owner only (a plain copy would
/// keep the source's mode).
pub(super) fn copy_private(from: &Path, to: &Path) -> Result<(), StoreError> {
    let mut source =
        std::fs::File::open(from).map_err(io(format!("reading the backup {}", from.display())))?;
    let mut target = private_options()
        .open(to)
        .map_err(io(format!("creating {}", to.display())))?;
    std::io::copy(&mut source, &mut target).map_err(io(format!(
        "copying {} to {}",
        from.display(),
        to.display()
    )))?;
    Ok(())
}

/// Flushes a file to the disk, so a rename after it never exposes a partial file.
pub(super) fn sync_file(path: &Path) -> Result<(), StoreError> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(io(format!("flushing {}", path.display())))
}

pub(super) fn file_size(path: &Path) -> Result<u64, StoreError> {
    std::fs::metadata(path)
        .map(|m| m.len())
        .map_err(io(format!("reading the size of {}", path.display())))
}

/// Removes a database file and its companions, where present.
pub(super) fn remove_database_files(path: &Path) -> Result<(), StoreError> {
    for suffix in COMPANIONS {
        let file = with_suffix(path, suffix);
        match std::fs::remove_file(&file) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
                return Err(io(format!("removing {}", file.display()))(err));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Moves the data directory's database and its companions to
/// `usersync.db.before-restore-<UTC time>`; the path it moved to, if there was one.
pub(super) fn set_aside(data_dir: &Path) -> Result<Option<PathBuf>, StoreError> {
    let live = data_dir.join(DATABASE_FILE);
    if !live.exists() {
        return Ok(None);
    }
    let stamp = Utc::now().format("%Y%m%dT%H%M%SZ");
    let aside = data_dir.join(format!("{DATABASE_FILE}.before-restore-{stamp}"));
    for suffix in COMPANIONS {
        let (from, to) = (with_suffix(&live, suffix), with_suffix(&aside, suffix));
        if from.exists() {
            std::fs::rename(&from, &to).map_err(io(format!(
                "keeping {} aside as {}",
                from.display(),
                to.display()
            )))?;
        }
    }
    Ok(Some(aside))
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}
