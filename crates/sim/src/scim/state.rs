//! The emulator's resources and the SCIM rules on them (RFC 7643/7644): filters of
//! one `eq` comparison, uniqueness of `userName` and group `displayName`, PATCH
//! operations, PUT replacement, versions for ETags, and the Atlassian Cloud
//! profile's documented limits (reference §4).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::Profile;
use super::error::ScimFault;

/// The SCIM user and group schemas.
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

/// Which collection a resource lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    User,
    Group,
}

impl Kind {
    pub(crate) fn endpoint(self) -> &'static str {
        match self {
            Self::User => "Users",
            Self::Group => "Groups",
        }
    }

    /// The attribute that must be unique, compared without case (caseExact false).
    fn unique(self) -> &'static str {
        match self {
            Self::User => "userName",
            Self::Group => "displayName",
        }
    }
}

/// One stored resource: its attributes (without `id` and `meta`) and its version.
#[derive(Debug, Clone)]
pub struct Resource {
    pub id: String,
    pub version: u64,
    pub attrs: Value,
}

impl Resource {
    pub(crate) fn etag(&self) -> String {
        format!("W/\"{}\"", self.version)
    }

    /// A string attribute, or "".
    #[must_use]
    pub fn str(&self, name: &str) -> &str {
        self.attrs.get(name).and_then(Value::as_str).unwrap_or("")
    }
}

/// Everything the emulator holds.
#[derive(Debug)]
pub struct ScimState {
    pub profile: Profile,
    pub users: BTreeMap<String, Resource>,
    pub groups: BTreeMap<String, Resource>,
    /// Atlassian Cloud: the organisation's verified e-mail domains.
    pub verified_domains: Vec<String>,
    /// Atlassian Cloud: accounts (by e-mail) deactivated when their SCIM record was deleted.
    pub deactivated_accounts: Vec<String>,
}

impl ScimState {
    pub(crate) fn new(profile: Profile, verified_domains: Vec<String>) -> Self {
        Self {
            profile,
            users: BTreeMap::new(),
            groups: BTreeMap::new(),
            verified_domains,
            deactivated_accounts: Vec::new(),
        }
    }

    pub(crate) fn map(&self, kind: Kind) -> &BTreeMap<String, Resource> {
        match kind {
            Kind::User => &self.users,
            Kind::Group => &self.groups,
        }
    }

    fn map_mut(&mut self, kind: Kind) -> &mut BTreeMap<String, Resource> {
        match kind {
            Kind::User => &mut self.users,
            Kind::Group => &mut self.groups,
        }
    }

    /// The resources a `filter` selects, in id order (Atlassian documents no sorting).
    pub(crate) fn list(
        &self,
        kind: Kind,
        filter: Option<&str>,
    ) -> Result<Vec<&Resource>, ScimFault> {
        let Some(filter) = filter.map(str::trim).filter(|f| !f.is_empty()) else {
            return Ok(self.map(kind).values().collect());
        };
        let (attr, value) = parse_filter(filter)?;
        if !self.profile.filterable(kind, &attr) {
            return Err(ScimFault::bad(
                "invalidFilter",
                format!("filtering on {attr:?} is not supported"),
            ));
        }
        let exact = attr == "externalId" || attr == "id";
        Ok(self
            .map(kind)
            .values()
            .filter(|r| {
                let have = attribute(r, &attr);
                have.iter().any(|h| match (&value, h) {
                    (Value::String(want), Value::String(got)) if exact => want == got,
                    (Value::String(want), Value::String(got)) => want.eq_ignore_ascii_case(got),
                    (want, got) => want == got,
                })
            })
            .collect())
    }

    /// Creates a resource from a client's body.
    pub(crate) fn create(&mut self, kind: Kind, body: Value) -> Result<Resource, ScimFault> {
        let attrs = self.clean(kind, body, None)?;
        let id = uuid::Uuid::new_v4().to_string();
        let resource = Resource {
            id: id.clone(),
            version: 1,
            attrs,
        };
        self.map_mut(kind).insert(id, resource.clone());
        Ok(resource)
    }

