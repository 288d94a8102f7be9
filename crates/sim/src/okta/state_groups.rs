//! Group and membership mutations of [`OrgState`]: create, profile update, delete, add
//! and remove members. Membership changes bump the group's `lastMembershipUpdated`
//! (never `lastUpdated`, which tracks the profile) and log `group.user_membership.*`.

use serde_json::{Map, Value};
use usersync_core::snapshot::OktaGroupType;

use super::error::{ApiError, ApiResult};
use super::ids::{self, Oid};
use super::logs::Origin;
use super::state::{GroupRec, OrgState, now};

impl OrgState {
    /// Creates a group and logs `group.lifecycle.create`.
    pub fn create_group(
        &mut self,
        kind: OktaGroupType,
        profile: Map<String, Value>,
        origin: &Origin,
    ) -> ApiResult<Oid> {
        validate_group_profile(&profile)?;
        let t = now();
        let id = self.new_id(ids::GROUP);
        let source_app =
            (kind == OktaGroupType::AppGroup).then(|| "0oa0source0app000000".to_owned());
        let group = GroupRec {
            id,
            kind,
            created: t,
            last_updated: t,
            last_membership_updated: t,
            profile,
            source_app,
        };
        let target = group.target();
        self.groups.insert(id, group);
        self.members.insert(id, Default::default());
        self.log.record(
            origin,
            "group.lifecycle.create",
            "Create okta user group",
            vec![target],
        );
        Ok(id)
    }

    /// Replaces a group's profile and logs `group.profile.update`.
    pub fn update_group(
        &mut self,
        id: Oid,
        profile: Map<String, Value>,
        origin: &Origin,
    ) -> ApiResult<()> {
        validate_group_profile(&profile)?;
        let group = self
            .groups
            .get_mut(&id)
            .ok_or_else(|| ApiError::not_found(id.as_str(), "UserGroup"))?;
        group.profile = profile;
        group.last_updated = now();
        let target = group.target();
        self.log.record(
            origin,
            "group.profile.update",
            "Update group profile",
            vec![target],
        );
        Ok(())
    }

    /// Deletes a group (its memberships go with it) and logs `group.lifecycle.delete`.
    pub fn delete_group(&mut self, id: Oid, origin: &Origin) -> ApiResult<()> {
        let group = self
            .groups
            .remove(&id)
            .ok_or_else(|| ApiError::not_found(id.as_str(), "UserGroup"))?;
        for uid in self.members.remove(&id).unwrap_or_default() {
            if let Some(set) = self.user_groups.get_mut(&uid) {
                set.remove(&id);
            }
        }
        self.log.record(
            origin,
            "group.lifecycle.delete",
            "Delete okta user group",
            vec![group.target()],
        );
        Ok(())
    }

    /// Adds a member; adding an existing member succeeds without a change or an event,
    /// as Okta's PUT is idempotent.
    pub fn add_member(&mut self, gid: Oid, uid: Oid, origin: &Origin) -> ApiResult<()> {
        let user = self
            .users
            .get(&uid)
            .ok_or_else(|| ApiError::not_found(uid.as_str(), "User"))?;
        let user_target = user.target();
        let group = self
            .groups
            .get_mut(&gid)
            .ok_or_else(|| ApiError::not_found(gid.as_str(), "UserGroup"))?;
        if !self.members.entry(gid).or_default().insert(uid) {
            return Ok(());
        }
        self.user_groups.entry(uid).or_default().insert(gid);
        group.last_membership_updated = now();
        let targets = vec![user_target, group.target()];
        self.log.record(
            origin,
            "group.user_membership.add",
            "Add user to group membership",
            targets,
        );
        Ok(())
    }

    /// Removes a member; removing a non-member succeeds without an event.
    pub fn remove_member(&mut self, gid: Oid, uid: Oid, origin: &Origin) -> ApiResult<()> {
        let user = self
            .users
            .get(&uid)
            .ok_or_else(|| ApiError::not_found(uid.as_str(), "User"))?;
        let user_target = user.target();
        let group = self
            .groups
            .get_mut(&gid)
            .ok_or_else(|| ApiError::not_found(gid.as_str(), "UserGroup"))?;
        if !self
            .members
            .get_mut(&gid)
            .is_some_and(|set| set.remove(&uid))
        {
            return Ok(());
        }
        if let Some(set) = self.user_groups.get_mut(&uid) {
            set.remove(&gid);
        }
        group.last_membership_updated = now();
        let targets = vec![user_target, group.target()];
        self.log.record(
            origin,
            "group.user_membership.remove",
            "Remove user from group membership",
            targets,
        );
        Ok(())
    }

    /// Inserts a membership without a log event (the generator's bulk path).
    pub fn link(&mut self, gid: Oid, uid: Oid) {
        self.members.entry(gid).or_default().insert(uid);
        self.user_groups.entry(uid).or_default().insert(gid);
    }

    pub fn member_count(&self, gid: Oid) -> usize {
        self.members.get(&gid).map_or(0, |s| s.len())
    }
}

/// Only OKTA_GROUPs are managed through the API; APP_GROUPs belong to their source app and
/// BUILT_IN groups to Okta.
pub fn require_okta_group(group: &GroupRec) -> ApiResult<()> {
    if group.kind == OktaGroupType::OktaGroup {
        Ok(())
    } else {
        Err(ApiError::forbidden().with_cause(format!(
            "group {} is a {} group; only OKTA_GROUP groups can be changed through the API",
            group.id,
            group.kind.as_str()
        )))
    }
}

fn validate_group_profile(profile: &Map<String, Value>) -> ApiResult<()> {
    match profile.get("name") {
        Some(Value::String(name)) if !name.trim().is_empty() && name.chars().count() <= 255 => {
            Ok(())
        }
        _ => Err(ApiError::validation(
            "name",
            "name: The field cannot be left blank and must be at most 255 characters",
        )),
    }
}
