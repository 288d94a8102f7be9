//! The version line `usersync --version` prints: the package version and the commit it
//! was built from, e.g. `0.1.0 (abc1234 2026-12-03)`. Shared by `build.rs`, which asks
//! git, and the crate's unit tests, which check the fallbacks without a rebuild.

/// The environment variable a build without git (a container build from a copied tree,
/// a source archive) names its commit with, e.g. `abc1234 2026-12-03`.
pub const BUILD_COMMIT_ENV: &str = "USERSYNC_BUILD_COMMIT";

/// The words inside the parentheses: git's commit and date when git answered, else
/// the variable's text, else "unknown commit".
#[must_use]
pub fn commit_words(git: Option<(String, String)>, env: Option<String>) -> String {
    if let Some((hash, date)) = git {
        return format!("{hash} {date}");
    }
    // A variable with characters that would garble the line (newlines, control
    // characters) is not trusted: the version line is parsed by scripts.
    match env.map(|text| text.trim().to_owned()) {
        Some(text) if !text.is_empty() && !text.chars().any(char::is_control) => text,
        _ => "unknown commit".to_owned(),
    }
}

/// The whole version text clap prints after the program name.
#[must_use]
pub fn version_text(package_version: &str, commit: &str) -> String {
    format!("{package_version} ({commit})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_names_the_commit_and_its_date() {
        let words = commit_words(Some(("abc1234".into(), "2026-12-03".into())), None);
        assert_eq!(version_text("0.1.0", &words), "0.1.0 (abc1234 2026-12-03)");
    }

    #[test]
    fn git_wins_over_the_variable() {
        let git = Some(("abc1234".into(), "2026-12-03".into()));
        assert_eq!(
            commit_words(git, Some("fff0000 2020-01-01".into())),
            "abc1234 2026-12-03"
        );
    }

    #[test]
    fn without_git_the_variable_names_the_commit() {
        assert_eq!(
            commit_words(None, Some(" def5678 2026-11-30 \n".into())),
            "def5678 2026-11-30"
        );
    }

    #[test]
    fn the_container_build_passes_the_commit_in_the_variable_this_reads() {
        let dockerfile = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/Dockerfile");
        let text = std::fs::read_to_string(dockerfile).unwrap();
        assert!(text.contains(&format!("ARG {BUILD_COMMIT_ENV}=")), "{text}");
        assert!(text.contains(&format!("ENV {BUILD_COMMIT_ENV}=")), "{text}");
    }

    #[test]
    fn without_git_or_a_usable_variable_the_commit_is_unknown() {
        assert_eq!(commit_words(None, None), "unknown commit");
        assert_eq!(commit_words(None, Some("  ".into())), "unknown commit");
        assert_eq!(
            commit_words(None, Some("abc\u{1b}[31m".into())),
            "unknown commit"
        );
    }
}
