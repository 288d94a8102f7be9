//! Identity links per app: which Okta user is which target user, which Okta group is
//! which target group.
//!
//! Links are keyed by the immutable Okta id, so saving a link for a renamed user or
//! group updates the one row instead of adding a second.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use usersync_core::ids::{GroupName, IdError, OktaGroupId, OktaUserId, TargetUserKey, Username};
use usersync_core::links::{GroupLink, LinkChange, Links, UserLink};

use crate::Store;
use crate::app::AppId;
use crate::error::{DbContext as _, StoreError};

mod write;
pub(crate) use write::save_links_in;

/// One batch of link changes, saved in one transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkChanges {
    /// Inserted, or replacing the link with the same Okta id.
    pub upsert_users: Vec<UserLink>,
    pub delete_users: Vec<OktaUserId>,
    /// Users whose links are marked read-only (after the upserts).
    #[serde(default)]
    pub read_only_users: Vec<OktaUserId>,
    pub upsert_groups: Vec<GroupLink>,
    /// Each ends the Okta group's link only if it still names this target group.
    pub delete_groups: Vec<(OktaGroupId, GroupName)>,
    /// Memberships usersync added by a group-mapping rule (target group, Okta user).
    #[serde(default)]
    pub track_members: Vec<(GroupName, OktaUserId)>,
    /// Such memberships removed again.
    #[serde(default)]
    pub forget_members: Vec<(GroupName, OktaUserId)>,
}

impl From<LinkChange> for LinkChanges {
    /// The batch of one op's change (see [`usersync_core::link_change`]).
    fn from(change: LinkChange) -> Self {
        let mut changes = Self::default();
        match change {
            LinkChange::SetUser(link) => changes.upsert_users.push(link),
            LinkChange::EndUser(id) => changes.delete_users.push(id),
            LinkChange::SetGroup(link) => changes.upsert_groups.push(link),
            LinkChange::EndGroup(id, name) => changes.delete_groups.push((id, name)),
            LinkChange::MarkReadOnly(id) => changes.read_only_users.push(id),
            LinkChange::TrackMember(group, id) => changes.track_members.push((group, id)),
            LinkChange::ForgetMember(group, id) => changes.forget_members.push((group, id)),
        }
        changes
    }
}

impl LinkChanges {
    /// Whether the batch only upserts user links (a created or renamed user's).
    fn only_upserts_users(&self) -> bool {
        !self.upsert_users.is_empty() && self.upsert_groups.is_empty() && self.upserts_only()
    }

    /// Whether the batch only upserts group links (a created or adopted group's).
    fn only_upserts_groups(&self) -> bool {
        !self.upsert_groups.is_empty() && self.upsert_users.is_empty() && self.upserts_only()
    }

    /// No deletes, read-only marks or mapped memberships.
    fn upserts_only(&self) -> bool {
        self.delete_users.is_empty()
            && self.read_only_users.is_empty()
            && self.delete_groups.is_empty()
            && self.track_members.is_empty()
            && self.forget_members.is_empty()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.upsert_users.is_empty()
            && self.delete_users.is_empty()
            && self.upsert_groups.is_empty()
            && self.delete_groups.is_empty()
            && self.read_only_users.is_empty()
            && self.track_members.is_empty()
            && self.forget_members.is_empty()
    }
}

fn stored_id(app: AppId) -> impl Fn(IdError) -> StoreError {
    move |e| StoreError::Database {
        context: format!("reading the links of app {app}"),
        message: e.to_string(),
    }
}

fn user_links(app: AppId, rows: Vec<UserRow>) -> Result<Vec<UserLink>, StoreError> {
    let bad = stored_id(app);
    rows.into_iter()
        .map(|(okta_id, key, username, read_only)| {
            Ok(UserLink {
                okta_id: OktaUserId::parse(okta_id).map_err(&bad)?,
                target_key: key.map(TargetUserKey::parse).transpose().map_err(&bad)?,
                username: Username::parse(username).map_err(&bad)?,
                read_only: read_only != 0,
            })
        })
        .collect()
}

