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
        let users = upsert_run(rest, LinkChanges::only_upserts_users, |b| {
            b.upsert_users.iter().map(|l| l.okta_id.as_str())
        });
        if users > 1 {
            let links: Vec<&UserLink> =
                rest[..users].iter().flat_map(|b| &b.upsert_users).collect();
            upsert_users(tx, app, &links, now).await?;
            rest = &rest[users..];
            continue;
        }
        let groups = upsert_run(rest, LinkChanges::only_upserts_groups, |b| {
            b.upsert_groups.iter().map(|l| l.okta_id.as_str())
        });
        if groups > 1 {
            let links: Vec<&GroupLink> = rest[..groups]
                .iter()
                .flat_map(|b| &b.upsert_groups)
                .collect();
            upsert_groups(tx, app, &links, now).await?;
            rest = &rest[groups..];
            continue;
        }
        save_one_in(tx, app, first, now).await?;
        rest = &rest[1..];
    }
    Ok(())
}

/// How many batches from the start of `batches` are `kind` with no Okta id twice (one
/// statement may not upsert a row twice), so that saving them together is saving them
/// one after another.
fn upsert_run<'b, I: Iterator<Item = &'b str>>(
    batches: &'b [LinkChanges],
    kind: fn(&LinkChanges) -> bool,
    ids: impl Fn(&'b LinkChanges) -> I,
) -> usize {
    let mut seen = std::collections::HashSet::new();
    batches
        .iter()
        .take_while(|b| kind(b) && ids(b).all(|id| seen.insert(id)))
        .count()
}

/// Link rows per upsert statement (a few dozen parameters, as the plan's inserts).
const UPSERT_ROWS: usize = 16;

async fn upsert_users(
    tx: &mut Tx,
    app: AppId,
    links: &[&UserLink],
    now: Ts,
) -> Result<(), StoreError> {
    for chunk in links.chunks(UPSERT_ROWS) {
        let sql = upsert_sql(
            "user_links (app_id, okta_id, target_key, username, read_only, updated_at)",
            6,
            chunk.len(),
            "target_key = excluded.target_key, username = excluded.username, \
             read_only = excluded.read_only, updated_at = excluded.updated_at",
        );
        let mut query = sqlx::query(&sql);
        for link in chunk {
            query = query
                .bind(app.0)
                .bind(link.okta_id.as_str())
                .bind(link.target_key.as_ref().map(TargetUserKey::as_str))
                .bind(link.username.as_str())
                .bind(i64::from(link.read_only))
                .bind(now);
        }
        query.execute(&mut **tx).await.ctx("saving a user link")?;
    }
    Ok(())
}

async fn upsert_groups(
    tx: &mut Tx,
    app: AppId,
    links: &[&GroupLink],
    now: Ts,
) -> Result<(), StoreError> {
    for chunk in links.chunks(UPSERT_ROWS) {
        let sql = upsert_sql(
            "group_links (app_id, okta_id, target_name, created_by_usersync, updated_at)",
            5,
            chunk.len(),
            "target_name = excluded.target_name, created_by_usersync = excluded.created_by_usersync, \
             updated_at = excluded.updated_at",
        );
        let mut query = sqlx::query(&sql);
        for link in chunk {
            query = query
                .bind(app.0)
                .bind(link.okta_id.as_str())
                .bind(link.target_name.as_str())
                .bind(i64::from(link.created_by_usersync))
                .bind(now);
        }
        query.execute(&mut **tx).await.ctx("saving a group link")?;
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
        upsert_users(tx, app, &[link], now).await?;
    }
    for link in &changes.upsert_groups {
        upsert_groups(tx, app, &[link], now).await?;
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
