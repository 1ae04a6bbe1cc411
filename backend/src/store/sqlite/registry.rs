//! The embedded schema registry: tables `registry_*`.

use super::*;

crate::store::sql::registry::registry_store!(SqliteStore);

impl SqliteStore {
    /// Schemas are unique by their text here.
    async fn schema_id(&self, schema: &str, create: bool) -> Result<Option<i64>> {
        if create {
            sqlx::query("INSERT OR IGNORE INTO registry_schemas (schema) VALUES (?1)")
                .bind(schema)
                .execute(&self.pool)
                .await?;
        }
        Ok(
            sqlx::query_scalar("SELECT id FROM registry_schemas WHERE schema = ?1")
                .bind(schema)
                .fetch_optional(&self.pool)
                .await?,
        )
    }
}