/// Flags are stored as 0/1 integers (the same in both databases).
type UserRow = (String, Option<String>, String, i64);

const USER_LINKS: &str =
    "SELECT okta_id, target_key, username, read_only FROM user_links WHERE app_id = $1";

/// The query of [`Store::user_links_touching`]: the links of `$1` holding the Okta id `$2`,
/// one of `names` lower-cased usernames, or one of `keys` target keys. One lookup per kind
/// of term, each answered by an index (the primary key, and migration 0006's), joined by
/// `UNION`: an `OR` of the three would let SQLite settle for scanning the app's links.
const MAPPED_MEMBERSHIPS: &str =
    "SELECT target_group, okta_id FROM mapped_memberships WHERE app_id = $1";

fn touching_sql(names: usize, keys: usize) -> String {
    let mut sql = format!("{USER_LINKS} AND okta_id = $2");
    let mut n = 2;
    for (column, count) in [("lower(username)", names), ("target_key", keys)] {
        if count == 0 {
            continue;
        }
        let params: Vec<String> = (n + 1..=n + count).map(|i| format!("${i}")).collect();
        n += count;
        sql.push_str(&format!(
            " UNION {USER_LINKS} AND {column} IN ({})",
            params.join(", ")
        ));
    }
    sql
}

/// A group link's row: Okta id, target name, created by usersync (0/1).
type GroupRow = (String, String, i64);

const GROUP_LINKS: &str =
    "SELECT okta_id, target_name, created_by_usersync FROM group_links WHERE app_id = $1";

fn group_links(app: AppId, rows: Vec<GroupRow>) -> Result<Vec<GroupLink>, StoreError> {
    let bad = stored_id(app);
    rows.into_iter()
        .map(|(okta_id, name, created)| {
            Ok(GroupLink {
                okta_id: OktaGroupId::parse(okta_id).map_err(&bad)?,
                target_name: GroupName::parse(name).map_err(&bad)?,
                created_by_usersync: created != 0,
            })
        })
        .collect()
}

/// The query of [`Store::group_links_touching`]: the group links of `$1` with one of
/// `count` values (`$2`..) in `column`.
fn group_touching_sql(column: &str, count: usize) -> String {
    let params: Vec<String> = (2..2 + count).map(|i| format!("${i}")).collect();
    format!("{GROUP_LINKS} AND {column} IN ({})", params.join(", "))
}

impl Store {
    /// Every link of `app`.
    ///
    /// # Errors
    /// Database failures.
    pub async fn load_links(&self, app: AppId) -> Result<Links, StoreError> {
        let users = self.all_user_links(app).await?;
        let mut links = Links::from_parts(users, self.group_links(app).await?);
        links.mapped = self.mapped_memberships(app, None).await?;
        Ok(links)
    }

    /// The memberships usersync added to target groups by group-mapping rules
    /// (`policy.group_map`), of every Okta user or of `only` one.
    ///
    /// # Errors
    /// Database failures.
    pub async fn mapped_memberships(
        &self,
        app: AppId,
        only: Option<&OktaUserId>,
    ) -> Result<BTreeMap<GroupName, BTreeSet<OktaUserId>>, StoreError> {
        let bad = stored_id(app);
        let rows: Vec<(String, String)> = match only {
            None => {
                sqlx::query_as(MAPPED_MEMBERSHIPS)
                    .bind(app.0)
                    .fetch_all(&self.db)
                    .await
            }
            Some(id) => {
                sqlx::query_as(&format!("{MAPPED_MEMBERSHIPS} AND okta_id = $2"))
                    .bind(app.0)
                    .bind(id.as_str())
                    .fetch_all(&self.db)
                    .await
            }
        }
        .ctx("reading mapped memberships")?;
        let mut out: BTreeMap<GroupName, BTreeSet<OktaUserId>> = BTreeMap::new();
        for (group, okta_id) in rows {
            out.entry(GroupName::parse(group).map_err(&bad)?)
                .or_default()
                .insert(OktaUserId::parse(okta_id).map_err(&bad)?);
        }
        Ok(out)
    }

