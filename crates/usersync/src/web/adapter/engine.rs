//! The console's engine actions, as methods of [`Backend`]: the same functions the
//! command line calls (`check`, `run_sync_once`, `sync_user`, `explain_user`,
//! `approve`, `reject`), with their results turned into the console's model and live
//! progress forwarded to the Synchronize page.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use usersync_core::app::AppDraft;
use usersync_core::explain::ExplanationText;
use usersync_core::guard::Guard;
use usersync_core::plan::Plan;
use usersync_okta::BucketHeadroom;
use usersync_store::{AppId, RunId, RunTrigger};

use super::convert::store_error;
use crate::engine::{self, DraftCheckError, EngineError, Mode, Phase, Progress, RunOutcome};
use crate::web::backend::{
    Backend, BackendError, BackendResult, ProgressEvent, ProgressSink, Trigger,
};
use crate::web::model::{
    CheckItem, CheckReport, ExplainView, PlanRow, PlanView, RunView, SkippedView,
};

fn engine_error(err: EngineError, refused: fn(String) -> BackendError) -> BackendError {
    match err {
        EngineError::UnknownApp(name) => BackendError::NotFound(format!("app {name:?}")),
        EngineError::AlreadyRunning(e) => BackendError::Busy(e.to_string()),
        EngineError::Store(e) => store_error(e),
        EngineError::Refused(message) => refused(message),
    }
}

/// Runs an engine future as its own task on the current runtime and waits for it.
///
/// Spawning (rather than awaiting in place) means a run started by a request goes
/// on to its end even if the client disconnects and axum drops the handler's
/// future: dropping a `JoinHandle` detaches the task, it does not cancel it.
async fn spawned<T, Fut>(work: Fut) -> BackendResult<T>
where
    Fut: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    tokio::spawn(work).await.map_err(|e| {
        BackendError::Internal(anyhow::anyhow!("the engine task ended abnormally: {e}"))
    })
}

/// The run id of an applied run, or why it has none.
fn run_id(outcome: &RunOutcome) -> BackendResult<RunId> {
    outcome.run_id.ok_or_else(|| {
        BackendError::Internal(anyhow::anyhow!(
            "the engine recorded no run for {}",
            outcome.app
        ))
    })
}

/// Forwards engine progress to a [`ProgressSink`] as one-line messages.
struct SinkProgress {
    sink: ProgressSink,
    apply: Mutex<(u64, u64)>,
}

impl Progress for SinkProgress {
    fn start(&self, phase: Phase, total: Option<u64>) {
        if phase == Phase::Apply {
            let total = total.unwrap_or(0);
            *self.apply.lock().unwrap_or_else(|e| e.into_inner()) = (0, total);
            (self.sink)(ProgressEvent {
                message: format!("applying {total} operation(s)"),
                done: 0,
                total,
            });
        } else {
            (self.sink)(ProgressEvent {
                message: format!("{phase}"),
                done: 0,
                total: 0,
            });
        }
    }

    fn advance(&self, phase: Phase, done: u64) {
        if phase != Phase::Apply {
            return;
        }
        let (now, total) = {
            let mut apply = self.apply.lock().unwrap_or_else(|e| e.into_inner());
            apply.0 += done;
            *apply
        };
        (self.sink)(ProgressEvent {
            message: format!("applied {now} of {total} operation(s)"),
            done: now,
            total,
        });
    }

    fn finish(&self, phase: Phase, summary: &str) {
        let (done, total) = *self.apply.lock().unwrap_or_else(|e| e.into_inner());
        (self.sink)(ProgressEvent {
            message: format!("{phase}: {summary}"),
            done,
            total,
        });
    }
}

