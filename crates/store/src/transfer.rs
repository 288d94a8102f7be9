//! Moving an installation from one store to another: `usersync store migrate --from
//! sqlite:PATH --to postgres://...` when a deployment outgrows one machine.
//!
//! Every table is copied row by row with its ids, parents before children
//! ([`TABLES`]), in one write transaction on the target, so a failure leaves the target as
//! it was. The target must be empty (a fresh database the store has just migrated), both
//! stores must be at the same schema version, and every table of the schema must be in
//! [`TABLES`] (a new migration's table cannot be forgotten silently). Sealed secrets are
//! copied as they are: they stay sealed under the same master key, which the target's
//! replicas must be given. Afterwards each table's rows are counted on both sides.

use futures::TryStreamExt as _;
use serde::Serialize;
use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::Store;
use crate::db::{self, ColumnKind, Tx};
use crate::error::{DbContext as _, StoreError};

/// The store's tables, parents before the tables whose rows refer to them.
pub const TABLES: &[&str] = &[
    "store_meta",
    "apps",
    "app_secrets",
    "user_links",
    "group_links",
    "runs",
    "run_operations",
    "checkpoints",
    "audit_log",
    "admins",
    "sessions",
    "api_tokens",
    "sign_in_failures",
    "seen_events",
    "scheduler_state",
    "leases",
    "scim_tokens",
    "scim_resources",
    "scim_members",
    "mapped_memberships",
];

/// How many rows of one table were copied (counted in the source and in the target).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableCount {
    pub table: String,
    pub source: i64,
    pub target: i64,
}

/// What a copy did, table by table in copy order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransferReport {
    pub tables: Vec<TableCount>,
}

/// Copies everything `from` holds into the empty store `to` (see the module docs).
///
/// # Errors
/// A target that is not empty, different schema versions, a table not in [`TABLES`],
/// a count that differs after the copy, or a database failure; the target is then unchanged.
pub async fn copy_store(from: &Store, to: &Store) -> Result<TransferReport, StoreError> {
    check_schemas(from, to).await?;
    check_empty(to).await?;
    let mut tx = to.gate.begin(&to.db).await?;
    let mut tables = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        let columns = db::column_kinds(&mut tx, table).await?;
        copy_table(from, &mut tx, table, &columns).await?;
        db::after_copy(&mut tx, table, &columns).await?;
        let source = count(&from.db, table).await?;
        let target = count(&mut *tx, table).await?;
        if source != target {
            return Err(StoreError::Conflict(format!(
                "{table}: {source} rows in the source but {target} in the target after the copy; \
                 nothing was written"
            )));
        }
        tables.push(TableCount {
            table: (*table).to_owned(),
            source,
            target,
        });
    }
    tx.commit().await.ctx("committing the copy")?;
    Ok(TransferReport { tables })
}

async fn check_schemas(from: &Store, to: &Store) -> Result<(), StoreError> {
    let version = |store: &Store| {
        let db = store.db.clone();
        async move {
            sqlx::query_scalar::<_, Option<i64>>(
                "SELECT MAX(version) FROM _sqlx_migrations WHERE success",
            )
            .fetch_one(&db)
            .await
            .ctx("reading the schema version")
        }
    };
    let (source, target) = (version(from).await?, version(to).await?);
    if source != target {
        return Err(StoreError::Conflict(format!(
            "the source schema is version {source:?} and the target's {target:?}; open both with \
             this usersync first"
        )));
    }
    let mut names = db::table_names(&to.db).await?;
    names.retain(|name| name != "_sqlx_migrations" && !TABLES.contains(&name.as_str()));
    if !names.is_empty() {
        return Err(StoreError::Conflict(format!(
            "this usersync does not know how to copy the tables {}; nothing was written",
            names.join(", ")
        )));
    }
    Ok(())
}

/// Refuses a target holding anything but the facts every open writes (`store_meta`).
async fn check_empty(to: &Store) -> Result<(), StoreError> {
    for table in TABLES.iter().filter(|t| **t != "store_meta") {
        let rows = count(&to.db, table).await?;
        if rows > 0 {
            return Err(StoreError::Conflict(format!(
                "the target database is not empty ({rows} rows in {table}); migrate into a new, \
                 empty database"
            )));
        }
    }
    Ok(())
}

async fn count<'e, E>(executor: E, table: &str) -> Result<i64, StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(executor)
        .await
        .ctx(&format!("counting the rows of {table}"))
}

async fn copy_table(
    from: &Store,
    tx: &mut Tx,
    table: &str,
    columns: &[(String, ColumnKind)],
) -> Result<(), StoreError> {
    let names: Vec<&str> = columns.iter().map(|(name, _)| name.as_str()).collect();
    let list = names.join(", ");
    let params: Vec<String> = (1..=names.len()).map(|i| format!("${i}")).collect();
    // store_meta already holds the target's own facts: the source's replace them.
    let conflict = if table == "store_meta" {
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
    } else {
        ""
    };
    let insert = format!(
        "INSERT INTO {table} ({list}) VALUES ({}){conflict}",
        params.join(", ")
    );
    let select = format!("SELECT {list} FROM {table}");
    let context = format!("copying {table}");
    let mut rows = sqlx::query(&select).fetch(&from.db);
    while let Some(row) = rows.try_next().await.ctx(&context)? {
        let mut query = sqlx::query(&insert);
        for (i, (_, kind)) in columns.iter().enumerate() {
            query = bind_value(query, &row, i, *kind).ctx(&context)?;
        }
        query.execute(&mut **tx).await.ctx(&context)?;
    }
    Ok(())
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

fn bind_value<'q>(
    query: AnyQuery<'q>,
    row: &AnyRow,
    i: usize,
    kind: ColumnKind,
) -> Result<AnyQuery<'q>, sqlx::Error> {
    Ok(match kind {
        ColumnKind::Integer => query.bind(row.try_get::<Option<i64>, _>(i)?),
        ColumnKind::Float => query.bind(row.try_get::<Option<f64>, _>(i)?),
        ColumnKind::Bytes => query.bind(row.try_get::<Option<Vec<u8>>, _>(i)?),
        ColumnKind::Text => query.bind(row.try_get::<Option<String>, _>(i)?),
    })
}
