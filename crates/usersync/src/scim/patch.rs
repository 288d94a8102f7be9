//! PATCH (RFC 7644 §3.5.2) on a stored body: `add`, `replace` and `remove`, with a
//! path (`active`, `name.givenName`, `emails[type eq "work"].value`, an extension's
//! `urn:...:User:department`, `members[value eq "id"]`) or without one (a value
//! object whose attributes are set, as Okta sends `{"op": "replace", "value":
//! {"active": false}}`). A Group's members are a list of user ids beside the body.
//! The result is checked again as a whole body by `wire`.

use serde_json::{Map, Value};

use super::error::ScimError;
use super::wire::{self, PATCH_SCHEMA};

/// Most operations in one PATCH.
const MAX_OPS: usize = 1000;

/// One parsed path: `attribute[filter].sub`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Path {
    attribute: String,
    filter: Option<(String, String)>,
    sub: Option<String>,
}

fn parse_path(text: &str) -> Result<Path, ScimError> {
    let bad = || {
        ScimError::invalid_path(format!(
            "path: {text:?} is not a path this server understands"
        ))
    };
    let text = text.trim();
    // An extension attribute: the schema URN, then `:attribute`.
    if text.starts_with("urn:") {
        let (urn, attr) = text.rsplit_once(':').ok_or_else(bad)?;
        return Ok(Path {
            attribute: urn.to_owned(),
            filter: None,
            sub: Some(attr.to_owned()),
        });
    }
    let (head, sub) = match text.find('[') {
        Some(open) => {
            let close = text.find(']').filter(|c| *c > open).ok_or_else(bad)?;
            let rest = text[close + 1..].strip_prefix('.');
            (&text[..=close], rest)
        }
        None => match text.split_once('.') {
            Some((a, s)) => (a, Some(s)),
            None => (text, None),
        },
    };
    let (attribute, filter) = match head.split_once('[') {
        Some((attr, f)) => {
            let f = f.trim_end_matches(']');
            let mut words = f.splitn(3, char::is_whitespace);
            let (a, op, v) = (words.next(), words.next(), words.next());
            let (Some(a), Some(op), Some(v)) = (a, op, v) else {
                return Err(bad());
            };
            if !op.eq_ignore_ascii_case("eq") {
                return Err(bad());
            }
            let v: Value = serde_json::from_str(v.trim()).map_err(|_| bad())?;
            let v = match v {
                Value::String(s) => s,
                other => other.to_string(),
            };
            (attr, Some((a.to_owned(), v)))
        }
        None => (head, None),
    };
    if attribute.is_empty() || sub.is_some_and(str::is_empty) {
        return Err(bad());
    }
    Ok(Path {
        attribute: canonical_name(attribute),
        filter,
        sub: sub.map(str::to_owned),
    })
}

fn canonical_name(name: &str) -> String {
    let mut one = Map::new();
    one.insert(name.to_owned(), Value::Null);
    wire::canonical(one)
        .into_iter()
        .next()
        .map_or_else(|| name.to_owned(), |(k, _)| k)
}

fn matches(element: &Value, filter: &(String, String)) -> bool {
    element
        .as_object()
        .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(&filter.0)))
        .is_some_and(|(_, v)| match v {
            Value::String(s) => s.eq_ignore_ascii_case(&filter.1),
            other => serde_json::to_string(other).is_ok_and(|t| t == filter.1),
        })
}

const READ_ONLY: &[&str] = &["id", "meta", "groups"];

/// Applies a PATCH request's `Operations` to `body` (and a Group's `members`).
///
/// # Errors
/// `invalidSyntax`, `invalidPath`, `invalidValue`, `mutability`, naming the operation.
pub fn apply(
    request: &Value,
    body: &mut Map<String, Value>,
    mut members: Option<&mut Vec<String>>,
) -> Result<(), ScimError> {
    let schemas_ok = request
        .get("schemas")
        .and_then(Value::as_array)
        .is_none_or(|s| s.iter().any(|v| v == PATCH_SCHEMA));
    let ops = request
        .get("Operations")
        .or_else(|| request.get("operations"))
        .and_then(Value::as_array)
        .filter(|_| schemas_ok)
        .ok_or_else(|| {
            ScimError::invalid_syntax(format!(
                "the body must be a PatchOp ({PATCH_SCHEMA}) with an `Operations` list"
            ))
        })?;
    if ops.len() > MAX_OPS {
        return Err(ScimError::invalid_value(format!(
            "Operations: more than {MAX_OPS}"
        )));
    }
    for (i, op) in ops.iter().enumerate() {
        one(i, op, body, members.as_deref_mut())?;
    }
    Ok(())
}

