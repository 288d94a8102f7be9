//! Who started a run, in the audit log: the console, the API and the command line
//! record it the same way (`run.sync`, `run.sync_user`), so an administrator can tell
//! from the log alone whether a run came from a person, a token or a schedule. The
//! run itself is recorded either way; a failed audit write is logged, never fatal.

use usersync_store::{AppId, RunId, RunTrigger};

use super::Deps;

/// Records that `actor` started `action` on `app` (the run's id, or that none was
/// recorded, e.g. because another run of the app was in progress).
pub async fn record_started(
    deps: &Deps,
    actor: &str,
    app: AppId,
    action: &str,
    trigger: RunTrigger,
    run: Option<RunId>,
) {
    let run = run.map_or_else(|| "no run recorded".to_owned(), |id| format!("run {id}"));
    let fields = [run, format!("trigger {}", trigger.as_str())];
    if let Err(e) = deps
        .store
        .record_audit(actor, Some(app), action, &fields)
        .await
    {
        tracing::warn!("could not record who started a run of app {app}: {e}");
    }
}