/// The dry-run plan in the console's shape.
#[must_use]
pub fn plan_view(app: &str, plan: &Plan) -> PlanView {
    let operations = plan
        .ops
        .iter()
        .map(|p| PlanRow {
            kind: p.op.kind().as_str().to_owned(),
            subject: engine::record::subject(&p.op),
            description: p.op.to_string(),
            rule: p.rule.to_string(),
            destructive: p.op.is_destructive(),
            op: serde_json::to_value(p).unwrap_or_default(),
        })
        .collect();
    let skipped = plan
        .skipped
        .iter()
        .map(|s| SkippedView {
            login: s.login.clone(),
            reason: s.reason.to_string(),
        })
        .collect();
    let (incomplete, would_hold) = match &plan.guard {
        Guard::Proceed => (Vec::new(), None),
        Guard::Partial { reasons, .. } => (reasons.clone(), None),
        Guard::Held { reasons } => (Vec::new(), Some(reasons.join("; "))),
    };
    PlanView {
        app: app.to_owned(),
        operations,
        skipped,
        incomplete,
        would_hold,
    }
}

/// The console's sections of an explanation, in core's one wording (the CLI's too).
fn explain_view(x: &usersync_core::explain::Explanation, sources: Vec<String>) -> ExplainView {
    let text = x.text();
    let mut decisions = vec![format!("Scope: {}", text.scope)];
    decisions.extend(text.status.map(|s| format!("Status: {s}")));
    decisions.extend(
        text.mapped_username
            .map(|m| format!("Mapped username: {m}")),
    );
    decisions.extend(text.skipped.map(|s| format!("Skipped: {s}")));
    decisions.extend(text.next_sync.iter().map(|op| format!("Next sync: {op}")));
    if text.next_sync.is_empty() {
        decisions.push(format!("Next sync: {}", ExplanationText::NO_CHANGES));
    }
    decisions.extend(text.groups.iter().map(|n| format!("Group: {n}")));
    decisions.extend(text.attributes.iter().map(|a| format!("Attributes: {a}")));
    decisions.extend(text.note.map(|n| format!("Note: {n}")));
    ExplainView {
        login: x.login.clone(),
        okta: vec![text.okta],
        target: vec![text.target],
        username: x
            .mapped_username
            .as_ref()
            .and_then(|m| m.usable().map(str::to_owned)),
        decisions,
        sources,
    }
}

impl Backend {
    pub async fn check(&self, app: &str) -> BackendResult<CheckReport> {
        let (deps, name) = (self.deps.clone(), self.app(app).await?.name);
        let report = spawned(async move { engine::check(&deps, &name).await })
            .await?
            .map_err(|e| engine_error(e, BackendError::Upstream))?;
        Ok(check_view(report))
    }

    /// Checks the values of the form of the saved app `app` without saving them;
    /// blank secrets stand for the stored ones, for the same origin only.
    pub async fn check_values(&self, app: &str, draft: AppDraft) -> BackendResult<CheckReport> {
        let name = self.app(app).await?.name;
        let deps = self.deps.clone();
        let report = spawned(async move { engine::check_draft(&deps, &name, draft).await })
            .await?
            .map_err(|e| match e {
                DraftCheckError::Field(p) => BackendError::Validation {
                    field: p.field,
                    message: p.message,
                },
                DraftCheckError::Engine(e) => engine_error(e, BackendError::Upstream),
            })?;
        Ok(check_view(report))
    }

    /// A dry run: what a sync would do now (from the Okta read another app on the
    /// same org and credential made for its Preview within the minute, if any).
    pub async fn plan(&self, app: &str) -> BackendResult<PlanView> {
        let deps = self.deps.clone().with_shared_reads(self.previews.clone());
        let name = self.app(app).await?.name;
        let task_name = name.clone();
        let outcome = spawned(async move {
            engine::run_sync_once(&deps, &task_name, RunTrigger::Manual, Mode::DryRun).await
        })
        .await?
        .map_err(|e| engine_error(e, BackendError::Upstream))?;
        match &outcome.plan {
            Some(plan) => Ok(plan_view(&name, plan)),
            None => Err(BackendError::Upstream(format!(
                "the plan could not be made: {}",
                outcome.reasons.join("; ")
            ))),
        }
    }

