//! The org's user profile schema, `GET /api/v1/meta/schemas/user/default` (Okta's
//! `UserSchema`): JSON Schema draft-04 with the profile's attributes in two
//! definitions, `base` (the standard attributes of the reference's §3d) and `custom`.
//!
//! Okta accepts a custom attribute in a profile only once the schema defines it, so
//! the emulator's custom definition is every non-standard attribute any of its users
//! carries (typed from the first value seen): the schema an org with those profiles
//! must have. Only `default` exists; another schema id is Okta's 404.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::error::{ApiError, ApiResult};
use super::paging::{self, Base};
use super::server::App;

/// The standard profile attributes, with their titles (reference §3d, Okta's `UserProfile`).
pub const BASE: &[(&str, &str)] = &[
    ("login", "Username"),
    ("firstName", "First name"),
    ("lastName", "Last name"),
    ("middleName", "Middle name"),
    ("honorificPrefix", "Honorific prefix"),
    ("honorificSuffix", "Honorific suffix"),
    ("email", "Primary email"),
    ("title", "Title"),
    ("displayName", "Display name"),
    ("nickName", "Nickname"),
    ("profileUrl", "Profile Url"),
    ("secondEmail", "Secondary email"),
    ("mobilePhone", "Mobile phone"),
    ("primaryPhone", "Primary phone"),
    ("streetAddress", "Street address"),
    ("city", "City"),
    ("state", "State"),
    ("zipCode", "Zip code"),
    ("countryCode", "Country code"),
    ("postalAddress", "Postal Address"),
    ("preferredLanguage", "Preferred language"),
    ("locale", "Locale"),
    ("timezone", "Time zone"),
    ("userType", "User type"),
    ("employeeNumber", "Employee number"),
    ("costCenter", "Cost center"),
    ("organization", "Organization"),
    ("division", "Division"),
    ("department", "Department"),
    ("managerId", "ManagerId"),
    ("manager", "Manager"),
];

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::Array(_) => "array",
        _ => "string",
    }
}

fn property(title: &str, kind: &str) -> Value {
    let mut p = json!({
        "title": title,
        "type": kind,
        "mutability": "READ_WRITE",
        "scope": "NONE",
        "permissions": [{"principal": "SELF", "action": "READ_WRITE"}],
        "master": {"type": "PROFILE_MASTER"}
    });
    if kind == "array" {
        p["items"] = json!({"type": "string"});
    }
    p
}

/// `GET /api/v1/meta/schemas/user/{schemaId}`.
pub async fn user_schema(
    State(app): State<App>,
    base: Base,
    Path(schema_id): Path<String>,
) -> ApiResult<Response> {
    if schema_id != "default" {
        return Err(ApiError::not_found(&schema_id, "UserSchema"));
    }
    let mut base_props = Map::new();
    for (name, title) in BASE {
        base_props.insert((*name).to_owned(), property(title, "string"));
    }
    let mut custom = Map::new();
    for user in app.org().users.values() {
        for (name, value) in &user.profile {
            if !base_props.contains_key(name) && !custom.contains_key(name) && !value.is_null() {
                custom.insert(name.clone(), property(name, json_type(value)));
            }
        }
    }
    let url = base.0;
    let body = json!({
        "id": format!("{url}/meta/schemas/user/default"),
        "$schema": "http://json-schema.org/draft-04/schema#",
        "name": "user",
        "title": "User",
        "description": "Okta user profile template with default permission settings",
        "lastUpdated": "2026-01-01T00:00:00.000Z",
        "created": "2026-01-01T00:00:00.000Z",
        "definitions": {
            "custom": {"id": "#custom", "type": "object", "properties": custom, "required": []},
            "base": {
                "id": "#base",
                "type": "object",
                "properties": base_props,
                "required": ["login", "firstName", "lastName", "email"]
            }
        },
        "type": "object",
        "properties": {
            "profile": {"allOf": [{"$ref": "#/definitions/custom"}, {"$ref": "#/definitions/base"}]}
        },
        "_links": {
            "self": {"rel": "self", "href": format!("{url}/api/v1/meta/schemas/user/default"), "method": "GET"},
            "type": {"rel": "self", "href": format!("{url}/api/v1/meta/types/user/default"), "method": "GET"}
        }
    });
    Ok(paging::json(&body, HeaderMap::new()))
}
