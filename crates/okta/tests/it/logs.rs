//! The System Log: bounded queries and polling from a persisted checkpoint.

use chrono::{Duration, Utc};
use pretty_assertions::assert_eq;
use usersync_core::OktaGroupType;
use usersync_okta::{LogCheckpoint, LogQuery};
use usersync_sim::okta::{NewUser, RateLimits};

use crate::helpers::{client_for, start};

#[tokio::test]
async fn a_bounded_query_returns_the_matching_events_of_the_window() {
    let sim = start(None, RateLimits::default()).await;
    let user = sim
        .add_user(NewUser::new("kim@example.com", "Kim", "Lee"))
        .unwrap();
    let group = sim
        .add_group("Ops", None, OktaGroupType::OktaGroup)
        .unwrap();
    sim.add_member(group.as_str(), user.as_str()).unwrap();
    let client = client_for(&sim);
    let query = LogQuery {
        since: Utc::now() - Duration::hours(1),
        until: Utc::now() + Duration::minutes(1),
        filter: Some(r#"eventType eq "group.user_membership.add""#.into()),
    };

    let events = client.list_log_events(&query).await.unwrap();

    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event.event_type, "group.user_membership.add");
    assert_eq!(
        event
            .targets_of_type("User")
            .map(|t| t.id.as_str())
            .collect::<Vec<_>>(),
        [user.as_str()]
    );
    assert_eq!(
        event
            .targets_of_type("UserGroup")
            .map(|t| t.id.as_str())
            .collect::<Vec<_>>(),
        [group.as_str()]
    );
}

#[tokio::test]
async fn polling_resumes_from_the_checkpoint_and_sees_only_new_events() {
    let sim = start(None, RateLimits::default()).await;
    sim.add_user(NewUser::new("one@example.com", "One", "A"))
        .unwrap();
    let client = client_for(&sim);
    let start_at = LogCheckpoint::Start {
        since: Utc::now() - Duration::hours(1),
        filter: None,
    };

    let first = client.poll_log_events(&start_at).await.unwrap();
    let quiet = client.poll_log_events(&first.checkpoint).await.unwrap();
    sim.add_user(NewUser::new("two@example.com", "Two", "B"))
        .unwrap();
    let later = client.poll_log_events(&quiet.checkpoint).await.unwrap();

    assert!(!first.events.is_empty());
    assert!(first.events.iter().all(|e| !e.uuid.is_empty()));
    assert!(quiet.events.is_empty(), "{:?}", quiet.events);
    assert!(matches!(first.checkpoint, LogCheckpoint::Next { .. }));
    assert!(!later.events.is_empty());
    let mentions_two = |e: &usersync_okta::LogEvent| {
        e.target
            .iter()
            .flatten()
            .any(|t| t.alternate_id.as_deref() == Some("two@example.com"))
    };
    assert!(later.events.iter().all(mentions_two), "{:?}", later.events);
    assert!(!first.events.iter().any(mentions_two));
}

#[tokio::test]
async fn a_bounded_query_with_since_after_until_is_refused_before_sending() {
    let sim = start(None, RateLimits::default()).await;
    let client = client_for(&sim);
    let query = LogQuery {
        since: Utc::now(),
        until: Utc::now() - Duration::hours(1),
        filter: None,
    };

    let err = client.list_log_events(&query).await.unwrap_err();

    assert!(err.to_string().contains("since"), "{err}");
    assert_eq!(sim.request_count(), 0);
}
