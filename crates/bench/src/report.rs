//! The results of one benchmark run, and how they are written: a Markdown table
//! for people and JSON for comparing commits, both in `bench/results/`, named by
//! size (the latest run) and by size, date and commit (kept).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use crate::bound::Bound;
use crate::settings::Args;
use crate::sys::{Machine, Meter};

/// One measured phase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Phase {
    pub name: String,
    pub wall_seconds: f64,
    /// CPU time: of the planning thread for planning, else of the whole benchmark
    /// process (usersync's side) during the phase.
    pub cpu_seconds: Option<f64>,
    /// CPU time of the emulator process during the phase.
    pub emulator_cpu_seconds: Option<f64>,
    /// Peak resident memory of usersync's side during the phase.
    pub peak_rss_mib: Option<f64>,
    pub okta_requests: Option<u64>,
    pub okta_429: Option<u64>,
    pub target_reads: Option<u64>,
    pub target_writes: Option<u64>,
    pub bound: Option<Bound>,
    /// What the phase must achieve, in words, and whether it did.
    pub target: Option<Target>,
    pub notes: Vec<String>,
}

impl Phase {
    #[must_use]
    pub fn new(name: &str, wall_seconds: f64) -> Self {
        Self {
            name: name.to_owned(),
            wall_seconds,
            cpu_seconds: None,
            emulator_cpu_seconds: None,
            peak_rss_mib: None,
            okta_requests: None,
            okta_429: None,
            target_reads: None,
            target_writes: None,
            bound: None,
            target: None,
            notes: Vec::new(),
        }
    }

    /// Fills in what `meter` saw (keeping a CPU time already set, e.g. planning's).
    #[must_use]
    pub fn metered(mut self, meter: &Meter, emulator_cpu_seconds: Option<f64>) -> Self {
        self.cpu_seconds = self.cpu_seconds.or_else(|| meter.cpu_seconds());
        self.emulator_cpu_seconds = emulator_cpu_seconds;
        self.peak_rss_mib = Meter::peak_mib();
        self
    }

    #[must_use]
    pub fn ratio(&self) -> Option<f64> {
        self.bound.as_ref()?.ratio(self.wall_seconds)
    }
}

/// A target from the issue and whether this run met it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Target {
    pub text: String,
    pub met: bool,
}

impl Target {
    #[must_use]
    pub fn new(text: impl Into<String>, met: bool) -> Self {
        Self {
            text: text.into(),
            met,
        }
    }
}

/// The official-SDK script beside usersync on the same emulator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeerRun {
    pub label: String,
    /// Measured seconds, or projected when the script hit its deadline.
    pub seconds: f64,
    pub projected: bool,
    pub requests: u64,
    pub okta_429: u64,
    pub users: u64,
    pub groups: u64,
    pub memberships: u64,
    /// usersync's time for the same read, and `peer / usersync`.
    pub usersync_seconds: f64,
    pub speedup: f64,
}

/// Everything one run measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Results {
    pub size: String,
    pub date: String,
    pub commit: String,
    pub machine: Machine,
    pub settings: Args,
    pub org: OrgFacts,
    pub phases: Vec<Phase>,
    pub peers: Vec<PeerRun>,
    /// Peak resident memory of the benchmark process (usersync's side only: the
    /// reads and the planning phase).
    pub peak_rss_mib: Option<f64>,
    /// The largest peak of the sync phases' child processes: a whole sync's memory.
    #[serde(default)]
    pub sync_peak_rss_mib: Option<f64>,
    /// Peak resident memory of the emulator process, for reference.
    pub emulator_peak_rss_mib: Option<f64>,
    pub total_seconds: f64,
    pub targets: Vec<Target>,
}

/// The generated org.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OrgFacts {
    pub users: u64,
    pub groups: u64,
    pub memberships: u64,
    pub generate_seconds: f64,
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

fn secs(s: f64) -> String {
    if s >= 100.0 {
        format!("{s:.0} s")
    } else if s >= 1.0 {
        format!("{s:.2} s")
    } else {
        format!("{:.0} ms", s * 1000.0)
    }
}

