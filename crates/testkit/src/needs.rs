//! Material a test needs from outside the checkout: the shared reference material in
//! `../shared` beside the workspace, and tools such as Chromium or Python packages.
//! One rule for all of them: when `CI` is set, a missing piece fails the test (CI
//! must never pass by doing nothing); otherwise the test is skipped, saying what is
//! missing and how to get it.

use std::path::PathBuf;

/// Overrides where `../shared` is (e.g. from a git worktree elsewhere on the machine).
const SHARED_VAR: &str = "USERSYNC_SHARED_DIR";

/// Whether `what` is `present`; when it is not, panics if `CI` is set and otherwise
/// prints that the test is skipped and `how` to provide it.
///
/// # Panics
/// When `what` is missing and `CI` is set.
#[must_use]
pub fn needed(what: &str, present: bool, how: &str) -> bool {
    if present {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set but {what} is missing: {how}"
    );
    eprintln!("skipping: {what} is missing on this machine ({how})");
    false
}

/// `../shared` beside the workspace root (or `$USERSYNC_SHARED_DIR`), under the rule of
/// [`needed`].
///
/// # Panics
/// When it is missing and `CI` is set.
#[must_use]
pub fn shared_dir() -> Option<PathBuf> {
    let dir = std::env::var_os(SHARED_VAR).map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
        PathBuf::from,
    );
    let what = format!("the shared reference material at {}", dir.display());
    let how = format!("check out ../shared beside the workspace, or set {SHARED_VAR}");
    needed(&what, dir.is_dir(), &how).then_some(dir)
}

/// A file or folder under `../shared`, under the rule of [`needed`].
///
/// # Panics
/// When it is missing and `CI` is set.
#[must_use]
pub fn shared_file(relative: &str) -> Option<PathBuf> {
    let path = shared_dir()?.join(relative);
    let what = path.display().to_string();
    let how = "the shared reference material is incomplete: update ../shared";
    needed(&what, path.exists(), how).then_some(path)
}
