//! The org's state: users, groups, memberships (both directions), the System Log and the
//! event hook registry, behind one lock. Users and groups live in `BTreeMap`s keyed by
//! id. Groups are listed in id order; users in Okta's order, by status (lifecycle order)
//! then id, as the recorded `list-users.har` shows, through the `by_status` index, so a
//! page costs O(log n + page) either way. Every mutation here writes the System Log
//! event Okta writes for it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value};
use usersync_core::snapshot::{OktaGroupType, OktaStatus};

use super::error::{ApiError, ApiResult};
use super::hooks::HookRegistry;
use super::ids::{self, Oid};
use super::logs::{EventLog, Origin, Target};

/// One user as the emulator stores it.
#[derive(Debug, Clone)]
pub struct UserRec {
    pub id: Oid,
    pub status: OktaStatus,
    pub created: DateTime<Utc>,
    pub activated: Option<DateTime<Utc>>,
    pub status_changed: Option<DateTime<Utc>>,
    pub last_login: Option<DateTime<Utc>>,
    pub last_updated: DateTime<Utc>,
    pub password_changed: Option<DateTime<Utc>>,
    /// Users without a password stop at PROVISIONED when activated (they must finish the welcome flow).
    pub has_password: bool,
    pub profile: Map<String, Value>,
}

impl UserRec {
    pub fn login(&self) -> &str {
        self.profile
            .get("login")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    pub fn display_name(&self) -> String {
        let part = |k: &str| {
            self.profile
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
        };
        format!("{} {}", part("firstName"), part("lastName"))
            .trim()
            .to_owned()
    }

    pub fn target(&self) -> Target {
        Target::new(self.id.as_str(), "User", self.login(), &self.display_name())
    }
}

/// One group as the emulator stores it.
#[derive(Debug, Clone)]
pub struct GroupRec {
    pub id: Oid,
    pub kind: OktaGroupType,
    pub created: DateTime<Utc>,
    pub last_updated: DateTime<Utc>,
    pub last_membership_updated: DateTime<Utc>,
    pub profile: Map<String, Value>,
    /// The app an APP_GROUP was imported from (`_links.source`).
    pub source_app: Option<String>,
}

impl GroupRec {
    pub fn name(&self) -> &str {
        self.profile
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    pub fn target(&self) -> Target {
        Target::new(self.id.as_str(), "UserGroup", self.name(), self.name())
    }
}

/// The whole org.
pub struct OrgState {
    pub users: BTreeMap<Oid, UserRec>,
    /// Every user by (status, id): the order of the user listings. Kept by
    /// `insert_user`, `set_status` and `delete_user`, the only writers of a status.
    pub by_status: BTreeSet<(OktaStatus, Oid)>,
    /// Status changes waiting for the user listing to serve more pages (the
    /// "changes while paging" knob, `OktaSim::change_status_while_listing`).
    pub listing_changes: Vec<ListingChange>,
    /// Lower-cased login to id: logins are unique case-insensitively.
    pub logins: HashMap<String, Oid>,
    pub groups: BTreeMap<Oid, GroupRec>,
    /// Group to members, and user to groups; always updated together.
    pub members: HashMap<Oid, BTreeSet<Oid>>,
    pub user_groups: HashMap<Oid, BTreeSet<Oid>>,
    pub log: EventLog,
    pub hooks: HookRegistry,
    pub rng: ChaCha8Rng,
}

/// A status change made once the user listing has served `after_pages` more pages: an
/// administrator acting while a client pages through the listing.
#[derive(Debug, Clone)]
pub struct ListingChange {
    pub user: Oid,
    pub status: OktaStatus,
    pub after_pages: usize,
}

/// Millisecond precision, as Okta's timestamps have.
pub fn now() -> DateTime<Utc> {
    let t = Utc::now();
    DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t)
}

impl OrgState {
    pub fn new(seed: u64) -> Self {
        Self {
            users: BTreeMap::new(),
            by_status: BTreeSet::new(),
            listing_changes: Vec::new(),
            logins: HashMap::new(),
            groups: BTreeMap::new(),
            members: HashMap::new(),
            user_groups: HashMap::new(),
            log: EventLog::default(),
            hooks: HookRegistry::default(),
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0x6f6b_7461),
        }
    }

    /// A fresh id of the given kind that is not in use.
    pub fn new_id(&mut self, prefix: &[u8; 3]) -> Oid {
        loop {
            let id = Oid::random(prefix, &mut self.rng);
            if !self.users.contains_key(&id) && !self.groups.contains_key(&id) {
                return id;
            }
        }
    }

    /// Finds a user by id or (case-insensitive) login, as `GET /api/v1/users/{idOrLogin}` does.
    pub fn find_user(&self, reference: &str) -> ApiResult<&UserRec> {
        Oid::parse(reference)
            .and_then(|id| self.users.get(&id))
            .or_else(|| {
                let id = self.logins.get(&reference.to_lowercase())?;
                self.users.get(id)
            })
            .ok_or_else(|| ApiError::not_found(reference, "User"))
    }

