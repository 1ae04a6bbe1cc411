//! The embedded schema registry: tables `registry_*`. Writes that number versions take a
//! transaction-scoped advisory lock, so processes registering at once cannot collide.

use sha2::{Digest, Sha256};

use super::*;

crate::store::sql::registry::registry_store!(PgStore);

impl PgStore {
    /// Schemas are unique by digest here: an index on the text itself would overflow
    /// PostgreSQL's index row limit for large schemas.
    async fn schema_id(&self, schema: &str, create: bool) -> Result<Option<i64>> {
        let digest = hex::encode(Sha256::digest(schema.as_bytes()));
        if create {
            sqlx::query(
                "INSERT INTO registry_schemas (sha256, schema) VALUES ($1, $2) \
                 ON CONFLICT (sha256) DO NOTHING",
            )
            .bind(&digest)
            .bind(schema)
            .execute(&self.pool)
            .await?;
        }
        Ok(
            sqlx::query_scalar("SELECT id FROM registry_schemas WHERE sha256 = $1")
                .bind(&digest)
                .fetch_optional(&self.pool)
                .await?,
        )
    }
}
