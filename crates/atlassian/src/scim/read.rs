//! Reads: discovery, the token probe, paged listings of Users and Groups (1-based
//! `startIndex`, `count` up to what the service allows), and lookups by filter.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use http::Method;
use serde::de::DeserializeOwned;
use usersync_core::{Email, GroupName, TargetGroup, TargetSnapshot, TargetUser, Username};

use crate::http::not_the_product;
use crate::{TargetError, TargetResult};

use super::wire::{self, Group, ListResponse, ServiceProviderConfig, User};
use super::{Features, Known, ScimClient, ScimProfile, lock};

/// Atlassian Cloud serves at most 100 per page (reference §4); others are asked for
/// up to this many, or their advertised maximum when lower.
const CLOUD_PAGE: u64 = 100;
const DEFAULT_PAGE: u64 = 200;
/// A listing longer than this many pages is refused rather than read forever.
const MAX_PAGES: u64 = 100_000;

impl ScimClient {
    pub(super) async fn discover(&self) -> TargetResult<Features> {
        let action = "read the SCIM ServiceProviderConfig";
        let reply = self
            .http
            .send(&self.call(Method::GET, "ServiceProviderConfig", action))
            .await?;
        let not_scim =
            |answer: String| not_the_product(self.product(), self.http.base_url(), &answer);
        if !reply.is_success() {
            if reply.status.as_u16() == 404 {
                return Err(not_scim("no /ServiceProviderConfig (HTTP 404); give the SCIM base URL, the one /Users is under".into()));
            }
            return Err(self.error(action, reply));
        }
        let spc: ServiceProviderConfig = serde_json::from_slice(&reply.body)
            .map_err(|e| not_scim(format!("/ServiceProviderConfig is not SCIM's ({e})")))?;
        if !spc.schemas.is_empty() && !spc.schemas.iter().any(|s| s == wire::SPC_SCHEMA) {
            return Err(not_scim(format!(
                "/ServiceProviderConfig has schemas {:?}",
                spc.schemas
            )));
        }
        let ceiling = match self.profile {
            ScimProfile::AtlassianCloud => CLOUD_PAGE,
            ScimProfile::Generic => DEFAULT_PAGE,
        };
        let advertised = spc.filter.max_results.filter(|m| *m > 0).unwrap_or(ceiling);
        Ok(Features {
            patch: spc.patch.supported,
            filter: spc.filter.supported,
            etag: spc.etag.is_some_and(|e| e.supported),
            page_size: advertised.min(ceiling),
        })
    }

    /// One small authenticated read: proves the token.
    pub(super) async fn probe_token(&self) -> TargetResult<()> {
        let action = "list one user (checking the token)";
        let call = self
            .call(Method::GET, "Users", action)
            .query("startIndex", 1)
            .query("count", 1);
        let reply = self.http.send(&call).await?;
        if !reply.is_success() {
            return Err(self.error(action, reply));
        }
        let list: ListResponse<serde_json::Value> = reply.json()?;
        if !list.schemas.is_empty() && !list.schemas.iter().any(|s| s == wire::LIST_SCHEMA) {
            return Err(not_the_product(
                self.product(),
                self.http.base_url(),
                "/Users is not a SCIM ListResponse",
            ));
        }
        Ok(())
    }

    /// Every resource at `endpoint` matching `filter`, page by page.
    pub(super) async fn list<T: DeserializeOwned>(
        &self,
        endpoint: &str,
        filter: Option<String>,
    ) -> TargetResult<Vec<T>> {
        let page = self.features().await?.page_size.max(1);
        let action = format!("list {endpoint}");
        let mut out: Vec<T> = Vec::new();
        let mut start: u64 = 1;
        for _ in 0..MAX_PAGES {
            let mut call = self
                .call(Method::GET, endpoint, action.clone())
                .query("startIndex", start)
                .query("count", page);
            if let Some(f) = &filter {
                call = call.query("filter", f);
            }
            let reply = self.http.send(&call).await?;
            if !reply.is_success() {
                return Err(self.error(&action, reply));
            }
            let list: ListResponse<T> = reply.json()?;
            let got = list.resources.len() as u64;
            out.extend(list.resources);
            // A service may return fewer than asked (RFC 7644 §3.4.2.4): go on until the total.
            if got == 0 || out.len() as u64 >= list.total_results {
                return Ok(out);
            }
            start += got;
        }
        Err(TargetError::Decode {
            product: self.product(),
            action,
            message: format!("more than {MAX_PAGES} pages; the listing does not end"),
        })
    }

    pub(super) async fn read_all(&self) -> TargetResult<TargetSnapshot> {
        let (users, groups) = tokio::try_join!(
            self.list::<User>("Users", None),
            self.list::<Group>("Groups", None)
        )?;
        let mut by_id: HashMap<String, Username> = HashMap::new();
        let mut snapshot_users = Vec::with_capacity(users.len());
        for u in &users {
            let Some(user) = self.target_user(u) else {
                continue;
            };
            by_id.insert(u.id.clone(), user.username.clone());
            snapshot_users.push(user);
        }
        let mut snapshot = TargetSnapshot {
            users: snapshot_users,
            groups: Vec::new(),
            memberships: BTreeMap::new(),
        };
        for g in groups {
            let Ok(name) = GroupName::parse(&g.display_name) else {
                continue;
            };
            let members = self.members_of(g, &by_id).await?;
            snapshot.groups.push(TargetGroup {
                name: name.clone(),
                managed_elsewhere: false,
            });
            snapshot.memberships.insert(name, members);
        }
        Ok(snapshot)
    }