    /// Replaces a resource (PUT): unspecified attributes are cleared, as Atlassian documents.
    pub(crate) fn replace(
        &mut self,
        kind: Kind,
        id: &str,
        body: Value,
    ) -> Result<Resource, ScimFault> {
        let old = self.get(kind, id)?.clone();
        if kind == Kind::Group
            && self.profile == Profile::AtlassianCloud
            && !body["displayName"]
                .as_str()
                .unwrap_or("")
                .eq_ignore_ascii_case(old.str("displayName"))
        {
            return Err(rename_refused());
        }
        let attrs = self.clean(kind, body, Some(id))?;
        self.store(kind, id, attrs)
    }

    /// Applies a PatchOp body (RFC 7644 §3.5.2).
    pub(crate) fn patch(
        &mut self,
        kind: Kind,
        id: &str,
        body: &Value,
    ) -> Result<Resource, ScimFault> {
        let mut attrs = self.get(kind, id)?.attrs.clone();
        // RFC 7644 spells it `Operations`; Atlassian's own models also send `operations`.
        let ops = body
            .get("Operations")
            .or_else(|| body.get("operations"))
            .and_then(Value::as_array)
            .ok_or_else(|| ScimFault::bad("invalidSyntax", "a PatchOp needs Operations"))?;
        for op in ops {
            super::patch::apply(&mut attrs, op)?;
        }
        if kind == Kind::Group
            && self.profile == Profile::AtlassianCloud
            && attrs["displayName"] != self.get(kind, id)?.attrs["displayName"]
        {
            return Err(rename_refused());
        }
        let attrs = self.clean(kind, attrs, Some(id))?;
        self.store(kind, id, attrs)
    }

    /// Deletes a resource; in Atlassian Cloud a user's account is deactivated too.
    pub(crate) fn delete(&mut self, kind: Kind, id: &str) -> Result<(), ScimFault> {
        let gone = self
            .map_mut(kind)
            .remove(id)
            .ok_or_else(|| not_found(kind, id))?;
        if kind == Kind::User {
            for group in self.groups.values_mut() {
                if let Some(members) = group.attrs.get_mut("members").and_then(Value::as_array_mut)
                {
                    members.retain(|m| m["value"].as_str() != Some(id));
                }
            }
            if self.profile == Profile::AtlassianCloud {
                self.deactivated_accounts
                    .push(primary_email(&gone.attrs).unwrap_or_default());
            }
        }
        Ok(())
    }

    pub(crate) fn get(&self, kind: Kind, id: &str) -> Result<&Resource, ScimFault> {
        self.map(kind).get(id).ok_or_else(|| not_found(kind, id))
    }

    fn store(&mut self, kind: Kind, id: &str, attrs: Value) -> Result<Resource, ScimFault> {
        let resource = self
            .map_mut(kind)
            .get_mut(id)
            .ok_or_else(|| not_found(kind, id))?;
        resource.attrs = attrs;
        resource.version += 1;
        Ok(resource.clone())
    }

    /// Checks a body and keeps what the server stores: required attributes present,
    /// `userName`/`displayName` unique, members naming existing users, the profile's rules.
    fn clean(&self, kind: Kind, body: Value, id: Option<&str>) -> Result<Value, ScimFault> {
        let Value::Object(mut attrs) = body else {
            return Err(ScimFault::bad(
                "invalidSyntax",
                "the body must be a JSON object",
            ));
        };
        for read_only in ["id", "meta", "schemas", "groups"] {
            attrs.remove(read_only);
        }
        let unique = kind.unique();
        let name = attrs
            .get(unique)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| ScimFault::bad("invalidValue", format!("{unique} is required")))?
            .to_owned();
        let taken = self
            .map(kind)
            .values()
            .any(|r| Some(r.id.as_str()) != id && r.str(unique).eq_ignore_ascii_case(&name));
        if taken {
            return Err(ScimFault::new(
                409,
                "uniqueness",
                format!("{unique} {name:?} is already taken"),
            ));
        }
        match kind {
            Kind::User => {
                if id.is_none() {
                    attrs.entry("active").or_insert(Value::Bool(true));
                }
                if attrs.get("active").is_some_and(|a| !a.is_boolean()) {
                    return Err(ScimFault::bad("invalidValue", "active must be a boolean"));
                }
                if self.profile == Profile::AtlassianCloud {
                    self.check_cloud_email(&Value::Object(attrs.clone()))?;
                }
            }
            Kind::Group => {
                let members = attrs.entry("members").or_insert(json!([]));
                let Some(list) = members.as_array_mut() else {
                    return Err(ScimFault::bad("invalidValue", "members must be a list"));
                };
                for m in list.iter() {
                    let uid = m["value"].as_str().unwrap_or("");
                    // Members are users or (nested) groups of this service (RFC 7643 §4.2).
                    if !self.users.contains_key(uid) && !self.groups.contains_key(uid) {
                        return Err(ScimFault::new(
                            400,
                            "invalidValue",
                            format!("member {uid:?} is not a user or group of this service"),
                        ));
                    }
                }
                list.dedup_by(|a, b| a["value"] == b["value"]);
            }
        }
        Ok(Value::Object(attrs))
    }

    /// Atlassian Cloud: a user needs a primary e-mail on one of the organisation's verified domains.
    fn check_cloud_email(&self, attrs: &Value) -> Result<(), ScimFault> {
        let email = primary_email(attrs)
            .ok_or_else(|| ScimFault::bad("invalidValue", "emails is required (one primary)"))?;
        let domain = email
            .rsplit_once('@')
            .map_or("", |(_, d)| d)
            .to_ascii_lowercase();
        if !self
            .verified_domains
            .iter()
            .any(|d| d.eq_ignore_ascii_case(&domain))
        {
            return Err(ScimFault::bad(
                "invalidValue",
                format!("the email domain {domain} is not a verified domain of this organization"),
            ));
        }
        Ok(())
    }
}

