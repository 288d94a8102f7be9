//! The one envelope of every `--output json` document, so scripts can rely on one
//! shape whatever the command.
//!
//! Every document is one JSON object whose first field is `"version": 1` ([`VERSION`];
//! fields are only ever added within a version). A command about one thing puts
//! that thing's fields beside `version` ([`print`]); a listing puts its items in one
//! named array ([`print_list`]: `{"version": 1, "runs": [...]}`). Things are named
//! as users name them (an app by its name; runs by the number `usersync run show`
//! takes), never by internal database ids, and every choice between shapes is
//! tagged by a field (`"kind"`, `"state"`, `"decision"`, `"status"`), never
//! encoded as a Rust enum (`{"Ok": ...}`, `{"Variant": {...}}`). The shapes of
//! each command are documented in [`super::report`].

use serde::Serialize;
use serde::ser::{SerializeMap as _, Serializer};

use super::output;

/// The version every JSON document carries.
pub const VERSION: u32 = 1;

/// `body`'s fields after `"version"`.
#[derive(Serialize)]
struct Envelope<'a, T: ?Sized> {
    version: u32,
    #[serde(flatten)]
    body: &'a T,
}

/// `{"version": 1, "<field>": [items]}`.
struct Listing<'a, T> {
    field: &'a str,
    items: &'a [T],
}

impl<T: Serialize> Serialize for Listing<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("version", &VERSION)?;
        map.serialize_entry(self.field, self.items)?;
        map.end()
    }
}

/// The document of one thing: `body` (a struct or map) with `version` first.
///
/// # Errors
/// Only if `body` cannot be serialized as an object (a bug).
pub fn document<T: Serialize + ?Sized>(body: &T) -> anyhow::Result<String> {
    output::json(&Envelope {
        version: VERSION,
        body,
    })
}

/// Prints [`document`] of `body` on stdout.
///
/// # Errors
/// As [`document`].
pub fn print<T: Serialize + ?Sized>(body: &T) -> anyhow::Result<()> {
    output::print(&document(body)?);
    Ok(())
}

/// The document of a listing: `{"version": 1, "<field>": [items]}`.
///
/// # Errors
/// Only if an item cannot be serialized (a bug).
pub fn list_document<T: Serialize>(field: &str, items: &[T]) -> anyhow::Result<String> {
    output::json(&Listing { field, items })
}

/// Prints [`list_document`] on stdout.
///
/// # Errors
/// As [`list_document`].
pub fn print_list<T: Serialize>(field: &str, items: &[T]) -> anyhow::Result<()> {
    output::print(&list_document(field, items)?);
    Ok(())
}

/// `item` without its internal database `id`, for things users name by name
/// (apps, administrators, API tokens: the commands take names, never these ids).
///
/// # Errors
/// Only if `item` cannot be serialized (a bug).
pub fn without_id<T: Serialize>(item: &T) -> anyhow::Result<serde_json::Value> {
    let mut value = serde_json::to_value(item)?;
    if let Some(fields) = value.as_object_mut() {
        fields.remove("id");
    }
    Ok(value)
}

/// Each of `items` [`without_id`].
///
/// # Errors
/// As [`without_id`].
pub fn without_ids<T: Serialize>(items: &[T]) -> anyhow::Result<Vec<serde_json::Value>> {
    items.iter().map(without_id).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Thing {
        name: &'static str,
    }

    #[test]
    fn a_document_carries_the_version_first_and_the_things_fields_beside_it() {
        let text = document(&Thing { name: "jira" }).unwrap();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value, serde_json::json!({ "version": 1, "name": "jira" }));
        assert!(
            text.trim_start().starts_with("{\n  \"version\": 1,"),
            "{text}"
        );
    }

    #[test]
    fn a_listing_is_a_versioned_object_with_one_named_array() {
        let text = list_document("apps", &[Thing { name: "a" }, Thing { name: "b" }]).unwrap();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            value,
            serde_json::json!({ "version": 1, "apps": [{ "name": "a" }, { "name": "b" }] })
        );
    }
}
