//! `usersync check` and `usersync explain`: questions about an app that change nothing.

use super::output::{self, Format};
use super::{Exit, Global};
use crate::engine;

/// Test both connections and whether the target can do what the app needs.
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Checks an app: its policy, the Okta credential and read permissions, the \
target's sign-in and version, and each capability the app's settings need, in words. Changes \
nothing. Exits 0 when everything is fine, 2 otherwise."
)]
pub struct CheckArgs {
    /// The app to check (`usersync app list` shows them).
    #[arg(long)]
    pub app: String,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub output: Format,
}

/// Say why a user is or is not in the target, and what the next sync would change.
#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// The app whose rules explain the user.
    #[arg(long)]
    pub app: String,
    /// The Okta login (or the target username).
    pub login: String,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub output: Format,
}

/// Runs `check`.
///
/// # Errors
/// Unknown app, or any check failed (after the report is printed).
pub async fn check(args: CheckArgs, global: &Global) -> anyhow::Result<Exit> {
    let deps = global.deps().await?;
    let report = engine::check(&deps, &args.app).await?;
    match args.output {
        Format::Json => super::json::print(&report)?,
        Format::Text => {
            let mut out = format!("app {}\n", report.app);
            for line in &report.lines {
                let mark = if line.ok { "ok  " } else { "FAIL" };
                out.push_str(&format!("{mark} {}: {}\n", line.what, line.detail));
            }
            output::print(&out);
        }
    }
    if !report.ok {
        let failed = report.lines.iter().filter(|l| !l.ok).count();
        let checks = if failed == 1 { "check" } else { "checks" };
        anyhow::bail!(
            "{failed} {checks} of app {:?} failed (marked FAIL above); fix them and run `usersync check --app {:?}` again",
            report.app,
            report.app
        );
    }
    Ok(Exit::Ok)
}

/// Runs `explain`.
///
/// # Errors
/// Unknown app, or the reads failed.
pub async fn explain(args: ExplainArgs, global: &Global) -> anyhow::Result<Exit> {
    let deps = global.deps().await?;
    let explanation = engine::explain_user(&deps, &args.app, &args.login).await?;
    match args.output {
        Format::Json => super::json::print(&explanation)?,
        Format::Text => output::print(&format!("{explanation}\n")),
    }
    Ok(Exit::Ok)
}
