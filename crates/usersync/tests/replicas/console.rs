//! The console across replicas: a session and its CSRF token live in the database, so
//! a sign-in on one replica holds on the others, and a sign-out ends it everywhere.

use std::io::Write as _;
use std::process::{Command, Stdio};

use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use usersync_testkit::DataDir;

use crate::harness::Cluster;

const PASSWORD: &str = "replica-admin-password-9x";

fn create_admin(data: &std::path::Path) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_usersync"))
        .args(["admin", "create", "alice"])
        .env("USERSYNC_DATA_DIR", data)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("the binary runs");
    writeln!(child.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    assert!(child.wait().unwrap().success(), "admin create");
}

/// The value of cookie `name` set by `answer`.
fn set_cookie(answer: &reqwest::Response, name: &str) -> Option<String> {
    answer
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_and_its_csrf_token_made_on_one_replica_hold_on_the_others() {
    let dir = DataDir::new();
    drop(dir.open().await);
    create_admin(dir.path());
    let cluster = Cluster::start(dir.path(), 3).await;
    let [a, b, c] = [0, 1, 2].map(|i| cluster.replicas[i].base.clone());
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    // The sign-in form's token comes from replica a; the sign-in goes to replica b.
    let form = http.get(format!("{a}/signin")).send().await.unwrap();
    let pre = set_cookie(&form, "usersync_csrf").expect("a form token cookie");
    let signed_in = http
        .post(format!("{b}/signin"))
        .header(COOKIE, format!("usersync_csrf={pre}"))
        .form(&[
            ("csrf", pre.as_str()),
            ("username", "alice"),
            ("password", PASSWORD),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let session = set_cookie(&signed_in, "usersync_session").expect("a session cookie");
    let cookie = format!("usersync_session={session}");

    // Replica c knows the session and shows its CSRF token.
    let page = http
        .get(format!("{c}/"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    let token = html
        .split(r#"name="csrf" value=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page carries the session's CSRF token")
        .to_owned();

    // Replica a refuses a state change without the token and accepts it with it.
    let refused = http
        .post(format!("{a}/signout"))
        .header(COOKIE, &cookie)
        .header("x-csrf-token", "not-the-token")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let signed_out = http
        .post(format!("{a}/signout"))
        .header(COOKIE, &cookie)
        .header("x-csrf-token", &token)
        .send()
        .await
        .unwrap();
    assert!(
        signed_out.status().is_redirection(),
        "{}",
        signed_out.status()
    );
    assert!(signed_out.headers().contains_key(LOCATION));

    // The session is gone on every replica.
    for base in [&a, &b, &c] {
        let after = http
            .get(format!("{base}/api/v1/apps"))
            .header(COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(after.status(), StatusCode::UNAUTHORIZED, "{base}");
    }
}
