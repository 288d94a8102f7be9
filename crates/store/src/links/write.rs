//! Writing identity links: one batch of changes, or several batches in one
//! transaction as a sync's journal records them (see `save_links_in`).

use chrono::Utc;
use usersync_core::ids::TargetUserKey;
use usersync_core::links::{GroupLink, UserLink};

use super::LinkChanges;
use crate::app::AppId;
use crate::db::Tx;
use crate::error::{DbContext as _, StoreError};
use crate::stamp::Ts;

/// [`Store::save_links`] of several batches, in order, inside the caller's transaction:
/// each as if saved alone. Runs of batches that only upsert user links, or only group
/// links (a stage of created users or groups whose links a sync records together), are
/// written as multi-row statements: one statement per handful of links instead of one
/// per link, which is most of the time such a transaction takes.
pub(crate) async fn save_links_in(
    tx: &mut Tx,
    app: AppId,
    batches: &[LinkChanges],
) -> Result<(), StoreError> {
    let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM apps WHERE id = $1")
        .bind(app.0)
        .fetch_optional(&mut **tx)
        .await
        .ctx("saving links")?;
    if exists.is_none() {
        return Err(StoreError::not_found(format!("app {app}")));
    }
    let now = Ts(Utc::now());
    let mut rest = batches;
    while let Some(first) = rest.first() {
        if upsert_run::<UserLink>(tx, app, &mut rest, now).await?
            || upsert_run::<GroupLink>(tx, app, &mut rest, now).await?
        {
            continue;
        }
        save_one_in(tx, app, first, now).await?;
        rest = &rest[1..];
    }
    Ok(())
}

/// A kind of link row, upserted by its Okta id.
trait LinkRow: Sized {
    /// `table (columns)` of the `INSERT`.
    const INTO: &'static str;
    const COLUMNS: usize;
    /// The `SET` of `ON CONFLICT (app_id, okta_id) DO UPDATE`.
    const SET: &'static str;
    const WHAT: &'static str;
    /// The batch's upserts of this kind, when it changes nothing else.
    fn only_upserts(batch: &LinkChanges) -> Option<&[Self]>;
    fn okta_id(&self) -> &str;
    fn bind<'q>(&'q self, query: AnyQuery<'q>, app: AppId, now: Ts) -> AnyQuery<'q>;
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

impl LinkRow for UserLink {
    const INTO: &'static str =
        "user_links (app_id, okta_id, target_key, username, read_only, updated_at)";
    const COLUMNS: usize = 6;
    const SET: &'static str = "target_key = excluded.target_key, username = excluded.username, \
         read_only = excluded.read_only, updated_at = excluded.updated_at";
    const WHAT: &'static str = "saving a user link";
    fn only_upserts(batch: &LinkChanges) -> Option<&[Self]> {
        batch
            .only_upserts_users()
            .then_some(&batch.upsert_users[..])
    }
    fn okta_id(&self) -> &str {
        self.okta_id.as_str()
    }
    fn bind<'q>(&'q self, query: AnyQuery<'q>, app: AppId, now: Ts) -> AnyQuery<'q> {
        query
            .bind(app.0)
            .bind(self.okta_id.as_str())
            .bind(self.target_key.as_ref().map(TargetUserKey::as_str))
            .bind(self.username.as_str())
            .bind(i64::from(self.read_only))
            .bind(now)
    }
}

impl LinkRow for GroupLink {
    const INTO: &'static str =
        "group_links (app_id, okta_id, target_name, created_by_usersync, updated_at)";
    const COLUMNS: usize = 5;
    const SET: &'static str = "target_name = excluded.target_name, \
         created_by_usersync = excluded.created_by_usersync, updated_at = excluded.updated_at";
    const WHAT: &'static str = "saving a group link";
    fn only_upserts(batch: &LinkChanges) -> Option<&[Self]> {
        batch
            .only_upserts_groups()
            .then_some(&batch.upsert_groups[..])
    }
    fn okta_id(&self) -> &str {
        self.okta_id.as_str()
    }
    fn bind<'q>(&'q self, query: AnyQuery<'q>, app: AppId, now: Ts) -> AnyQuery<'q> {
        query
            .bind(app.0)
            .bind(self.okta_id.as_str())
            .bind(self.target_name.as_str())
            .bind(i64::from(self.created_by_usersync))
            .bind(now)
    }
}

/// Saves the longest run (two or more) of batches at the start of `rest` that only
/// upsert `T` links with no Okta id twice (one statement may not upsert a row twice),
/// so that saving them together is saving them one after another; moves `rest` past
/// it. `false` (nothing saved) when there is no such run.
async fn upsert_run<T: LinkRow>(
    tx: &mut Tx,
    app: AppId,
    rest: &mut &[LinkChanges],
    now: Ts,
) -> Result<bool, StoreError> {
    let mut seen = std::collections::HashSet::new();
    let run = rest
        .iter()
        .map_while(|b| {
            T::only_upserts(b).filter(|rows| rows.iter().all(|r| seen.insert(r.okta_id())))
        })
        .count();
    if run < 2 {
        return Ok(false);
    }
    let rows: Vec<&T> = rest[..run]
        .iter()
        .filter_map(T::only_upserts)
        .flatten()
        .collect();
    upsert(tx, app, &rows, now).await?;
    *rest = &rest[run..];
    Ok(true)
}

/// Link rows per upsert statement (a few dozen parameters, as the plan's inserts).
const UPSERT_ROWS: usize = 16;

async fn upsert<T: LinkRow>(
    tx: &mut Tx,
    app: AppId,
    rows: &[&T],
    now: Ts,
) -> Result<(), StoreError> {
    for chunk in rows.chunks(UPSERT_ROWS) {
        let sql = upsert_sql(T::INTO, T::COLUMNS, chunk.len(), T::SET);
        let mut query = sqlx::query(&sql);
        for row in chunk {
            query = row.bind(query, app, now);
        }
        query.execute(&mut **tx).await.ctx(T::WHAT)?;
    }
    Ok(())
}

/// `INSERT INTO {table} VALUES ({columns} parameters) x rows ON CONFLICT (app_id,
/// okta_id) DO UPDATE SET {set}`.
fn upsert_sql(table: &str, columns: usize, rows: usize, set: &str) -> String {
    let mut sql = format!("INSERT INTO {table} VALUES ");
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        let params: Vec<String> = (1..=columns)
            .map(|c| format!("${}", row * columns + c))
            .collect();
        sql.push_str(&format!("({})", params.join(", ")));
    }
    sql.push_str(&format!(
        " ON CONFLICT (app_id, okta_id) DO UPDATE SET {set}"
    ));
    sql
}

