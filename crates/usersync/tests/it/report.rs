//! `usersync report` (issue 20) on an emulated org seeded with what Okta does not
//! explain: an orphan account, a user suspended in Okta but active in Jira, and a
//! member of a managed group whom Okta does not put there; and licence seats from
//! Jira's application roles. The report writes nothing to the target or the store.

use std::sync::Arc;

use pretty_assertions::assert_eq;
use usersync::engine::{Deps, Mode, Silent, report, run_sync_once};
use usersync_core::OktaStatus;
use usersync_sim::jira::SeedUser;
use usersync_store::RunTrigger;
use usersync_testkit::{DataDir, Sims};

use crate::cli::{text, usersync_async};
use crate::helpers::small_org;

const ORPHAN: &str = "contractor.orphan";

/// The engine's dependencies on `store`, after a first sync of `app` that succeeded.
async fn synced(store: usersync_store::Store, app: &str) -> Deps {
    let deps = Deps::new(store).with_progress(Arc::new(Silent));
    let first = run_sync_once(&deps, app, RunTrigger::Manual, Mode::Apply)
        .await
        .unwrap();
    assert_eq!(
        first.status,
        usersync_store::RunStatus::Succeeded,
        "{:?}",
        first.reasons
    );
    deps
}

struct Seeded {
    sims: Sims,
    deps: Deps,
    dir: DataDir,
    suspended: String,
    group: String,
}

async fn seeded() -> Seeded {
    usersync::telemetry::init_for_tests();
    let sims = Sims::start(small_org()).await;
    let dir = DataDir::new();
    let store = dir
        .store_with_apps(&sims.app("jira").to_string(), "test")
        .await;
    let deps = synced(store, "jira").await;
    // An account Okta knows nothing about, made a member of a group usersync manages.
    sims.jira.add_user(&SeedUser::new(ORPHAN)).unwrap();
    let okta = sims.okta.snapshot();
    let managed = okta
        .groups
        .iter()
        .find(|g| {
            sims.jira
                .groups()
                .iter()
                .any(|j| j.name.eq_ignore_ascii_case(&g.name))
        })
        .expect("a group was synced");
    sims.jira.add_member(&managed.name, ORPHAN).unwrap();
    // Suspended in Okta after the sync: Jira still has them active.
    let victim = okta
        .users
        .iter()
        .find(|u| u.status == OktaStatus::Active)
        .unwrap();
    sims.okta
        .set_status(victim.id.as_str(), OktaStatus::Suspended)
        .unwrap();
    sims.jira.set_application_seats("jira-software", Some(500));
    sims.jira.clear_requests();
    Seeded {
        suspended: victim.login.to_lowercase(),
        group: managed.name.to_lowercase(),
        sims,
        deps,
        dir,
    }
}

#[tokio::test]
async fn the_report_lists_orphans_users_inactive_in_okta_unmanaged_members_and_seats_and_changes_nothing()
 {
    // Arrange
    let world = seeded().await;
    let runs_before = world
        .deps
        .store
        .list_runs(&usersync_store::RunFilter::default(), 100)
        .await
        .unwrap()
        .len();

    // Act
    let report = report(&world.deps, "jira").await.unwrap();

    // Assert
    let orphans: Vec<String> = report
        .found
        .orphans
        .iter()
        .map(|o| o.username.to_string())
        .collect();
    assert_eq!(
        orphans,
        [ORPHAN],
        "the emulator's admin (usersync itself) is not one"
    );
    let inactive: Vec<(String, OktaStatus)> = report
        .found
        .inactive_in_okta
        .iter()
        .map(|u| (u.username.to_string().to_lowercase(), u.okta_status))
        .collect();
    assert_eq!(inactive, [(world.suspended.clone(), OktaStatus::Suspended)]);
    let unmanaged: Vec<(String, String)> = report
        .found
        .unmanaged_members
        .iter()
        .map(|m| (m.group.to_string().to_lowercase(), m.username.to_string()))
        .collect();
    assert_eq!(unmanaged, [(world.group.clone(), ORPHAN.to_owned())]);
    let licensed = world
        .sims
        .jira
        .users()
        .iter()
        .filter(|u| u.active && u.application_keys.iter().any(|k| k == "jira-software"))
        .count() as u64;
    let seats = report.seats.as_ref().expect("Jira reports its seats");
    let software = seats
        .iter()
        .find(|s| s.application == "jira-software")
        .unwrap();
    assert_eq!((software.used, software.total), (licensed, Some(500)));
    assert!(report.found.okta_complete);
    // Read-only: no write reached Jira, no run was recorded.
    let writes: Vec<String> = world
        .sims
        .jira
        .requests()
        .into_iter()
        .filter(|r| !matches!(r.method.as_str(), "GET" | "HEAD"))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(writes, Vec::<String>::new());
    assert!(
        !world.sims.jira.requests().is_empty(),
        "the log saw the reads"
    );
    let runs_after = world
        .deps
        .store
        .list_runs(&usersync_store::RunFilter::default(), 100)
        .await
        .unwrap()
        .len();
    assert_eq!(runs_after, runs_before);
}

