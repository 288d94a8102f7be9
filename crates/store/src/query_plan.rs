//! SQLite's query plan of a statement, for the tests that pin which index a query
//! uses: a million-row table read through the wrong index is a correct answer in tests
//! and seconds in production, so those tests read `EXPLAIN QUERY PLAN` instead.

use sqlx::query::QueryAs;

use crate::Store;

/// A statement being explained, before or after its parameters are bound.
pub(crate) type Explained<'q> =
    QueryAs<'q, sqlx::Any, (i64, i64, i64, String), <sqlx::Any as sqlx::Database>::Arguments<'q>>;

/// The steps of SQLite's plan for `sql` with the parameters `bind` gives it, one a line.
pub(crate) async fn query_plan(
    store: &Store,
    sql: &str,
    bind: impl for<'q> FnOnce(Explained<'q>) -> Explained<'q>,
) -> Vec<String> {
    let explain = format!("EXPLAIN QUERY PLAN {sql}");
    bind(sqlx::query_as(&explain))
        .fetch_all(&store.db)
        .await
        .expect("SQLite explains the statement")
        .into_iter()
        .map(|row| row.3)
        .collect()
}