    pub fn user_id(&self, reference: &str) -> ApiResult<Oid> {
        self.find_user(reference).map(|u| u.id)
    }

    pub fn group(&self, reference: &str) -> ApiResult<&GroupRec> {
        Oid::parse(reference)
            .and_then(|id| self.groups.get(&id))
            .ok_or_else(|| ApiError::not_found(reference, "UserGroup"))
    }

    /// Inserts a user (no log event: callers decide which events a creation writes).
    pub fn insert_user(&mut self, user: UserRec) -> ApiResult<Oid> {
        let login = user.login().to_lowercase();
        if self.logins.contains_key(&login) {
            return Err(ApiError::validation(
                "login",
                "login: An object with this field already exists in the current organization",
            ));
        }
        let id = user.id;
        self.logins.insert(login, id);
        self.by_status.insert((user.status, id));
        self.users.insert(id, user);
        Ok(id)
    }

    /// Creates a user through the API's rules and logs `user.lifecycle.create` (and
    /// `user.lifecycle.activate` when activated).
    pub fn create_user(
        &mut self,
        profile: Map<String, Value>,
        has_password: bool,
        activate: bool,
        origin: &Origin,
    ) -> ApiResult<Oid> {
        validate_profile(&profile)?;
        let t = now();
        let id = self.new_id(ids::USER);
        let user = UserRec {
            id,
            status: OktaStatus::Staged,
            created: t,
            activated: None,
            status_changed: None,
            last_login: None,
            last_updated: t,
            password_changed: has_password.then_some(t),
            has_password,
            profile,
        };
        self.insert_user(user)?;
        self.join_everyone(id, t);
        let target = self.users[&id].target();
        self.log.record(
            origin,
            "user.lifecycle.create",
            "Create Okta user",
            vec![target],
        );
        if activate {
            self.set_status(id, activated_status(has_password), origin)?;
        }
        Ok(id)
    }

    /// Counts one served page of the user listing and makes the status changes that
    /// were waiting for it (logged as an administrator's change would be).
    pub fn user_page_served(&mut self) {
        let mut due = Vec::new();
        self.listing_changes.retain_mut(|c| {
            c.after_pages = c.after_pages.saturating_sub(1);
            if c.after_pages == 0 {
                due.push((c.user, c.status));
            }
            c.after_pages > 0
        });
        for (user, status) in due {
            // A user deleted meanwhile has no status to change.
            let _ = self.set_status(user, status, &Origin::internal());
        }
    }

    /// Moves a user to `status` (no rule checks: the lifecycle endpoints check first) and
    /// logs the event Okta writes for that transition.
    pub fn set_status(&mut self, id: Oid, status: OktaStatus, origin: &Origin) -> ApiResult<()> {
        let user = self
            .users
            .get_mut(&id)
            .ok_or_else(|| ApiError::not_found(id.as_str(), "User"))?;
        let from = user.status;
        let t = now();
        user.status = status;
        self.by_status.remove(&(from, id));
        self.by_status.insert((status, id));
        user.status_changed = Some(t);
        user.last_updated = t;
        if matches!(status, OktaStatus::Active | OktaStatus::Provisioned)
            && user.activated.is_none()
        {
            user.activated = Some(t);
        }
        let target = user.target();
        let (event, message) = status_event(from, status);
        self.log.record(origin, event, message, vec![target]);
        Ok(())
    }

    /// Merges (`replace == false`, POST) or replaces (PUT) a user's profile and logs
    /// `user.account.update_profile`.
    pub fn update_profile(
        &mut self,
        id: Oid,
        changes: Map<String, Value>,
        replace: bool,
        origin: &Origin,
    ) -> ApiResult<()> {
        let user = self
            .users
            .get(&id)
            .ok_or_else(|| ApiError::not_found(id.as_str(), "User"))?;
        let mut profile = if replace {
            Map::new()
        } else {
            user.profile.clone()
        };
        profile.extend(changes);
        validate_profile(&profile)?;
        let old_login = user.login().to_lowercase();
        let new_login = profile
            .get("login")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_lowercase();
        if new_login != old_login {
            if self.logins.contains_key(&new_login) {
                return Err(ApiError::validation(
                    "login",
                    "login: An object with this field already exists in the current organization",
                ));
            }
            self.logins.remove(&old_login);
            self.logins.insert(new_login, id);
        }
        let user = self
            .users
            .get_mut(&id)
            .ok_or_else(|| ApiError::not_found(id.as_str(), "User"))?;
        user.profile = profile;
        user.last_updated = now();
        let target = user.target();
        self.log.record(
            origin,
            "user.account.update_profile",
            "Update user profile for Okta",
            vec![target],
        );
        Ok(())
    }

