//! Reads: the version, the signed-in account, and complete listings. Every list
//! endpoint is paged to its end by following `_links.next`; a listing is never cut
//! short silently. Before 8.4 (no `GET /user/list`) the users come from JSON-RPC:
//! `getActiveUsers(true)` names every user, `getActiveUsers(false)` the active
//! ones, and `getUser` each one's details; groups and members are REST on every
//! release.

use std::collections::BTreeSet;

use futures::{StreamExt as _, TryStreamExt as _};
use http::StatusCode;
use serde::de::DeserializeOwned;
use usersync_core::{GroupName, TargetSnapshot, TargetUser, Username};

use super::wire::{Group, Page, Person, VersionInfo};
use super::{ConfluenceClient, capabilities_for};
use crate::http::Call;
use crate::snapshot;
use crate::{Api, Capabilities, Capability, TargetError, TargetResult};

/// A path segment with everything but unreserved characters escaped (group names
/// may hold spaces or slashes).
pub(super) fn segment(text: &str) -> String {
    urlencoding::encode(text).into_owned()
}

/// What a version answer says when it names a product other than Confluence.
fn another_product(info: &VersionInfo) -> Option<String> {
    let type_id = info.type_id.as_deref().filter(|t| *t != "confluence")?;
    Some(format!(
        "its applinks manifest says it is {} (type {type_id:?}); set the target kind to match, or use the Confluence address",
        info.name.as_deref().unwrap_or("another product")
    ))
}

impl ConfluenceClient {
    /// Reads the version: `server-information` (9.1+), else the applinks manifest.
    pub(super) async fn detect(&self) -> TargetResult<Capabilities> {
        let action = "detect the server version";
        let reply = self
            .http
            .send(&Call::get("rest/api/server-information", action))
            .await?;
        let info: VersionInfo = if reply.status == StatusCode::NOT_FOUND {
            let manifest = Call::get("rest/applinks/1.0/manifest", action);
            match self.http.json(&manifest).await {
                Err(TargetError::NotFound { .. }) => {
                    return Err(self.not_confluence(
                        "GET rest/api/server-information and rest/applinks/1.0/manifest answered 404",
                    ));
                }
                other => other?,
            }
        } else {
            reply.success_json()?
        };
        // Jira and other Atlassian servers publish an applinks manifest too: its
        // `typeId` says which product answered.
        if let Some(answer) = another_product(&info) {
            return Err(self.not_confluence(&answer));
        }
        capabilities_for(&info.version)
    }

    fn not_confluence(&self, answer: &str) -> TargetError {
        crate::http::not_the_product(super::PRODUCT, self.http.base_url(), answer)
    }

    /// `GET /user/current`; an anonymous answer means the credential was not accepted.
    pub(super) async fn whoami(&self) -> TargetResult<Username> {
        let action = "read the signed-in account";
        let me: Person = self
            .http
            .json(&Call::get("rest/api/user/current", action))
            .await?;
        if me.is_anonymous() {
            return Err(TargetError::Unauthenticated {
                product: super::PRODUCT,
                url: self.http.base_url().to_string(),
                detail: "the server answered as for an anonymous visitor".into(),
            });
        }
        let name = me.username.unwrap_or_default();
        Username::parse(name).map_err(|e| self.decode_error(action)(e.to_string()))
    }

    /// Every item of a paged list endpoint.
    pub(super) async fn all_pages<T: DeserializeOwned>(&self, call: Call) -> TargetResult<Vec<T>> {
        let limit = self.config.page_size;
        let mut items = Vec::new();
        loop {
            let page_call = call
                .clone()
                .query("start", items.len())
                .query("limit", limit);
            let page: Page<T> = self.http.json(&page_call).await?;
            let more = page.has_more(limit);
            items.extend(page.results);
            if !more {
                return Ok(items);
            }
        }
    }

    fn users_from(&self, people: Vec<Person>, action: &str) -> TargetResult<Vec<TargetUser>> {
        people
            .into_iter()
            .map(|p| p.into_user(self.decode_error(action)))
            .collect()
    }

