//! Discovery (RFC 7643 §5-7, RFC 7644 §4): `/ServiceProviderConfig` (PATCH and
//! filters supported, no bulk, no sort, ETags, bearer tokens), `/ResourceTypes`
//! (User, Group) and `/Schemas` (the attributes this server keeps and answers).

use serde_json::{Value, json};

use super::wire::{GROUP_SCHEMA, USER_SCHEMA, list};

const SPC_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
const RT_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

pub fn service_provider_config(base: &str) -> Value {
    json!({
        "schemas": [SPC_SCHEMA],
        "documentationUri": "https://github.com/usersync/usersync#okta-scim-provisioning",
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": super::query::MAX_COUNT},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": true},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "Bearer token",
            "description": "The app's SCIM token: `usersync app scim-token APP` or the app page",
            "primary": true
        }],
        "meta": {"resourceType": "ServiceProviderConfig", "location": format!("{base}/ServiceProviderConfig")}
    })
}

fn resource_type(base: &str, name: &str, endpoint: &str, schema: &str) -> Value {
    json!({
        "schemas": [RT_SCHEMA],
        "id": name,
        "name": name,
        "endpoint": endpoint,
        "description": format!("{name}s pushed by Okta"),
        "schema": schema,
        "schemaExtensions": [],
        "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/{name}")}
    })
}

pub fn resource_types(base: &str) -> Vec<Value> {
    vec![
        resource_type(base, "User", "/Users", USER_SCHEMA),
        resource_type(base, "Group", "/Groups", GROUP_SCHEMA),
    ]
}

pub fn resource_type_list(base: &str) -> Value {
    let all = resource_types(base);
    list(all.len() as u64, 1, all)
}

/// One attribute definition.
fn attr(
    name: &str,
    kind: &str,
    multi: bool,
    required: bool,
    mutability: &str,
    sub: Vec<Value>,
) -> Value {
    let mut a = json!({
        "name": name,
        "type": kind,
        "multiValued": multi,
        "description": name,
        "required": required,
        "caseExact": false,
        "mutability": mutability,
        "returned": "default",
        "uniqueness": "none",
    });
    if !sub.is_empty() {
        a["subAttributes"] = Value::Array(sub);
    }
    a
}

fn s(name: &str) -> Value {
    attr(name, "string", false, false, "readWrite", vec![])
}

fn multi(name: &str) -> Value {
    let primary = attr("primary", "boolean", false, false, "readWrite", vec![]);
    attr(
        name,
        "complex",
        true,
        false,
        "readWrite",
        vec![s("value"), s("type"), primary],
    )
}

fn user_schema(base: &str) -> Value {
    let mut user_name = attr("userName", "string", false, true, "readWrite", vec![]);
    user_name["uniqueness"] = json!("server");
    let name = attr(
        "name",
        "complex",
        false,
        false,
        "readWrite",
        [
            "formatted",
            "familyName",
            "givenName",
            "middleName",
            "honorificPrefix",
            "honorificSuffix",
        ]
        .into_iter()
        .map(s)
        .collect(),
    );
    let mut groups = attr(
        "groups",
        "complex",
        true,
        false,
        "readOnly",
        vec![
            s("value"),
            s("display"),
            s("type"),
            attr("$ref", "reference", false, false, "readOnly", vec![]),
        ],
    );
    for sub in groups["subAttributes"].as_array_mut().into_iter().flatten() {
        sub["mutability"] = json!("readOnly");
    }
    let mut attributes = vec![user_name, name];
    attributes.extend(
        [
            "displayName",
            "nickName",
            "title",
            "userType",
            "preferredLanguage",
            "locale",
            "timezone",
        ]
        .into_iter()
        .map(s),
    );
    attributes.push(attr("active", "boolean", false, false, "readWrite", vec![]));
    attributes.push(multi("emails"));
    attributes.push(multi("phoneNumbers"));
    attributes.push(groups);
    schema(base, USER_SCHEMA, "User", attributes)
}

fn group_schema(base: &str) -> Value {
    let mut display = attr("displayName", "string", false, true, "readWrite", vec![]);
    display["uniqueness"] = json!("server");
    let mut value = s("value");
    value["mutability"] = json!("immutable");
    let reference = attr("$ref", "reference", false, false, "immutable", vec![]);
    let members = attr(
        "members",
        "complex",
        true,
        false,
        "readWrite",
        vec![value, s("display"), s("type"), reference],
    );
    schema(base, GROUP_SCHEMA, "Group", vec![display, members])
}

fn schema(base: &str, id: &str, name: &str, attributes: Vec<Value>) -> Value {
    json!({
        "schemas": [SCHEMA_SCHEMA],
        "id": id,
        "name": name,
        "description": name,
        "attributes": attributes,
        "meta": {"resourceType": "Schema", "location": format!("{base}/Schemas/{id}")}
    })
}

pub fn schemas(base: &str) -> Vec<Value> {
    vec![user_schema(base), group_schema(base)]
}

pub fn schema_list(base: &str) -> Value {
    let all = schemas(base);
    list(all.len() as u64, 1, all)
}
