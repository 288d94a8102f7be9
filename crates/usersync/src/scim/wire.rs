//! The SCIM server's resource shapes (RFC 7643): incoming User and Group bodies
//! checked and normalised (attribute names to their canonical case, read-only
//! attributes and `password` dropped: a password is never stored), and the
//! representations GETs answer (`id`, `meta`, a User's `groups`, a Group's `members`).

use chrono::SecondsFormat;
use serde_json::{Map, Value, json};
use usersync_store::ScimRecord;

use super::error::ScimError;

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// Longest `userName` / `displayName` accepted.
const MAX_NAME: usize = 256;
/// Longest `externalId`: it stands for the Okta id (at most 64 characters).
const MAX_EXTERNAL_ID: usize = 64;

/// Attribute names in their canonical case (SCIM attribute names ignore case).
const CANONICAL: &[&str] = &[
    "schemas",
    "id",
    "externalId",
    "meta",
    "userName",
    "name",
    "displayName",
    "nickName",
    "profileUrl",
    "title",
    "userType",
    "preferredLanguage",
    "locale",
    "timezone",
    "active",
    "password",
    "emails",
    "phoneNumbers",
    "ims",
    "photos",
    "addresses",
    "groups",
    "entitlements",
    "roles",
    "x509Certificates",
    "members",
];

/// A User or Group body, checked.
#[derive(Debug, Clone)]
pub struct Input {
    /// `userName` or `displayName`.
    pub name: String,
    pub external_id: Option<String>,
    pub active: bool,
    /// What is stored: the body without read-only attributes, `password` and `members`.
    pub body: Map<String, Value>,
    /// A Group's member ids as sent (None when the body has no `members`).
    pub members: Option<Vec<String>>,
}

/// The attribute names of `map` in canonical case; the first of a duplicate wins.
pub fn canonical(map: Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, value) in map {
        let key = CANONICAL
            .iter()
            .find(|c| c.eq_ignore_ascii_case(&key))
            .map_or(key, |c| (*c).to_owned());
        out.entry(key).or_insert(value);
    }
    out
}

fn object(value: Value, what: &str) -> Result<Map<String, Value>, ScimError> {
    match value {
        Value::Object(map) => Ok(canonical(map)),
        _ => Err(ScimError::invalid_syntax(format!(
            "the body must be a SCIM {what} JSON object"
        ))),
    }
}

fn name(body: &Map<String, Value>, attribute: &str) -> Result<String, ScimError> {
    let value = match body.get(attribute) {
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(_) => {
            return Err(ScimError::invalid_value(format!(
                "{attribute}: must be a string"
            )));
        }
        None => {
            return Err(ScimError::invalid_value(format!(
                "{attribute}: required; send the resource's {attribute}"
            )));
        }
    };
    if value.is_empty() || value.len() > MAX_NAME || value.chars().any(char::is_control) {
        return Err(ScimError::invalid_value(format!(
            "{attribute}: must be 1 to {MAX_NAME} characters without control characters"
        )));
    }
    Ok(value)
}

fn external_id(body: &Map<String, Value>) -> Result<Option<String>, ScimError> {
    match body.get("externalId") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s))
            if !s.is_empty() && s.len() <= MAX_EXTERNAL_ID && !s.chars().any(char::is_control) =>
        {
            Ok(Some(s.clone()))
        }
        Some(_) => Err(ScimError::invalid_value(format!(
            "externalId: must be a string of 1 to {MAX_EXTERNAL_ID} characters (Okta sends the \
             Okta user or group id)"
        ))),
    }
}

fn strip_read_only(body: &mut Map<String, Value>) {
    for key in ["id", "meta", "groups", "password"] {
        body.remove(key);
    }
}

/// Checks a User body (POST, PUT, or the result of a PATCH).
///
/// # Errors
/// `invalidSyntax` / `invalidValue` naming the attribute.
pub fn user_input(value: Value) -> Result<Input, ScimError> {
    let mut body = object(value, "User")?;
    strip_read_only(&mut body);
    body.remove("members");
    let name = name(&body, "userName")?;
    body.insert("userName".into(), Value::String(name.clone()));
    let active = match body.get("active") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => true,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => false,
        Some(_) => return Err(ScimError::invalid_value("active: must be true or false")),
    };
    // An absent `active` means active, and stays absent (a PATCH may remove it).
    if body.contains_key("active") {
        body.insert("active".into(), Value::Bool(active));
    }
    if body
        .get("name")
        .is_some_and(|n| !n.is_object() && !n.is_null())
    {
        return Err(ScimError::invalid_value(
            "name: must be an object (givenName, familyName, ...)",
        ));
    }
    if let Some(emails) = body.get("emails").filter(|e| !e.is_null()) {
        let ok = emails.as_array().is_some_and(|a| {
            a.iter()
                .all(|e| e.get("value").is_none_or(Value::is_string))
        });
        if !ok {
            return Err(ScimError::invalid_value(
                "emails: must be a list of objects with a string `value`",
            ));
        }
    }
    body.entry("schemas")
        .or_insert_with(|| json!([USER_SCHEMA]));
    Ok(Input {
        name,
        external_id: external_id(&body)?,
        active,
        body,
        members: None,
    })
}

