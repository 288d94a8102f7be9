//! The emulators, in a child process of their own.
//!
//! [`serve`] is the child: it generates the org in the Okta emulator, starts an
//! empty Jira emulator, prints a [`Ready`] line and then answers [`Command`]s on
//! stdin. [`Emulators`] is the benchmark's handle on that child. Keeping the
//! emulated org (hundreds of megabytes at 100,000 users) out of the benchmark
//! process is what makes its peak-memory figure usersync's own.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde::de::DeserializeOwned;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout};
use usersync_core::{OktaGroupType, OktaSnapshot, OktaStatus};
use usersync_sim::faults::FaultConfig;
use usersync_sim::jira::{JiraSim, JiraSimConfig};
use usersync_sim::okta::{OktaSim, OktaSimConfig};

use crate::protocol::{Command, Counts, Reply, Shape};
use crate::settings::Args;
use crate::sys;

pub use crate::protocol::Ready;

/// The child's side: runs until `quit` or the end of stdin.
///
/// # Errors
/// When an emulator cannot start or stdout is gone.
pub async fn serve(args: &Args) -> anyhow::Result<()> {
    let started = Instant::now();
    let okta = OktaSim::start(OktaSimConfig {
        org: Some(args.size.org(args.seed)),
        rate_limits: args.rate_limits(),
        faults: latency(args.latency_ms),
        seed: args.seed,
        ..OktaSimConfig::default()
    })
    .await
    .context("starting the Okta emulator")?;
    let generate_seconds = started.elapsed().as_secs_f64();
    let jira = JiraSim::start(JiraSimConfig {
        faults: latency(args.jira_latency_ms),
        // Counts come from the emulator's exact totals; the entries are not needed.
        request_log_capacity: 10_000,
        ..JiraSimConfig::default()
    })
    .await
    .context("starting the Jira emulator")?;
    let ready = Ready {
        okta_url: okta.base_url(),
        okta_token: okta.api_token().to_owned(),
        jira_url: jira.base_url().to_owned(),
        jira_user: jira.admin_username().to_owned(),
        jira_password: jira.admin_password().to_owned(),
        generate_seconds,
    };
    let mut out = tokio::io::stdout();
    write_line(&mut out, &serde_json::to_value(&ready)?).await?;
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut snapshot: Option<OktaSnapshot> = None;
    let mut mark_cpu = Duration::ZERO;
    while let Some(line) = lines.next_line().await? {
        let reply = match serde_json::from_str::<Command>(&line) {
            Ok(Command::Quit) => break,
            Ok(command) => {
                match answer(args, &okta, &jira, &mut snapshot, &mut mark_cpu, command) {
                    Ok(value) => Reply::Ok(value),
                    Err(e) => Reply::Error(format!("{e:#}")),
                }
            }
            Err(e) => Reply::Error(format!("not a command: {e}")),
        };
        write_line(&mut out, &serde_json::to_value(&reply)?).await?;
    }
    okta.shutdown().await;
    Ok(())
}

fn latency(ms: u64) -> FaultConfig {
    FaultConfig {
        latency_ms: ms,
        ..FaultConfig::default()
    }
}

async fn write_line(out: &mut tokio::io::Stdout, value: &serde_json::Value) -> anyhow::Result<()> {
    let mut text = value.to_string();
    text.push('\n');
    out.write_all(text.as_bytes()).await?;
    out.flush().await?;
    Ok(())
}

