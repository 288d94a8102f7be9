//! What the operating system says about this process and machine: peak resident
//! memory (`VmHWM`), CPU time, the machine's description and the git commit, read
//! from `/proc` and `git` (Linux; `None` where unavailable).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The largest peak seen before the last [`reset_peak_rss`].
static EARLIER_PEAK: AtomicU64 = AtomicU64::new(0);

/// The peak resident set size of this process since the last [`reset_peak_rss`], in bytes.
#[must_use]
pub fn peak_rss_bytes() -> Option<u64> {
    status_kib("VmHWM:").map(|kib| kib * 1024)
}

/// The peak resident set size over the whole life of this process, in bytes.
#[must_use]
pub fn overall_peak_rss_bytes() -> Option<u64> {
    peak_rss_bytes().map(|now| now.max(EARLIER_PEAK.load(Ordering::Relaxed)))
}

/// Starts a new peak: Linux resets `VmHWM` to the current RSS when `5` is written
/// to `/proc/self/clear_refs`. Returns false where that is not possible.
pub fn reset_peak_rss() -> bool {
    if let Some(peak) = peak_rss_bytes() {
        EARLIER_PEAK.fetch_max(peak, Ordering::Relaxed);
    }
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Measures one phase: this process's CPU time and peak memory from `start` on.
#[derive(Debug)]
pub struct Meter {
    cpu: Option<Duration>,
}

impl Meter {
    #[must_use]
    pub fn start() -> Self {
        reset_peak_rss();
        Self { cpu: process_cpu() }
    }

    /// CPU seconds of every thread of this process since `start`.
    #[must_use]
    pub fn cpu_seconds(&self) -> Option<f64> {
        process_cpu()
            .zip(self.cpu)
            .map(|(now, then)| now.saturating_sub(then).as_secs_f64())
    }

    /// Peak resident memory since `start`, in MiB.
    #[must_use]
    pub fn peak_mib() -> Option<f64> {
        peak_rss_bytes().map(|b| b as f64 / 1024.0 / 1024.0)
    }
}

/// The current resident set size, in bytes.
#[must_use]
pub fn rss_bytes() -> Option<u64> {
    status_kib("VmRSS:").map(|kib| kib * 1024)
}

fn status_kib(field: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = text.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// CPU time of the calling thread (Linux schedstat: nanoseconds on CPU).
#[must_use]
pub fn thread_cpu() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

/// CPU time of the whole process, every thread, user and system (clock ticks of 10 ms,
/// Linux's `USER_HZ` of 100).
#[must_use]
pub fn process_cpu() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may contain spaces.
    let rest = &text[text.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

/// Where the results were measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub memory_gib: f64,
    pub kernel: String,
    pub rustc: String,
}

impl Machine {
    #[must_use]
    pub fn describe() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split(':').nth(1))
            .map_or_else(|| "unknown".to_owned(), |s| s.trim().to_owned());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let mem_kib: f64 = meminfo
            .lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        Self {
            cpu,
            cores: std::thread::available_parallelism().map_or(0, usize::from),
            memory_gib: (mem_kib / 1024.0 / 1024.0 * 10.0).round() / 10.0,
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map_or_else(|_| "unknown".to_owned(), |s| s.trim().to_owned()),
            rustc: command_line("rustc", &["--version"]).unwrap_or_else(|| "unknown".into()),
        }
    }
}

/// The commit the benchmark was built from, with `+dirty` when the tree has changes
/// to tracked files.
#[must_use]
pub fn commit() -> String {
    let head = command_line("git", &["rev-parse", "--short=12", "HEAD"])
        .unwrap_or_else(|| "unknown".into());
    let dirty = std::process::Command::new("git")
        .args(["diff", "--quiet", "HEAD", "--", "crates"])
        .status()
        .map(|s| !s.success())
        .unwrap_or(false);
    if dirty { format!("{head}+dirty") } else { head }
}

fn command_line(program: &str, args: &[&str]) -> Option<String> {
    let out = std::process::Command::new(program)
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_reports_its_peak_memory_and_cpu_time() {
        // Current first: the peak read after it can only be as large or larger.
        let now = rss_bytes().expect("Linux reports VmRSS");
        let peak = peak_rss_bytes().expect("Linux reports VmHWM");
        assert!(peak >= now && now > 0, "peak {peak} now {now}");
        assert!(thread_cpu().is_some() && process_cpu().is_some());
    }
}