    /// A group's members as usernames; a listing that left `members` out is read by id.
    async fn members_of(
        &self,
        g: Group,
        by_id: &HashMap<String, Username>,
    ) -> TargetResult<BTreeSet<Username>> {
        let g = match g.members {
            Some(_) => g,
            None => {
                self.get::<Group>("Groups", &g.id, &format!("read group {}", g.display_name))
                    .await?
            }
        };
        self.remember_group(
            &g.display_name,
            Known {
                id: g.id.clone(),
                version: g.meta.version.clone(),
            },
        );
        Ok(g.members
            .unwrap_or_default()
            .iter()
            .filter(|m| {
                m.r#type
                    .as_deref()
                    .is_none_or(|t| t.eq_ignore_ascii_case("User"))
            })
            .filter_map(|m| by_id.get(&m.value).cloned())
            .collect())
    }

    /// The user as the engine sees it (and its id remembered); `None` for a userName
    /// usersync cannot hold.
    pub(super) fn target_user(&self, u: &User) -> Option<TargetUser> {
        let username = Username::parse(&u.user_name).ok()?;
        self.remember_user(
            &u.user_name,
            Known {
                id: u.id.clone(),
                version: u.meta.version.clone(),
            },
        );
        Some(TargetUser {
            key: None,
            username,
            display_name: u.display(),
            email: u.primary_email().and_then(|e| Email::parse(e).ok()),
            active: u.active.unwrap_or(true),
            managed_elsewhere: false,
        })
    }

    pub(super) async fn get<T: DeserializeOwned>(
        &self,
        endpoint: &str,
        id: &str,
        action: &str,
    ) -> TargetResult<T> {
        let reply = self
            .http
            .send(&self.call(Method::GET, &format!("{endpoint}/{id}"), action))
            .await?;
        if !reply.is_success() {
            return Err(self.error(action, reply));
        }
        reply.json()
    }

    /// Resources whose `attr` equals `value`: by filter where the service filters,
    /// else by reading the collection.
    async fn lookup<T: DeserializeOwned>(
        &self,
        endpoint: &str,
        attr: &str,
        value: &str,
        name_of: fn(&T) -> &str,
    ) -> TargetResult<Vec<T>> {
        if self.features().await?.filter {
            let quoted = serde_json::Value::String(value.to_owned()).to_string();
            return self
                .list(endpoint, Some(format!("{attr} eq {quoted}")))
                .await;
        }
        let all: Vec<T> = self.list(endpoint, None).await?;
        Ok(all
            .into_iter()
            .filter(|r| name_of(r).eq_ignore_ascii_case(value))
            .collect())
    }

    pub(super) async fn find_scim_user(&self, username: &Username) -> TargetResult<Option<User>> {
        let found: Vec<User> = self
            .lookup("Users", "userName", username.as_str(), |u: &User| {
                &u.user_name
            })
            .await?;
        Ok(found
            .into_iter()
            .find(|u| u.user_name.eq_ignore_ascii_case(username.as_str())))
    }

    pub(super) async fn find_user(&self, username: &Username) -> TargetResult<Option<TargetUser>> {
        Ok(self
            .find_scim_user(username)
            .await?
            .and_then(|u| self.target_user(&u)))
    }

    pub(super) async fn find_group(&self, name: &GroupName) -> TargetResult<Option<Group>> {
        let found: Vec<Group> = self
            .lookup("Groups", "displayName", name.as_str(), |g: &Group| {
                &g.display_name
            })
            .await?;
        Ok(found
            .into_iter()
            .find(|g| g.display_name.eq_ignore_ascii_case(name.as_str())))
    }

    pub(super) async fn user_groups(&self, username: &Username) -> TargetResult<Vec<GroupName>> {
        let Some(user) = self.find_scim_user(username).await? else {
            return Ok(Vec::new());
        };
        // A user's `groups` is read-only and optional (RFC 7643 §4.1.2): read the groups instead.
        let groups: Vec<Group> = self.list("Groups", None).await?;
        Ok(groups
            .into_iter()
            .filter(|g| g.members.iter().flatten().any(|m| m.value == user.id))
            .filter_map(|g| GroupName::parse(&g.display_name).ok())
            .collect())
    }

    /// The id (and version) of a user, remembered or looked up.
    pub(super) async fn user_ref(&self, username: &Username) -> TargetResult<Known> {
        if let Some(known) = lock(&self.users).get(&username.as_str().to_lowercase()) {
            return Ok(known.clone());
        }
        let user = self
            .find_scim_user(username)
            .await?
            .ok_or_else(|| TargetError::NotFound {
                what: format!("user {username}"),
            })?;
        let known = Known {
            id: user.id.clone(),
            version: user.meta.version.clone(),
        };
        self.remember_user(&user.user_name, known.clone());
        Ok(known)
    }

    pub(super) async fn group_ref(&self, name: &GroupName) -> TargetResult<Known> {
        if let Some(known) = lock(&self.groups).get(&name.as_str().to_lowercase()) {
            return Ok(known.clone());
        }
        let group = self
            .find_group(name)
            .await?
            .ok_or_else(|| TargetError::NotFound {
                what: format!("group {name}"),
            })?;
        let known = Known {
            id: group.id.clone(),
            version: group.meta.version.clone(),
        };
        self.remember_group(&group.display_name, known.clone());
        Ok(known)
    }
}
