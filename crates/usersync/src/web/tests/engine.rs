//! The console and API against the Okta and Jira emulators: Test connection,
//! Preview and its exports, Synchronize with live progress, runs and their
//! operations, held runs approved and rejected, Explain and sync one user. Every
//! answer is checked for the secrets, and API answers against the OpenAPI document.

use axum::http::StatusCode;
use serde_json::Value;
use usersync_core::OktaStatus;
use usersync_sim::jira::JiraSim;
use usersync_sim::okta::OktaSim;
use usersync_testkit::{Sims, small_org};

use super::openapi::{assert_matches, document, template};
use super::{Browser, Harness, Reply, app_json, get, post};

const JIRA_PASSWORD: &str = "jira-SECRET-admin-password";

struct World {
    h: Harness,
    okta: OktaSim,
    _jira: JiraSim,
    b: Browser,
    token: String,
    doc: Value,
}

impl World {
    async fn new() -> Self {
        let Sims { okta, jira } =
            Sims::with_jira_password(small_org(40, 4, 11), JIRA_PASSWORD).await;
        let h = Harness::new().await;
        let b = h.admin().await;
        let token = h.token().await;
        let doc = document(&h, &token).await;
        let w = Self {
            h,
            okta,
            _jira: jira,
            b,
            token,
            doc,
        };
        let mut app = app_json(
            "jira",
            &w.okta.base_url(),
            w.okta.api_token(),
            w._jira.base_url(),
            JIRA_PASSWORD,
        );
        app["policy"] = serde_json::json!({});
        let created = w.api("POST", "/api/v1/apps", Some(&app)).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        w
    }

    /// Fails when a secret shows up in an answer.
    fn clean(&self, reply: Reply) -> Reply {
        for secret in [self.okta.api_token(), JIRA_PASSWORD, self.token.as_str()] {
            assert!(
                !reply.body.contains(secret),
                "a secret leaked into {}",
                reply.body
            );
        }
        reply
    }

    async fn page(&self, path: &str) -> Reply {
        self.clean(self.h.call(get(path).cookie(&self.b.cookie)).await)
    }

    async fn form(&self, path: &str) -> Reply {
        self.clean(
            self.h
                .call(
                    post(path)
                        .cookie(&self.b.cookie)
                        .form(&[("csrf", &self.b.csrf)]),
                )
                .await,
        )
    }

    /// An API call, its answer validated against the OpenAPI document.
    async fn api(&self, method: &str, path: &str, body: Option<&Value>) -> Reply {
        let mut r = super::req(super::method(method), path).bearer(&self.token);
        if let Some(body) = body {
            r = r.json(body);
        }
        let reply = self.clean(self.h.call(r).await);
        assert_matches(
            &self.doc,
            method,
            &template(path),
            reply.status,
            &reply.body,
        );
        reply
    }

    fn suspend(&self, n: usize) {
        let snapshot = self.okta.snapshot();
        for user in snapshot
            .users
            .iter()
            .filter(|u| u.status == OktaStatus::Active)
            .take(n)
        {
            self.okta
                .set_status(user.id.as_str(), OktaStatus::Suspended)
                .unwrap();
        }
    }
}