/// Checks a Group body (POST, PUT, or the result of a PATCH).
///
/// # Errors
/// `invalidSyntax` / `invalidValue` naming the attribute.
pub fn group_input(value: Value) -> Result<Input, ScimError> {
    let mut body = object(value, "Group")?;
    strip_read_only(&mut body);
    let name = name(&body, "displayName")?;
    body.insert("displayName".into(), Value::String(name.clone()));
    let members = body.remove("members").map(member_ids).transpose()?;
    body.entry("schemas")
        .or_insert_with(|| json!([GROUP_SCHEMA]));
    Ok(Input {
        name,
        external_id: external_id(&body)?,
        active: true,
        body,
        members,
    })
}

/// The ids of a `members` list (`[{"value": id}, ...]`).
///
/// # Errors
/// `invalidValue` naming `members[i].value`.
pub fn member_ids(members: Value) -> Result<Vec<String>, ScimError> {
    let list = match members {
        Value::Null => return Ok(Vec::new()),
        Value::Array(list) => list,
        single @ Value::Object(_) => vec![single],
        _ => {
            return Err(ScimError::invalid_value(
                "members: must be a list of {\"value\": id}",
            ));
        }
    };
    let mut ids = Vec::with_capacity(list.len());
    for (i, member) in list.iter().enumerate() {
        match member.get("value") {
            Some(Value::String(id)) if !id.is_empty() => {
                if !ids.contains(id) {
                    ids.push(id.clone());
                }
            }
            _ => {
                return Err(ScimError::invalid_value(format!(
                    "members[{i}].value: must be the SCIM id of a user"
                )));
            }
        }
    }
    Ok(ids)
}

fn meta(record: &ScimRecord, resource_type: &str, location: &str) -> Value {
    json!({
        "resourceType": resource_type,
        "created": record.created_at.to_rfc3339_opts(SecondsFormat::Millis, true),
        "lastModified": record.modified_at.to_rfc3339_opts(SecondsFormat::Millis, true),
        "location": location,
        "version": etag(record),
    })
}

/// The weak ETag of a record's version.
pub fn etag(record: &ScimRecord) -> String {
    format!("W/\"{}\"", record.version)
}

fn stored(record: &ScimRecord) -> Map<String, Value> {
    match serde_json::from_str(&record.body) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

/// A User as GETs answer it; `base` is `https://host/scim/v2/{app}`.
pub fn user_json(record: &ScimRecord, groups: &[ScimRecord], base: &str) -> Value {
    let mut body = stored(record);
    body.insert("id".into(), json!(record.id));
    body.insert(
        "meta".into(),
        meta(record, "User", &format!("{base}/Users/{}", record.id)),
    );
    if !groups.is_empty() {
        let list: Vec<Value> = groups
            .iter()
            .map(|g| json!({"value": g.id, "display": g.name, "$ref": format!("{base}/Groups/{}", g.id), "type": "direct"}))
            .collect();
        body.insert("groups".into(), Value::Array(list));
    }
    Value::Object(body)
}

/// A Group as GETs answer it, with its members.
pub fn group_json(record: &ScimRecord, members: &[ScimRecord], base: &str) -> Value {
    let mut body = stored(record);
    body.insert("id".into(), json!(record.id));
    body.insert(
        "meta".into(),
        meta(record, "Group", &format!("{base}/Groups/{}", record.id)),
    );
    let list: Vec<Value> = members
        .iter()
        .map(|u| json!({"value": u.id, "display": u.name, "$ref": format!("{base}/Users/{}", u.id), "type": "User"}))
        .collect();
    body.insert("members".into(), Value::Array(list));
    Value::Object(body)
}

/// A ListResponse page.
pub fn list(total: u64, start_index: u64, resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

/// The stored body of a record, for PATCH to work on.
pub fn body_of(record: &ScimRecord) -> Map<String, Value> {
    stored(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_and_read_only_attributes_are_never_stored() {
        let input = user_input(json!({
            "USERNAME": "a@example.com", "password": "s3cret!", "id": "forged",
            "groups": [{"value": "g"}], "meta": {}, "active": true
        }))
        .unwrap();
        assert_eq!(input.name, "a@example.com");
        for gone in ["password", "id", "groups", "meta", "USERNAME"] {
            assert!(!input.body.contains_key(gone), "{gone}");
        }
    }

    #[test]
    fn bad_bodies_are_errors_naming_the_attribute() {
        let cases = [
            (json!([]), "the body"),
            (json!({}), "userName:"),
            (json!({"userName": 5}), "userName:"),
            (json!({"userName": "a", "active": "maybe"}), "active:"),
            (
                json!({"userName": "a", "externalId": "x".repeat(65)}),
                "externalId:",
            ),
            (json!({"userName": "a", "emails": "a@b"}), "emails:"),
        ];
        for (body, field) in cases {
            let err = user_input(body).unwrap_err();
            assert!(err.detail.starts_with(field), "{field}: {}", err.detail);
        }
        let err =
            group_input(json!({"displayName": "g", "members": [{"display": "x"}]})).unwrap_err();
        assert!(err.detail.starts_with("members[0].value"), "{}", err.detail);
    }
}