impl Results {
    /// The Markdown report.
    #[must_use]
    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let s = &self.settings;
        let _ = writeln!(md, "# usersync benchmark: {} users\n", self.org.users);
        let _ = writeln!(
            md,
            "- date: {}\n- commit: `{}`\n- machine: {} ({} cores, {} GiB), Linux {}, {}",
            self.date,
            self.commit,
            self.machine.cpu,
            self.machine.cores,
            self.machine.memory_gib,
            self.machine.kernel,
            self.machine.rustc
        );
        let _ = writeln!(
            md,
            "- org: {} users, {} groups, {} memberships (generated in {})",
            self.org.users,
            self.org.groups,
            self.org.memberships,
            secs(self.org.generate_seconds)
        );
        let _ = writeln!(
            md,
            "- settings: Okta latency {} ms, Jira latency {} ms, rate limits x{} of Okta Workforce, share {}, Okta concurrency limit {}, client concurrency {}, apply concurrency {}, member page size {}",
            s.latency_ms,
            s.jira_latency_ms,
            s.limit_scale(),
            s.share,
            s.okta_concurrency_limit,
            s.effective_client_concurrency(),
            s.apply_concurrency,
            s.member_page_size
        );
        let phases: Vec<String> = s.phases.iter().map(ToString::to_string).collect();
        let _ = writeln!(md, "- phases run: {}", phases.join(", "));
        let _ = writeln!(
            md,
            "- peak memory: reads and planning (benchmark process) {} MiB; a whole sync (its own process) {} MiB; emulators {} MiB. Whole run {}\n",
            opt(self.peak_rss_mib.map(|m| format!("{m:.0}"))),
            opt(self.sync_peak_rss_mib.map(|m| format!("{m:.0}"))),
            opt(self.emulator_peak_rss_mib.map(|m| format!("{m:.0}"))),
            secs(self.total_seconds)
        );
        self.phase_table(&mut md);
        self.peer_table(&mut md);
        md.push_str("\n## Targets\n\n");
        for t in &self.targets {
            let _ = writeln!(md, "- [{}] {}", if t.met { "x" } else { " " }, t.text);
        }
        md
    }

    fn phase_table(&self, md: &mut String) {
        md.push_str("| phase | wall | usersync CPU | emulator CPU | peak memory | Okta requests | 429s | target reads | target writes | lower bound (binding) | measured / bound |\n");
        md.push_str("|---|---|---|---|---|---|---|---|---|---|---|\n");
        for p in &self.phases {
            let bound = p.bound.as_ref().map_or_else(
                || "-".to_owned(),
                |b| format!("{} ({})", secs(b.seconds), b.binding),
            );
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                p.name,
                secs(p.wall_seconds),
                opt(p.cpu_seconds.map(secs)),
                opt(p.emulator_cpu_seconds.map(secs)),
                opt(p.peak_rss_mib.map(|m| format!("{m:.0} MiB"))),
                opt(p.okta_requests),
                opt(p.okta_429),
                opt(p.target_reads),
                opt(p.target_writes),
                bound,
                opt(p.ratio().map(|r| format!("{r:.2}x")))
            );
        }
        let notes: Vec<String> = self
            .phases
            .iter()
            .flat_map(|p| p.notes.iter().map(move |n| format!("- {}: {n}", p.name)))
            .collect();
        if !notes.is_empty() {
            let _ = writeln!(md, "\n{}", notes.join("\n"));
        }
    }

    fn peer_table(&self, md: &mut String) {
        if self.peers.is_empty() {
            return;
        }
        md.push_str("\n## Against Okta's official Python SDK (`okta` 3.4.6), same emulator and settings\n\n");
        md.push_str("| read | SDK script | usersync | SDK / usersync | SDK requests | SDK 429s | SDK saw (users / groups / memberships) |\n");
        md.push_str("|---|---|---|---|---|---|---|\n");
        for p in &self.peers {
            let _ = writeln!(
                md,
                "| {} | {}{} | {} | {:.1}x | {} | {} | {} / {} / {} |",
                p.label,
                secs(p.seconds),
                if p.projected { " (projected)" } else { "" },
                secs(p.usersync_seconds),
                p.speedup,
                p.requests,
                p.okta_429,
                p.users,
                p.groups,
                p.memberships
            );
        }
    }

    /// Writes `<size>.md`/`.json` (latest) and a dated copy of the JSON.
    ///
    /// # Errors
    /// When the directory or a file cannot be written.
    pub fn write(&self, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let json = serde_json::to_string_pretty(self)?;
        let stamp = self.date.replace([':', '-'], "").replace('T', "-");
        let stamp = stamp.trim_end_matches('Z');
        let files = [
            (dir.join(format!("{}.md", self.size)), self.markdown()),
            (dir.join(format!("{}.json", self.size)), json.clone()),
            (
                dir.join("history")
                    .join(format!("{}-{stamp}-{}.json", self.size, self.commit)),
                json,
            ),
        ];
        let mut written = Vec::new();
        for (path, text) in files {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
            written.push(path);
        }
        Ok(written)
    }
}
