use std::time::{Duration, Instant};

use super::*;

/// How late a sleep of `delay` ended, each of `n` in turn.
async fn lateness(n: usize, delay: Duration) -> Vec<Duration> {
    let mut late = Vec::with_capacity(n);
    for _ in 0..n {
        let deadline = Instant::now() + delay;
        sleep_until(deadline).await;
        let woke = Instant::now();
        assert!(woke >= deadline, "woke {:?} early", deadline - woke);
        late.push(woke - deadline);
    }
    late
}

/// The middle value: a few wake-ups delayed by a busy machine do not move it, while a
/// timer that rounds every sleep up to a tick does.
pub(crate) fn median(of: &[Duration]) -> Duration {
    let mut sorted = of.to_vec();
    sorted.sort_unstable();
    sorted.get(sorted.len() / 2).copied().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_sleeps_at_once_never_end_before_their_deadlines() {
    let start = Instant::now();
    let sleeps = (0..200u64).map(|i| {
        // Deadlines out of order, some equal, so the heap's order matters.
        let deadline = start + Duration::from_micros((i * 7919) % 3000 + 100);
        tokio::spawn(async move {
            sleep_until(deadline).await;
            Instant::now() >= deadline
        })
    });
    for sleep in futures::future::join_all(sleeps).await {
        assert!(sleep.expect("the sleep task ran"), "a sleep ended early");
    }
}

#[tokio::test]
async fn a_deadline_already_passed_returns_at_once() {
    let before = Instant::now();
    sleep_until(before - Duration::from_millis(5)).await;
    sleep(Duration::ZERO).await;
    assert!(before.elapsed() < Duration::from_millis(50));
}

#[tokio::test]
async fn a_two_millisecond_sleep_overshoots_by_a_fraction_of_a_millisecond_typically() {
    // Tokio's own timer rounds up to its next millisecond tick: typically half a
    // millisecond late or more. This one is bounded by the kernel's timer slack and
    // the wake-ups; the median keeps a loaded machine's stray late wake-ups out.
    let late = lateness(300, Duration::from_millis(2)).await;
    let median = median(&late);
    assert!(
        median < Duration::from_micros(400),
        "median lateness {median:?}"
    );
}

#[tokio::test]
async fn a_dropped_sleep_does_not_hold_up_the_others() {
    let abandoned =
        tokio::time::timeout(Duration::from_millis(1), sleep(Duration::from_millis(30))).await;
    assert!(
        abandoned.is_err(),
        "the long sleep should have been cut off"
    );
    let before = Instant::now();
    sleep(Duration::from_millis(2)).await;
    let took = before.elapsed();
    assert!(
        took >= Duration::from_millis(2) && took < Duration::from_millis(25),
        "{took:?}"
    );
}
