//! The scheduler inside `usersync serve`: every app with an interval or a cron
//! expression is synced when due, by the engine's cycle (`engine::sync_cycle`):
//! incremental between full reconciles.
//!
//! The next run time of each app lives in the store (`scheduler_state`), and it is
//! moved on *before* a run starts, so a restart neither repeats a run that started nor
//! skips one that was due: a run missed while the server was down is due at start-up
//! and runs once, however many intervals passed, and the next one is computed from
//! then. A small random jitter (a tenth of the period, at most `max_jitter`) keeps
//! many apps from hitting Okta in the same second. Runs take the engine's per-app lock:
//! a scheduled run that finds the app busy (a Synchronize press, an event's full sync)
//! is not lost but follows it, tried again shortly. Apps due within the same minute
//! on one Okta org and credential share one Okta read (`engine::shared_read`). Among
//! several `usersync serve` replicas only the leader runs the scheduler
//! (`crate::leader`); a run another process holds makes the app busy the same way
//! (`engine::lock`).

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng as _;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use usersync_store::{App, AppId, RunTrigger, Schedule, SchedulerState};

use crate::engine::{Deps, EngineError, SharedReads, Want, sync_cycle};

/// How the scheduler paces itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedulerConfig {
    /// How often due times are checked.
    pub tick: Duration,
    /// The most a run is moved later at random.
    pub max_jitter: Duration,
    /// How long a run that found the app busy waits before trying again.
    pub follow_up_delay: Duration,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        Self {
            tick: Duration::from_secs(1),
            max_jitter: Duration::from_secs(30),
            follow_up_delay: Duration::from_secs(5),
        }
    }
}

type Running = Arc<Mutex<HashSet<AppId>>>;

/// Starts the scheduler; it stops starting runs when `shutdown` is cancelled (runs it
/// started are tracked by `tasks`).
pub fn spawn(
    deps: Deps,
    config: SchedulerConfig,
    shutdown: CancellationToken,
    tasks: &TaskTracker,
) {
    let scheduler = Scheduler {
        deps: deps.with_shared_reads(SharedReads::new(SharedReads::DEFAULT_TTL)),
        config,
        running: Arc::default(),
        tasks: tasks.clone(),
    };
    tasks.spawn(scheduler.run(shutdown));
}

struct Scheduler {
    deps: Deps,
    config: SchedulerConfig,
    running: Running,
    tasks: TaskTracker,
}

impl Scheduler {
    async fn run(self, shutdown: CancellationToken) {
        loop {
            if let Err(e) = self.tick().await {
                tracing::warn!("the scheduler could not check the apps: {e}");
            }
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(self.config.tick) => {}
            }
        }
    }

    async fn tick(&self) -> Result<(), usersync_store::StoreError> {
        if let Some(shared) = &self.deps.shared_reads {
            // An expired snapshot is not kept until the next run asks.
            shared.purge();
        }
        let store = &self.deps.store;
        for app in store.list_apps().await? {
            let state = store.scheduler_state(app.id).await?;
            let now = Utc::now();
            match decide(&app.schedule, &state, now, self.config.max_jitter) {
                Decision::Nothing => {}
                Decision::Reschedule(next) => store.set_next_run(app.id, next).await?,
                Decision::Run { next } => self.start(app, now, next).await?,
            }
        }
        Ok(())
    }

    /// Moves the app's next run on, then runs it in the background.
    async fn start(
        &self,
        app: App,
        now: DateTime<Utc>,
        next: Option<DateTime<Utc>>,
    ) -> Result<(), usersync_store::StoreError> {
        if !self.claim(app.id) {
            return Ok(());
        }
        let store = self.deps.store.clone();
        if let Err(e) = store.set_next_run(app.id, next).await {
            self.release(app.id);
            return Err(e);
        }
        let (deps, running) = (self.deps.clone(), self.running.clone());
        let follow_up = self.config.follow_up_delay;
        self.tasks.spawn(async move {
            tracing::info!(app = %app.name, "scheduled sync starting");
            match sync_cycle(&deps, &app.name, RunTrigger::Scheduled, Want::Auto).await {
                Ok(outcome) => {
                    tracing::info!(app = %app.name, status = %outcome.status, "scheduled sync finished");
                    if let Some(run) = outcome.run_id
                        && let Err(e) = store.record_scheduled_run(app.id, run, now, next).await
                    {
                        tracing::warn!(app = %app.name, "could not record the scheduled run: {e}");
                    }
                }
                Err(EngineError::AlreadyRunning(_)) => {
                    tracing::info!(app = %app.name, "a sync is already running; the scheduled one follows it");
                    let retry = Utc::now() + chrono::Duration::from_std(follow_up).unwrap_or_default();
                    if let Err(e) = store.set_next_run(app.id, Some(retry)).await {
                        tracing::warn!(app = %app.name, "could not queue the follow-up run: {e}");
                    }
                }
                Err(e) => tracing::warn!(app = %app.name, "scheduled sync could not run: {e}"),
            }
            running.lock().unwrap_or_else(PoisonError::into_inner).remove(&app.id);
        });
        Ok(())
    }

    fn claim(&self, app: AppId) -> bool {
        self.running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(app)
    }

    fn release(&self, app: AppId) {
        self.running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&app);
    }
}