#[tokio::test]
async fn the_command_line_prints_the_report_as_versioned_json_and_as_csv() {
    let world = seeded().await;

    let json = usersync_async(
        world.dir.path(),
        &["report", "--app", "jira", "--output", "json"],
    )
    .await;
    let csv = usersync_async(
        world.dir.path(),
        &["report", "--app", "jira", "--output", "csv"],
    )
    .await;
    let plain = usersync_async(world.dir.path(), &["report", "--app", "jira"]).await;

    assert!(json.status.success(), "{}", text(&json.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["app"], "jira");
    assert_eq!(doc["orphans"][0]["username"], ORPHAN);
    assert_eq!(doc["inactive_in_okta"][0]["okta_status"], "SUSPENDED");
    assert!(
        doc["last_login"]
            .as_str()
            .unwrap()
            .starts_with("not exposed")
    );
    assert!(csv.status.success(), "{}", text(&csv.stderr));
    let csv = text(&csv.stdout);
    assert!(csv.starts_with("finding,group,username,detail\n"), "{csv}");
    assert!(csv.contains(&format!("orphan,,{ORPHAN},active\n")), "{csv}");
    assert!(
        csv.to_lowercase()
            .contains(&format!("unmanaged_member,{},{ORPHAN},", world.group)),
        "{csv}"
    );
    assert!(text(&plain.stdout).contains("orphans (no Okta user maps to them): 1"));
    let writes = world
        .sims
        .jira
        .requests()
        .into_iter()
        .filter(|r| !matches!(r.method.as_str(), "GET" | "HEAD"))
        .count();
    assert_eq!(writes, 0, "the command line report writes nothing either");
}

/// A Confluence 10.3 synced from a three-person org, an orphan account added
/// afterwards, and one synced user who has signed in since.
async fn confluence_world() -> (
    Deps,
    DataDir,
    usersync_sim::confluence::ConfluenceSim,
    usersync_sim::okta::OktaSim,
) {
    use usersync_sim::okta::{NewUser, OrgSpec};
    let okta = crate::helpers::start_okta(OrgSpec {
        users: 0,
        groups: 0,
        ..OrgSpec::default()
    })
    .await;
    for (login, first, last) in [
        ("ada@example.com", "Ada", "Lovelace"),
        ("alan@example.com", "Alan", "Turing"),
        ("grace@example.com", "Grace", "Hopper"),
    ] {
        okta.add_user(NewUser::new(login, first, last)).unwrap();
    }
    let wiki = usersync_testkit::start_confluence("10.3.0").await;
    wiki.set_licence_seats(Some(50));
    let dir = DataDir::new();
    let app = usersync_testkit::confluence_app("wiki", &okta, &wiki)
        .username(r"^([^@]+)@example\.com$", "$1");
    let store = dir.store_with_apps(&app.to_string(), "test").await;
    let deps = synced(store, "wiki").await;
    wiki.add_user(ORPHAN, "Contractor", "contractor@elsewhere.example");
    wiki.sign_in("ada");
    (deps, dir, wiki, okta)
}

#[tokio::test]
async fn a_confluence_report_gives_its_licence_seats_and_the_licensed_users_who_never_signed_in() {
    let (deps, _dir, wiki, _okta) = confluence_world().await;
    wiki.clear_requests();

    let report = report(&deps, "wiki").await.unwrap();

    // The administrator, three synced users and the orphan are active: five seats of 50.
    let seats = report.seats.as_ref().expect("Confluence reports its seats");
    assert_eq!(
        seats
            .iter()
            .map(|s| (s.application.as_str(), s.used, s.total))
            .collect::<Vec<_>>(),
        [("confluence", 5, Some(50))]
    );
    let never: Vec<(String, Option<String>)> = report
        .never_signed_in
        .iter()
        .map(|n| (n.username.to_string(), n.okta_login.clone()))
        .collect();
    assert_eq!(
        never,
        [
            ("alan".to_owned(), Some("alan@example.com".to_owned())),
            (ORPHAN.to_owned(), None),
            ("grace".to_owned(), Some("grace@example.com".to_owned())),
        ],
        "ada signed in; usersync's own account is left out"
    );
    assert!(
        report.last_login.contains("expand=lastLogin"),
        "{}",
        report.last_login
    );
    let csv = report.csv();
    assert!(
        csv.contains("never_signed_in,,alan,Okta user alan@example.com\n"),
        "{csv}"
    );
    assert!(
        csv.contains(&format!("never_signed_in,,{ORPHAN},no Okta user\n")),
        "{csv}"
    );
    assert!(csv.contains("seats,,,confluence: 5 used of 50\n"), "{csv}");
    assert!(
        report
            .text()
            .contains("active, licensed and never signed in: 3")
    );
    let writes = wiki.requests().into_iter().filter(|r| r.is_write()).count();
    assert_eq!(writes, 0, "the report writes nothing to Confluence");
}
