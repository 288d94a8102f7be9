//! How a run reports its progress, phase by phase, without knowing who listens:
//! the command line draws bars or log lines, the server and scheduler log.

use std::fmt;

/// The phases of a run that take long enough to be worth reporting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    ReadOkta,
    ReadTarget,
    Apply,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ReadOkta => "reading Okta",
            Self::ReadTarget => "reading the target",
            Self::Apply => "applying",
        })
    }
}

/// Receives progress events; implementations must be cheap (they run on the hot path).
pub trait Progress: Send + Sync {
    /// A phase began; `total` is the amount of work when known.
    fn start(&self, phase: Phase, total: Option<u64>);
    /// `done` more units of the phase finished.
    fn advance(&self, phase: Phase, done: u64);
    /// The phase ended, with a one-line summary.
    fn finish(&self, phase: Phase, summary: &str);
}

/// Reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {
    fn start(&self, _: Phase, _: Option<u64>) {}
    fn advance(&self, _: Phase, _: u64) {}
    fn finish(&self, _: Phase, _: &str) {}
}

/// Reports each phase's start and end as `tracing` lines (servers, pipes, CI logs).
#[derive(Debug, Clone, Copy, Default)]
pub struct LogLines;

impl Progress for LogLines {
    fn start(&self, phase: Phase, total: Option<u64>) {
        match total {
            Some(total) => tracing::info!("{phase}: {total} to do"),
            None => tracing::info!("{phase}"),
        }
    }
    fn advance(&self, _: Phase, _: u64) {}
    fn finish(&self, phase: Phase, summary: &str) {
        tracing::info!("{phase}: {summary}");
    }
}
