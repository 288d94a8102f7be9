//! The console across replicas: a session and its CSRF token live in the database, so
//! a sign-in on one replica holds on the others, and a sign-out ends it everywhere; so do
//! the sign-in throttle's counters, so guessing on one replica is refused on the others.

use std::io::Write as _;
use std::process::Stdio;

use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

use crate::harness::Cluster;
use crate::installation::Installation;

const PASSWORD: &str = "replica-admin-password-9x";

crate::on_both_databases!(
    a_session_and_its_csrf_token_made_on_one_replica_hold_on_the_others,
    failed_sign_ins_on_one_replica_make_the_others_refuse_that_client,
);

fn create_admin(installation: &Installation) {
    let mut child = installation
        .cli_command(&["admin", "create", "alice"])
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

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The sign-in form's token from the replica at `base`.
async fn form_token(http: &reqwest::Client, base: &str) -> String {
    let form = http.get(format!("{base}/signin")).send().await.unwrap();
    set_cookie(&form, "usersync_csrf").expect("a form token cookie")
}

/// Posts the sign-in form to the replica at `base` with a token from `token_from`.
async fn sign_in(base: &str, token_from: &str, password: &str) -> reqwest::Response {
    let http = http();
    let pre = form_token(&http, token_from).await;
    http.post(format!("{base}/signin"))
        .header(COOKIE, format!("usersync_csrf={pre}"))
        .form(&[
            ("csrf", pre.as_str()),
            ("username", "alice"),
            ("password", password),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap()
}

async fn a_session_and_its_csrf_token_made_on_one_replica_hold_on_the_others(
    installation: Installation,
) {
    create_admin(&installation);
    let cluster = Cluster::start(&installation, 3).await;
    let [a, b, c] = [0, 1, 2].map(|i| cluster.replicas[i].base.clone());
    let http = http();

    // The sign-in form's token comes from replica a; the sign-in goes to replica b.
    let signed_in = sign_in(&b, &a, PASSWORD).await;
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

async fn failed_sign_ins_on_one_replica_make_the_others_refuse_that_client(
    installation: Installation,
) {
    create_admin(&installation);
    let cluster = Cluster::start(&installation, 2).await;
    let [a, b] = [0, 1].map(|i| cluster.replicas[i].base.clone());

    // Five wrong passwords from this client on replica a, each refused as wrong.
    for attempt in 1..=5 {
        let reply = sign_in(&a, &b, "not-the-password").await;
        assert_eq!(
            reply.status(),
            StatusCode::UNAUTHORIZED,
            "attempt {attempt}"
        );
    }
    // Replica b has counted them too: even the right password is refused from here.
    let reply = sign_in(&b, &b, PASSWORD).await;
    assert_eq!(
        reply.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        cluster.logs()
    );
    assert!(
        reply
            .text()
            .await
            .unwrap()
            .contains("Too many failed sign-ins")
    );
    // So does replica a, where the failures were made.
    let reply = sign_in(&a, &a, PASSWORD).await;
    assert_eq!(reply.status(), StatusCode::TOO_MANY_REQUESTS);
}
