//! Writes: creates by POST (a `uniqueness` conflict on create is the object
//! existing, which is success), changes by PATCH where advertised and by
//! read-modify-PUT otherwise, `If-Match` with the version last read where ETags
//! are offered (a 412 re-reads and tries once more), deletes by DELETE.

use http::{Method, StatusCode};
use serde_json::{Value, json};
use usersync_core::{GroupName, TargetUser, Username};

use crate::http::{Call, Reply};
use crate::{NewUser, ScimType, TargetError, TargetResult, UserChanges};

use super::wire::{self, Email, Group, User};
use super::{Known, MEDIA_TYPE, ScimClient, ScimProfile, lock};

/// Which collection a change is for.
#[derive(Clone, Copy)]
enum Coll {
    Users,
    Groups,
}

impl Coll {
    fn endpoint(self) -> &'static str {
        match self {
            Self::Users => "Users",
            Self::Groups => "Groups",
        }
    }
}

impl ScimClient {
    fn body_call(
        &self,
        method: Method,
        path: &str,
        action: &str,
        body: Value,
        version: Option<&str>,
    ) -> Call {
        let mut call = self
            .call(method, path, action)
            .header(http::header::CONTENT_TYPE, MEDIA_TYPE)
            .json(body);
        if let Some(v) = version {
            call = call.header(http::header::IF_MATCH, v);
        }
        call
    }