fn rename_refused() -> ScimFault {
    ScimFault::bad(
        "mutability",
        "renaming a group is not supported: create a new group and delete the old one",
    )
}

fn not_found(kind: Kind, id: &str) -> ScimFault {
    ScimFault::new(404, "", format!("{} {id} not found", kind.endpoint()))
}

/// The primary e-mail (or the first) of a user's attributes.
#[must_use]
pub fn primary_email(attrs: &Value) -> Option<String> {
    let emails = attrs.get("emails")?.as_array()?;
    emails
        .iter()
        .find(|e| e["primary"] == Value::Bool(true))
        .or_else(|| emails.first())
        .and_then(|e| e["value"].as_str())
        .map(str::to_owned)
}

/// The values a filter attribute path (`userName`, `emails.value`, `id`) has on a resource.
fn attribute(resource: &Resource, path: &str) -> Vec<Value> {
    if path == "id" {
        return vec![Value::String(resource.id.clone())];
    }
    let (head, sub) = path
        .split_once('.')
        .map_or((path, None), |(h, s)| (h, Some(s)));
    let value = resource.attrs.as_object().and_then(|o| {
        o.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(head))
            .map(|(_, v)| v)
    });
    match (value, sub) {
        (None, _) => vec![],
        (Some(Value::Array(items)), Some(sub)) => {
            items.iter().filter_map(|i| i.get(sub).cloned()).collect()
        }
        (Some(v), Some(sub)) => v.get(sub).cloned().into_iter().collect(),
        (Some(v), None) => vec![v.clone()],
    }
}

/// Parses `attr eq "value"` (or `eq true|false`), the one comparison the emulator serves.
fn parse_filter(filter: &str) -> Result<(String, Value), ScimFault> {
    let invalid = |why: &str| ScimFault::bad("invalidFilter", format!("filter {filter:?}: {why}"));
    let mut parts = filter.splitn(3, char::is_whitespace);
    let attr = parts.next().unwrap_or("");
    let op = parts.next().unwrap_or("");
    let raw = parts.next().unwrap_or("").trim();
    if !op.eq_ignore_ascii_case("eq") {
        return Err(invalid("only the eq operator is supported"));
    }
    if attr.is_empty() || !attr.chars().all(|c| c.is_ascii_alphanumeric() || c == '.') {
        return Err(invalid("the attribute is not a plain attribute path"));
    }
    let value: Value = serde_json::from_str(raw)
        .map_err(|_| invalid("the value must be a quoted string or a boolean"))?;
    if !(value.is_string() || value.is_boolean()) {
        return Err(invalid("the value must be a quoted string or a boolean"));
    }
    let canonical = [
        "userName",
        "externalId",
        "displayName",
        "emails.value",
        "id",
        "active",
    ]
    .into_iter()
    .find(|c| c.eq_ignore_ascii_case(attr))
    .map_or_else(|| attr.to_owned(), str::to_owned);
    Ok((canonical, value))
}
