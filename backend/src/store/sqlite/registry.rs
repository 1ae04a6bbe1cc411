//! The embedded schema registry: tables `registry_*`.

use super::*;

crate::store::sql::registry::registry_store!(SqliteStore);

/// Schemas are unique by their identity text here.
async fn schema_by_identity(
    conn: &mut sqlx::SqliteConnection,
    identity: &str,
) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM registry_schemas WHERE schema = ?1")
            .bind(identity)
            .fetch_optional(conn)
            .await?,
    )
}

/// Stores a new schema; `id` NULL takes the next one (AUTOINCREMENT also moves past an
/// imported id, so later ids never collide with it).
async fn insert_schema(
    conn: &mut sqlx::SqliteConnection,
    identity: &str,
    submitted: &str,
    id: Option<i64>,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO registry_schemas (id, schema, submitted) VALUES (?1, ?2, ?3) RETURNING id",
    )
    .bind(id)
    .bind(identity)
    .bind(submitted)
    .fetch_one(conn)
    .await?)
}
