//! Logging set-up: one `tracing` subscriber writing to stderr (stdout is kept for
//! command output such as JSON), with defaults that keep chatty dependencies quiet.

use std::io::IsTerminal as _;

use tracing_subscriber::EnvFilter;

/// Directives applied before any from the environment: HTTP and SQL libraries log
/// every connection at `info`/`debug`, which drowns out what usersync is doing.
pub const QUIET_DEPENDENCIES: &str =
    "sqlx=warn,reqwest=warn,hyper=warn,hyper_util=warn,h2=warn,rustls=warn,tower_http=info";

/// Builds the filter: `RUST_LOG` (or `USERSYNC_LOG`) when set, else `default_level`
/// for usersync's own crates, always with [`QUIET_DEPENDENCIES`] underneath.
#[must_use]
pub fn filter(default_level: &str) -> EnvFilter {
    let from_env = std::env::var("USERSYNC_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok()
        .filter(|v| !v.trim().is_empty());
    let directives = match from_env {
        Some(env) => format!("{QUIET_DEPENDENCIES},{env}"),
        None => format!(
            "warn,{QUIET_DEPENDENCIES},usersync={default_level},usersync_okta={default_level},usersync_atlassian={default_level},usersync_store={default_level}"
        ),
    };
    EnvFilter::try_new(&directives).unwrap_or_else(|_| EnvFilter::new("warn"))
}

/// Installs the stderr subscriber for a command. Calling it twice is harmless.
pub fn init(default_level: &str) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter(default_level))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}

/// Installs logging for tests once: silent unless `TEST_LOG` is set, so test
/// output stays readable while a failing test can still be traced.
pub fn init_for_tests() {
    if std::env::var_os("TEST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter("debug"))
            .with_test_writer()
            .try_init();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_filter_quiets_sql_and_http_libraries() {
        let text = filter("info").to_string();
        for noisy in ["sqlx=warn", "reqwest=warn", "hyper=warn"] {
            assert!(text.contains(noisy), "{text}");
        }
    }
}