    /// Runs a full sync to its end (or until held) and returns the recorded run;
    /// the audit log records who started it (`run.sync`).
    pub async fn sync(
        &self,
        app: &str,
        trigger: Trigger,
        actor: &str,
        progress: ProgressSink,
    ) -> BackendResult<RunView> {
        let app = self.app(app).await?;
        let (name, app_id) = (app.name, app.id);
        let trigger = match trigger {
            Trigger::Manual => RunTrigger::Manual,
            Trigger::Api => RunTrigger::Api,
        };
        let deps = self.deps.clone().with_progress(Arc::new(SinkProgress {
            sink: progress,
            apply: Mutex::new((0, 0)),
        }));
        let outcome =
            spawned(async move { engine::run_sync_once(&deps, &name, trigger, Mode::Apply).await })
                .await?
                .map_err(|e| engine_error(e, BackendError::Conflict));
        self.audit_run(actor, app_id, "run.sync", trigger, &outcome)
            .await;
        self.run_view(run_id(&outcome?)?).await
    }

    /// Syncs one user (a run of its own) and records who asked (`run.sync_user`).
    pub async fn sync_user(&self, app: &str, login: &str, actor: &str) -> BackendResult<RunView> {
        let app = self.app(app).await?;
        let (deps, name, app_id, login) = (self.deps.clone(), app.name, app.id, login.to_owned());
        let outcome =
            spawned(async move { engine::sync_user(&deps, &name, &login, RunTrigger::Api).await })
                .await?
                .map_err(|e| engine_error(e, BackendError::Conflict));
        self.audit_run(actor, app_id, "run.sync_user", RunTrigger::Api, &outcome)
            .await;
        self.run_view(run_id(&outcome?)?).await
    }

    /// Who started a run, in the audit log (the command line records it the same way).
    async fn audit_run(
        &self,
        actor: &str,
        app: AppId,
        action: &str,
        trigger: RunTrigger,
        outcome: &BackendResult<RunOutcome>,
    ) {
        let run = outcome.as_ref().ok().and_then(|o| o.run_id);
        engine::audit::record_started(&self.deps, actor, app, action, trigger, run).await;
    }

    /// What the target holds that Okta does not explain (`engine::report`); changes nothing.
    pub async fn report(&self, app: &str) -> BackendResult<engine::AppReport> {
        let deps = self.deps.clone().with_shared_reads(self.previews.clone());
        let name = self.app(app).await?.name;
        spawned(async move { engine::report(&deps, &name).await })
            .await?
            .map_err(|e| engine_error(e, BackendError::Upstream))
    }

    pub async fn explain(&self, app: &str, login: &str) -> BackendResult<ExplainView> {
        let (deps, name, login) = (
            self.deps.clone(),
            self.app(app).await?.name,
            login.to_owned(),
        );
        let (x, sources) =
            spawned(async move { engine::explain_user_sourced(&deps, &name, &login).await })
                .await?
                .map_err(|e| engine_error(e, BackendError::Upstream))?;
        Ok(explain_view(&x, sources))
    }

    /// The Okta rate-limit figures each app's latest run in this process ended
    /// with (runs by the console, the API, the scheduler and event hooks alike).
    #[must_use]
    pub fn okta_headroom(&self) -> BTreeMap<String, Vec<BucketHeadroom>> {
        self.deps.okta_headroom.latest()
    }

    /// Applies a held run's plan after approval; returns the run as it ended.
    pub async fn approve_run(&self, id: i64, actor: &str) -> BackendResult<RunView> {
        let (deps, actor) = (self.deps.clone(), actor.to_owned());
        let outcome = spawned(async move { engine::approve(&deps, RunId(id), &actor).await })
            .await?
            .map_err(|e| engine_error(e, BackendError::Conflict))?;
        self.run_view(run_id(&outcome)?).await
    }

    /// Rejects a held run: nothing more of it is applied.
    pub async fn reject_run(&self, id: i64, actor: &str) -> BackendResult<RunView> {
        let (deps, actor) = (self.deps.clone(), actor.to_owned());
        let rejected = spawned(async move { engine::reject(&deps, RunId(id), &actor).await })
            .await?
            .map_err(|e| engine_error(e, BackendError::Conflict))?;
        self.run_view(rejected.id).await
    }
}

fn check_view(report: engine::CheckReport) -> CheckReport {
    CheckReport {
        ok: report.ok,
        items: report
            .lines
            .into_iter()
            .map(|l| CheckItem {
                name: l.what,
                ok: l.ok,
                detail: l.detail,
            })
            .collect(),
    }
}
