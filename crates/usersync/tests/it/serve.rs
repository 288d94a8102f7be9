//! `usersync serve` as shipped: the binary in a child process, over real sockets, with
//! the defences a server on a company network needs against slow and greedy clients.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// A running `usersync serve`; killed when dropped.
struct Served {
    child: Child,
    address: String,
    _dir: TempDir,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `usersync serve` on a free loopback port with at most `open_files`
/// descriptors and `env` set; returns once `/healthz` answers.
fn serve(open_files: u32, env: &[(&str, &str)]) -> Served {
    serve_under(&format!("ulimit -n {open_files}"), env)
}

/// Starts `usersync serve` after the shell command `limits` (a `ulimit` call).
fn serve_under(limits: &str, env: &[(&str, &str)]) -> Served {
    let dir = TempDir::new().expect("data dir");
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let address = format!("127.0.0.1:{port}");
    let child = Command::new("sh")
        .arg("-c")
        .arg(format!("{limits} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_usersync"))
        .args(["serve", "--listen", &address])
        .env("USERSYNC_DATA_DIR", dir.path())
        .env_remove("USERSYNC_MASTER_KEY")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let served = Served {
        child,
        address,
        _dir: dir,
    };
    let start = Instant::now();
    while get(&served.address, "/healthz").is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "usersync serve did not answer within 20 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    served
}

/// A connection, or an error after a second (a server not accepting fills its backlog).
fn connect(address: &str) -> std::io::Result<TcpStream> {
    let address = address.parse().map_err(std::io::Error::other)?;
    TcpStream::connect_timeout(&address, Duration::from_secs(1))
}

/// `GET path` on a fresh connection: the whole answer, or the error.
fn get(address: &str, path: &str) -> std::io::Result<String> {
    let mut stream = connect(address)?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    if answer.is_empty() {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    Ok(answer)
}

#[test]
fn three_hundred_clients_sending_partial_headers_do_not_stop_healthz_answering() {
    // 128 descriptors: the server runs out long before it has accepted 300 sockets, as
    // a host with a default limit does under a slow-client attack of a few thousand.
    let served = serve(128, &[("USERSYNC_HEADER_TIMEOUT_SECS", "1")]);
    let slow: Vec<TcpStream> = (0..300)
        .filter_map(|_| {
            let mut s = connect(&served.address).ok()?;
            s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ").ok()?;
            Some(s)
        })
        .collect();
    let start = Instant::now();
    let mut answer = None;
    while answer.is_none() && start.elapsed() < Duration::from_secs(20) {
        answer = get(&served.address, "/healthz")
            .ok()
            .filter(|a| a.starts_with("HTTP/1.1 200"));
    }
    assert!(
        answer.is_some(),
        "/healthz did not answer within 20 s while 300 clients held partial headers"
    );
    drop(slow);
}

#[test]
fn a_request_whose_body_never_arrives_is_answered_408_after_the_request_timeout() {
    let served = serve(1024, &[("USERSYNC_REQUEST_TIMEOUT_SECS", "1")]);
    let mut stream = connect(&served.address).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    stream
        .write_all(
            b"POST /signin HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
              Content-Length: 100\r\n\r\nusername=a",
        )
        .expect("writes the headers and part of the body");
    let started = Instant::now();
    let mut answer = [0u8; 12];
    stream.read_exact(&mut answer).expect("an answer comes");
    assert_eq!(&answer, b"HTTP/1.1 408");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn connections_beyond_the_limit_wait_until_one_closes() {
    let served = serve(
        1024,
        &[
            ("USERSYNC_MAX_CONNECTIONS", "2"),
            ("USERSYNC_HEADER_TIMEOUT_SECS", "60"),
        ],
    );
    let mut held: Vec<TcpStream> = (0..2)
        .map(|_| {
            let mut s = connect(&served.address).expect("connects");
            s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
                .expect("writes part of the headers");
            s
        })
        .collect();
    // Give the server time to accept both.
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        get(&served.address, "/healthz").is_err(),
        "a third connection was served while two held the limit"
    );
    held.pop();
    let answer = get(&served.address, "/healthz").expect("served once one closed");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[test]
fn sigterm_stops_the_server_gracefully_as_sigint_does() {
    let mut served = serve(1024, &[]);
    let term = Command::new("kill")
        .args(["-TERM", &served.child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(term.success());
    let start = Instant::now();
    let status = loop {
        if let Some(status) = served.child.try_wait().expect("waits") {
            break status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "still running 20 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(
        status.code(),
        Some(0),
        "a graceful stop exits 0; killed by the signal it has no code: {status}"
    );
}

#[test]
fn the_hook_routes_carry_the_security_headers_and_are_counted_in_the_metrics() {
    let served = serve(1024, &[]);
    let answer = get(&served.address, "/hooks/okta/nope").expect("answers");
    let head = answer.split("\r\n\r\n").next().unwrap_or("").to_lowercase();
    for header in [
        "x-frame-options: deny",
        "x-content-type-options: nosniff",
        "content-security-policy:",
    ] {
        assert!(head.contains(header), "no {header:?} in:\n{head}");
    }
    let token = Command::new(env!("CARGO_BIN_EXE_usersync"))
        .args(["token", "create", "metrics", "--scope", "read"])
        .env("USERSYNC_DATA_DIR", served._dir.path())
        .output()
        .expect("token create runs");
    let token = String::from_utf8_lossy(&token.stdout)
        .split_whitespace()
        .find(|w| w.starts_with("ust_"))
        .expect("a token is printed")
        .to_owned();
    let mut stream = connect(&served.address).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("read timeout");
    write!(
        stream,
        "GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    )
    .expect("asks");
    let mut metrics = String::new();
    stream.read_to_string(&mut metrics).expect("reads");
    assert!(
        metrics.contains("/hooks/okta/{app}"),
        "the hook request is not in the metrics:\n{metrics}"
    );
}

/// The soft and hard "Max open files" of a process, from `/proc`.
fn open_files_limits(pid: u32) -> (u64, u64) {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).expect("/proc limits");
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .expect("a Max open files line");
    let numbers: Vec<u64> = line
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    (numbers[0], numbers[1])
}

#[test]
fn serve_raises_its_soft_open_files_limit_to_the_hard_one() {
    let (_, hard) = open_files_limits(std::process::id());
    let soft = 256.min(hard);
    let served = serve_under(&format!("ulimit -S -n {soft}"), &[]);
    let (now_soft, now_hard) = open_files_limits(served.child.id());
    assert_eq!(now_hard, hard, "the hard limit is the host's");
    assert_eq!(
        now_soft, hard,
        "the soft limit of {soft} was raised to the hard limit {hard}"
    );
}