fn one(
    i: usize,
    op: &Value,
    body: &mut Map<String, Value>,
    members: Option<&mut Vec<String>>,
) -> Result<(), ScimError> {
    let kind = op
        .get("op")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_ascii_lowercase();
    if !["add", "replace", "remove"].contains(&kind.as_str()) {
        return Err(ScimError::invalid_syntax(format!(
            "Operations[{i}].op: must be add, replace or remove"
        )));
    }
    let value = op.get("value").cloned();
    let path = match op.get("path") {
        None | Some(Value::Null) => None,
        Some(Value::String(p)) => Some(parse_path(p)?),
        Some(_) => {
            return Err(ScimError::invalid_path(format!(
                "Operations[{i}].path: must be a string"
            )));
        }
    };
    let Some(path) = path else {
        let Some(Value::Object(values)) = value else {
            return Err(ScimError::invalid_value(format!(
                "Operations[{i}].value: without a path, must be an object of attributes"
            )));
        };
        let mut members = members;
        for (key, v) in values {
            let p = parse_path(&key)?;
            set(i, &kind, &p, Some(v), body, members.as_deref_mut())?;
        }
        return Ok(());
    };
    set(i, &kind, &path, value, body, members)
}

fn set(
    i: usize,
    kind: &str,
    path: &Path,
    value: Option<Value>,
    body: &mut Map<String, Value>,
    members: Option<&mut Vec<String>>,
) -> Result<(), ScimError> {
    if READ_ONLY.contains(&path.attribute.as_str()) {
        // Okta repeats the id in a path-less replace; the same value is no change.
        if path.attribute == "id" {
            return Ok(());
        }
        return Err(ScimError::mutability(format!(
            "Operations[{i}]: {} is read-only",
            path.attribute
        )));
    }
    if let (Some(members), "members") = (members, path.attribute.as_str()) {
        return set_members(i, kind, path, value, members);
    }
    if kind != "remove" && value.is_none() {
        return Err(ScimError::invalid_value(format!(
            "Operations[{i}].value: required for {kind}"
        )));
    }
    match (&path.filter, &path.sub) {
        (None, None) => {
            if kind == "remove" {
                body.remove(&path.attribute);
            } else if let (Some(Value::Array(old)), Some(Value::Array(new)), "add") =
                (body.get_mut(&path.attribute), value.as_ref(), kind)
            {
                for v in new {
                    if !old.contains(v) {
                        old.push(v.clone());
                    }
                }
            } else if let Some(v) = value {
                body.insert(path.attribute.clone(), v);
            }
        }
        (None, Some(sub)) => {
            let entry = body
                .entry(path.attribute.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            let Value::Object(inner) = entry else {
                return Err(ScimError::invalid_path(format!(
                    "Operations[{i}].path: {} has no sub-attribute {sub}",
                    path.attribute
                )));
            };
            match value {
                Some(v) if kind != "remove" => {
                    inner.insert(sub.clone(), v);
                }
                _ => {
                    inner.remove(sub);
                }
            }
        }
        (Some(filter), sub) => {
            let entry = body
                .entry(path.attribute.clone())
                .or_insert_with(|| Value::Array(Vec::new()));
            let Value::Array(list) = entry else {
                return Err(ScimError::invalid_path(format!(
                    "Operations[{i}].path: {} is not multi-valued",
                    path.attribute
                )));
            };
            if kind == "remove" && sub.is_none() {
                list.retain(|e| !matches(e, filter));
                return Ok(());
            }
            let mut hit = false;
            for element in list.iter_mut().filter(|e| matches(e, filter)) {
                hit = true;
                if let (Value::Object(o), Some(sub)) = (&mut *element, sub) {
                    match &value {
                        Some(v) if kind != "remove" => {
                            o.insert(sub.clone(), v.clone());
                        }
                        _ => {
                            o.remove(sub);
                        }
                    }
                } else if let Some(v) = &value {
                    *element = v.clone();
                }
            }
            if !hit && kind != "remove" {
                let mut o = Map::new();
                o.insert(filter.0.clone(), Value::String(filter.1.clone()));
                if let (Some(sub), Some(v)) = (sub, value) {
                    o.insert(sub.clone(), v);
                }
                list.push(Value::Object(o));
            }
        }
    }
    Ok(())
}

fn set_members(
    i: usize,
    kind: &str,
    path: &Path,
    value: Option<Value>,
    members: &mut Vec<String>,
) -> Result<(), ScimError> {
    let given = value
        .map(wire::member_ids)
        .transpose()
        .map_err(|e| ScimError::invalid_value(format!("Operations[{i}].value: {}", e.detail)))?;
    match (kind, &path.filter, given) {
        ("remove", Some((attr, id)), _) if attr.eq_ignore_ascii_case("value") => {
            members.retain(|m| m != id);
        }
        ("remove", None, Some(ids)) => members.retain(|m| !ids.contains(m)),
        ("remove", None, None) => members.clear(),
        ("add", None, Some(ids)) => {
            for id in ids {
                if !members.contains(&id) {
                    members.push(id);
                }
            }
        }
        ("replace", None, Some(ids)) => *members = ids,
        _ => {
            return Err(ScimError::invalid_path(format!(
                "Operations[{i}].path: use `members` with a value to add, remove or replace, or \
                 `members[value eq \"id\"]` to remove one"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn oktas_deactivation_and_profile_patches_apply() {
        let mut body = json!({"userName": "a", "active": true, "name": {"givenName": "A"}})
            .as_object()
            .cloned()
            .unwrap();
        let request = json!({"schemas": [PATCH_SCHEMA], "Operations": [
            {"op": "replace", "value": {"active": false}},
            {"op": "replace", "path": "name.familyName", "value": "B"},
            {"op": "add", "path": "emails[type eq \"work\"].value", "value": "a@example.com"}
        ]});
        apply(&request, &mut body, None).unwrap();
        assert_eq!(body["active"], json!(false));
        assert_eq!(body["name"], json!({"givenName": "A", "familyName": "B"}));
        assert_eq!(
            body["emails"],
            json!([{"type": "work", "value": "a@example.com"}])
        );
    }

    #[test]
    fn oktas_group_member_patches_add_and_remove() {
        let mut body = Map::new();
        let mut members = vec!["u1".to_owned()];
        let add = json!({"schemas": [PATCH_SCHEMA], "Operations": [
            {"op": "add", "path": "members", "value": [{"value": "u2", "display": "b"}]}]});
        apply(&add, &mut body, Some(&mut members)).unwrap();
        assert_eq!(members, ["u1", "u2"]);
        let remove = json!({"schemas": [PATCH_SCHEMA], "Operations": [
            {"op": "remove", "path": "members[value eq \"u1\"]"},
            {"op": "replace", "value": {"id": "g", "displayName": "New name"}}]});
        apply(&remove, &mut body, Some(&mut members)).unwrap();
        assert_eq!(members, ["u2"]);
        assert_eq!(body["displayName"], json!("New name"));
    }

    #[test]
    fn bad_patches_are_errors_naming_the_operation() {
        let mut body = Map::new();
        for (request, start) in [
            (json!({"Operations": [{"op": "move"}]}), "Operations[0].op"),
            (
                json!({"Operations": [{"op": "replace", "path": "meta", "value": 1}]}),
                "Operations[0]:",
            ),
            (
                json!({"Operations": [{"op": "replace", "path": "a[b", "value": 1}]}),
                "path:",
            ),
            (json!({"nothing": true}), "the body"),
        ] {
            let err = apply(&request, &mut body, None).unwrap_err();
            assert!(err.detail.starts_with(start), "{start}: {}", err.detail);
        }
    }
}