    /// Every user, group and membership.
    pub(super) async fn read_all(&self) -> TargetResult<TargetSnapshot> {
        let action = "list every user";
        let users = match self.route(Capability::ListUsers, action).await? {
            Api::Rest => {
                let call = Call::get("rest/api/user/list", action).query("expand", "status");
                let people: Vec<Person> = self.all_pages(call).await?;
                self.users_from(people, action)?
            }
            Api::JsonRpc => self.rpc_all_users().await?,
            // Confluence's capabilities never name Jira's user-server API.
            Api::UserServer => {
                return Err(TargetError::Config(
                    "Confluence has no user-server API to list users through".into(),
                ));
            }
        };
        let groups = self.all_groups().await?;
        let concurrency = self.config.concurrency;
        snapshot::assemble(users, groups, concurrency, |g| async move {
            self.members(&g).await
        })
        .await
    }

    /// Every user through JSON-RPC: all names, the active ones, then each user.
    async fn rpc_all_users(&self) -> TargetResult<Vec<TargetUser>> {
        let all = self.rpc_usernames(true).await?;
        let active: BTreeSet<String> = self
            .rpc_usernames(false)
            .await?
            .into_iter()
            .map(|n| n.to_lowercase())
            .collect();
        futures::stream::iter(all)
            .map(|name| {
                let is_active = active.contains(&name.to_lowercase());
                async move { self.rpc_user(&name, is_active).await }
            })
            .buffered(self.config.concurrency.max(1))
            .try_collect()
            .await
    }

    async fn all_groups(&self) -> TargetResult<Vec<GroupName>> {
        let action = "list groups";
        let groups: Vec<Group> = self.all_pages(Call::get("rest/api/group", action)).await?;
        groups
            .into_iter()
            .map(|g| g.into_name(self.decode_error(action)))
            .collect()
    }

    async fn members(&self, group: &GroupName) -> TargetResult<BTreeSet<Username>> {
        let action = format!("list the members of {group}");
        let path = format!("rest/api/group/{}/member", segment(group.as_str()));
        let people: Vec<Person> = self
            .all_pages(Call::get(path, &action).query("expand", "status"))
            .await?;
        Ok(self
            .users_from(people, &action)?
            .into_iter()
            .map(|u| u.username)
            .collect())
    }

    /// One user, or `None` on 404.
    pub(super) async fn find_user(&self, username: &Username) -> TargetResult<Option<TargetUser>> {
        let action = format!("read user {username}");
        let call = Call::get("rest/api/user", &action)
            .query("username", username.as_str())
            .query("expand", "status");
        let reply = self.http.send(&call).await?;
        if reply.status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let person: Person = reply.success_json()?;
        person.into_user(self.decode_error(&action)).map(Some)
    }

    pub(super) async fn user_groups(&self, username: &Username) -> TargetResult<Vec<GroupName>> {
        let action = format!("list the groups of {username}");
        let call =
            Call::get("rest/api/user/memberof", &action).query("username", username.as_str());
        let groups: Vec<Group> = self.all_pages(call).await?;
        groups
            .into_iter()
            .map(|g| g.into_name(self.decode_error(&action)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(json: &str) -> VersionInfo {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_manifest_of_jira_is_not_taken_for_confluence() {
        let jira = manifest(r#"{"name":"Jira","typeId":"jira","version":"10.3.0"}"#);
        let answer = another_product(&jira).expect("Jira is another product");
        assert!(answer.contains("it is Jira (type \"jira\")"), "{answer}");
    }

    #[test]
    fn confluence_answers_and_answers_without_a_type_are_accepted() {
        let wiki = manifest(r#"{"name":"Confluence","typeId":"confluence","version":"8.5.0"}"#);
        assert_eq!(another_product(&wiki), None);
        assert_eq!(another_product(&manifest(r#"{"version":"9.2.0"}"#)), None);
    }
}
