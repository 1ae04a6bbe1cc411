//! The embedded schema registry: tables `registry_*`. Writes that number versions or add
//! schemas take a transaction-scoped advisory lock, so processes registering at once
//! cannot collide.

use sha2::{Digest, Sha256};

use super::*;

crate::store::sql::registry::registry_store!(PgStore);

/// Schemas are unique by digest here: an index on the text itself would overflow
/// PostgreSQL's index row limit for large schemas.
fn digest(identity: &str) -> String {
    hex::encode(Sha256::digest(identity.as_bytes()))
}

async fn schema_by_identity(conn: &mut PgConnection, identity: &str) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM registry_schemas WHERE sha256 = $1")
            .bind(digest(identity))
            .fetch_optional(conn)
            .await?,
    )
}

/// Stores a new schema, under `id` when given (an import); the identity sequence then
/// moves past it, so later ids never collide with an imported one.
async fn insert_schema(
    conn: &mut PgConnection,
    identity: &str,
    submitted: &str,
    id: Option<i64>,
) -> Result<i64> {
    let Some(id) = id else {
        return Ok(sqlx::query_scalar(
            "INSERT INTO registry_schemas (sha256, schema, submitted) VALUES ($1, $2, $3) \
             RETURNING id",
        )
        .bind(digest(identity))
        .bind(identity)
        .bind(submitted)
        .fetch_one(conn)
        .await?);
    };
    sqlx::query(
        "INSERT INTO registry_schemas (id, sha256, schema, submitted) OVERRIDING SYSTEM VALUE \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(id)
    .bind(digest(identity))
    .bind(identity)
    .bind(submitted)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "SELECT setval(pg_get_serial_sequence('registry_schemas', 'id'), \
         (SELECT MAX(id) FROM registry_schemas))",
    )
    .execute(&mut *conn)
    .await?;
    Ok(id)
}