/// What to do about one app now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Nothing,
    /// Store this next run time (first scheduling, a changed or removed schedule).
    Reschedule(Option<DateTime<Utc>>),
    /// Due: run now, and the run after is at `next`.
    Run {
        next: Option<DateTime<Utc>>,
    },
}

/// Decides from the app's schedule and stored state; pure, so it is tested alone.
#[must_use]
pub fn decide(
    schedule: &Schedule,
    state: &SchedulerState,
    now: DateTime<Utc>,
    max_jitter: Duration,
) -> Decision {
    let Some(upcoming) = schedule.next_after(now) else {
        return if state.next_run_at.is_some() {
            Decision::Reschedule(None)
        } else {
            Decision::Nothing
        };
    };
    let next = || Some(upcoming + jitter(schedule, upcoming, max_jitter));
    match state.next_run_at {
        None => Decision::Reschedule(next()),
        Some(due) if due <= now => Decision::Run { next: next() },
        // Later than the schedule allows: the schedule was shortened since.
        Some(due)
            if due > upcoming + chrono::Duration::from_std(max_jitter).unwrap_or_default() =>
        {
            Decision::Reschedule(next())
        }
        Some(_) => Decision::Nothing,
    }
}

/// A random delay of up to a tenth of the schedule's period, capped at `max_jitter`.
fn jitter(schedule: &Schedule, upcoming: DateTime<Utc>, max_jitter: Duration) -> chrono::Duration {
    let period = schedule
        .next_after(upcoming)
        .map_or(chrono::Duration::zero(), |after| after - upcoming);
    let cap = period
        .to_std()
        .unwrap_or_default()
        .div_f64(10.0)
        .min(max_jitter);
    let millis = u64::try_from(cap.as_millis()).unwrap_or(u64::MAX);
    if millis == 0 {
        return chrono::Duration::zero();
    }
    let pick = rand::rng().random_range(0..=millis);
    chrono::Duration::milliseconds(i64::try_from(pick).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
    }

    fn state(next: Option<DateTime<Utc>>) -> SchedulerState {
        SchedulerState {
            next_run_at: next,
            ..SchedulerState::default()
        }
    }

    const NO_JITTER: Duration = Duration::ZERO;

    #[test]
    fn a_new_schedule_is_first_due_one_period_from_now() {
        let d = decide(&Schedule::EveryMinutes(5), &state(None), at(0), NO_JITTER);
        assert_eq!(d, Decision::Reschedule(Some(at(300))));
    }

    #[test]
    fn a_run_missed_for_many_periods_runs_once_and_the_next_is_a_period_after_now() {
        let d = decide(
            &Schedule::EveryMinutes(5),
            &state(Some(at(0))),
            at(3600),
            NO_JITTER,
        );
        assert_eq!(
            d,
            Decision::Run {
                next: Some(at(3900))
            }
        );
    }

    #[test]
    fn a_run_not_yet_due_waits() {
        let d = decide(
            &Schedule::EveryMinutes(5),
            &state(Some(at(300))),
            at(10),
            NO_JITTER,
        );
        assert_eq!(d, Decision::Nothing);
    }

    #[test]
    fn a_shortened_schedule_or_a_manual_one_reschedules() {
        let d = decide(
            &Schedule::EveryMinutes(1),
            &state(Some(at(3000))),
            at(0),
            NO_JITTER,
        );
        assert_eq!(d, Decision::Reschedule(Some(at(60))));
        let d = decide(&Schedule::Manual, &state(Some(at(3000))), at(0), NO_JITTER);
        assert_eq!(d, Decision::Reschedule(None));
        assert_eq!(
            decide(&Schedule::Manual, &state(None), at(0), NO_JITTER),
            Decision::Nothing
        );
    }

    #[test]
    fn cron_schedules_fire_on_their_expression_and_jitter_stays_within_a_tenth_of_the_period() {
        let cron = Schedule::Cron("*/10 * * * * *".into());
        let d = decide(&cron, &state(None), at(1), NO_JITTER);
        assert_eq!(d, Decision::Reschedule(Some(at(10))));
        for _ in 0..50 {
            let Decision::Reschedule(Some(next)) =
                decide(&cron, &state(None), at(1), Duration::from_secs(30))
            else {
                panic!("expected a reschedule");
            };
            assert!(next >= at(10) && next <= at(11), "{next}");
        }
    }
}
