//! What usersync's SCIM server (`/scim/v2/{app}`) remembers of Okta's pushes: each
//! app's SCIM bearer token (by hash only), every pushed User and Group as last
//! represented (`body`, the JSON the server answers GETs with), and group members.
//!
//! Names (a User's `userName`, a Group's `displayName`) are unique per app and kind
//! ignoring case, as SCIM's `caseExact: false` and Okta's 409 handling expect: a
//! clash is [`StoreError::Conflict`], which the server answers `409 uniqueness`.

use chrono::{DateTime, Utc};

use crate::Store;
use crate::app::AppId;
use crate::audit::{self, Subject};
use crate::error::{DbContext as _, StoreError, is_unique_violation};
use crate::stamp::Ts;

/// A SCIM resource type the server keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScimKind {
    User,
    Group,
}

impl ScimKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Group => "group",
        }
    }

    fn name_attribute(self) -> &'static str {
        match self {
            Self::User => "userName",
            Self::Group => "displayName",
        }
    }
}

/// One stored SCIM resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimRecord {
    pub id: String,
    /// `userName` or `displayName` as pushed.
    pub name: String,
    pub external_id: Option<String>,
    pub active: bool,
    /// The resource's JSON as last pushed (without `meta`, which the server derives).
    pub body: String,
    /// Increases with every change; the server's ETag.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub modified_at: DateTime<Utc>,
}

/// What to write for a resource (create or replace).
#[derive(Debug, Clone)]
pub struct ScimWrite<'a> {
    pub name: &'a str,
    pub external_id: Option<&'a str>,
    pub active: bool,
    pub body: &'a str,
}

/// The one `eq` filter the server supports on a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScimLookup {
    All,
    /// `userName eq` / `displayName eq`, ignoring case.
    Name(String),
    ExternalId(String),
    Id(String),
}

/// A page of a listing: the total matching and the records from the offset.
#[derive(Debug, Clone, Default)]
pub struct ScimPage {
    pub total: u64,
    pub records: Vec<ScimRecord>,
}

type Row = (String, String, Option<String>, i64, String, i64, Ts, Ts);

const COLUMNS: &str = "id, name, external_id, active, body, version, created_at, modified_at";

fn record(row: Row) -> ScimRecord {
    let (id, name, external_id, active, body, version, created_at, modified_at) = row;
    ScimRecord {
        id,
        name,
        external_id,
        active: active != 0,
        body,
        version,
        created_at: created_at.0,
        modified_at: modified_at.0,
    }
}

fn key(name: &str) -> String {
    name.to_lowercase()
}

fn clash(kind: ScimKind, name: &str) -> StoreError {
    StoreError::Conflict(format!(
        "a {} with {} {name:?} already exists",
        kind.name_attribute().trim_end_matches("Name"),
        kind.name_attribute()
    ))
}

impl Store {
    /// Stores the app's new SCIM token hash, replacing (rotating) any earlier one, and audits it.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown app; database failures.
    pub async fn set_scim_token(
        &self,
        app: AppId,
        token_hash: &str,
        actor: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.gate.begin(&self.db).await?;
        let name: Option<String> = sqlx::query_scalar("SELECT name FROM apps WHERE id = $1")
            .bind(app.0)
            .fetch_optional(&mut *tx)
            .await
            .ctx("reading the app")?;
        let Some(name) = name else {
            return Err(StoreError::not_found(format!("app {app}")));
        };
        sqlx::query(
            "INSERT INTO scim_tokens (app_id, token_hash, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (app_id) DO UPDATE SET token_hash = excluded.token_hash, \
             created_at = excluded.created_at",
        )
        .bind(app.0)
        .bind(token_hash)
        .bind(Ts::now())
        .execute(&mut *tx)
        .await
        .ctx("storing the SCIM token")?;
        let subject = Subject {
            app_id: Some(app),
            app_name: Some(&name),
        };
        audit::write(&mut tx, actor, subject, "scim.token_generated", &[]).await?;
        tx.commit().await.ctx("storing the SCIM token")
    }

