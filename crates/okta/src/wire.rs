//! Okta's JSON shapes, and their conversion to the domain types of usersync-core.
//!
//! Okta may add properties and may omit null ones, so every field that is not
//! essential is optional and unknown fields are ignored. Conversion is where
//! values are parsed into types: an object that cannot become a domain value is
//! reported with the reason, so callers can record it instead of dropping it.

use serde::Deserialize;
use serde_json::Value;
use usersync_core::{
    OktaGroup, OktaGroupId, OktaGroupType, OktaStatus, OktaUser, OktaUserId, Profile,
};

/// A user as Okta lists it (`User`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireUser {
    pub id: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub profile: serde_json::Map<String, Value>,
}

/// Only the id of a user, for member listings (the rest of the object is not needed).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct WireId {
    pub id: String,
}

/// A group as Okta lists it (`Group`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireGroup {
    pub id: String,
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub profile: WireGroupProfile,
    #[serde(rename = "_embedded", default)]
    pub embedded: Option<WireGroupEmbedded>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct WireGroupProfile {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct WireGroupEmbedded {
    #[serde(default)]
    pub stats: Option<WireGroupStats>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireGroupStats {
    #[serde(default)]
    pub users_count: Option<u64>,
}

impl WireGroup {
    /// `_embedded.stats.usersCount`, present only with `expand=stats`.
    pub(crate) fn users_count(&self) -> Option<u64> {
        self.embedded.as_ref()?.stats.as_ref()?.users_count
    }
}

/// Why an Okta object could not become a domain value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unusable {
    pub id: String,
    pub reason: String,
}

impl WireUser {
    pub(crate) fn into_user(self) -> Result<OktaUser, Unusable> {
        self.into_user_keeping(None)
    }

    /// [`into_user`](Self::into_user) keeping only the profile attributes in `keep`
    /// (all when `None`).
    pub(crate) fn into_user_keeping(
        mut self,
        keep: Option<&[String]>,
    ) -> Result<OktaUser, Unusable> {
        if let Some(keep) = keep {
            self.profile
                .retain(|name, _| name == "login" || keep.iter().any(|k| k == name));
        }
        let unusable = |reason: String| Unusable {
            id: self.id.clone(),
            reason,
        };
        let id = OktaUserId::parse(self.id.clone()).map_err(|e| unusable(e.to_string()))?;
        let raw_status = self.status.clone().unwrap_or_default();
        let status = OktaStatus::parse(&raw_status).ok_or_else(|| {
            unusable(format!(
                "has the status {raw_status:?}, which usersync does not know"
            ))
        })?;
        let login = match self.profile.get("login") {
            Some(Value::String(login)) if !login.trim().is_empty() => login.clone(),
            _ => return Err(unusable("has no profile.login".into())),
        };
        Ok(OktaUser {
            id,
            status,
            login,
            profile: flatten_profile(self.profile),
        })
    }
}

/// String attributes as they are, other values as their JSON text, nulls left out.
fn flatten_profile(profile: serde_json::Map<String, Value>) -> Profile {
    profile
        .into_iter()
        .filter_map(|(k, v)| match v {
            Value::Null => None,
            Value::String(s) => Some((k, s)),
            other => Some((k, other.to_string())),
        })
        .collect()
}

impl WireGroup {
    pub(crate) fn into_group(self) -> Result<OktaGroup, Unusable> {
        let unusable = |reason: String| Unusable {
            id: self.id.clone(),
            reason,
        };
        let id = OktaGroupId::parse(self.id.clone()).map_err(|e| unusable(e.to_string()))?;
        let raw_kind = self.kind.clone().unwrap_or_default();
        let kind = OktaGroupType::parse(&raw_kind).ok_or_else(|| {
            unusable(format!(
                "has the type {raw_kind:?}, which usersync does not know"
            ))
        })?;
        let name = self
            .profile
            .name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| unusable("has no profile.name".into()))?;
        Ok(OktaGroup {
            id,
            name,
            // Kept verbatim (Okta sends "" as well as omitting it); mapping decides.
            description: self.profile.description,
            kind,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_keeps_string_attributes_and_renders_others_as_json() {
        let json = r#"{"id":"00ub0oNGTSWTBKOLGLNR","status":"PASSWORD_EXPIRED","created":"2013-06-24T16:39:18.000Z",
            "profile":{"login":"isaac@example.org","email":"isaac@example.org","mobilePhone":null,
                       "secondEmail":"","employeeNumber":42,"tags":["a","b"],"vip":true},
            "_links":{"self":{"href":"https://acme.okta.com/api/v1/users/00ub0oNGTSWTBKOLGLNR"}}}"#;
        let user = serde_json::from_str::<WireUser>(json)
            .unwrap()
            .into_user()
            .unwrap();
        assert_eq!(user.status, OktaStatus::PasswordExpired);
        assert_eq!(user.login, "isaac@example.org");
        assert_eq!(user.profile.get("employeeNumber"), Some("42"));
        assert_eq!(user.profile.get("tags"), Some(r#"["a","b"]"#));
        assert!(!user.profile.contains_key("mobilePhone"));
        assert_eq!(user.attribute("secondEmail"), None);
    }

    #[test]
    fn a_user_read_for_a_mapping_keeps_only_its_attributes_and_the_login() {
        let json = r#"{"id":"00u1","status":"ACTIVE","profile":{"login":"a@b.c","email":"a@b.c",
            "firstName":"Ann","department":"Sales","employeeNumber":"000042"}}"#;
        let keep = [
            "email".to_owned(),
            "firstName".to_owned(),
            "displayName".to_owned(),
        ];
        let user = serde_json::from_str::<WireUser>(json)
            .unwrap()
            .into_user_keeping(Some(&keep))
            .unwrap();
        let names: Vec<&str> = user.profile.keys().collect();
        assert_eq!(names, ["email", "firstName", "login"]);
        assert_eq!(user.login, "a@b.c");
    }

    #[test]
    fn a_user_with_an_unknown_status_is_reported_not_guessed() {
        let json = r#"{"id":"00u1","status":"ACTIVATING","profile":{"login":"a@b.c"}}"#;
        let err = serde_json::from_str::<WireUser>(json)
            .unwrap()
            .into_user()
            .unwrap_err();
        assert_eq!(err.id, "00u1");
        assert!(err.reason.contains("ACTIVATING"), "{}", err.reason);
    }

    #[test]
    fn a_group_reads_its_type_name_and_member_count() {
        let json = r#"{"id":"00g1","type":"APP_GROUP","objectClass":["okta:windows_security_principal"],
            "profile":{"name":"Sales","description":"","dn":"CN=Sales"},
            "_embedded":{"stats":{"usersCount":3,"appsCount":0}}}"#;
        let wire: WireGroup = serde_json::from_str(json).unwrap();
        assert_eq!(wire.users_count(), Some(3));
        let group = wire.into_group().unwrap();
        assert_eq!(
            (group.kind, group.name.as_str()),
            (OktaGroupType::AppGroup, "Sales")
        );
        assert_eq!(group.description.as_deref(), Some(""));
    }
}