    /// Removes a DEPROVISIONED user for good (the second phase of DELETE): memberships go
    /// too, and the user's groups get a new `lastMembershipUpdated`.
    pub fn delete_user(&mut self, id: Oid, origin: &Origin) -> ApiResult<()> {
        let user = self
            .users
            .remove(&id)
            .ok_or_else(|| ApiError::not_found(id.as_str(), "User"))?;
        self.logins.remove(&user.login().to_lowercase());
        self.by_status.remove(&(user.status, id));
        let t = now();
        for gid in self.user_groups.remove(&id).unwrap_or_default() {
            if let Some(set) = self.members.get_mut(&gid) {
                set.remove(&id);
            }
            if let Some(group) = self.groups.get_mut(&gid) {
                group.last_membership_updated = t;
            }
        }
        self.log.record(
            origin,
            "user.lifecycle.delete.initiated",
            "Delete Okta user",
            vec![user.target()],
        );
        Ok(())
    }

    /// Okta puts every new user in the BUILT_IN `Everyone` group (when the org has one,
    /// as every real org does); no membership event is logged for it.
    fn join_everyone(&mut self, uid: Oid, t: DateTime<Utc>) {
        let everyone = self
            .groups
            .values_mut()
            .find(|g| g.kind == OktaGroupType::BuiltIn && g.name() == "Everyone");
        if let Some(group) = everyone {
            group.last_membership_updated = t;
            let gid = group.id;
            self.link(gid, uid);
        }
    }

    /// Records a sign-in: `user.session.start` then `user.authentication.sso`, and sets `lastLogin`.
    pub fn login(&mut self, id: Oid, origin: &Origin) -> ApiResult<()> {
        let user = self
            .users
            .get_mut(&id)
            .ok_or_else(|| ApiError::not_found(id.as_str(), "User"))?;
        user.last_login = Some(now());
        let target = user.target();
        let actor = origin.clone().acting_as(&target);
        self.log.record(
            &actor,
            "user.session.start",
            "User login to Okta",
            vec![target.clone()],
        );
        let app = Target::new(
            "0oa1atlassian0000000",
            "AppInstance",
            "atlassian",
            "Atlassian",
        );
        self.log.record(
            &actor,
            "user.authentication.sso",
            "User single sign on to app",
            vec![app, target],
        );
        Ok(())
    }
}

/// ACTIVE for users with a password, PROVISIONED for those who must finish activation.
pub fn activated_status(has_password: bool) -> OktaStatus {
    if has_password {
        OktaStatus::Active
    } else {
        OktaStatus::Provisioned
    }
}

/// The System Log event type and message Okta writes when a user goes `from` -> `to`.
fn status_event(from: OktaStatus, to: OktaStatus) -> (&'static str, &'static str) {
    use OktaStatus as S;
    match (from, to) {
        (_, S::Deprovisioned) => ("user.lifecycle.deactivate", "Deactivate Okta user"),
        (_, S::Suspended) => ("user.lifecycle.suspend", "Suspend Okta user"),
        (S::Suspended, S::Active) => ("user.lifecycle.unsuspend", "Unsuspend Okta user"),
        (S::LockedOut, S::Active) => ("user.account.unlock_by_admin", "Unlock Okta user"),
        (_, S::LockedOut) => ("user.account.lock", "Max sign in attempts exceeded"),
        (_, S::PasswordExpired) => ("user.account.expire_password", "Expire Okta user password"),
        (_, S::Recovery) => ("user.account.reset_password", "Reset Okta user password"),
        (S::Provisioned | S::Recovery, S::Provisioned) => {
            ("user.lifecycle.reactivate", "Reactivate Okta user")
        }
        (S::Deprovisioned, _) => ("user.lifecycle.activate", "Activate Okta user"),
        _ => ("user.lifecycle.activate", "Activate Okta user"),
    }
}

/// Okta's profile rules that clients can trip over: `login` and `email` present, 5-100
/// characters; names at most 50.
pub fn validate_profile(profile: &Map<String, Value>) -> ApiResult<()> {
    for (field, min, max, required) in [
        ("login", 5, 100, true),
        ("email", 5, 100, true),
        ("firstName", 1, 50, false),
        ("lastName", 1, 50, false),
    ] {
        match profile.get(field) {
            Some(Value::String(v)) => {
                let len = v.chars().count();
                if len < min || len > max {
                    return Err(ApiError::validation(
                        field,
                        format!(
                            "{field}: The field must be between {min} and {max} characters long"
                        ),
                    ));
                }
            }
            None | Some(Value::Null) if !required => {}
            None | Some(Value::Null) => {
                return Err(ApiError::validation(
                    field,
                    format!("{field}: The field cannot be left blank"),
                ));
            }
            Some(_) => {
                return Err(ApiError::validation(
                    field,
                    format!("{field}: The field must be a string"),
                ));
            }
        }
    }
    Ok(())
}
