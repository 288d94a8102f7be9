//! `usersync serve --allow-secret-refs` reaches the API: a served router accepts the
//! references the flag allows and refuses every other, over real HTTP.

use serde_json::{Value, json};
use tokio::sync::oneshot;
use usersync::engine::Deps;
use usersync::serve::{ServeArgs, Server, TriggersConfig};
use usersync_testkit::DataDir;

fn app(name: &str, okta_token: &str) -> Value {
    json!({
        "name": name,
        "okta": { "url": "https://example.okta.com", "credential": { "type": "api_token", "token": okta_token } },
        "target": {
            "kind": "jira",
            "url": "https://jira.example.com",
            "credential": { "type": "pat", "token": "jira-pat" }
        },
    })
}

#[tokio::test]
async fn a_served_api_accepts_only_the_references_its_allow_list_names() {
    usersync::telemetry::init_for_tests();
    let data = DataDir::new();
    let store = data.open().await;
    let request = usersync::web::auth::accounts::TokenRequest {
        name: "ci".into(),
        scopes: usersync_store::Scopes::all(),
        expires_in: None,
    };
    let backend = usersync::web::Backend::new(Deps::new(store.clone()));
    let token = usersync::web::auth::accounts::create_api_token_with(&backend, &request, "tests")
        .await
        .unwrap();
    let args = ServeArgs {
        listen: "127.0.0.1:0".parse().unwrap(),
        allow_secret_refs: "env:USERSYNC_TEST_".parse().unwrap(),
        ..ServeArgs::default()
    };
    let server = Server::bind(Deps::new(store), &args, TriggersConfig::default())
        .await
        .unwrap();
    let url = format!("http://127.0.0.1:{}/api/v1/apps", server.port());
    let (stop, stopped) = oneshot::channel::<()>();
    let served = tokio::spawn(server.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    let post = |body: Value| client.post(&url).bearer_auth(&token).json(&body).send();

    let allowed = post(app("allowed", "env:USERSYNC_TEST_OKTA"))
        .await
        .unwrap();
    assert_eq!(allowed.status(), 201, "{}", allowed.text().await.unwrap());
    let refused = post(app("refused", "env:HOME")).await.unwrap();
    assert_eq!(refused.status(), 422);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["field"], "okta.credential.token", "{body}");
    assert!(
        body.to_string()
            .contains("this server allows only env:USERSYNC_TEST_..."),
        "{body}"
    );

    stop.send(()).unwrap();
    served.await.unwrap().unwrap();
}