#[tokio::test]
async fn test_connection_preview_synchronize_and_the_run_page_work_end_to_end() {
    let w = World::new().await;
    let check = w.form("/apps/jira/check").await;
    assert!(check.body.contains("all checks passed"), "{}", check.body);
    assert_eq!(
        w.api("POST", "/api/v1/apps/jira/check", None).await.json()["ok"],
        true
    );

    let preview = w.page("/apps/jira/preview").await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert!(
        preview.body.contains("data-kind=\"create_user\"") && preview.body.contains("Import Users")
    );
    let filtered = w.page("/apps/jira/preview?kind=create_group").await;
    assert!(
        filtered.body.contains("data-kind=\"create_group\"")
            && !filtered.body.contains("data-kind=\"create_user\"")
    );
    let csv = w.page("/apps/jira/preview.csv").await;
    assert!(
        csv.body
            .starts_with("kind,subject,description,rule,destructive\n")
    );
    let plan = w.api("GET", "/api/v1/apps/jira/plan", None).await.json();
    let planned = plan["operations"].as_array().unwrap().len();
    assert!(planned > 40, "{planned}");
    assert_eq!(csv.body.lines().count(), planned + 1);
    let json: Value = serde_json::from_str(&w.page("/apps/jira/preview.json").await.body).unwrap();
    assert_eq!(json["operations"].as_array().unwrap().len(), planned);

    let started = w.form("/apps/jira/sync").await;
    assert_eq!(
        (started.status, started.location()),
        (StatusCode::SEE_OTHER, "/apps/jira/live")
    );
    let events = w.page("/apps/jira/live/events").await;
    assert!(events.body.contains("event: done"), "{}", events.body);
    let live = w.page("/apps/jira/live").await;
    assert!(
        live.body.contains("data-state=\"finished\""),
        "{}",
        live.body
    );
    assert!(
        live.body.contains("data-run-status>succeeded<"),
        "{}",
        live.body
    );

    let runs = w.api("GET", "/api/v1/runs?app=jira", None).await.json();
    let id = runs[0]["id"].as_i64().unwrap();
    assert_eq!(runs[0]["trigger"], "manual");
    let ops = w
        .api("GET", &format!("/api/v1/runs/{id}/operations"), None)
        .await
        .json();
    assert_eq!(ops.as_array().unwrap().len(), planned);
    assert!(
        ops.as_array()
            .unwrap()
            .iter()
            .all(|o| o["outcome"] == "applied")
    );
    let page = w.page(&format!("/runs/{id}")).await;
    assert!(page.body.contains("id=\"operations\"") && page.body.contains("badge applied"));
    assert!(w.page("/runs").await.body.contains(&format!("/runs/{id}")));
    assert!(w.page("/").await.body.contains("badge succeeded"));

    let again = w.api("POST", "/api/v1/apps/jira/sync", None).await;
    assert_eq!(again.json()["status"], "succeeded", "{}", again.body);
    assert_eq!(again.json()["trigger"], "api");
    let metrics = w.page("/metrics").await.body;
    assert!(
        metrics.contains("usersync_runs{status=\"succeeded\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("usersync_operations{kind=\"create_user\",outcome=\"applied\"}"),
        "{metrics}"
    );
    assert_okta_headroom_is_exposed(&metrics);
}

/// The emulator answers with Okta's rate-limit headers, so after a sync the
/// headroom gauges carry the users listing's bucket with sane figures.
fn assert_okta_headroom_is_exposed(metrics: &str) {
    let series = "{app=\"jira\",bucket=\"GET /api/v1/users\"} ";
    let value = |gauge: &str| -> i64 {
        let prefix = format!("usersync_okta_rate_limit_{gauge}{series}");
        let line = metrics
            .lines()
            .find(|l| l.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no {prefix} in {metrics}"));
        line[prefix.len()..].parse().expect("an integer gauge")
    };
    let (remaining, limit) = (value("remaining"), value("limit"));
    assert!(
        limit > 0 && (0..limit).contains(&remaining),
        "{remaining}/{limit}"
    );
    let resets = value("reset_timestamp_seconds");
    let now = chrono::Utc::now().timestamp();
    assert!(
        resets > now - 120 && resets < now + 3600,
        "{resets} vs {now}"
    );
}

#[tokio::test]
async fn a_held_run_shows_what_it_would_apply_and_is_approved_or_rejected() {
    let w = World::new().await;
    assert_eq!(
        w.api("POST", "/api/v1/apps/jira/sync", None).await.json()["status"],
        "succeeded"
    );
    w.suspend(10);
    let held = w.api("POST", "/api/v1/apps/jira/sync", None).await.json();
    assert_eq!(held["status"], "held", "{held}");
    let id = held["id"].as_i64().unwrap();
    let page = w.page(&format!("/runs/{id}")).await;
    assert!(page.body.contains("Approve and apply") && page.body.contains("held for approval"));
    assert!(
        page.body.contains(&format!(
            "action=\"/runs/{id}/approve\" data-confirm=\"Apply the operations of run #{id}"
        )),
        "Approve asks for confirmation as Delete does"
    );
    assert_eq!(
        page.body.matches("badge pending").count(),
        10,
        "the ten deactivations wait"
    );

    tokio::time::sleep(std::time::Duration::from_millis(1500)).await; // the administrator reads
    let approved = w.form(&format!("/runs/{id}/approve")).await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER, "{}", approved.body);
    let run = w
        .api("GET", &format!("/api/v1/runs/{id}"), None)
        .await
        .json();
    assert_eq!(run["status"], "succeeded", "{run}");
    let work = run["work_seconds"].as_f64().unwrap();
    assert!(work < 1.5, "the duration counts work, not the wait: {run}");
    let twice = w
        .api("POST", &format!("/api/v1/runs/{id}/approve"), None)
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.body);

    w.suspend(10);
    let held = w.api("POST", "/api/v1/apps/jira/sync", None).await.json();
    assert_eq!(held["status"], "held");
    let id = held["id"].as_i64().unwrap();
    let rejected = w.form(&format!("/runs/{id}/reject")).await;
    assert_eq!(rejected.status, StatusCode::SEE_OTHER, "{}", rejected.body);
    let run = w.h.store.get_run(usersync_store::RunId(id)).await.unwrap();
    assert_eq!(run.status, usersync_store::RunStatus::Rejected);
    assert!(run.decided_by.is_some(), "who rejected it is recorded");
    let again = w
        .api("POST", &format!("/api/v1/runs/{id}/reject"), None)
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);

    w.suspend(10);
    let held = w.api("POST", "/api/v1/apps/jira/sync", None).await.json();
    let rejected = w
        .api("POST", &format!("/api/v1/runs/{}/reject", held["id"]), None)
        .await
        .json();
    assert_eq!(rejected["status"], "rejected");
}

