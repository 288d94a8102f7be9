//! Property tests of what usersync reads from Okta: pages of users and groups, System
//! Log events and the `Link` header that pages them. Whatever an org (or something
//! answering at its URL) sends, reading it answers a value, an unusable record with its
//! reason, or a decode error: never a panic or a stack overflow.

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::LogEvent;
use crate::link::next_link;
use crate::wire::{WireGroup, WireUser};

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(256)
}

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "\\PC{0,24}".prop_map(Value::from),
        Just(Value::from("ACTIVE")),
        Just(Value::from("OKTA_GROUP")),
        Just(Value::from("2026-01-01T00:00:00.000Z")),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map("[a-zA-Z]{0,8}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A field that is usually the right shape and sometimes anything at all.
fn field(usual: &'static str) -> impl Strategy<Value = Value> {
    prop_oneof![3 => usual.prop_map(Value::from), 1 => any_json()]
}

fn user() -> impl Strategy<Value = Value> {
    (
        field("00u[a-zA-Z0-9]{0,17}"),
        field("ACTIVE|STAGED|PROVISIONED|SUSPENDED|DEPROVISIONED|[A-Z_]{0,12}"),
        field("\\PC{0,40}"),
        prop::collection::btree_map("[a-zA-Z]{1,10}", any_json(), 0..5),
    )
        .prop_map(|(id, status, login, extra)| {
            let mut profile: serde_json::Map<String, Value> = extra.into_iter().collect();
            profile.insert("login".into(), login);
            json!({ "id": id, "status": status, "profile": profile })
        })
}

fn group() -> impl Strategy<Value = Value> {
    (
        field("00g[a-zA-Z0-9]{0,17}"),
        field("OKTA_GROUP|APP_GROUP|BUILT_IN|[A-Z]{0,8}"),
        field("\\PC{0,40}"),
        any_json(),
    )
        .prop_map(|(id, kind, name, stats)| {
            json!({ "id": id, "type": kind, "profile": { "name": name, "description": null },
                    "_embedded": { "stats": stats } })
        })
}

fn log_event() -> impl Strategy<Value = Value> {
    (
        field("[a-f0-9-]{0,36}"),
        field("20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-9]{2}(\\.[0-9]{1,9})?Z|\\PC{0,30}"),
        field("user\\.[a-z_.]{0,30}|group\\.[a-z_.]{0,30}"),
        any_json(),
        prop::collection::vec(any_json(), 0..4),
        any_json(),
    )
        .prop_map(|(uuid, published, event_type, actor, target, outcome)| {
            json!({ "uuid": uuid, "published": published, "eventType": event_type,
                    "actor": actor, "target": target, "outcome": outcome })
        })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_bytes_as_a_page_of_users_or_groups_decode_or_are_refused(
        body in prop::collection::vec(any::<u8>(), 0..2048),
    ) {
        if let Ok(users) = serde_json::from_slice::<Vec<WireUser>>(&body) {
            for user in users {
                let _ = user.into_user();
            }
        }
        if let Ok(groups) = serde_json::from_slice::<Vec<WireGroup>>(&body) {
            for group in groups {
                let _ = group.into_group();
            }
        }
        let _ = serde_json::from_slice::<Vec<LogEvent>>(&body);
    }

    #[test]
    fn users_of_any_shape_become_users_or_unusable_records_with_a_reason(
        page in prop::collection::vec(user(), 0..8),
        keep in prop::collection::vec("[a-zA-Z]{1,10}", 0..3),
    ) {
        let body = serde_json::to_vec(&page).expect("JSON");
        if let Ok(users) = serde_json::from_slice::<Vec<WireUser>>(&body) {
            for user in users {
                let kept = user.clone().into_user_keeping(Some(&keep));
                if let Err(unusable) = user.into_user() {
                    prop_assert!(!unusable.reason.is_empty());
                } else {
                    prop_assert!(kept.is_ok());
                }
            }
        }
    }

    #[test]
    fn groups_of_any_shape_become_groups_or_unusable_records_with_a_reason(
        page in prop::collection::vec(group(), 0..8),
    ) {
        let body = serde_json::to_vec(&page).expect("JSON");
        if let Ok(groups) = serde_json::from_slice::<Vec<WireGroup>>(&body) {
            for group in groups {
                let _ = group.users_count();
                if let Err(unusable) = group.into_group() {
                    prop_assert!(!unusable.reason.is_empty());
                }
            }
        }
    }

    #[test]
    fn log_events_of_any_shape_decode_or_are_refused(events in prop::collection::vec(log_event(), 0..8)) {
        let body = serde_json::to_vec(&events).expect("JSON");
        if let Ok(events) = serde_json::from_slice::<Vec<LogEvent>>(&body) {
            for event in &events {
                let _ = event.targets_of_type("User").count();
            }
        }
    }

    #[test]
    fn deeply_nested_profiles_are_refused_without_overflowing_the_stack(
        depth in prop_oneof![1usize..100, 200usize..50_000],
    ) {
        let body = format!(
            r#"[{{"id":"00u1","status":"ACTIVE","profile":{{"login":"a","x":{}1{}}}}}]"#,
            "[".repeat(depth),
            "]".repeat(depth)
        );
        let decoded = serde_json::from_slice::<Vec<WireUser>>(body.as_bytes());
        // serde_json refuses nesting past 128 levels (the page and the user take 3).
        prop_assert_eq!(decoded.is_ok(), depth < 100);
    }

    #[test]
    fn any_link_header_yields_a_next_url_taken_from_it_or_none(value in "[ -~]{0,300}") {
        if let Ok(header) = http::HeaderValue::from_str(&value) {
            let mut headers = http::HeaderMap::new();
            headers.append(http::header::LINK, header);
            if let Some(next) = next_link(&headers) {
                prop_assert!(value.contains(&next));
            }
        }
    }
}