    /// The version to send as `If-Match`, when the service offers ETags.
    async fn if_match<'a>(&self, known: &'a Known) -> TargetResult<Option<&'a str>> {
        Ok(if self.features().await?.etag {
            known.version.as_deref()
        } else {
            None
        })
    }

    pub(super) async fn create_user(&self, user: &NewUser) -> TargetResult<TargetUser> {
        let action = format!("create user {}", user.username);
        let mut body = json!({
            "schemas": [wire::USER_SCHEMA],
            "userName": user.username.as_str(),
            "displayName": user.display_name,
            "name": {"formatted": user.display_name},
            "emails": [Email { value: user.email.as_str().to_owned(), r#type: Some("work".into()), primary: Some(true) }],
            "active": user.active,
        });
        if let Some(external) = &user.external_id {
            body["externalId"] = json!(external);
        }
        let reply = self
            .http
            .send(&self.body_call(Method::POST, "Users", &action, body, None))
            .await?;
        if reply.is_success() {
            let created: User = reply.json()?;
            return self
                .target_user(&created)
                .ok_or_else(|| TargetError::Decode {
                    product: self.product(),
                    action,
                    message: format!("the service answered with userName {:?}", created.user_name),
                });
        }
        let error = self.error(&action, reply);
        if matches!(
            &error,
            TargetError::Scim {
                scim_type: ScimType::Uniqueness,
                ..
            }
        ) && let Some(existing) = self.find_user(&user.username).await?
        {
            return Ok(existing);
        }
        Err(self.domain_error(user.email.as_str(), error))
    }

    pub(super) async fn update_user(
        &self,
        username: &Username,
        changes: &UserChanges,
    ) -> TargetResult<()> {
        let mut set = Vec::new();
        if let Some(name) = &changes.display_name {
            set.push(("displayName", json!(name)));
        }
        if let Some(email) = &changes.email {
            set.push((
                "emails",
                json!([{"value": email.as_str(), "type": "work", "primary": true}]),
            ));
        }
        if set.is_empty() {
            return Ok(());
        }
        let action = format!("update user {username}");
        let known = self.user_ref(username).await?;
        let result = self.replace(Coll::Users, &known, &set, &action).await;
        match (result, &changes.email) {
            (Err(e), Some(email)) => Err(self.domain_error(email.as_str(), e)),
            (r, _) => r,
        }
    }

    pub(super) async fn set_active(&self, username: &Username, active: bool) -> TargetResult<()> {
        let verb = if active { "activate" } else { "deactivate" };
        let known = self.user_ref(username).await?;
        self.replace(
            Coll::Users,
            &known,
            &[("active", json!(active))],
            &format!("{verb} user {username}"),
        )
        .await
    }

    pub(super) async fn rename_user(
        &self,
        username: &Username,
        new_username: &Username,
    ) -> TargetResult<()> {
        let known = self.user_ref(username).await?;
        let action = format!("rename user {username} to {new_username}");
        self.replace(
            Coll::Users,
            &known,
            &[("userName", json!(new_username.as_str()))],
            &action,
        )
        .await?;
        let moved = lock(&self.users).remove(&username.as_str().to_lowercase());
        if let Some(k) = moved {
            lock(&self.users).insert(new_username.as_str().to_lowercase(), k);
        }
        Ok(())
    }

    /// Deletes the user's SCIM record. In Atlassian Cloud this also deactivates the
    /// Atlassian account for good (reference §4.2); a missing user is success.
    pub(super) async fn delete_user(&self, username: &Username) -> TargetResult<()> {
        let known = match self.user_ref(username).await {
            Err(TargetError::NotFound { .. }) => return Ok(()),
            other => other?,
        };
        self.delete(Coll::Users, &known, &format!("delete user {username}"))
            .await?;
        lock(&self.users).remove(&username.as_str().to_lowercase());
        Ok(())
    }

    pub(super) async fn create_group(&self, name: &GroupName) -> TargetResult<()> {
        let action = format!("create group {name}");
        let body =
            json!({"schemas": [wire::GROUP_SCHEMA], "displayName": name.as_str(), "members": []});
        let reply = self
            .http
            .send(&self.body_call(Method::POST, "Groups", &action, body, None))
            .await?;
        if reply.is_success() {
            let group: Group = reply.json()?;
            self.remember_group(
                &group.display_name,
                Known {
                    id: group.id,
                    version: group.meta.version,
                },
            );
            return Ok(());
        }
        match self.error(&action, reply) {
            TargetError::Scim {
                scim_type: ScimType::Uniqueness,
                ..
            } => self.group_ref(name).await.map(|_| ()),
            other => Err(other),
        }
    }

    pub(super) async fn delete_group(&self, name: &GroupName) -> TargetResult<()> {
        let known = match self.group_ref(name).await {
            Err(TargetError::NotFound { .. }) => return Ok(()),
            other => other?,
        };
        self.delete(Coll::Groups, &known, &format!("delete group {name}"))
            .await?;
        lock(&self.groups).remove(&name.as_str().to_lowercase());
        Ok(())
    }

    /// Adds or removes one member: Group PATCH `add`/`remove` of `members` by the
    /// user's id, or the group's member list PUT back where PATCH is not offered.
    pub(super) async fn change_member(
        &self,
        group: &GroupName,
        username: &Username,
        add: bool,
    ) -> TargetResult<()> {
        let action = if add {
            format!("add {username} to {group}")
        } else {
            format!("remove {username} from {group}")
        };
        let user = self.user_ref(username).await?;
        let features = self.features().await?;
        // A change that depends on what was read (the member list PUT back whole, or
        // a version sent as If-Match) waits for the group's other changes: the engine
        // applies many at once, and two on one group would lose an add or meet a 412.
        let turn = (!features.patch || features.etag).then(|| self.member_turn(group.as_str()));
        let _turn = match &turn {
            Some(turn) => Some(turn.lock().await),
            None => None,
        };
        let known = self.group_ref(group).await?;
        if !features.patch {
            return self.put_members(&known, &user.id, add, &action).await;
        }
        let op = match (add, self.profile) {
            (true, _) => json!({"op": "add", "path": "members", "value": [{"value": user.id}]}),
            // Atlassian's documented form; RFC 7644 §3.5.2.2's is a value filter in the path.
            (false, ScimProfile::AtlassianCloud) => {
                json!({"op": "remove", "path": "members", "value": [{"value": user.id}]})
            }
            (false, ScimProfile::Generic) => {
                let quoted = Value::String(user.id.clone()).to_string();
                json!({"op": "remove", "path": format!("members[value eq {quoted}]")})
            }
        };
        self.patch(Coll::Groups, &known, vec![op], &action).await
    }

    async fn put_members(
        &self,
        known: &Known,
        user_id: &str,
        add: bool,
        action: &str,
    ) -> TargetResult<()> {
        self.read_modify_put(Coll::Groups, known, action, |body| {
            let members = body
                .as_object_mut()
                .map(|o| o.entry("members").or_insert(json!([])));
            if let Some(Value::Array(list)) = members {
                list.retain(|m| m["value"].as_str() != Some(user_id));
                if add {
                    list.push(json!({"value": user_id}));
                }
            }
        })
        .await
    }

    /// Sets top-level attributes: PATCH `replace` where offered, else read-modify-PUT.
    async fn replace(
        &self,
        coll: Coll,
        known: &Known,
        set: &[(&str, Value)],
        action: &str,
    ) -> TargetResult<()> {
        if self.features().await?.patch {
            let ops = set
                .iter()
                .map(|(path, value)| json!({"op": "replace", "path": path, "value": value}))
                .collect();
            return self.patch(coll, known, ops, action).await;
        }
        self.read_modify_put(coll, known, action, |body| {
            for (path, value) in set {
                body[*path] = value.clone();
            }
        })
        .await
    }

    async fn patch(
        &self,
        coll: Coll,
        known: &Known,
        ops: Vec<Value>,
        action: &str,
    ) -> TargetResult<()> {
        let body = json!({"schemas": [wire::PATCH_SCHEMA], "Operations": ops});
        let path = format!("{}/{}", coll.endpoint(), known.id);
        let mut version = self.if_match(known).await?.map(str::to_owned);
        for attempt in 0..2 {
            let call = self.body_call(
                Method::PATCH,
                &path,
                action,
                body.clone(),
                version.as_deref(),
            );
            let reply = self.http.send(&call).await?;
            if reply.status == StatusCode::PRECONDITION_FAILED && attempt == 0 {
                version = self.fresh_version(coll, &known.id, action).await?;
                continue;
            }
            return self.finish(coll, reply, action);
        }
        unreachable_412(self.product(), action)
    }

    /// GET, change, PUT the whole resource (PUT clears what it leaves out, so
    /// everything read is sent back), with the version read as `If-Match`.
    async fn read_modify_put(
        &self,
        coll: Coll,
        known: &Known,
        action: &str,
        edit: impl Fn(&mut Value),
    ) -> TargetResult<()> {
        let path = format!("{}/{}", coll.endpoint(), known.id);
        for attempt in 0..2 {
            let reply = self
                .http
                .send(&self.call(Method::GET, &path, action))
                .await?;
            if !reply.is_success() {
                return Err(self.error(action, reply));
            }
            let mut body: Value = reply.json()?;
            let version = body["meta"]["version"].as_str().map(str::to_owned);
            if let Some(o) = body.as_object_mut() {
                o.remove("meta");
                o.remove("groups");
            }
            edit(&mut body);
            let etag = if self.features().await?.etag {
                version
            } else {
                None
            };
            let reply = self
                .http
                .send(&self.body_call(Method::PUT, &path, action, body, etag.as_deref()))
                .await?;
            if reply.status == StatusCode::PRECONDITION_FAILED && attempt == 0 {
                continue;
            }
            return self.finish(coll, reply, action);
        }
        unreachable_412(self.product(), action)
    }

    async fn delete(&self, coll: Coll, known: &Known, action: &str) -> TargetResult<()> {
        let path = format!("{}/{}", coll.endpoint(), known.id);
        let mut version = self.if_match(known).await?.map(str::to_owned);
        for attempt in 0..2 {
            let mut call = self.call(Method::DELETE, &path, action);
            if let Some(v) = &version {
                call = call.header(http::header::IF_MATCH, v.clone());
            }
            let reply = self.http.send(&call).await?;
            if reply.status == StatusCode::PRECONDITION_FAILED && attempt == 0 {
                version = self.fresh_version(coll, &known.id, action).await?;
                continue;
            }
            if reply.is_success() || reply.status == StatusCode::NOT_FOUND {
                return Ok(());
            }
            return Err(self.error(action, reply));
        }
        unreachable_412(self.product(), action)
    }

    async fn fresh_version(
        &self,
        coll: Coll,
        id: &str,
        action: &str,
    ) -> TargetResult<Option<String>> {
        let body: Value = self.get(coll.endpoint(), id, action).await?;
        Ok(body["meta"]["version"].as_str().map(str::to_owned))
    }

    /// A write's reply: an error typed, or the new version remembered.
    fn finish(&self, coll: Coll, reply: Reply, action: &str) -> TargetResult<()> {
        if !reply.is_success() {
            return Err(self.error(action, reply));
        }
        let Ok(body) = serde_json::from_slice::<Value>(&reply.body) else {
            return Ok(()); // 204: nothing to remember
        };
        let id = body["id"].as_str().unwrap_or_default().to_owned();
        let version = body["meta"]["version"].as_str().map(str::to_owned);
        let (name, map) = match coll {
            Coll::Users => (body["userName"].as_str(), &self.users),
            Coll::Groups => (body["displayName"].as_str(), &self.groups),
        };
        if let Some(name) = name.filter(|_| !id.is_empty()) {
            lock(map).insert(name.to_lowercase(), Known { id, version });
        }
        Ok(())
    }
}

fn unreachable_412<T>(product: &'static str, action: &str) -> TargetResult<T> {
    Err(TargetError::Scim {
        product,
        action: action.to_owned(),
        status: 412,
        scim_type: ScimType::Unspecified,
        detail: "the resource kept changing while usersync wrote it (ETag mismatch twice)".into(),
    })
}