/// One batch: deletes first, then upserts, mapped memberships, read-only marks.
async fn save_one_in(
    tx: &mut Tx,
    app: AppId,
    changes: &LinkChanges,
    now: Ts,
) -> Result<(), StoreError> {
    for id in &changes.delete_users {
        sqlx::query("DELETE FROM user_links WHERE app_id = $1 AND okta_id = $2")
            .bind(app.0)
            .bind(id.as_str())
            .execute(&mut **tx)
            .await
            .ctx("deleting a user link")?;
    }
    for (id, name) in &changes.delete_groups {
        // Names are compared as the link stored them: delete ops carry the link's own spelling.
        sqlx::query(
            "DELETE FROM group_links WHERE app_id = $1 AND okta_id = $2 AND target_name = $3",
        )
        .bind(app.0)
        .bind(id.as_str())
        .bind(name.as_str())
        .execute(&mut **tx)
        .await
        .ctx("deleting a group link")?;
    }
    // One statement per link: a batch saved alone may name an Okta id twice.
    for link in &changes.upsert_users {
        upsert(tx, app, &[link], now).await?;
    }
    for link in &changes.upsert_groups {
        upsert(tx, app, &[link], now).await?;
    }
    save_mapped_in(tx, app, changes).await?;
    for id in &changes.read_only_users {
        sqlx::query("UPDATE user_links SET read_only = 1 WHERE app_id = $1 AND okta_id = $2")
            .bind(app.0)
            .bind(id.as_str())
            .execute(&mut **tx)
            .await
            .ctx("marking a user link read-only")?;
    }
    Ok(())
}

/// The mapped-membership part of [`save_links_in`].
async fn save_mapped_in(tx: &mut Tx, app: AppId, changes: &LinkChanges) -> Result<(), StoreError> {
    for (group, id) in &changes.forget_members {
        // Group names compare ignoring case, as the target's do.
        sqlx::query(
            "DELETE FROM mapped_memberships WHERE app_id = $1 AND lower(target_group) = lower($2) \
             AND okta_id = $3",
        )
        .bind(app.0)
        .bind(group.as_str())
        .bind(id.as_str())
        .execute(&mut **tx)
        .await
        .ctx("forgetting a mapped membership")?;
    }
    let now = Utc::now();
    for (group, id) in &changes.track_members {
        sqlx::query(
            "INSERT INTO mapped_memberships (app_id, target_group, okta_id, added_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (app_id, target_group, okta_id) DO NOTHING",
        )
        .bind(app.0)
        .bind(group.as_str())
        .bind(id.as_str())
        .bind(Ts(now))
        .execute(&mut **tx)
        .await
        .ctx("remembering a mapped membership")?;
    }
    Ok(())
}
