//! The settings page's Notifications section: "Send test notification" sends through the
//! saved settings to a local HTTP receiver and a local SMTP sink whose certificate is
//! signed by a CA only the global trust (`--ca-file`) names, and says per channel how
//! it went; without that trust the relay is refused and the page says why.

use axum::http::StatusCode;
use std::time::Duration;
use usersync_store::Store;
use usersync_testkit::{HttpReceiver, SmtpSink, toml_string};

use super::{Browser, Harness, Reply, get, post};
use crate::engine::Deps;
use crate::web::backend::Backend;

const SMTP_PASSWORD: &str = "smtpSECRET-console-81b2";
const HOOK_PATH: &str = "hooks/webhookSECRET-77d1";

struct World {
    h: Harness,
    b: Browser,
    receiver: HttpReceiver,
    sink: SmtpSink,
}

impl World {
    /// An app whose notifications go to a receiver and to the sink; the console's
    /// engine trusts the sink's CA when `trusted`.
    async fn new(trusted: bool) -> Self {
        let receiver = HttpReceiver::start().await;
        let sink = SmtpSink::start().await;
        let toml = format!(
            "[[app]]\nname = \"jira\"\n\n[app.okta]\nurl = \"https://acme.okta.com\"\n\
             credential = {{ type = \"api_token\", token = \"okta-token\" }}\n\n[app.target]\n\
             kind = \"jira\"\nurl = \"https://jira.example.com\"\n\
             credential = {{ type = \"pat\", token = \"jira-token\" }}\n\n[app.notify]\n\
             webhook = {{ url = {} }}\n\n[app.notify.email]\nto = [\"ops@example.com\"]\n\
             from = \"usersync@example.com\"\n\
             smtp = {{ host = \"127.0.0.1\", port = {}, username = \"usersync\", password = {} }}\n",
            toml_string(&format!("{}{HOOK_PATH}", receiver.url())),
            sink.port(),
            toml_string(SMTP_PASSWORD),
        );
        let store = Store::open_in_memory().await.expect("store");
        usersync_testkit::apply_apps(&store, &toml, "tests").await;
        let mut deps = Deps::new(store.clone());
        if trusted {
            deps = deps.with_trust(sink.trust());
        }
        let h = Harness::over(store).with(|state| state.backend = Backend::new(deps));
        let b = h.admin().await;
        Self {
            h,
            b,
            receiver,
            sink,
        }
    }

    async fn press_test(&self) -> Reply {
        self.h
            .call(
                post("/apps/jira/notify-test")
                    .cookie(&self.b.cookie)
                    .form(&[("csrf", &self.b.csrf)]),
            )
            .await
    }
}

#[tokio::test]
async fn send_test_notification_reaches_the_webhook_and_a_relay_signed_by_the_global_ca() {
    let w = World::new(true).await;
    let page = w.h.call(get("/apps/jira").cookie(&w.b.cookie)).await;
    assert!(page.body.contains("id=\"section-notifications\""));
    assert!(page.body.contains("formaction=\"/apps/jira/notify-test\""));

    let reply = w.press_test().await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(
        reply
            .body
            .contains("Webhook: the test notification was sent."),
        "{}",
        reply.body
    );
    assert!(
        reply
            .body
            .contains("E-mail: the test notification was sent."),
        "{}",
        reply.body
    );
    let posted = w.receiver.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(posted.len(), 1);
    let body = posted[0].json();
    assert_eq!(body["test"], true);
    assert!(body["text"].as_str().unwrap().contains("test notification"));
    let mails = w.sink.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(mails.len(), 1);
    assert!(mails[0].tls, "STARTTLS was used");
    assert_eq!(
        mails[0].auth,
        Some(("usersync".to_owned(), SMTP_PASSWORD.to_owned()))
    );
    assert!(mails[0].data.contains("test notification"));
    for secret in [SMTP_PASSWORD, "webhookSECRET"] {
        assert!(!reply.body.contains(secret), "{secret} is on the page");
        assert!(!mails[0].data.contains(secret), "{secret} is in the mail");
        assert!(
            !posted[0].body.contains(secret),
            "{secret} is in the webhook"
        );
    }
}

#[tokio::test]
async fn a_relay_whose_ca_is_not_trusted_is_refused_and_the_page_says_so_beside_the_webhook_that_worked()
 {
    let w = World::new(false).await;
    let reply = w.press_test().await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(
        reply
            .body
            .contains("Webhook: the test notification was sent."),
        "{}",
        reply.body
    );
    assert!(reply.body.contains("E-mail: not sent:"), "{}", reply.body);
    assert!(
        reply.body.contains("--ca-file (USERSYNC_CA_FILE)"),
        "the refusal says how to trust the relay: {}",
        reply.body
    );
    assert!(
        w.sink.mails().is_empty(),
        "no mail went over an untrusted TLS"
    );
    assert!(!reply.body.contains(SMTP_PASSWORD));
}
