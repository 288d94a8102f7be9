//! `scim2-server` (PyPI): a SCIM 2.0 server nobody here wrote, in memory, started
//! as a child process on a free loopback port for contract and end-to-end tests.
//! Under the rule of [`crate::needed`]: missing, it fails the test in CI and skips
//! it elsewhere.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `scim2-server`; killed when dropped.
#[derive(Debug)]
pub struct ScimServer {
    child: Child,
    base_url: String,
    token: String,
    /// Kept so a custom `--service-provider-config` file lives as long as the server.
    _config: Option<tempfile::NamedTempFile>,
}

/// The `scim2-server` command: on PATH, or in the Python scripts directory pip uses.
fn command() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("scim2-server"))
            .find(|p| p.is_file())
    });
    on_path.or_else(|| {
        let out = Command::new("python3")
            .args([
                "-c",
                "import sysconfig; print(sysconfig.get_path('scripts'))",
            ])
            .output()
            .ok()?;
        let dir = String::from_utf8(out.stdout).ok()?;
        Some(PathBuf::from(dir.trim()).join("scim2-server")).filter(|p| p.is_file())
    })
}

impl ScimServer {
    /// Starts it with every feature its default `/ServiceProviderConfig` announces
    /// (PATCH, filters, ETags); `None` when it is not installed and `CI` is unset.
    ///
    /// # Panics
    /// When it is missing in CI, or does not answer within a minute.
    #[must_use]
    pub fn start() -> Option<Self> {
        Self::start_with(None)
    }

    /// Starts it announcing `service_provider_config` (JSON), e.g. PATCH unsupported.
    ///
    /// # Panics
    /// As [`ScimServer::start`].
    #[must_use]
    pub fn start_with(service_provider_config: Option<&str>) -> Option<Self> {
        let how = "install it with `python3 -m pip install scim2-server` (scripts/test.sh does)";
        let cmd = command();
        if !crate::needed("the scim2-server command", cmd.is_some(), how) {
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let token = "scim2-server-test-token".to_owned();
        let mut args = vec![
            "--hostname".to_owned(),
            "127.0.0.1".to_owned(),
            "--port".to_owned(),
            port.to_string(),
            "--bearer-token".to_owned(),
            token.clone(),
        ];
        let config = service_provider_config.map(|json| {
            let file = tempfile::NamedTempFile::new().expect("a temporary file");
            std::fs::write(file.path(), json).expect("writing the configuration");
            args.push("--service-provider-config".to_owned());
            args.push(file.path().display().to_string());
            file
        });
        let child = Command::new(cmd.expect("checked above"))
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("scim2-server starts");
        let server = Self {
            child,
            base_url: format!("http://127.0.0.1:{port}"),
            token,
            _config: config,
        };
        server.wait_ready();
        Some(server)
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let addr = format!(
            "127.0.0.1:{}",
            self.base_url.rsplit(':').next().unwrap_or("")
        );
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(&addr).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("scim2-server did not listen on {addr} within a minute");
    }

    #[must_use]
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    #[must_use]
    pub fn token(&self) -> &str {
        &self.token
    }
}

impl Drop for ScimServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