fn answer(
    args: &Args,
    okta: &OktaSim,
    jira: &JiraSim,
    snapshot: &mut Option<OktaSnapshot>,
    mark_cpu: &mut Duration,
    command: Command,
) -> anyhow::Result<serde_json::Value> {
    let value = match command {
        Command::Limits { enabled } => {
            okta.set_rate_limits(if enabled {
                args.rate_limits()
            } else {
                args.no_limits()
            });
            serde_json::Value::Null
        }
        Command::Mark => {
            okta.clear_requests();
            jira.clear_requests();
            *mark_cpu = sys::process_cpu().unwrap_or_default();
            serde_json::Value::Null
        }
        Command::Counts => {
            let mut c = counts(okta, jira);
            let now = sys::process_cpu().unwrap_or_default();
            c.emulator_cpu_seconds = now.saturating_sub(*mark_cpu).as_secs_f64();
            serde_json::to_value(c)?
        }
        Command::Shape => {
            serde_json::to_value(shape(snapshot.get_or_insert_with(|| okta.snapshot())))?
        }
        Command::ChangeOneUser => {
            let snap = snapshot.get_or_insert_with(|| okta.snapshot());
            serde_json::Value::String(change_one_user(okta, snap)?)
        }
        Command::ChangeMany { users, memberships } => {
            let snap = snapshot.get_or_insert_with(|| okta.snapshot());
            serde_json::Value::from(change_many(okta, snap, users, memberships)?)
        }
        Command::Memory => serde_json::json!({ "peak_rss_bytes": sys::peak_rss_bytes() }),
        Command::Quit => serde_json::Value::Null,
    };
    Ok(value)
}

fn counts(okta: &OktaSim, jira: &JiraSim) -> Counts {
    let mut c = Counts::default();
    for r in okta.requests() {
        c.okta_requests += 1;
        c.okta_429 += u64::from(r.status == 429);
        *c.okta_by_bucket
            .entry(format!("{:?}", r.bucket))
            .or_default() += 1;
    }
    // Exact totals: the emulator keeps only the newest requests themselves, and a
    // 100k first sync sends over a million.
    let jira = jira.request_totals();
    c.jira_reads = jira.with_method("GET");
    c.jira_writes = jira.total() - c.jira_reads;
    c.jira_errors = jira.with_status_at_least(400);
    c
}

fn shape(snap: &OktaSnapshot) -> Shape {
    let listed = snap
        .users
        .iter()
        .filter(|u| u.status != OktaStatus::Deprovisioned)
        .count();
    let member_counts: Vec<u64> = snap
        .groups
        .iter()
        .map(|g| snap.memberships.get(&g.id).map_or(0, |m| m.len() as u64))
        .collect();
    let okta_group_member_counts = snap
        .groups
        .iter()
        .zip(&member_counts)
        .filter(|(g, _)| g.kind == OktaGroupType::OktaGroup)
        .map(|(_, m)| *m)
        .collect();
    Shape {
        okta_group_member_counts,
        users: snap.users.len() as u64,
        users_listed_by_default: listed as u64,
        groups: snap.groups.len() as u64,
        memberships: member_counts.iter().sum(),
        member_counts,
    }
}

/// Adds the first active user to the first Okta-managed group they are not in.
fn change_one_user(okta: &OktaSim, snap: &mut OktaSnapshot) -> anyhow::Result<String> {
    for user in snap.users.iter().filter(|u| u.status == OktaStatus::Active) {
        let group = snap.groups.iter().find(|g| {
            g.kind == OktaGroupType::OktaGroup
                && !snap
                    .memberships
                    .get(&g.id)
                    .is_some_and(|m| m.contains(&user.id))
        });
        if let Some(group) = group {
            okta.add_member(group.id.as_str(), user.id.as_str())?;
            if snap.memberships.contains_key(&group.id) {
                snap.memberships.add_member(&group.id, user.id.clone());
            }
            return Ok(user.login.clone());
        }
    }
    bail!("no active user is missing from an Okta-managed group")
}

/// Changes the profile of `users` active users, then adds `memberships` further
/// active users to an Okta group each is not in; the number of changes made.
fn change_many(
    okta: &OktaSim,
    snap: &mut OktaSnapshot,
    users: u64,
    memberships: u64,
) -> anyhow::Result<u64> {
    let active: Vec<_> = snap
        .users
        .iter()
        .filter(|u| u.status == OktaStatus::Active)
        .map(|u| u.id.clone())
        .collect();
    let mut made = 0;
    let mut rest = active.iter();
    for id in rest.by_ref().take(usize::try_from(users)?) {
        let changes = std::collections::BTreeMap::from([(
            "lastName".to_owned(),
            serde_json::Value::from(format!("Changed{made}")),
        )]);
        okta.update_profile(id.as_str(), changes)?;
        made += 1;
    }
    let mut added = 0;
    for id in rest {
        if added == memberships {
            break;
        }
        let group = snap.groups.iter().find(|g| {
            g.kind == OktaGroupType::OktaGroup
                && !snap.memberships.get(&g.id).is_some_and(|m| m.contains(id))
        });
        if let Some(group) = group {
            okta.add_member(group.id.as_str(), id.as_str())?;
            if snap.memberships.contains_key(&group.id) {
                snap.memberships.add_member(&group.id, id.clone());
            }
            added += 1;
        }
    }
    Ok(made + added)
}

