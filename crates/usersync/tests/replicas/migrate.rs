//! Moving a one-machine installation to PostgreSQL with `usersync store migrate`, the
//! real binary end to end: what the command prints, what the PostgreSQL store then
//! holds, and that usersync works from there with the installation's master key.

use std::collections::BTreeMap;

use pretty_assertions::assert_eq;
use usersync_store::{RunFilter, RunStatus, SecretSlot, Store};
use usersync_testkit::{Backend, Sims, small_org};

use crate::harness::{self, APP};
use crate::installation::Installation;

/// What a store holds of the app, compared before and after the move.
#[derive(Debug, PartialEq)]
struct Held {
    runs: Vec<(i64, RunStatus, usize)>,
    users: usize,
    groups: usize,
    okta_token: String,
    jira_password: String,
    hook_secret: String,
}

async fn held(store: &Store) -> Held {
    use secrecy::ExposeSecret as _;
    let app = store.find_app(APP).await.unwrap().expect("the app");
    let mut runs = Vec::new();
    for run in store.list_runs(&RunFilter::default(), 1000).await.unwrap() {
        let ops = store.run_operations(run.id).await.unwrap().len();
        runs.push((run.id.0, run.status, ops));
    }
    let links = store.load_links(app.id).await.unwrap();
    let okta_token = store.resolve_secret(&app, SecretSlot::OktaApiToken).await;
    let jira_password = store.resolve_secret(&app, SecretSlot::TargetPassword).await;
    let hook_secret = store.resolve_secret(&app, SecretSlot::HookSecret).await;
    Held {
        runs,
        users: links.users.len(),
        groups: links.groups.len(),
        okta_token: okta_token.unwrap().expose_secret().to_owned(),
        jira_password: jira_password.unwrap().expose_secret().to_owned(),
        hook_secret: hook_secret.unwrap().expose_secret().to_owned(),
    }
}

/// The command's table of counts: table -> (source, target).
fn printed_counts(stdout: &str) -> BTreeMap<String, (i64, i64)> {
    stdout
        .lines()
        .filter_map(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            match cols[..] {
                [table, source, target] => Some((
                    table.to_owned(),
                    (source.parse().ok()?, target.parse().ok()?),
                )),
                _ => None,
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_installation_moved_to_postgres_keeps_its_apps_runs_links_and_secrets_and_syncs_there() {
    if !Backend::Postgres.available() {
        return;
    }
    let sims = Sims::start(small_org(12, 3, 5)).await;
    let source = Installation::sqlite().await;
    let store = source
        .store_with_apps(&harness::app_toml(&sims, None))
        .await;
    let out = source.cli(&["sync", "--app", APP]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let before = held(&store).await;
    assert_eq!(before.runs.len(), 1);
    assert!(before.runs[0].2 > 0 && before.users > 0, "{before:?}");
    assert_eq!(before.okta_token, sims.okta.api_token());
    assert_eq!(before.hook_secret, harness::SECRET);
    store.close().await;
    drop(store);

    let target = Installation::postgres_for_key(&source.master_key_text()).await;
    let from = format!("sqlite:{}", source.data_dir().display());
    let to = target.database_url().expect("a PostgreSQL URL");
    let out = source.cli(&["store", "migrate", "--from", &from, "--to", &to]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts = printed_counts(&stdout);
    for (table, expected) in [
        ("apps", 1),
        // Okta's API token, Jira's password and the event hook's secret, still sealed.
        ("app_secrets", 3),
        ("runs", 1),
        ("run_operations", before.runs[0].2),
        ("user_links", before.users),
        ("group_links", before.groups),
    ] {
        let expected = i64::try_from(expected).unwrap();
        assert_eq!(counts.get(table), Some(&(expected, expected)), "{stdout}");
    }
    assert!(counts.values().all(|(s, t)| s == t), "{stdout}");
    assert!(stdout.contains("USERSYNC_MASTER_KEY"), "{stdout}");

    // The PostgreSQL store holds the same rows, and the same key opens its secrets.
    let moved = target.store().await;
    assert_eq!(held(&moved).await, before);

    // usersync pointed at PostgreSQL with the master key reads and syncs there.
    let out = target.cli(&["run", "list"]);
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(listed.contains(APP), "{listed}");
    harness::okta_joiner(&sims.okta, "moved.joiner@example.com", "Moved", "Joiner");
    let out = target.cli(&["sync", "--app", APP]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let runs = moved.list_runs(&RunFilter::default(), 10).await.unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].status, RunStatus::Succeeded);
    assert_eq!(
        harness::jira_state(&sims.jira)
            .0
            .get("moved.joiner@example.com"),
        Some(&true)
    );
}
