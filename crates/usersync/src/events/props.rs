//! Property tests of the event hook's body parser and of reading what each event
//! asks for: whatever a caller POSTs (the route caps the body at axum's 2 MB default),
//! the delivery parses or is refused, and an event names only users it carries.

use proptest::prelude::*;
use serde_json::{Value, json};
use usersync_core::app::events::HANDLED_EVENTS;

use super::okta_event::{Action, HOOK_EVENT_TYPE, action_for, parse_delivery};

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(256)
}

/// An actor or target: usually a user or group reference, sometimes anything.
fn party() -> impl Strategy<Value = Value> {
    prop_oneof![
        80 => ("00[ug][a-z0-9]{0,6}", prop_oneof![Just("User".to_owned()), Just("UserGroup".to_owned()), "[A-Za-z]{0,6}"])
            .prop_map(|(id, kind)| json!({ "id": id, "type": kind })),
        1 => Just(Value::Null),
        1 => "\\PC{0,12}".prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::from),
    ]
}

fn event() -> impl Strategy<Value = Value> {
    let event_type = prop_oneof![
        30 => prop::sample::select(HANDLED_EVENTS.to_vec()).prop_map(Value::from),
        1 => "[a-z._]{0,30}".prop_map(Value::from),
        1 => any::<u8>().prop_map(Value::from),
    ];
    let outcome = prop_oneof![
        Just(json!({ "result": "SUCCESS" })),
        Just(json!({ "result": "FAILURE", "reason": "x" })),
        Just(Value::Null),
        "\\PC{0,8}".prop_map(|r| json!({ "result": r })),
    ];
    (
        event_type,
        party(),
        prop::collection::vec(party(), 0..5),
        outcome,
        prop_oneof![30 => Just("2026-01-01T00:00:00.000Z".to_owned()), 1 => "\\PC{0,24}"],
    )
        .prop_map(|(kind, actor, target, outcome, published)| {
            json!({ "uuid": "e", "published": published, "eventType": kind,
                    "actor": actor, "target": target, "outcome": outcome })
        })
}

/// The ids an event carries as a user, as actor or target.
fn user_ids(event: &Value) -> Vec<&str> {
    let actor = std::iter::once(&event["actor"]);
    let targets = event["target"].as_array().into_iter().flatten();
    actor
        .chain(targets)
        .filter(|p| p["type"] == "User")
        .filter_map(|p| p["id"].as_str())
        .collect()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_bytes_as_a_hook_body_parse_or_are_refused(body in prop::collection::vec(any::<u8>(), 0..2048)) {
        if let Ok(delivery) = parse_delivery(&body) {
            prop_assert_eq!(delivery.event_type, HOOK_EVENT_TYPE);
        }
    }

    #[test]
    fn a_delivery_of_any_events_asks_only_for_the_users_they_carry(
        envelope_type in prop_oneof![4 => Just(HOOK_EVENT_TYPE.to_owned()), 1 => "\\PC{0,20}"],
        events in prop::collection::vec(event(), 0..6),
    ) {
        let body = json!({ "eventType": envelope_type, "eventId": "d1", "data": { "events": events } });
        let Ok(delivery) = parse_delivery(body.to_string().as_bytes()) else {
            return Ok(());
        };
        let enabled: Vec<String> = HANDLED_EVENTS.iter().map(|s| (*s).to_owned()).collect();
        for (parsed, raw) in delivery.data.events.iter().zip(&events) {
            if let Some(Action::SyncUsers { users, .. }) = action_for(parsed, &enabled) {
                prop_assert!(!users.is_empty());
                let carried = user_ids(raw);
                for user in &users {
                    prop_assert!(carried.contains(&user.as_str()), "{} not in {:?}", user, carried);
                }
            }
        }
    }

    #[test]
    fn deeply_nested_hook_bodies_are_refused_without_overflowing_the_stack(depth in 200usize..200_000) {
        let body = format!(
            r#"{{"eventType":"{HOOK_EVENT_TYPE}","eventId":"d","data":{{"events":[{{"x":{}1{}}}]}}}}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        );
        prop_assert!(parse_delivery(body.as_bytes()).is_err());
    }
}