    /// How many users `app` has linked: the base of the hold limits' percentage
    /// for a plan made from only some of the links (a single-user sync).
    ///
    /// # Errors
    /// Database failures.
    pub async fn count_user_links(&self, app: AppId) -> Result<usize, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM user_links WHERE app_id = $1")
            .bind(app.0)
            .fetch_one(&self.db)
            .await
            .ctx("counting user links")?;
        Ok(usize::try_from(n).unwrap_or_default())
    }

    /// The user links of `okta_id`, and those holding one of `usernames` (in any case)
    /// or one of `keys`.
    ///
    /// SQLite folds only ASCII letters, so a non-ASCII username reads every user link
    /// rather than risk missing one that holds it.
    ///
    /// # Errors
    /// Database failures.
    pub async fn user_links_touching(
        &self,
        app: AppId,
        okta_id: &OktaUserId,
        usernames: &[Username],
        keys: &[TargetUserKey],
    ) -> Result<Vec<UserLink>, StoreError> {
        if usernames.iter().any(|u| !u.as_str().is_ascii()) {
            return self.all_user_links(app).await;
        }
        let sql = touching_sql(usernames.len(), keys.len());
        let mut query = sqlx::query_as::<_, UserRow>(&sql)
            .bind(app.0)
            .bind(okta_id.as_str());
        for name in usernames {
            query = query.bind(name.as_str().to_ascii_lowercase());
        }
        for key in keys {
            query = query.bind(key.as_str());
        }
        let rows = query.fetch_all(&self.db).await.ctx("reading user links")?;
        user_links(app, rows)
    }

    async fn all_user_links(&self, app: AppId) -> Result<Vec<UserLink>, StoreError> {
        let rows: Vec<UserRow> = sqlx::query_as(USER_LINKS)
            .bind(app.0)
            .fetch_all(&self.db)
            .await
            .ctx("reading user links")?;
        user_links(app, rows)
    }

    async fn group_links(&self, app: AppId) -> Result<Vec<GroupLink>, StoreError> {
        let rows: Vec<GroupRow> = sqlx::query_as(GROUP_LINKS)
            .bind(app.0)
            .fetch_all(&self.db)
            .await
            .ctx("reading group links")?;
        group_links(app, rows)
    }

    /// The group links a plan of some users needs (a single-user sync's): those of
    /// the Okta groups `okta_ids`, and those holding one of `names` or the target
    /// name of one of the former, in any case (so the planner sees who else claims
    /// a target group, and which linked groups exist). Two lookups: by Okta id
    /// (the primary key), then by name (a pass over the app's group links in the
    /// database, none in usersync).
    ///
    /// SQLite folds only ASCII letters, so a non-ASCII name reads every group link
    /// rather than risk missing one that holds it.
    ///
    /// # Errors
    /// Database failures.
    pub async fn group_links_touching(
        &self,
        app: AppId,
        okta_ids: &[OktaGroupId],
        names: &[GroupName],
    ) -> Result<Vec<GroupLink>, StoreError> {
        let by_id = self
            .group_links_where(
                app,
                "okta_id",
                okta_ids.iter().map(|id| id.as_str().to_owned()),
            )
            .await?;
        let mut wanted: BTreeSet<&GroupName> = names.iter().collect();
        wanted.extend(by_id.iter().map(|l| &l.target_name));
        if wanted.iter().any(|n| !n.as_str().is_ascii()) {
            return self.group_links(app).await;
        }
        let folded = wanted.iter().map(|n| n.as_str().to_ascii_lowercase());
        let by_name = self
            .group_links_where(app, "lower(target_name)", folded)
            .await?;
        let mut links: BTreeMap<OktaGroupId, GroupLink> = BTreeMap::new();
        for link in by_id.into_iter().chain(by_name) {
            links.insert(link.okta_id.clone(), link);
        }
        Ok(links.into_values().collect())
    }

    /// The group links of `app` with one of `values` in `column` (none for no values).
    async fn group_links_where(
        &self,
        app: AppId,
        column: &str,
        values: impl ExactSizeIterator<Item = String>,
    ) -> Result<Vec<GroupLink>, StoreError> {
        if values.len() == 0 {
            return Ok(Vec::new());
        }
        let sql = group_touching_sql(column, values.len());
        let mut query = sqlx::query_as::<_, GroupRow>(&sql).bind(app.0);
        for value in values {
            query = query.bind(value);
        }
        let rows = query.fetch_all(&self.db).await.ctx("reading group links")?;
        group_links(app, rows)
    }

    /// Applies a batch of link changes in one transaction (deletes first, then upserts).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the app does not exist; nothing is saved then.
    pub async fn save_links(&self, app: AppId, changes: &LinkChanges) -> Result<(), StoreError> {
        let mut tx = self.gate.begin(&self.db).await?;
        save_links_in(&mut tx, app, std::slice::from_ref(changes)).await?;
        tx.commit().await.ctx("saving links")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query_plan::query_plan;

    /// SQLite's plan for the single-user lookup, one line per step.
    async fn lookup_plan(store: &Store, names: usize, keys: usize) -> String {
        query_plan(store, &touching_sql(names, keys), |query| {
            (0..names + keys).fold(query.bind(1_i64).bind("00u1"), |q, i| {
                q.bind(format!("value{i}"))
            })
        })
        .await
        .join("\n")
    }

    #[tokio::test]
    async fn one_users_mapped_memberships_are_found_by_their_okta_id_not_among_the_whole_apps() {
        let store = Store::open_in_memory().await.unwrap();
        let sql = format!("{MAPPED_MEMBERSHIPS} AND okta_id = $2");
        let plan = query_plan(&store, &sql, |q| q.bind(1_i64).bind("00u1")).await;
        assert_eq!(
            plan,
            [
                "SEARCH mapped_memberships USING COVERING INDEX mapped_memberships_by_user (app_id=? AND okta_id=?)"
            ]
        );
    }

    #[tokio::test]
    async fn the_group_links_of_some_okta_groups_are_found_by_the_primary_key() {
        let store = Store::open_in_memory().await.unwrap();
        let plan = query_plan(&store, &group_touching_sql("okta_id", 3), |query| {
            (0..3).fold(query.bind(1_i64), |q, i| q.bind(format!("00g{i}")))
        })
        .await;
        assert_eq!(
            plan,
            [
                "SEARCH group_links USING INDEX sqlite_autoindex_group_links_1 (app_id=? AND okta_id=?)"
            ]
        );
    }

    #[tokio::test]
    async fn the_single_user_link_lookup_uses_an_index_for_every_term_and_scans_no_table() {
        let store = Store::open_in_memory().await.unwrap();
        for (names, keys) in [(1, 0), (1, 1), (2, 1), (3, 2)] {
            let plan = lookup_plan(&store, names, keys).await;
            assert!(
                !plan.contains("SCAN user_links"),
                "{names} names, {keys} keys:\n{plan}"
            );
            for step in plan
                .lines()
                .filter(|line| line.contains("SEARCH user_links"))
            {
                assert!(step.contains(" AND "), "a lookup by app only:\n{plan}");
            }
            assert!(plan.contains("user_links_by_folded_username"), "{plan}");
            if keys > 0 {
                assert!(plan.contains("user_links_by_target_key"), "{plan}");
            }
        }
    }
}
