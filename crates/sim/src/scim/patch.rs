//! One PATCH operation (RFC 7644 §3.5.2) applied to a resource's attributes:
//! `add`, `replace` and `remove`, with a simple attribute path, a sub-attribute
//! (`name.givenName`), a `members[value eq "id"]` filter, or no path (the value
//! is an object of attributes).

use serde_json::{Map, Value};

use super::error::ScimFault;

/// Applies `op` to `attrs`.
pub(crate) fn apply(attrs: &mut Value, op: &Value) -> Result<(), ScimFault> {
    let kind = op["op"].as_str().unwrap_or("").to_ascii_lowercase();
    let path = op.get("path").and_then(Value::as_str).map(str::trim);
    let value = op.get("value").cloned();
    let obj = attrs
        .as_object_mut()
        .ok_or_else(|| ScimFault::bad("invalidSyntax", "resource is not an object"))?;
    match (kind.as_str(), path) {
        ("add" | "replace", None) => {
            let Some(Value::Object(fields)) = value else {
                return Err(ScimFault::bad(
                    "invalidValue",
                    "an operation without a path needs an object value",
                ));
            };
            for (k, v) in fields {
                set(obj, &k, v, kind == "add");
            }
            Ok(())
        }
        ("add" | "replace", Some(path)) => {
            let value = value.ok_or_else(|| {
                ScimFault::bad("invalidValue", format!("{kind} of {path} needs a value"))
            })?;
            check_mutable(path)?;
            set(obj, path, value, kind == "add");
            Ok(())
        }
        ("remove", Some(path)) => remove(obj, path, value),
        ("remove", None) => Err(ScimFault::bad("noTarget", "remove needs a path")),
        _ => Err(ScimFault::bad(
            "invalidSyntax",
            format!("unknown op {kind:?}"),
        )),
    }
}

fn check_mutable(path: &str) -> Result<(), ScimFault> {
    if path.eq_ignore_ascii_case("id") || path.eq_ignore_ascii_case("meta") {
        return Err(ScimFault::bad("mutability", format!("{path} is read-only")));
    }
    Ok(())
}

/// Finds a key ignoring case (attribute names are case-insensitive, RFC 7643 §2.1).
fn key_of(obj: &Map<String, Value>, name: &str) -> String {
    obj.keys()
        .find(|k| k.eq_ignore_ascii_case(name))
        .cloned()
        .unwrap_or_else(|| name.to_owned())
}

/// Sets `path`; `add` to a multi-valued attribute appends (RFC 7644: add merges).
fn set(obj: &mut Map<String, Value>, path: &str, value: Value, add: bool) {
    if let Some((head, sub)) = path.split_once('.') {
        let key = key_of(obj, head);
        let entry = obj.entry(key).or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(inner) = entry {
            let sub_key = key_of(inner, sub);
            inner.insert(sub_key, value);
        }
        return;
    }
    let key = key_of(obj, path);
    match (obj.get_mut(&key), value) {
        (Some(Value::Array(items)), Value::Array(new)) if add => {
            for v in new {
                if !items.contains(&v) && !items.iter().any(|i| same_member(i, &v)) {
                    items.push(v);
                }
            }
        }
        (_, value) => {
            obj.insert(key, value);
        }
    }
}

fn same_member(a: &Value, b: &Value) -> bool {
    a.get("value").is_some() && a.get("value") == b.get("value")
}

/// Removes `path`: a whole attribute, the listed values of a multi-valued one, or the
/// values a `[value eq "x"]` filter selects.
fn remove(obj: &mut Map<String, Value>, path: &str, value: Option<Value>) -> Result<(), ScimFault> {
    if let Some((attr, rest)) = path.split_once('[') {
        let inner = rest.trim_end_matches(']').trim();
        let mut words = inner.splitn(3, char::is_whitespace);
        let (sub, op, raw) = (
            words.next().unwrap_or(""),
            words.next().unwrap_or(""),
            words.next().unwrap_or(""),
        );
        let want: Value = serde_json::from_str(raw.trim()).map_err(|_| {
            ScimFault::bad("invalidPath", format!("cannot read the filter in {path:?}"))
        })?;
        if !op.eq_ignore_ascii_case("eq") {
            return Err(ScimFault::bad(
                "invalidPath",
                format!("only eq is supported in {path:?}"),
            ));
        }
        let key = key_of(obj, attr.trim());
        if let Some(Value::Array(items)) = obj.get_mut(&key) {
            items.retain(|i| i.get(sub) != Some(&want));
        }
        return Ok(());
    }
    let key = key_of(obj, path);
    match (obj.get_mut(&key), value) {
        (Some(Value::Array(items)), Some(Value::Array(gone))) => {
            items.retain(|i| !gone.iter().any(|g| g == i || same_member(i, g)));
        }
        _ => {
            obj.remove(&key);
        }
    }
    Ok(())
}
