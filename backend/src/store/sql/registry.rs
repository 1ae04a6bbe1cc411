//! The embedded schema registry (tables `registry_*`): one SQL text for both stores.

/// Implements `RegistryStore` for `$store`, whose module provides `pool` and `dialect`.
macro_rules! registry_store {
    ($store:ty) => {
        #[async_trait]
        impl RegistryStore for $store {
            async fn registry_schema_id(&self, schema: &str, create: bool) -> Result<Option<i64>> {
                // How a schema is found differs: its text (SQLite) or its digest (PostgreSQL).
                self.schema_id(schema, create).await
            }

            async fn registry_schema(&self, id: i64) -> Result<Option<String>> {
                Ok(
                    sqlx::query_scalar("SELECT schema FROM registry_schemas WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await?,
                )
            }

            async fn registry_subjects(&self, deleted: bool) -> Result<Vec<String>> {
                Ok(sqlx::query_scalar(
                    "SELECT DISTINCT subject FROM registry_versions WHERE $1 OR NOT deleted \
                     ORDER BY subject",
                )
                .bind(deleted)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn registry_versions(&self, subject: &str) -> Result<Vec<RegistryVersion>> {
                let rows = sqlx::query(
                    "SELECT v.version, v.schema_id, s.schema, v.deleted FROM registry_versions v \
                     JOIN registry_schemas s ON s.id = v.schema_id WHERE v.subject = $1 \
                     ORDER BY v.version",
                )
                .bind(subject)
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|r| {
                        Ok(RegistryVersion {
                            version: r.try_get("version")?,
                            schema_id: r.try_get("schema_id")?,
                            schema: r.try_get("schema")?,
                            deleted: r.try_get("deleted")?,
                        })
                    })
                    .collect()
            }

            async fn registry_add_version(
                &self,
                subject: &str,
                schema_id: i64,
                after: i64,
            ) -> Result<Option<i64>> {
                let mut tx = self.pool.begin().await?;
                dialect::lock_registry(&mut tx).await?;
                let version: Option<i64> = sqlx::query_scalar(
                    "INSERT INTO registry_versions (subject, version, schema_id) \
                     SELECT $1, COALESCE(MAX(version), 0) + 1, $2 FROM registry_versions \
                     WHERE subject = $1 HAVING COALESCE(MAX(version), 0) = $3 RETURNING version",
                )
                .bind(subject)
                .bind(schema_id)
                .bind(after)
                .fetch_optional(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(version)
            }

            async fn registry_delete(
                &self,
                subject: &str,
                version: Option<i64>,
                permanent: bool,
            ) -> Result<()> {
                let sql = if permanent {
                    "DELETE FROM registry_versions WHERE subject = $1 \
                     AND (CAST($2 AS BIGINT) IS NULL OR version = $2)"
                } else {
                    "UPDATE registry_versions SET deleted = TRUE WHERE subject = $1 \
                     AND (CAST($2 AS BIGINT) IS NULL OR version = $2)"
                };
                sqlx::query(sql)
                    .bind(subject)
                    .bind(version)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn registry_config(&self, subject: &str) -> Result<Option<String>> {
                Ok(
                    sqlx::query_scalar("SELECT compatibility FROM registry_config WHERE subject = $1")
                        .bind(subject)
                        .fetch_optional(&self.pool)
                        .await?,
                )
            }

            async fn registry_set_config(&self, subject: &str, level: Option<&str>) -> Result<()> {
                match level {
                    Some(level) => {
                        sqlx::query(
                            "INSERT INTO registry_config (subject, compatibility) VALUES ($1, $2) \
                             ON CONFLICT (subject) DO UPDATE SET compatibility = excluded.compatibility",
                        )
                        .bind(subject)
                        .bind(level)
                        .execute(&self.pool)
                        .await?;
                    }
                    None => {
                        sqlx::query("DELETE FROM registry_config WHERE subject = $1")
                            .bind(subject)
                            .execute(&self.pool)
                            .await?;
                    }
                }
                Ok(())
            }
        }
    };
}

pub(in crate::store) use registry_store;
