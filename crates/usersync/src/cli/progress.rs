//! Progress for the command line: one indicatif bar per phase when stderr is a
//! terminal, plain log lines otherwise (pipes, CI logs, files).

use std::collections::HashMap;
use std::io::IsTerminal as _;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::engine::progress::{LogLines, Phase, Progress};

/// The progress reporter that suits where stderr goes.
#[must_use]
pub fn for_stderr() -> Arc<dyn Progress> {
    if std::io::stderr().is_terminal() {
        Arc::new(Bars::new())
    } else {
        Arc::new(LogLines)
    }
}

/// One bar (or spinner, when the total is unknown) per phase.
pub struct Bars {
    multi: MultiProgress,
    bars: Mutex<HashMap<Phase, ProgressBar>>,
}

impl Bars {
    #[must_use]
    pub fn new() -> Self {
        Self {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            bars: Mutex::new(HashMap::new()),
        }
    }

    fn bar(&self, phase: Phase) -> Option<ProgressBar> {
        self.bars
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&phase)
            .cloned()
    }
}

impl Default for Bars {
    fn default() -> Self {
        Self::new()
    }
}

impl Progress for Bars {
    fn start(&self, phase: Phase, total: Option<u64>) {
        let bar = match total {
            Some(total) => {
                let bar = ProgressBar::new(total);
                if let Ok(style) =
                    ProgressStyle::with_template("{msg:20} [{bar:30}] {pos}/{len} ({elapsed})")
                {
                    bar.set_style(style.progress_chars("=> "));
                }
                bar
            }
            None => {
                let bar = ProgressBar::new_spinner();
                if let Ok(style) =
                    ProgressStyle::with_template("{msg:20} {spinner} {pos} ({elapsed})")
                {
                    bar.set_style(style);
                }
                bar.enable_steady_tick(Duration::from_millis(120));
                bar
            }
        };
        bar.set_message(phase.to_string());
        let bar = self.multi.add(bar);
        self.bars
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(phase, bar);
    }

    fn advance(&self, phase: Phase, done: u64) {
        if let Some(bar) = self.bar(phase) {
            bar.inc(done);
        }
    }

    fn finish(&self, phase: Phase, summary: &str) {
        if let Some(bar) = self.bar(phase) {
            bar.finish_with_message(format!("{phase}: {summary}"));
        }
    }
}
