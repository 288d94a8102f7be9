//! A precise delay for the emulators' configured latency.
//!
//! Tokio's timer counts in whole milliseconds and rounds a deadline up to the next
//! tick, so `tokio::time::sleep(2 ms)` takes between 2 and 3 ms plus the wake-up
//! (issue 8 measured about 3 ms), and the benchmark's bounds, which assume the
//! configured latency exactly, could not be met by any client. The latency is a
//! simulation knob, not vendor behaviour, so the emulator must add what it is told.
//!
//! [`sleep_until`] hands its deadline to one timer thread per process, which keeps
//! the pending deadlines in a heap and sleeps on a condition variable until the
//! earliest (the kernel's high-resolution timers, tens of microseconds of slack,
//! and no busy-waiting), then completes each due waiter through a oneshot channel.
//! A waiter is never completed before its deadline: the thread checks the clock
//! before it fires. A dropped waiter (a client that hung up) costs one failed send.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::{Condvar, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

/// One pending deadline; `order` keeps equal deadlines first come, first served.
struct Waiter {
    at: Instant,
    order: u64,
    done: oneshot::Sender<()>,
}

impl PartialEq for Waiter {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.order) == (other.at, other.order)
    }
}
impl Eq for Waiter {}
impl PartialOrd for Waiter {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Waiter {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.order).cmp(&(other.at, other.order))
    }
}

#[derive(Default)]
struct Pending {
    heap: BinaryHeap<Reverse<Waiter>>,
    next_order: u64,
}

/// The deadlines waiting, and the bell that tells the timer thread a new, possibly
/// earlier one arrived.
struct Timer {
    pending: Mutex<Pending>,
    bell: Condvar,
}

/// The process's timer, started on first use; `None` when its thread could not start.
fn timer() -> Option<&'static Timer> {
    static TIMER: OnceLock<Option<&'static Timer>> = OnceLock::new();
    *TIMER.get_or_init(|| {
        // Lives as long as the process, like its thread.
        let timer: &'static Timer = Box::leak(Box::new(Timer {
            pending: Mutex::new(Pending::default()),
            bell: Condvar::new(),
        }));
        let started = std::thread::Builder::new()
            .name("sim-latency-timer".into())
            .spawn(move || timer.run());
        match started {
            Ok(_) => Some(timer),
            Err(e) => {
                tracing::error!("could not start the latency timer thread, using tokio's: {e}");
                None
            }
        }
    })
}

impl Timer {
    /// Fires due waiters and sleeps until the next deadline, forever.
    fn run(&self) {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            let now = Instant::now();
            while pending.heap.peek().is_some_and(|w| w.0.at <= now) {
                if let Some(Reverse(due)) = pending.heap.pop() {
                    // The waiter may have gone (its request was dropped): nothing to do.
                    let _ = due.done.send(());
                }
            }
            pending = match pending.heap.peek().map(|w| w.0.at - now) {
                Some(left) => {
                    self.bell
                        .wait_timeout(pending, left)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
                None => self
                    .bell
                    .wait(pending)
                    .unwrap_or_else(PoisonError::into_inner),
            };
        }
    }

    fn add(&self, at: Instant) -> oneshot::Receiver<()> {
        let (done, wait) = oneshot::channel();
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        let order = pending.next_order;
        pending.next_order += 1;
        let earliest = pending.heap.peek().is_none_or(|w| at < w.0.at);
        pending.heap.push(Reverse(Waiter { at, order, done }));
        drop(pending);
        if earliest {
            self.bell.notify_one();
        }
        wait
    }
}

/// Waits until `deadline`, never returning before it, with sub-millisecond precision.
pub async fn sleep_until(deadline: Instant) {
    if deadline <= Instant::now() {
        return;
    }
    match timer() {
        // The sender lives until the deadline has passed, so this waits at least that long.
        Some(timer) => {
            let _ = timer.add(deadline).await;
        }
        // Coarser, but never early.
        None => tokio::time::sleep_until(deadline.into()).await,
    }
}

/// Waits `delay` from now: see [`sleep_until`].
pub async fn sleep(delay: Duration) {
    sleep_until(Instant::now() + delay).await;
}

#[cfg(test)]
#[path = "timer_tests.rs"]
pub(crate) mod tests;
