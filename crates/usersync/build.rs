//! Names the commit the binary is built from, for `usersync --version`: git's short
//! hash and commit date when the source is a git checkout and git is installed, else
//! `USERSYNC_BUILD_COMMIT`, else "unknown commit". Reruns when HEAD or the branch it
//! points to moves, so the line never names a stale commit.

use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "build/version.rs"]
mod version;

fn main() {
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    println!("cargo:rerun-if-env-changed={}", version::BUILD_COMMIT_ENV);
    println!("cargo:rerun-if-changed=build/version.rs");
    let git = ask_git(&dir);
    if git.is_some() {
        watch_head(&dir);
    }
    let env = std::env::var(version::BUILD_COMMIT_ENV).ok();
    let words = version::commit_words(git, env);
    let package = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    println!(
        "cargo:rustc-env=USERSYNC_VERSION={}",
        version::version_text(&package, &words)
    );
}

/// Runs git in `dir`; `None` when git is missing, fails, or says nothing.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        // The commit date in UTC, whatever the builder's time zone.
        .env("TZ", "UTC")
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (out.status.success() && !text.is_empty()).then_some(text)
}

/// The short hash and commit date of HEAD.
fn ask_git(dir: &Path) -> Option<(String, String)> {
    let line = git(
        dir,
        &[
            "log",
            "-1",
            "--format=%h %cd",
            "--date=format-local:%Y-%m-%d",
            "--abbrev=7",
        ],
    )?;
    let (hash, date) = line.split_once(' ')?;
    Some((hash.to_owned(), date.to_owned()))
}

/// Asks cargo to rerun this script when HEAD moves: HEAD itself (a checkout), the
/// branch's ref (a commit) and `packed-refs` (a branch packed by `git gc`). Worktrees
/// keep HEAD apart from the refs; `git rev-parse --git-path` finds each.
fn watch_head(dir: &Path) {
    let mut files = vec!["HEAD".to_owned(), "packed-refs".to_owned()];
    if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
        files.push(branch);
    }
    for file in files {
        let Some(path) = git(
            dir,
            &["rev-parse", "--path-format=absolute", "--git-path", &file],
        ) else {
            continue;
        };
        // A path that does not exist would make cargo rerun the script on every build.
        if Path::new(&path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}
