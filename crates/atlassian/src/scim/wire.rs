//! SCIM 2.0 JSON as it travels (RFC 7643/7644), private to the client.

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub(super) const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub(super) const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub(super) const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub(super) const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub(super) const SPC_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ListResponse<T> {
    #[serde(default)]
    pub schemas: Vec<String>,
    pub total_results: u64,
    #[serde(rename = "Resources", alias = "resources", default = "Vec::new")]
    pub resources: Vec<T>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct Meta {
    #[serde(default)]
    pub version: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Email {
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#type: Option<String>,
    #[serde(default)]
    pub primary: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct User {
    pub id: String,
    pub user_name: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub name: Option<Value>,
    #[serde(default)]
    pub emails: Vec<Email>,
    /// Absent means active (RFC 7643 leaves it to the provider; Atlassian defaults to true).
    #[serde(default)]
    pub active: Option<bool>,
    #[serde(default)]
    pub meta: Meta,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub(super) struct Member {
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#type: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Group {
    pub id: String,
    pub display_name: String,
    #[serde(default)]
    pub members: Option<Vec<Member>>,
    #[serde(default)]
    pub meta: Meta,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Supported {
    #[serde(default)]
    pub supported: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct FilterConfig {
    #[serde(default)]
    pub supported: bool,
    #[serde(default)]
    pub max_results: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ServiceProviderConfig {
    #[serde(default)]
    pub schemas: Vec<String>,
    pub patch: Supported,
    pub filter: FilterConfig,
    #[serde(default)]
    pub etag: Option<Supported>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ErrorBody {
    #[serde(default)]
    pub scim_type: Option<String>,
    #[serde(default)]
    pub detail: Option<String>,
}

impl User {
    pub(super) fn display(&self) -> String {
        if let Some(d) = self
            .display_name
            .as_deref()
            .filter(|d| !d.trim().is_empty())
        {
            return d.to_owned();
        }
        self.name
            .as_ref()
            .and_then(|n| n.get("formatted"))
            .and_then(Value::as_str)
            .unwrap_or(&self.user_name)
            .to_owned()
    }

    pub(super) fn primary_email(&self) -> Option<&str> {
        self.emails
            .iter()
            .find(|e| e.primary == Some(true))
            .or_else(|| self.emails.first())
            .map(|e| e.value.as_str())
    }
}