#[tokio::test]
async fn explain_and_sync_one_user_answer_for_a_login() {
    let w = World::new().await;
    let login = w
        .okta
        .snapshot()
        .users
        .iter()
        .find(|u| u.status == OktaStatus::Active)
        .unwrap()
        .login
        .clone();
    let path = format!(
        "/api/v1/apps/jira/explain?login={}",
        urlencoding::encode(&login)
    );
    let x = w.api("GET", &path, None).await.json();
    assert_eq!(x["login"], login.as_str());
    assert!(
        x["decisions"].to_string().contains("create_user")
            || x["decisions"].to_string().to_lowercase().contains("create"),
        "{x}"
    );
    let page = w
        .page(&format!(
            "/apps/jira/explain?login={}",
            urlencoding::encode(&login)
        ))
        .await;
    assert!(page.body.contains("What a sync would do"), "{}", page.body);

    let run = w
        .api(
            "POST",
            "/api/v1/apps/jira/sync-user",
            Some(&serde_json::json!({ "login": login })),
        )
        .await;
    assert_eq!(run.status, StatusCode::OK, "{}", run.body);
    assert_eq!(run.json()["status"], "succeeded", "{}", run.body);
    let empty = w
        .api(
            "POST",
            "/api/v1/apps/jira/sync-user",
            Some(&serde_json::json!({ "login": " " })),
        )
        .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn an_api_sync_goes_on_to_its_end_when_the_client_goes_away() {
    use usersync_store::{RunFilter, RunStatus};
    let w = World::new().await;
    // Slow Okta down so the client can leave while the run is reading.
    w.okta.faults().update(|c| c.latency_ms = 150);
    let request = super::req(super::method("POST"), "/api/v1/apps/jira/sync").bearer(&w.token);
    let call = w.h.call(request);
    let running = async {
        loop {
            let runs = w.h.store.list_runs(&RunFilter::default(), 1).await.unwrap();
            if let Some(run) = runs.first() {
                return run.id;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    };
    let id = tokio::select! {
        reply = call => panic!("the sync answered before the client could leave: {reply:?}"),
        id = running => id,
    };
    // The request's future is gone now; the run must still finish.
    w.okta.faults().update(|c| c.latency_ms = 0);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let run = loop {
        let run = w.h.store.get_run(id).await.unwrap();
        if run.status != RunStatus::Running || std::time::Instant::now() > deadline {
            break run;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(run.status, RunStatus::Succeeded, "{run:?}");
    assert!(run.counts.values().map(|c| c.applied).sum::<u64>() > 40);
}

#[tokio::test]
async fn a_sync_is_refused_to_a_read_token_and_the_audit_log_names_the_token_that_started_one() {
    let w = World::new().await;
    let reader = w.h.token_with("dashboard", "read", None).await;
    let refused =
        w.h.call(post("/api/v1/apps/jira/sync").bearer(&reader))
            .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert_eq!(refused.json()["code"], "insufficient_scope");
    let nightly = w.h.token_with("nightly", "sync", None).await;
    let run =
        w.h.call(post("/api/v1/apps/jira/sync").bearer(&nightly))
            .await;
    assert_eq!(run.status, StatusCode::OK, "{}", run.body);
    let id = run.json()["id"].as_i64().unwrap();
    let entries =
        w.h.store
            .audit_log(&usersync_store::AuditFilter::default(), 20)
            .await
            .unwrap();
    let started = entries
        .iter()
        .find(|e| e.action == "run.sync")
        .expect("the sync is in the audit log");
    assert_eq!(started.actor, "token:nightly");
    assert!(started.app_id.is_some(), "the entry names the app");
    assert_eq!(
        started.fields,
        [format!("run {id}"), "trigger api".to_owned()]
    );
}

#[tokio::test]
async fn the_group_mapping_table_shows_the_rules_and_the_preview_shows_who_lands_where() {
    let w = World::new().await;
    let group = w
        .okta
        .snapshot()
        .groups
        .into_iter()
        .find(|g| !w.okta.members_of(g.id.as_str()).is_empty())
        .expect("a group with members");
    let mut app = app_json(
        "jira",
        &w.okta.base_url(),
        w.okta.api_token(),
        w._jira.base_url(),
        JIRA_PASSWORD,
    );
    app["policy"] = serde_json::json!({});
    app["policy"]["group_map"] = serde_json::json!([{
        "okta_group_id": group.id.as_str(),
        "okta_group_name": group.name,
        "target_group": "jira-software-users"
    }]);
    let saved = w.api("PUT", "/api/v1/apps/jira", Some(&app)).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);

    let settings = w.page("/apps/jira").await;
    assert!(
        settings.body.contains(&format!(
            "name=\"policy.group_map.okta_group_id\" value=\"{}\"",
            group.id
        )),
        "the rule is a row of the table"
    );
    assert!(settings.body.contains("preview?q=Group%20mapping"));
    let preview = w.page("/apps/jira/preview?q=Group%20mapping").await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    let rows = preview.body.matches("to group jira-software-users").count();
    assert!(rows > 0, "{}", preview.body);
    assert!(
        preview.body.contains(&format!(
            "Group mapping group_map[0]: Okta group &quot;{}&quot; ({})",
            group.name, group.id
        )) || preview.body.contains(&format!(
            "Group mapping group_map[0]: Okta group &#34;{}&#34; ({})",
            group.name, group.id
        )),
        "{}",
        preview.body
    );
    assert!(
        !preview.body.contains("data-kind=\"create_user\""),
        "filtered"
    );
}

#[tokio::test]
async fn the_report_answers_over_the_api_and_on_its_page_and_writes_nothing() {
    let w = World::new().await;
    let synced = w.api("POST", "/api/v1/apps/jira/sync", None).await;
    assert_eq!(synced.json()["status"], "succeeded", "{}", synced.body);
    w._jira
        .add_user(&usersync_sim::jira::SeedUser::new("orphan.contractor"))
        .unwrap();
    w._jira.clear_requests();

    let api = w.api("GET", "/api/v1/apps/jira/report", None).await;
    let page = w.page("/apps/jira/report").await;
    let csv = w.page("/apps/jira/report.csv").await;
    let json = w.page("/apps/jira/report.json").await;

    assert_eq!(api.status, StatusCode::OK, "{}", api.body);
    let report = api.json();
    assert_eq!(report["orphans"][0]["username"], "orphan.contractor");
    assert_eq!(report["orphans"].as_array().unwrap().len(), 1);
    assert!(report["seats"][0]["used"].as_u64().unwrap() > 1, "{report}");
    assert!(page.body.contains("Orphans (1)"), "{}", page.body);
    assert!(page.body.contains("orphan.contractor"));
    assert!(csv.body.starts_with("finding,group,username,detail\n"));
    assert!(csv.body.contains("orphan,,orphan.contractor,active"));
    let downloaded: Value = serde_json::from_str(&json.body).unwrap();
    assert_eq!(downloaded, report);
    let writes = w
        ._jira
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET")
        .count();
    assert_eq!(writes, 0, "the report changes nothing");
}
