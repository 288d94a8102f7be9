//! Measures the Jira emulator's CPU per request at a given org size.
//!
//! Seeds `--users` users, `--groups` groups and `--per-user` memberships per user
//! straight into the state (no HTTP), then sends a first-sync-like stream of writes
//! (one `POST /user` then `--per-user` `POST /group/user` per new user) and the
//! reads of a no-op sync (`/user/list` to the end, every member page of
//! `--read-groups` groups) over HTTP with 8 requests in flight. The emulator runs on
//! a runtime of its own whose threads are named, so the CPU they use (from
//! `/proc/self/task`) is the emulator's alone, not the client's.
//!
//! `cargo run --release -p usersync-sim --example jira_load -- 100000 10000 10 2000 200`
//! (users, groups, memberships per user, new users to write, groups to read).

use std::time::{Duration, Instant};

use futures::StreamExt as _;
use usersync_sim::jira::{JiraSim, JiraSimConfig, SeedUser};

const SERVER_THREAD: &str = "jira-sim-load";

/// CPU used so far by the threads named [`SERVER_THREAD`] (Linux only).
fn server_cpu() -> Duration {
    let ticks = 100.0; // USER_HZ on Linux
    let mut total = 0u64;
    for task in std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
    {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        let Some((head, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        if !head.contains(SERVER_THREAD) {
            continue;
        }
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // After the command come state (index 0) ... utime (11) and stime (12).
        let number = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<u64>().ok())
                .unwrap_or(0)
        };
        total += number(11) + number(12);
    }
    Duration::from_secs_f64(total as f64 / ticks)
}

fn arg(n: usize, default: usize) -> usize {
    std::env::args()
        .nth(n)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

fn group_name(i: usize) -> String {
    format!("group-{i:05}")
}

/// The `k`th group of user `u` among `groups`: long-tailed like the bench's Okta
/// org (the first groups are far bigger than the last).
fn pick(u: usize, k: usize, salt: usize, groups: usize) -> usize {
    let h = (u.wrapping_mul(2_654_435_761) ^ k.wrapping_mul(40_503) ^ salt) % 1_000_003;
    let x = h as f64 / 1_000_003.0;
    ((x * x * groups as f64) as usize).min(groups - 1)
}

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    async fn send(&self, method: reqwest::Method, path: String, body: Option<serde_json::Value>) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .basic_auth("admin", Some("admin"));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the emulator answers");
        let status = response.status();
        let _ = response.bytes().await;
        assert!(status.is_success(), "{path}: {status}");
    }
}

async fn run_phase(
    name: &str,
    requests: Vec<(reqwest::Method, String, Option<serde_json::Value>)>,
    client: &Client,
) {
    let count = requests.len();
    let cpu = server_cpu();
    let started = Instant::now();
    futures::stream::iter(requests)
        .for_each_concurrent(8, |(m, p, b)| client.send(m, p, b))
        .await;
    let used = server_cpu().saturating_sub(cpu);
    println!(
        "{name}: {count} requests in {:.1} s, emulator CPU {:.2} s = {:.0} us per request",
        started.elapsed().as_secs_f64(),
        used.as_secs_f64(),
        used.as_secs_f64() * 1e6 / count.max(1) as f64
    );
}

fn main() -> anyhow::Result<()> {
    let (users, groups, per_user, new_users, read_groups) = (
        arg(1, 10_000),
        arg(2, 1_000),
        arg(3, 10),
        arg(4, 2_000),
        arg(5, 100),
    );
    let server = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(SERVER_THREAD)
        .enable_all()
        .build()?;
    let sim = server.block_on(JiraSim::start(JiraSimConfig::default()))?;
    let started = Instant::now();
    for g in 0..groups {
        sim.add_group(&group_name(g))?;
    }
    for u in 0..users {
        let name = format!("seed{u:06}");
        sim.add_user(&SeedUser::new(&name))?;
        for k in 0..per_user {
            sim.add_member(&group_name(pick(u, k, 1, groups)), &name)
                .ok();
        }
    }
    println!(
        "seeded {users} users, {groups} groups in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let client = Client {
        http: reqwest::Client::new(),
        base: format!("{}/rest/api/2", sim.base_url()),
    };
    let client_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    client_rt.block_on(async {
        let mut writes = Vec::new();
        for u in 0..new_users {
            let name = format!("new{u:06}");
            let body = serde_json::json!({"name": name, "displayName": format!("New {u}"),
                "emailAddress": format!("{name}@example.com"), "password": "x"});
            writes.push((reqwest::Method::POST, "/user".to_owned(), Some(body)));
        }
        run_phase("user creates", writes, &client).await;
        let mut adds = Vec::new();
        for u in 0..new_users {
            let mut mine = std::collections::BTreeSet::new();
            for k in 0..per_user {
                if !mine.insert(pick(u, k, 2, groups)) {
                    continue;
                }
                let g = group_name(pick(u, k, 2, groups));
                adds.push((
                    reqwest::Method::POST,
                    format!("/group/user?groupname={g}"),
                    Some(serde_json::json!({"name": format!("new{u:06}")})),
                ));
            }
        }
        run_phase("member adds", adds, &client).await;
        let mut reads = Vec::new();
        for page in 0..(users + new_users).div_ceil(1000) {
            let start = page * 1000;
            reads.push((
                reqwest::Method::GET,
                format!("/user/search?username=.&includeActive=true&includeInactive=true&startAt={start}&maxResults=1000"),
                None,
            ));
        }
        reads.push((reqwest::Method::GET, "/groups/picker?query=&maxResults=100000".to_owned(), None));
        for g in (0..groups).step_by((groups / read_groups.max(1)).max(1)) {
            let members = sim.members(&group_name(g)).len();
            for start in (0..members.max(1)).step_by(50) {
                reads.push((
                    reqwest::Method::GET,
                    format!("/group/member?groupname={}&includeInactiveUsers=true&startAt={start}&maxResults=50", group_name(g)),
                    None,
                ));
            }
        }
        run_phase("reads", reads, &client).await;
    });
    println!("request log holds {} entries", sim.request_count());
    Ok(())
}