/// The benchmark's handle on the emulator process.
pub struct Emulators {
    child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
    pub ready: Ready,
}

impl Emulators {
    /// Starts `usersync-bench emulators ...` (this same binary) and waits until it is ready.
    ///
    /// # Errors
    /// When the child cannot start or says something unexpected.
    pub async fn start(args: &Args) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("finding this program")?;
        let mut child = tokio::process::Command::new(exe)
            .arg("--emulators")
            .args(child_args(args))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .context("starting the emulator process")?;
        let stdin = child
            .stdin
            .take()
            .context("the emulator process has no stdin")?;
        let stdout = child
            .stdout
            .take()
            .context("the emulator process has no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let first = lines
            .next_line()
            .await?
            .context("the emulator process ended before it was ready")?;
        let ready: Ready =
            serde_json::from_str(&first).context("reading the emulators' address")?;
        Ok(Self {
            child,
            stdin,
            lines,
            ready,
        })
    }

    /// Sends one command and decodes its answer.
    ///
    /// # Errors
    /// When the child is gone or answers with an error.
    pub async fn call<T: DeserializeOwned>(&mut self, command: &Command) -> anyhow::Result<T> {
        let mut text = serde_json::to_string(command)?;
        text.push('\n');
        self.stdin.write_all(text.as_bytes()).await?;
        self.stdin.flush().await?;
        let line =
            self.lines.next_line().await?.with_context(|| {
                format!("the emulator process ended while answering {command:?}")
            })?;
        match serde_json::from_str::<Reply>(&line)? {
            Reply::Ok(value) => Ok(serde_json::from_value(value)?),
            Reply::Error(e) => bail!("the emulators could not {command:?}: {e}"),
        }
    }

    /// Starts counting a new phase with the given Okta limits.
    ///
    /// # Errors
    /// When the child is gone.
    pub async fn begin_phase(&mut self, limits_on: bool) -> anyhow::Result<()> {
        self.call::<serde_json::Value>(&Command::Limits { enabled: limits_on })
            .await?;
        self.call::<serde_json::Value>(&Command::Mark).await?;
        Ok(())
    }

    /// # Errors
    /// When the child is gone.
    pub async fn counts(&mut self) -> anyhow::Result<Counts> {
        self.call(&Command::Counts).await
    }

    /// The child's peak memory in bytes.
    ///
    /// # Errors
    /// When the child is gone.
    pub async fn peak_rss(&mut self) -> anyhow::Result<Option<u64>> {
        let v: BTreeMap<String, Option<u64>> = self.call(&Command::Memory).await?;
        Ok(v.get("peak_rss_bytes").copied().flatten())
    }

    /// Asks the child to stop and waits for it.
    pub async fn stop(mut self) {
        let _ = self.stdin.write_all(b"{\"cmd\":\"quit\"}\n").await;
        let _ = self.child.wait().await;
    }
}

/// The settings the child needs, as command-line arguments.
fn child_args(args: &Args) -> Vec<String> {
    vec![
        "--limit-scale".into(),
        args.limit_scale().to_string(),
        "--size".into(),
        args.size.label().into(),
        "--latency-ms".into(),
        args.latency_ms.to_string(),
        "--jira-latency-ms".into(),
        args.jira_latency_ms.to_string(),
        "--okta-concurrency-limit".into(),
        args.okta_concurrency_limit.to_string(),
        "--seed".into(),
        args.seed.to_string(),
    ]
}
