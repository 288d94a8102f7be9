//! The world a browser test runs in: the emulators, a store in a temporary
//! directory, the usersync server on a free loopback port, chromedriver on
//! another, and a Chromium session with its own throw-away profile.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use tempfile::TempDir;
use tokio::sync::oneshot;
use usersync::engine::{Deps, Silent};
use usersync::serve::{ServeArgs, Server, TriggersConfig};
use usersync_sim::jira::JiraSim;
use usersync_sim::okta::OktaSim;
use usersync_testkit::{DataDir, Sims, small_org};

/// How long to wait for anything in the browser (generous: a loaded 2-core box).
pub const PATIENCE: Duration = Duration::from_secs(90);
pub const JIRA_PASSWORD: &str = "jira-SECRET-admin-password";

fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// Chromium and chromedriver, or `None` (a failure when `CI` is set).
pub fn browser_binaries() -> Option<(PathBuf, PathBuf)> {
    let chromium = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .or_else(|| on_path(&["chromium", "chromium-browser"]));
    let driver = std::env::var_os("CHROMEDRIVER")
        .map(PathBuf::from)
        .or_else(|| on_path(&["chromedriver"]));
    let found = chromium.zip(driver);
    let how = "install Debian's chromium and chromium-driver (scripts/test.sh does)";
    if usersync_testkit::needed("chromium or chromedriver", found.is_some(), how) {
        found
    } else {
        None
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// chromedriver, killed when dropped.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Everything one browser test uses.
pub struct World {
    pub okta: OktaSim,
    pub jira: JiraSim,
    pub base: String,
    pub client: Client,
    /// The one-time code the setup page asks for (`serve` prints it in its log).
    pub setup_code: String,
    stop: Option<oneshot::Sender<()>>,
    _driver: Driver,
    _data: DataDir,
    _profile: TempDir,
}

impl World {
    pub async fn start(chromium: &Path, chromedriver: &Path) -> World {
        usersync::telemetry::init_for_tests();
        let Sims { okta, jira } =
            Sims::with_jira_password(small_org(40, 4, 5), JIRA_PASSWORD).await;
        let data = DataDir::new();
        let store = data.open().await;
        let setup_code = store
            .setup_code()
            .await
            .expect("store")
            .expect("no administrator yet");
        let mut deps = Deps::new(store);
        deps.progress = std::sync::Arc::new(Silent);
        let args = ServeArgs {
            listen: "127.0.0.1:0".parse().unwrap(),
            ..ServeArgs::default()
        };
        let app = Server::bind(deps, &args, TriggersConfig::default())
            .await
            .expect("server binds");
        let base = format!("http://127.0.0.1:{}", app.port());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(app.run_until_stopped(async move {
            let _ = stopped.await;
        }));
        let port = free_port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let driver = Driver(driver);
        let profile = TempDir::new().expect("profile dir");
        let client = connect(port, chromium, profile.path()).await;
        client
            .set_window_size(1280, 1000)
            .await
            .expect("window size");
        World {
            okta,
            jira,
            base,
            client,
            setup_code,
            stop: Some(stop),
            _driver: driver,
            _data: data,
            _profile: profile,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn goto(&self, path: &str) {
        self.client.goto(&self.url(path)).await.expect("navigates");
    }

    pub async fn fill(&self, id: &str, text: &str) {
        let field = self
            .client
            .find(Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("field #{id}: {e}"));
        field.clear().await.expect("clears");
        field.send_keys(text).await.expect("types");
    }

    pub async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .click()
            .await
            .expect("clicks");
    }

    /// Accepts the confirmation a click just asked for (forms with `data-confirm`).
    pub async fn accept_confirmation(&self) {
        let start = Instant::now();
        while let Err(e) = self.client.accept_alert().await {
            assert!(
                start.elapsed() < PATIENCE,
                "no confirmation was asked for: {e}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the element matching `css` contains `text`; returns its text.
    pub async fn wait_for_text(&self, css: &str, text: &str) -> String {
        let start = Instant::now();
        loop {
            if let Ok(el) = self.client.find(Locator::Css(css)).await
                && let Ok(t) = el.text().await
                && t.contains(text)
            {
                return t;
            }
            if start.elapsed() > PATIENCE {
                let source = self.client.source().await.unwrap_or_default();
                panic!("{css} never showed {text:?}; the page is:\n{source}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub async fn wait_for(&self, css: &str) {
        crate::chromium::wait_for_element(&self.client, css, PATIENCE).await;
    }

    /// Saves a screenshot as `target/screenshots/<name>.png`.
    /// The rendered widths (CSS pixels) of the first element matching each of `css`,
    /// with the window `width` pixels wide; the window is put back to 1280 after.
    pub async fn widths_at(&self, width: u32, css: &[&str]) -> Vec<f64> {
        self.client
            .set_window_size(width, 1000)
            .await
            .expect("resizes the window");
        let mut widths = Vec::new();
        for selector in css {
            let width = self
                .client
                .execute(
                    "var e = document.querySelector(arguments[0]); return e ? e.getBoundingClientRect().width : 0;",
                    vec![serde_json::json!(selector)],
                )
                .await
                .expect("measures an element");
            widths.push(width.as_f64().unwrap_or(0.0));
        }
        self.client
            .set_window_size(1280, 1000)
            .await
            .expect("resizes the window back");
        widths
    }

    pub async fn screenshot(&self, name: &str) {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("screenshot saved");
    }

    pub async fn source(&self) -> String {
        self.client.source().await.expect("page source")
    }

    pub async fn stop(mut self) {
        let _ = self.client.clone().close().await;
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn connect(port: u16, chromium: &Path, profile: &Path) -> Client {
    let caps = crate::chromium::capabilities(chromium, profile);
    let start = Instant::now();
    loop {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let attempt = ClientBuilder::new(connector)
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await;
        match attempt {
            Ok(client) => return client,
            Err(e) if start.elapsed() > Duration::from_secs(60) => {
                panic!("could not start a Chromium session: {e}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}
