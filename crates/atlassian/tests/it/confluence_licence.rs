//! The Confluence client's licence figures for `usersync report`: seats from the
//! licence resource (limited and unlimited), last sign-ins from 10.2's licensed-user
//! list across page boundaries, and the releases that do not report them.

use usersync_atlassian::{Seats, SignIns, Target};
use usersync_sim::confluence::ConfluenceSimConfig;

use super::{client, sim, start};

#[tokio::test]
async fn seats_in_use_are_the_active_users_and_an_unlimited_licence_has_no_total() {
    let wiki = sim("9.2.0").await;
    wiki.add_user("ada", "Ada", "ada@example.com");
    wiki.add_user("alan", "Alan", "alan@example.com");
    wiki.set_active("alan", false);
    let unlimited = client(&wiki).seats().await.unwrap();
    wiki.set_licence_seats(Some(25));
    let limited = client(&wiki).seats().await.unwrap();

    let seats = |used, total| {
        Some(vec![Seats {
            application: "confluence".into(),
            used,
            total,
        }])
    };
    // The administrator and ada are active; alan, deactivated, uses no seat.
    assert_eq!(unlimited, seats(2, None));
    assert_eq!(limited, seats(2, Some(25)));
}

#[tokio::test]
async fn last_sign_ins_are_read_across_pages_from_10_2_and_a_user_who_never_signed_in_has_none() {
    let wiki = start(ConfluenceSimConfig {
        version: "10.2.0".into(),
        page_cap: 2,
        ..ConfluenceSimConfig::default()
    })
    .await;
    for name in ["ada", "alan", "grace", "linus"] {
        wiki.add_user(name, name, &format!("{name}@example.com"));
    }
    wiki.sign_in("ada");
    wiki.sign_in("grace");
    wiki.set_active("linus", false);

    let SignIns::Reported(all) = client(&wiki).sign_ins().await.unwrap() else {
        panic!("Confluence 10.2 reports sign-ins");
    };

    let mut seen: Vec<(String, bool)> = all
        .iter()
        .map(|s| (s.username.to_string(), s.last.is_some()))
        .collect();
    seen.sort();
    let expected = [
        ("ada", true),
        ("admin", false),
        ("alan", false),
        ("grace", true),
    ];
    let expected: Vec<(String, bool)> = expected
        .iter()
        .map(|(n, s)| ((*n).to_owned(), *s))
        .collect();
    assert_eq!(
        seen, expected,
        "deactivated linus counts towards no licence"
    );
}

#[tokio::test]
async fn releases_before_10_2_say_they_do_not_report_sign_ins() {
    for version in ["8.5.0", "9.4.0", "10.1.0"] {
        let wiki = sim(version).await;

        let answer = client(&wiki).sign_ins().await.unwrap();

        let SignIns::NotExposed(why) = answer else {
            panic!("{version} reported sign-ins");
        };
        assert!(why.contains(version) && why.contains("10.2"), "{why}");
    }
}
