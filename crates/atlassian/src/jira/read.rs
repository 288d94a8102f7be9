//! Reading Jira completely: every user (active and inactive), every group and
//! every membership, by the path the server's version allows.
//!
//! Jira 10.3+ streams users through `/user/list`. Older versions only have
//! `/user/search`, which pages by `startAt` from 8.6 to 9.x but is capped at
//! the first 1,000 matches up to 8.5 and the first 100 on 10.0-10.2. When a
//! search reaches its version's cap, the read is split into narrower username
//! prefixes until no query is capped, so a read never silently stops at the
//! first 100 or 1,000 users; if it cannot be made complete it fails.

use std::collections::{BTreeSet, HashMap, HashSet};

use futures::{StreamExt as _, TryStreamExt as _};
use http::StatusCode;
use usersync_core::{GroupName, TargetSnapshot, TargetUser, Username};

use super::wire::{self, MemberPage, Picker, StreamPage};
use super::{JiraClient, Version};
use crate::http::Call;
use crate::snapshot;
use crate::{TargetError, TargetResult};

/// Characters a username prefix is extended with when a search is capped
/// (the characters seen in usernames so far are added as they appear).
const PREFIX_CHARS: &str = "abcdefghijklmnopqrstuvwxyz0123456789._-@+'";
/// A guard against a walk that never narrows (requests, not users).
const MAX_WALK_QUERIES: usize = 20_000;
const GROUP_PICKER_MAX: usize = 1_000_000;

fn incomplete(action: &str, message: String) -> TargetError {
    TargetError::Decode {
        product: "Jira",
        action: action.to_owned(),
        message,
    }
}

fn group_name(name: &str) -> TargetResult<GroupName> {
    GroupName::parse(name).map_err(|e| incomplete("read groups", format!("group {name:?}: {e}")))
}

impl JiraClient {
    /// One user (and, when asked, their groups); `None` when Jira says 404.
    pub(super) async fn get_user(
        &self,
        username: &Username,
        with_groups: bool,
    ) -> TargetResult<Option<(TargetUser, Vec<GroupName>)>> {
        let mut call = Call::get("rest/api/2/user", format!("read user {username}"))
            .query("username", username);
        if with_groups {
            call = call.query("expand", "groups");
        }
        let reply = self.http.send(&call).await?;
        if reply.status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let user: wire::User = reply.success_json()?;
        let groups = match &user.groups {
            Some(list) if with_groups => {
                if list.items.len() < list.size {
                    return Err(incomplete(
                        call.action(),
                        format!("Jira listed {} of {} groups", list.items.len(), list.size),
                    ));
                }
                list.items
                    .iter()
                    .map(|g| group_name(&g.name))
                    .collect::<TargetResult<_>>()?
            }
            _ => Vec::new(),
        };
        let managed = self.is_read_only(username);
        Ok(Some((user.into_target(managed)?, groups)))
    }

    pub(super) async fn read_all(&self) -> TargetResult<TargetSnapshot> {
        let version = self.version().await?;
        let users = self.all_users(version).await?;
        let names = self.all_groups().await?;
        let concurrency = self.config.concurrency;
        snapshot::assemble(users, names, concurrency, |g| async move {
            self.group_members(&g).await
        })
        .await
    }

    async fn all_users(&self, version: Version) -> TargetResult<Vec<TargetUser>> {
        let raw = if version.at_least(10, 3) {
            self.list_stream().await?
        } else {
            self.search_everyone(version).await?
        };
        let mut by_key: HashMap<String, TargetUser> = HashMap::new();
        for user in raw {
            let name = Username::parse(&user.name).ok();
            let managed = name.is_some_and(|n| self.is_read_only(&n));
            let user = user.into_target(managed)?;
            let id = user.key.as_ref().map_or_else(
                || user.username.folded().to_owned(),
                |k| k.as_str().to_owned(),
            );
            by_key.insert(id, user);
        }
        let mut users: Vec<TargetUser> = by_key.into_values().collect();
        users.sort_by(|a, b| a.username.cmp(&b.username));
        Ok(users)
    }

