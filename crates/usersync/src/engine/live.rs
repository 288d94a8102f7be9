//! Every run's live progress, written to the store as it goes, so the console shows
//! it whoever started the run: the scheduler, an event, the API, the console, or
//! `usersync sync` in another process sharing the data directory.
//!
//! [`recording`] wraps the run's [`Progress`] with a tee: the original listener (bars,
//! log lines, the console's sink) still hears every event, and a small state (phase,
//! units done and expected, when the phase began) is kept. A background task writes
//! that state to the run's row when it changes, at most twice a second, and at least
//! every few seconds as a heartbeat, so a reader can tell a quiet phase from a dead
//! process. The progress trait is synchronous and on the hot path; the tee only
//! takes a short lock and wakes the writer.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use usersync_store::{RunId, RunProgress, Store};

use super::Deps;
use super::progress::{Phase, Progress};

/// The least time between two writes of a run's progress.
const MIN_WRITE_GAP: Duration = Duration::from_millis(500);
/// Unchanged progress is written again this often, to show the run is alive.
const HEARTBEAT: Duration = Duration::from_secs(5);

/// The phase after reading, before applying: planning and recording the plan.
pub const PLANNING: &str = "planning";
/// Before the first phase: connecting and checking the target.
pub const STARTING: &str = "connecting";

#[derive(Debug)]
struct State {
    phase: String,
    done: u64,
    total: Option<u64>,
    phase_at: DateTime<Utc>,
    /// Changed since last written.
    dirty: bool,
}

impl State {
    fn enter(&mut self, phase: &str, total: Option<u64>) {
        phase.clone_into(&mut self.phase);
        self.done = 0;
        self.total = total;
        self.phase_at = Utc::now();
        self.dirty = true;
    }

    fn snapshot(&self) -> RunProgress {
        RunProgress {
            phase: self.phase.clone(),
            done: self.done,
            total: self.total,
            phase_started_at: self.phase_at,
            updated_at: Utc::now(),
        }
    }
}

struct Shared {
    state: Mutex<State>,
    wake: Notify,
}

impl Shared {
    fn update(&self, change: impl FnOnce(&mut State)) {
        change(&mut self.state.lock().unwrap_or_else(|e| e.into_inner()));
        self.wake.notify_one();
    }
}

/// Passes every event on to the run's own listener and keeps the live state.
struct Tee {
    inner: Arc<dyn Progress>,
    shared: Arc<Shared>,
}

impl Progress for Tee {
    fn start(&self, phase: Phase, total: Option<u64>) {
        self.inner.start(phase, total);
        // Both sides are read at once; the Okta read is the long one and names the phase.
        if phase != Phase::ReadTarget {
            self.shared.update(|s| s.enter(&phase.to_string(), total));
        }
    }

    fn advance(&self, phase: Phase, done: u64) {
        self.inner.advance(phase, done);
        if phase != Phase::ReadTarget {
            self.shared.update(|s| {
                s.done += done;
                s.dirty = true;
            });
        }
    }

    fn finish(&self, phase: Phase, summary: &str) {
        self.inner.finish(phase, summary);
        if phase == Phase::ReadOkta {
            self.shared.update(|s| s.enter(PLANNING, None));
        }
    }
}

/// Stops the writer when the run ends (dropped with it).
pub struct Recording {
    stop: CancellationToken,
}

impl Drop for Recording {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// `deps` with a progress that also writes `run`'s live progress to the store, and
/// the guard that stops the writer. Needs a Tokio runtime (every run has one).
#[must_use]
pub fn recording(deps: &Deps, run: RunId) -> (Deps, Recording) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            phase: STARTING.to_owned(),
            done: 0,
            total: None,
            phase_at: Utc::now(),
            dirty: true,
        }),
        wake: Notify::new(),
    });
    let stop = CancellationToken::new();
    tokio::spawn(write_loop(
        deps.store.clone(),
        run,
        shared.clone(),
        stop.clone(),
    ));
    let tee = Tee {
        inner: deps.progress.clone(),
        shared,
    };
    (
        deps.clone().with_progress(Arc::new(tee)),
        Recording { stop },
    )
}

async fn write_loop(store: Store, run: RunId, shared: Arc<Shared>, stop: CancellationToken) {
    loop {
        let snapshot = {
            let mut state = shared.state.lock().unwrap_or_else(|e| e.into_inner());
            state.dirty = false;
            state.snapshot()
        };
        if let Err(err) = store.record_progress(run, &snapshot).await {
            // Progress is for people watching; a failed write never touches the run.
            tracing::debug!(%run, "could not record progress: {err}");
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(MIN_WRITE_GAP) => {}
        }
        let dirty = shared.state.lock().unwrap_or_else(|e| e.into_inner()).dirty;
        if !dirty {
            tokio::select! {
                () = stop.cancelled() => return,
                () = shared.wake.notified() => {}
                () = tokio::time::sleep(HEARTBEAT) => {}
            }
        }
    }
}