    /// The hash of the app's SCIM token, when one was generated.
    ///
    /// # Errors
    /// Database failures.
    pub async fn scim_token_hash(&self, app: AppId) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar("SELECT token_hash FROM scim_tokens WHERE app_id = $1")
            .bind(app.0)
            .fetch_optional(&self.db)
            .await
            .ctx("reading the SCIM token")
    }

    /// When the app's SCIM token was generated, if ever (the console shows it).
    ///
    /// # Errors
    /// Database failures.
    pub async fn scim_token_created(
        &self,
        app: AppId,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let at: Option<Ts> =
            sqlx::query_scalar("SELECT created_at FROM scim_tokens WHERE app_id = $1")
                .bind(app.0)
                .fetch_optional(&self.db)
                .await
                .ctx("reading the SCIM token")?;
        Ok(at.map(|t| t.0))
    }

    /// Creates a resource with the given `id`.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when the name is taken (ignoring case).
    pub async fn create_scim_resource(
        &self,
        app: AppId,
        kind: ScimKind,
        id: &str,
        write: &ScimWrite<'_>,
    ) -> Result<ScimRecord, StoreError> {
        let now = Ts::now();
        let inserted = sqlx::query(
            "INSERT INTO scim_resources (app_id, kind, id, name, name_key, external_id, active, \
             body, version, created_at, modified_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $9)",
        )
        .bind(app.0)
        .bind(kind.as_str())
        .bind(id)
        .bind(write.name)
        .bind(key(write.name))
        .bind(write.external_id)
        .bind(i64::from(write.active))
        .bind(write.body)
        .bind(now)
        .execute(&self.db)
        .await;
        match inserted {
            Err(e) if is_unique_violation(&e) => return Err(clash(kind, write.name)),
            other => other.ctx("storing a SCIM resource")?,
        };
        self.scim_resource(app, kind, id)
            .await?
            .ok_or_else(|| StoreError::not_found(format!("SCIM resource {id}")))
    }

    /// Replaces a resource's representation.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when there is none; [`StoreError::Conflict`] when the
    /// new name belongs to another resource.
    pub async fn replace_scim_resource(
        &self,
        app: AppId,
        kind: ScimKind,
        id: &str,
        write: &ScimWrite<'_>,
    ) -> Result<ScimRecord, StoreError> {
        let updated = sqlx::query(
            "UPDATE scim_resources SET name = $4, name_key = $5, external_id = $6, active = $7, \
             body = $8, version = version + 1, modified_at = $9 \
             WHERE app_id = $1 AND kind = $2 AND id = $3",
        )
        .bind(app.0)
        .bind(kind.as_str())
        .bind(id)
        .bind(write.name)
        .bind(key(write.name))
        .bind(write.external_id)
        .bind(i64::from(write.active))
        .bind(write.body)
        .bind(Ts::now())
        .execute(&self.db)
        .await;
        let done = match updated {
            Err(e) if is_unique_violation(&e) => return Err(clash(kind, write.name)),
            other => other.ctx("replacing a SCIM resource")?,
        };
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(format!("SCIM resource {id}")));
        }
        self.scim_resource(app, kind, id)
            .await?
            .ok_or_else(|| StoreError::not_found(format!("SCIM resource {id}")))
    }

    /// One resource by its SCIM id.
    ///
    /// # Errors
    /// Database failures.
    pub async fn scim_resource(
        &self,
        app: AppId,
        kind: ScimKind,
        id: &str,
    ) -> Result<Option<ScimRecord>, StoreError> {
        let row: Option<Row> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM scim_resources WHERE app_id = $1 AND kind = $2 AND id = $3"
        ))
        .bind(app.0)
        .bind(kind.as_str())
        .bind(id)
        .fetch_optional(&self.db)
        .await
        .ctx("reading a SCIM resource")?;
        Ok(row.map(record))
    }

    /// A page of resources matching `lookup`, oldest first, from `offset` (0-based), at most `limit`.
    ///
    /// # Errors
    /// Database failures.
    pub async fn scim_resources(
        &self,
        app: AppId,
        kind: ScimKind,
        lookup: &ScimLookup,
        offset: u64,
        limit: u64,
    ) -> Result<ScimPage, StoreError> {
        let (column, value) = match lookup {
            ScimLookup::All => ("NULL", None),
            ScimLookup::Name(n) => ("name_key", Some(key(n))),
            ScimLookup::ExternalId(e) => ("external_id", Some(e.clone())),
            ScimLookup::Id(i) => ("id", Some(i.clone())),
        };
        let filter = format!("app_id = $1 AND kind = $2 AND ($3 IS NULL OR {column} = $3)");
        let total: i64 = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM scim_resources WHERE {filter}"
        ))
        .bind(app.0)
        .bind(kind.as_str())
        .bind(value.as_deref())
        .fetch_one(&self.db)
        .await
        .ctx("counting SCIM resources")?;
        let rows: Vec<Row> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM scim_resources WHERE {filter} \
             ORDER BY created_at, id LIMIT $4 OFFSET $5"
        ))
        .bind(app.0)
        .bind(kind.as_str())
        .bind(value.as_deref())
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .bind(i64::try_from(offset).unwrap_or(i64::MAX))
        .fetch_all(&self.db)
        .await
        .ctx("listing SCIM resources")?;
        Ok(ScimPage {
            total: u64::try_from(total).unwrap_or(0),
            records: rows.into_iter().map(record).collect(),
        })
    }

    /// Users whose `userName` starts with `prefix` (ignoring case), at most `limit`:
    /// the pushed namesakes a single-user plan checks uniqueness against.
    ///
    /// # Errors
    /// Database failures.
    pub async fn scim_users_with_prefix(
        &self,
        app: AppId,
        prefix: &str,
        limit: u64,
    ) -> Result<Vec<ScimRecord>, StoreError> {
        let prefix = key(prefix);
        let rows: Vec<Row> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM scim_resources WHERE app_id = $1 AND kind = 'user' \
             AND substr(name_key, 1, length($2)) = $2 ORDER BY id LIMIT $3"
        ))
        .bind(app.0)
        .bind(&prefix)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.db)
        .await
        .ctx("finding SCIM users by prefix")?;
        Ok(rows.into_iter().map(record).collect())
    }

    /// Deletes a resource and its memberships; false when there was none.
    ///
    /// # Errors
    /// Database failures.
    pub async fn delete_scim_resource(
        &self,
        app: AppId,
        kind: ScimKind,
        id: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.gate.begin(&self.db).await?;
        let column = match kind {
            ScimKind::User => "user_id",
            ScimKind::Group => "group_id",
        };
        sqlx::query(&format!(
            "DELETE FROM scim_members WHERE app_id = $1 AND {column} = $2"
        ))
        .bind(app.0)
        .bind(id)
        .execute(&mut *tx)
        .await
        .ctx("deleting SCIM memberships")?;
        let done =
            sqlx::query("DELETE FROM scim_resources WHERE app_id = $1 AND kind = $2 AND id = $3")
                .bind(app.0)
                .bind(kind.as_str())
                .bind(id)
                .execute(&mut *tx)
                .await
                .ctx("deleting a SCIM resource")?;
        tx.commit().await.ctx("deleting a SCIM resource")?;
        Ok(done.rows_affected() > 0)
    }

    /// Replaces the members of group `group_id` with `users` (SCIM user ids).
    ///
    /// # Errors
    /// Database failures.
    pub async fn set_scim_members(
        &self,
        app: AppId,
        group_id: &str,
        users: &[String],
    ) -> Result<(), StoreError> {
        let mut tx = self.gate.begin(&self.db).await?;
        sqlx::query("DELETE FROM scim_members WHERE app_id = $1 AND group_id = $2")
            .bind(app.0)
            .bind(group_id)
            .execute(&mut *tx)
            .await
            .ctx("replacing SCIM members")?;
        for user in users {
            sqlx::query(
                "INSERT INTO scim_members (app_id, group_id, user_id) VALUES ($1, $2, $3) \
                 ON CONFLICT (app_id, group_id, user_id) DO NOTHING",
            )
            .bind(app.0)
            .bind(group_id)
            .bind(user)
            .execute(&mut *tx)
            .await
            .ctx("replacing SCIM members")?;
        }
        tx.commit().await.ctx("replacing SCIM members")
    }

    /// The members of a group, as stored user records, by id.
    ///
    /// # Errors
    /// Database failures.
    pub async fn scim_members(
        &self,
        app: AppId,
        group_id: &str,
    ) -> Result<Vec<ScimRecord>, StoreError> {
        self.scim_related(app, group_id, Related::MembersOfGroup)
            .await
    }

    /// The groups a user is a member of, as stored group records, by id.
    ///
    /// # Errors
    /// Database failures.
    pub async fn scim_user_groups(
        &self,
        app: AppId,
        user_id: &str,
    ) -> Result<Vec<ScimRecord>, StoreError> {
        self.scim_related(app, user_id, Related::GroupsOfUser).await
    }

    /// The records on the other side of `id`'s memberships, by id.
    async fn scim_related(
        &self,
        app: AppId,
        id: &str,
        related: Related,
    ) -> Result<Vec<ScimRecord>, StoreError> {
        // (kind of the records returned, their column in scim_members, the given id's column)
        let (kind, theirs, given, what) = match related {
            Related::MembersOfGroup => ("user", "user_id", "group_id", "reading SCIM members"),
            Related::GroupsOfUser => (
                "group",
                "group_id",
                "user_id",
                "reading a SCIM user's groups",
            ),
        };
        let rows: Vec<Row> = sqlx::query_as(&format!(
            "SELECT {} FROM scim_resources r JOIN scim_members m \
             ON m.app_id = r.app_id AND m.{theirs} = r.id \
             WHERE r.app_id = $1 AND r.kind = '{kind}' AND m.{given} = $2 ORDER BY r.id",
            prefixed("r.")
        ))
        .bind(app.0)
        .bind(id)
        .fetch_all(&self.db)
        .await
        .ctx(what)?;
        Ok(rows.into_iter().map(record).collect())
    }
}

/// Which side of a membership [`Store::scim_related`] reads.
#[derive(Debug, Clone, Copy)]
enum Related {
    MembersOfGroup,
    GroupsOfUser,
}

fn prefixed(alias: &str) -> String {
    COLUMNS
        .split(", ")
        .map(|c| format!("{alias}{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}
