//! The discovery endpoints (RFC 7644 §4): `/ServiceProviderConfig`, `/ResourceTypes`
//! and `/Schemas`, saying what this emulator's profile supports.

use serde_json::{Value, json};

use super::state::{GROUP_SCHEMA, USER_SCHEMA};
use super::{Features, Profile};

pub(crate) fn service_provider_config(features: &Features, profile: Profile) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "documentationUri": match profile {
            Profile::Generic => "https://www.rfc-editor.org/rfc/rfc7644",
            Profile::AtlassianCloud => "https://developer.atlassian.com/cloud/admin/user-provisioning/rest/intro/",
        },
        "patch": {"supported": features.patch},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": features.max_results},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": features.etag},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "Authentication with a bearer token",
            "primary": true
        }],
        "meta": {"resourceType": "ServiceProviderConfig", "location": "/ServiceProviderConfig"}
    })
}

pub(crate) fn resource_types() -> Value {
    let types = vec![
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"], "id": "User",
               "name": "User", "endpoint": "/Users", "schema": USER_SCHEMA,
               "meta": {"resourceType": "ResourceType", "location": "/ResourceTypes/User"}}),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"], "id": "Group",
               "name": "Group", "endpoint": "/Groups", "schema": GROUP_SCHEMA,
               "meta": {"resourceType": "ResourceType", "location": "/ResourceTypes/Group"}}),
    ];
    list(types)
}

fn attr(name: &str, kind: &str, required: bool, unique: &str) -> Value {
    json!({"name": name, "type": kind, "multiValued": false, "required": required,
           "caseExact": false, "mutability": "readWrite", "returned": "default",
           "uniqueness": unique})
}

pub(crate) fn schemas() -> Value {
    let user = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": USER_SCHEMA, "name": "User", "description": "User Account",
        "attributes": [
            attr("userName", "string", true, "server"),
            attr("displayName", "string", false, "none"),
            attr("externalId", "string", false, "none"),
            attr("active", "boolean", false, "none"),
            {"name": "name", "type": "complex", "multiValued": false, "required": false,
             "mutability": "readWrite", "returned": "default", "uniqueness": "none",
             "subAttributes": [attr("formatted", "string", false, "none"), attr("givenName", "string", false, "none"),
                               attr("familyName", "string", false, "none")]},
            {"name": "groups", "type": "complex", "multiValued": true, "required": false,
             "mutability": "readOnly", "returned": "default", "uniqueness": "none",
             "subAttributes": [{"name": "value", "type": "string", "multiValued": false, "required": false,
                                "caseExact": false, "mutability": "readOnly", "returned": "default", "uniqueness": "none"},
                               {"name": "display", "type": "string", "multiValued": false, "required": false,
                                "caseExact": false, "mutability": "readOnly", "returned": "default", "uniqueness": "none"},
                               {"name": "type", "type": "string", "multiValued": false, "required": false,
                                "caseExact": false, "mutability": "readOnly", "returned": "default", "uniqueness": "none"}]},
            {"name": "emails", "type": "complex", "multiValued": true, "required": false,
             "mutability": "readWrite", "returned": "default", "uniqueness": "none",
             "subAttributes": [attr("value", "string", false, "none"), attr("type", "string", false, "none"),
                               attr("primary", "boolean", false, "none")]}
        ],
        "meta": {"resourceType": "Schema", "location": format!("/Schemas/{USER_SCHEMA}")}
    });
    let group = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": GROUP_SCHEMA, "name": "Group", "description": "Group",
        "attributes": [
            attr("displayName", "string", true, "server"),
            {"name": "members", "type": "complex", "multiValued": true, "required": false,
             "mutability": "readWrite", "returned": "default", "uniqueness": "none",
             "subAttributes": [attr("value", "string", false, "none"), attr("display", "string", false, "none")]}
        ],
        "meta": {"resourceType": "Schema", "location": format!("/Schemas/{GROUP_SCHEMA}")}
    });
    list(vec![user, group])
}

fn list(resources: Vec<Value>) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": resources.len(),
        "startIndex": 1,
        "itemsPerPage": resources.len(),
        "Resources": resources
    })
}
