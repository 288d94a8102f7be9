//! Tests of [`Profile`]: the map semantics it keeps and the memory it saves.

use std::collections::BTreeMap;

use super::*;

fn five() -> Profile {
    Profile::from([
        ("login", "ada.lovelace@example.com"),
        ("email", "ada.lovelace@example.com"),
        ("firstName", "Ada"),
        ("lastName", "Lovelace"),
        ("displayName", "Ada Lovelace"),
    ])
}

#[test]
fn get_finds_present_keys_exactly_and_nothing_for_missing_ones() {
    let p = five();
    assert_eq!(p.get("firstName"), Some("Ada"));
    assert_eq!(p.get("displayName"), Some("Ada Lovelace"));
    assert_eq!(
        p.get("firstname"),
        None,
        "keys match exactly, as in a BTreeMap"
    );
    assert_eq!(p.get("department"), None);
    assert_eq!(p.get(""), None);
    assert!(p.contains_key("email"));
    assert!(!Profile::new().contains_key("email"));
}

#[test]
fn iteration_is_in_key_order_whatever_the_order_given() {
    let p = five();
    let keys: Vec<&str> = p.keys().collect();
    assert_eq!(
        keys,
        ["displayName", "email", "firstName", "lastName", "login"]
    );
    let map: BTreeMap<String, String> = five()
        .iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    assert!(map.keys().eq(five().keys()));
}

#[test]
fn the_last_value_given_for_a_key_wins_as_when_collecting_a_map() {
    let p: Profile = [("a", "1"), ("b", "2"), ("a", "3"), ("a", "4")]
        .into_iter()
        .collect();
    assert_eq!(p.len(), 2);
    assert_eq!(p.get("a"), Some("4"));
    assert_eq!(p.get("b"), Some("2"));
}

#[test]
fn insert_remove_and_retain_keep_the_keys_sorted_and_return_what_they_replaced() {
    let mut p = five();
    assert_eq!(p.insert("department".into(), "Engineering".into()), None);
    assert_eq!(
        p.insert("firstName".into(), "Augusta".into()),
        Some("Ada".to_owned())
    );
    assert_eq!(p.get("firstName"), Some("Augusta"));
    assert_eq!(p.remove("lastName"), Some("Lovelace".to_owned()));
    assert_eq!(p.remove("lastName"), None);
    p.retain(|k, _| k != "email");
    let keys: Vec<&str> = p.keys().collect();
    assert_eq!(keys, ["department", "displayName", "firstName", "login"]);
}

#[test]
fn a_profile_round_trips_as_the_same_json_object_a_btreemap_was() {
    let p = five();
    let json = serde_json::to_string(&p).unwrap();
    let map: BTreeMap<String, String> = p
        .iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    assert_eq!(json, serde_json::to_string(&map).unwrap());
    let back: Profile = serde_json::from_str(&json).unwrap();
    assert_eq!(back, p);
    let from_unsorted: Profile =
        serde_json::from_str(r#"{"z":"last","a":"first","long":"x"}"#).unwrap();
    assert_eq!(
        from_unsorted,
        Profile::from(BTreeMap::from([
            ("a".to_owned(), "first".to_owned()),
            ("long".to_owned(), "x".to_owned()),
            ("z".to_owned(), "last".to_owned()),
        ]))
    );
    assert!(
        serde_json::from_str::<Profile>(r#"{"a":1}"#).is_err(),
        "values are strings"
    );
}

#[test]
fn debug_prints_a_map_as_before() {
    let p = Profile::from([("b", "2"), ("a", "1")]);
    assert_eq!(format!("{p:?}"), r#"{"a": "1", "b": "2"}"#);
}

#[test]
fn a_five_attribute_profile_owns_far_less_than_the_map_it_replaced() {
    let p = five();
    let bytes = std::mem::size_of::<Profile>() + p.heap_bytes();
    // The map cost one 544-byte node plus ten heap strings (about 1.1 KB); here every key and
    // value fits inline, so the profile is one 240-byte slice and a 16-byte pointer.
    assert_eq!(p.heap_bytes(), 5 * 48);
    assert!(bytes <= 256, "{bytes} bytes");
    let long = Profile::from([("note", "a value that is longer than twenty-four bytes")]);
    let value_len = long.get("note").unwrap().len();
    assert!(
        long.heap_bytes() >= 48 + value_len,
        "a spilled value counts its heap bytes"
    );
}
