//! [`EngineActions`] over `crate::engine`: the same functions the command line
//! calls (`check`, `run_sync_once`, `sync_user`, `explain_user`, `approve`,
//! `reject`), with their results turned into the console's model and live
//! progress forwarded to the Synchronize page.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use usersync_core::explain::ExplanationText;
use usersync_core::guard::Guard;
use usersync_core::plan::Plan;
use usersync_okta::BucketHeadroom;
use usersync_store::{App, RunId, RunTrigger};

use super::EngineActions;
use super::convert::store_error;
use crate::engine::{self, Deps, EngineError, Mode, Phase, Progress, RunOutcome};
use crate::web::backend::{BackendError, BackendResult, ProgressEvent, ProgressSink};
use crate::web::model::{CheckItem, CheckReport, ExplainView, PlanRow, PlanView, SkippedView};

/// The engine, as the console drives it.
#[derive(Clone)]
pub struct Engine {
    pub deps: Deps,
}

impl Engine {
    #[must_use]
    pub fn new(deps: Deps) -> Self {
        Self { deps }
    }
}

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
fn explain_view(x: &usersync_core::explain::Explanation) -> ExplainView {
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
    decisions.extend(text.note.map(|n| format!("Note: {n}")));
    ExplainView {
        login: x.login.clone(),
        okta: vec![text.okta],
        target: vec![text.target],
        username: x
            .mapped_username
            .as_ref()
            .and_then(|r| r.as_ref().ok().cloned()),
        decisions,
    }
}

#[async_trait]
impl EngineActions for Engine {
    async fn check(&self, app: &App) -> BackendResult<CheckReport> {
        let (deps, name) = (self.deps.clone(), app.name.clone());
        let report = spawned(async move { engine::check(&deps, &name).await })
            .await?
            .map_err(|e| engine_error(e, BackendError::Upstream))?;
        Ok(CheckReport {
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
        })
    }

    async fn plan(&self, app: &App) -> BackendResult<PlanView> {
        let (deps, name) = (self.deps.clone(), app.name.clone());
        let outcome = spawned(async move {
            engine::run_sync_once(&deps, &name, RunTrigger::Manual, Mode::DryRun).await
        })
        .await?
        .map_err(|e| engine_error(e, BackendError::Upstream))?;
        match &outcome.plan {
            Some(plan) => Ok(plan_view(&app.name, plan)),
            None => Err(BackendError::Upstream(format!(
                "the plan could not be made: {}",
                outcome.reasons.join("; ")
            ))),
        }
    }

    async fn sync(
        &self,
        app: &App,
        trigger: RunTrigger,
        progress: ProgressSink,
    ) -> BackendResult<RunId> {
        let deps = self.deps.clone().with_progress(Arc::new(SinkProgress {
            sink: progress,
            apply: Mutex::new((0, 0)),
        }));
        let name = app.name.clone();
        let outcome =
            spawned(async move { engine::run_sync_once(&deps, &name, trigger, Mode::Apply).await })
                .await?
                .map_err(|e| engine_error(e, BackendError::Conflict))?;
        run_id(&outcome)
    }

    async fn sync_user(&self, app: &App, login: &str) -> BackendResult<RunId> {
        let (deps, name, login) = (self.deps.clone(), app.name.clone(), login.to_owned());
        let outcome =
            spawned(async move { engine::sync_user(&deps, &name, &login, RunTrigger::Api).await })
                .await?
                .map_err(|e| engine_error(e, BackendError::Conflict))?;
        run_id(&outcome)
    }

    async fn explain(&self, app: &App, login: &str) -> BackendResult<ExplainView> {
        let (deps, name, login) = (self.deps.clone(), app.name.clone(), login.to_owned());
        let x = spawned(async move { engine::explain_user(&deps, &name, &login).await })
            .await?
            .map_err(|e| engine_error(e, BackendError::Upstream))?;
        Ok(explain_view(&x))
    }

    fn okta_headroom(&self) -> BTreeMap<String, Vec<BucketHeadroom>> {
        self.deps.okta_headroom.latest()
    }

    async fn approve(&self, _app: &App, run: RunId, actor: &str) -> BackendResult<RunId> {
        let (deps, actor) = (self.deps.clone(), actor.to_owned());
        let outcome = spawned(async move { engine::approve(&deps, run, &actor).await })
            .await?
            .map_err(|e| engine_error(e, BackendError::Conflict))?;
        run_id(&outcome)
    }

    async fn reject(&self, run: RunId, actor: &str) -> BackendResult<RunId> {
        let (deps, actor) = (self.deps.clone(), actor.to_owned());
        let rejected = spawned(async move { engine::reject(&deps, run, &actor).await })
            .await?
            .map_err(|e| engine_error(e, BackendError::Conflict))?;
        Ok(rejected.id)
    }
}