    /// `/user/list`: follow `nextCursor` until `isLast`.
    async fn list_stream(&self) -> TargetResult<Vec<wire::User>> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        let mut seen_cursors = HashSet::new();
        loop {
            let mut call = Call::get("rest/api/2/user/list", "list every user");
            if let Some(c) = &cursor {
                call = call.query("cursor", c);
            }
            let page: StreamPage = self.http.json(&call).await?;
            out.extend(page.values);
            if page.is_last {
                return Ok(out);
            }
            let next = page.next_cursor.ok_or_else(|| {
                incomplete(
                    call.action(),
                    "a page that is not the last has no nextCursor".into(),
                )
            })?;
            if !seen_cursors.insert(next.clone()) {
                return Err(incomplete(call.action(), format!("cursor {next} repeated")));
            }
            cursor = Some(next);
        }
    }

    /// How far one search query can reach on this version, if capped.
    fn search_cap(version: Version) -> Option<usize> {
        if version.major >= 10 {
            Some(100)
        } else if !version.at_least(8, 6) {
            Some(1000)
        } else {
            None
        }
    }

    /// Every user through `/user/search`: `.` first, then a prefix walk if capped.
    async fn search_everyone(&self, version: Version) -> TargetResult<Vec<wire::User>> {
        let cap = Self::search_cap(version);
        let everyone = self.search_query(".", version).await?;
        if cap.is_none_or(|c| everyone.len() < c) {
            return Ok(everyone);
        }
        tracing::info!(%version, "Jira caps user search; reading users by username prefix");
        self.prefix_walk(version, cap.unwrap_or(usize::MAX)).await
    }

    /// All pages of one search query. Jira honours `maxResults` up to the
    /// version's page size (which is what is asked for), so a short page is the
    /// last; a page of only already-seen users also ends it.
    async fn search_query(&self, query: &str, version: Version) -> TargetResult<Vec<wire::User>> {
        let page_size = if version.major >= 10 { 100 } else { 1000 };
        let mut out: Vec<wire::User> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        loop {
            let call = Call::get("rest/api/2/user/search", format!("search users {query:?}"))
                .query("username", query)
                .query("includeActive", true)
                .query("includeInactive", true)
                .query("startAt", out.len())
                .query("maxResults", page_size);
            let page: Vec<wire::User> = self.http.json(&call).await?;
            let full = page.len() >= page_size;
            let before = out.len();
            out.extend(
                page.into_iter()
                    .filter(|u| seen.insert(u.name.to_lowercase())),
            );
            if !full || out.len() == before {
                return Ok(out);
            }
        }
    }

    /// Splits the search by username prefix, one level of prefixes at a time
    /// (each level's queries run concurrently), until no query reaches `cap`.
    async fn prefix_walk(&self, version: Version, cap: usize) -> TargetResult<Vec<wire::User>> {
        let mut chars: BTreeSet<char> = PREFIX_CHARS.chars().collect();
        let mut found: HashMap<String, wire::User> = HashMap::new();
        let mut level: Vec<String> = chars
            .iter()
            .filter(|c| **c != '.')
            .map(ToString::to_string)
            .collect();
        let mut queries = 0;
        while !level.is_empty() {
            queries += level.len();
            if queries > MAX_WALK_QUERIES {
                return Err(incomplete(
                    "list every user",
                    format!(
                        "gave up after {MAX_WALK_QUERIES} searches: user search is capped at {cap} on Jira {version}"
                    ),
                ));
            }
            let results: Vec<(String, Vec<wire::User>)> = futures::stream::iter(level)
                .map(|prefix| async move {
                    let users = self.search_query(&prefix, version).await?;
                    Ok::<_, TargetError>((prefix, users))
                })
                .buffer_unordered(self.config.concurrency.max(1))
                .try_collect()
                .await?;
            let mut saturated = Vec::new();
            for (prefix, users) in results {
                if users.len() >= cap {
                    saturated.push(prefix.clone());
                }
                for user in users {
                    let folded = user.name.to_lowercase();
                    chars.extend(folded.chars());
                    if folded.starts_with(&prefix) {
                        found.insert(folded, user);
                    }
                }
            }
            level = Vec::new();
            for prefix in saturated {
                // The capped answer may have cut the user named exactly `prefix`.
                if let Ok(name) = Username::parse(&prefix)
                    && let Some(exact) = self.raw_user(&name).await?
                {
                    found.insert(exact.name.to_lowercase(), exact);
                }
                level.extend(chars.iter().map(|c| format!("{prefix}{c}")));
            }
        }
        Ok(found.into_values().collect())
    }

    async fn raw_user(&self, name: &Username) -> TargetResult<Option<wire::User>> {
        let call =
            Call::get("rest/api/2/user", format!("read user {name}")).query("username", name);
        let reply = self.http.send(&call).await?;
        if reply.status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        reply.success_json().map(Some)
    }

    /// Every group name, from the group picker; fails when the picker's cap hides some.
    async fn all_groups(&self) -> TargetResult<Vec<GroupName>> {
        let call = Call::get("rest/api/2/groups/picker", "list groups")
            .query("query", "")
            .query("maxResults", GROUP_PICKER_MAX);
        let picker: Picker = self.http.json(&call).await?;
        if picker.groups.len() < picker.total {
            return Err(incomplete(
                call.action(),
                format!(
                    "the group picker returned {} of {} groups; raise jira.ajax.autocomplete.limit",
                    picker.groups.len(),
                    picker.total
                ),
            ));
        }
        picker.groups.iter().map(|g| group_name(&g.name)).collect()
    }

    /// Every member of a group, active and inactive, 50 at a time.
    async fn group_members(&self, group: &GroupName) -> TargetResult<BTreeSet<Username>> {
        let mut out = BTreeSet::new();
        let mut start = 0;
        loop {
            let call = Call::get(
                "rest/api/2/group/member",
                format!("read the members of {group}"),
            )
            .query("groupname", group)
            .query("includeInactiveUsers", true)
            .query("startAt", start)
            .query("maxResults", 50);
            let page: MemberPage = self.http.json(&call).await?;
            let count = page.values.len();
            for user in page.values {
                out.insert(Username::parse(&user.name).map_err(|e| {
                    incomplete(call.action(), format!("member {:?}: {e}", user.name))
                })?);
            }
            start += count;
            if page.is_last || page.total.is_some_and(|t| start >= t) {
                return Ok(out);
            }
            if count == 0 {
                return Err(incomplete(
                    call.action(),
                    format!("an empty page at {start} that is not the last"),
                ));
            }
        }
    }
}
