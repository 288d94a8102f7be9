//! Reading Crowd completely: every user (active and inactive) and every group
//! through the search API, and each group's direct members, all paged by
//! `start-index`/`max-results`. Crowd returns no totals, so a page shorter than
//! asked for is the last; a page that brings nothing new ends a listing that
//! would otherwise never stop.

use std::collections::{BTreeSet, HashSet};

use http::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::Value;
use usersync_core::{GroupName, TargetSnapshot, TargetUser, Username};

use super::error::Refusal;
use super::wire::{self, Groups, Named, Users};
use super::{CrowdClient, PRODUCT};
use crate::http::Call;
use crate::snapshot;
use crate::{TargetError, TargetResult};

/// What one paged listing yields per page.
trait Page: DeserializeOwned {
    type Item;
    fn items(self) -> Vec<Self::Item>;
}

impl<T: DeserializeOwned> Page for Users<T> {
    type Item = T;
    fn items(self) -> Vec<T> {
        self.users
    }
}

impl Page for Groups {
    type Item = Named;
    fn items(self) -> Vec<Named> {
        self.groups
    }
}

impl CrowdClient {
    pub(super) fn decode(&self, action: &str, e: &dyn std::fmt::Display) -> TargetError {
        TargetError::Decode {
            product: PRODUCT,
            action: action.to_owned(),
            message: e.to_string(),
        }
    }

    /// One user as Crowd sends it (kept whole for `PUT`, which replaces); `None` on 404.
    pub(super) async fn raw_user(&self, username: &Username) -> TargetResult<Option<Value>> {
        let call = Call::get(Self::path("user"), format!("read user {username}"))
            .query("username", username);
        let reply = self.http.send(&call).await?;
        if reply.status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !reply.is_success() {
            return Err(Refusal::of(reply).into_error(call.action()));
        }
        reply.json().map(Some)
    }

    /// Every page of `call` (which has no paging yet), `key` naming an item for
    /// the repeated-page check.
    async fn all_pages<P: Page>(
        &self,
        call: &Call,
        key: impl Fn(&P::Item) -> String,
    ) -> TargetResult<Vec<P::Item>> {
        let size = self.config.page_size;
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        loop {
            let page_call = call
                .clone()
                .query("start-index", out.len())
                .query("max-results", size);
            let reply = self.http.send(&page_call).await?;
            if !reply.is_success() {
                return Err(Refusal::of(reply).into_error(call.action()));
            }
            let items = reply.json::<P>()?.items();
            let count = items.len();
            let before = out.len();
            out.extend(
                items
                    .into_iter()
                    .filter(|i| seen.insert(key(i).to_lowercase())),
            );
            if count < size {
                return Ok(out);
            }
            if out.len() == before {
                return Err(self.decode(
                    call.action(),
                    &format!("a full page at {before} brought no new entries"),
                ));
            }
        }
    }

    pub(super) async fn read_all(&self) -> TargetResult<TargetSnapshot> {
        let users = self.all_users().await?;
        let groups = self.all_groups().await?;
        snapshot::assemble(users, groups, self.config.concurrency, |g| async move {
            self.group_members(&g).await
        })
        .await
    }

    async fn all_users(&self) -> TargetResult<Vec<TargetUser>> {
        let call = Call::get(Self::path("search"), "list every user")
            .query("entity-type", "user")
            .query("expand", "user");
        let raw = self
            .all_pages::<Users<wire::User>>(&call, |u| u.name.clone())
            .await?;
        let mut users = raw
            .into_iter()
            .map(wire::User::into_target)
            .collect::<TargetResult<Vec<_>>>()?;
        users.sort_by(|a, b| a.username.cmp(&b.username));
        Ok(users)
    }

    async fn all_groups(&self) -> TargetResult<Vec<GroupName>> {
        let call = Call::get(Self::path("search"), "list groups").query("entity-type", "group");
        let raw = self.all_pages::<Groups>(&call, |g| g.name.clone()).await?;
        raw.iter()
            .map(|g| self.group_name(call.action(), &g.name))
            .collect()
    }

    fn group_name(&self, action: &str, name: &str) -> TargetResult<GroupName> {
        GroupName::parse(name).map_err(|e| self.decode(action, &format!("group {name:?}: {e}")))
    }

    /// The direct members of a group (Crowd lists inactive users too).
    async fn group_members(&self, group: &GroupName) -> TargetResult<BTreeSet<Username>> {
        let call = Call::get(
            Self::path("group/user/direct"),
            format!("read the members of {group}"),
        )
        .query("groupname", group);
        let raw = self
            .all_pages::<Users<Named>>(&call, |u| u.name.clone())
            .await?;
        raw.iter()
            .map(|u| {
                Username::parse(&u.name)
                    .map_err(|e| self.decode(call.action(), &format!("member {:?}: {e}", u.name)))
            })
            .collect()
    }

    /// The groups a user is a direct member of.
    pub(super) async fn user_groups(&self, username: &Username) -> TargetResult<Vec<GroupName>> {
        let call = Call::get(
            Self::path("user/group/direct"),
            format!("read the groups of {username}"),
        )
        .query("username", username);
        let raw = self.all_pages::<Groups>(&call, |g| g.name.clone()).await?;
        raw.iter()
            .map(|g| self.group_name(call.action(), &g.name))
            .collect()
    }
}
