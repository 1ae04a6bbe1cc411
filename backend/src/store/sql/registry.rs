//! The embedded schema registry (tables `registry_*`): one SQL text for both stores.

/// Implements `RegistryStore` for `$store`, whose module provides `pool`, `dialect` and
/// the two ways the stores key a schema: `schema_by_identity` and `insert_schema`.
macro_rules! registry_store {
    ($store:ty) => {
        /// The references of the schemas `ids` names (a subquery over `$1`), by schema.
        async fn references_of(
            conn: &mut <dialect::Db as sqlx::Database>::Connection,
            ids: &str,
            bind: &str,
        ) -> Result<std::collections::HashMap<i64, Vec<RegistryReference>>> {
            let rows = sqlx::query(&format!(
                "SELECT schema_id, name, subject, version FROM registry_references \
                 WHERE schema_id IN ({ids}) ORDER BY schema_id, position"
            ))
            .bind(bind)
            .fetch_all(&mut *conn)
            .await?;
            let mut by_schema: std::collections::HashMap<i64, Vec<RegistryReference>> =
                std::collections::HashMap::new();
            for r in &rows {
                by_schema
                    .entry(r.try_get("schema_id")?)
                    .or_default()
                    .push(RegistryReference {
                        name: r.try_get("name")?,
                        subject: r.try_get("subject")?,
                        version: r.try_get("version")?,
                    });
            }
            Ok(by_schema)
        }

        #[async_trait]
        impl RegistryStore for $store {
            async fn registry_schema_id(&self, identity: &str) -> Result<Option<i64>> {
                let mut conn = self.pool.acquire().await?;
                schema_by_identity(&mut conn, identity).await
            }

            async fn registry_add_schema(
                &self,
                identity: &str,
                schema: &RegistrySchema,
                id: Option<i64>,
            ) -> Result<Option<i64>> {
                let mut tx = self.pool.begin().await?;
                dialect::lock_registry(&mut tx).await?;
                if let Some(found) = schema_by_identity(&mut tx, identity).await? {
                    return Ok(Some(found));
                }
                if let Some(id) = id {
                    let taken: Option<i64> =
                        sqlx::query_scalar("SELECT id FROM registry_schemas WHERE id = $1")
                            .bind(id)
                            .fetch_optional(&mut *tx)
                            .await?;
                    if taken.is_some() {
                        return Ok(None);
                    }
                }
                let new_id = insert_schema(&mut tx, identity, &schema.text, id).await?;
                for (position, r) in schema.references.iter().enumerate() {
                    sqlx::query(
                        "INSERT INTO registry_references (schema_id, position, name, subject, \
                         version) VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(new_id)
                    .bind(position as i64)
                    .bind(&r.name)
                    .bind(&r.subject)
                    .bind(r.version)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(Some(new_id))
            }

            async fn registry_schema(&self, id: i64) -> Result<Option<RegistrySchema>> {
                let mut conn = self.pool.acquire().await?;
                let text: Option<String> = sqlx::query_scalar(
                    "SELECT COALESCE(submitted, schema) FROM registry_schemas WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?;
                let Some(text) = text else {
                    return Ok(None);
                };
                let mut refs = references_of(&mut conn, "CAST($1 AS BIGINT)", &id.to_string())
                    .await?;
                Ok(Some(RegistrySchema {
                    text,
                    references: refs.remove(&id).unwrap_or_default(),
                }))
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
                let mut conn = self.pool.acquire().await?;
                let rows = sqlx::query(
                    "SELECT v.version, v.schema_id, COALESCE(s.submitted, s.schema) AS text, \
                     s.schema AS identity, v.deleted FROM registry_versions v \
                     JOIN registry_schemas s ON s.id = v.schema_id WHERE v.subject = $1 \
                     ORDER BY v.version",
                )
                .bind(subject)
                .fetch_all(&mut *conn)
                .await?;
                let refs = references_of(
                    &mut conn,
                    "SELECT schema_id FROM registry_versions WHERE subject = $1",
                    subject,
                )
                .await?;
                rows.iter()
                    .map(|r| {
                        let schema_id: i64 = r.try_get("schema_id")?;
                        Ok(RegistryVersion {
                            version: r.try_get("version")?,
                            schema_id,
                            schema: r.try_get("text")?,
                            identity: r.try_get("identity")?,
                            references: refs.get(&schema_id).cloned().unwrap_or_default(),
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
                if let Some(version) = version {
                    let resource = format!("{subject}/versions/{version}");
                    let change = crate::audit::Change::of("registry.register", "registry.version", &resource);
                    write_audit(&mut tx, change).await?;
                }
                tx.commit().await?;
                Ok(version)
            }

            async fn registry_import_version(
                &self,
                subject: &str,
                version: i64,
                schema_id: i64,
            ) -> Result<bool> {
                let mut tx = self.pool.begin().await?;
                let added = sqlx::query(
                    "INSERT INTO registry_versions (subject, version, schema_id) \
                     VALUES ($1, $2, $3) ON CONFLICT (subject, version) DO NOTHING",
                )
                .bind(subject)
                .bind(version)
                .bind(schema_id)
                .execute(&mut *tx)
                .await?;
                let resource = format!("{subject}/versions/{version}");
                let change = crate::audit::Change::of("registry.import", "registry.version", &resource);
                audited(tx, added.rows_affected() == 1, change).await
            }

            async fn registry_uses(&self, id: i64) -> Result<Vec<crate::store::RegistryUse>> {
                let rows = sqlx::query(
                    "SELECT subject, version, deleted FROM registry_versions \
                     WHERE schema_id = $1 ORDER BY subject, version",
                )
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|r| {
                        Ok(RegistryUse {
                            subject: r.try_get("subject")?,
                            version: r.try_get("version")?,
                            deleted: r.try_get("deleted")?,
                        })
                    })
                    .collect()
            }

            async fn registry_referenced_by(
                &self,
                subject: &str,
                version: i64,
            ) -> Result<Vec<(i64, bool)>> {
                let rows = sqlx::query(
                    "SELECT r.schema_id, MIN(CASE WHEN v.deleted THEN 1 ELSE 0 END) AS all_deleted \
                     FROM registry_references r \
                     JOIN registry_versions v ON v.schema_id = r.schema_id \
                     WHERE r.subject = $1 AND r.version = $2 \
                     GROUP BY r.schema_id ORDER BY r.schema_id",
                )
                .bind(subject)
                .bind(version)
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|r| {
                        let all_deleted: i64 = r.try_get::<i32, _>("all_deleted")?.into();
                        Ok((r.try_get("schema_id")?, all_deleted == 0))
                    })
                    .collect()
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
                let mut tx = self.pool.begin().await?;
                let done = sqlx::query(sql)
                    .bind(subject)
                    .bind(version)
                    .execute(&mut *tx)
                    .await?;
                let (action, resource) = match (permanent, version) {
                    (false, None) => ("registry.delete_subject", subject.to_owned()),
                    (true, None) => ("registry.delete_subject_permanently", subject.to_owned()),
                    (false, Some(v)) => ("registry.delete_version", format!("{subject}/versions/{v}")),
                    (true, Some(v)) => ("registry.delete_version_permanently", format!("{subject}/versions/{v}")),
                };
                let kind = if version.is_some() { "registry.version" } else { "registry.subject" };
                let change = crate::audit::Change::of(action, kind, &resource);
                audited(tx, done.rows_affected() > 0, change).await?;
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
                let mut tx = self.pool.begin().await?;
                match level {
                    Some(level) => {
                        sqlx::query(
                            "INSERT INTO registry_config (subject, compatibility) VALUES ($1, $2) \
                             ON CONFLICT (subject) DO UPDATE SET compatibility = excluded.compatibility",
                        )
                        .bind(subject)
                        .bind(level)
                        .execute(&mut *tx)
                        .await?;
                    }
                    None => {
                        sqlx::query("DELETE FROM registry_config WHERE subject = $1")
                            .bind(subject)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                let change = crate::audit::Change::of("registry.config", "registry.subject", subject);
                audited(tx, true, change).await?;
                Ok(())
            }

            async fn registry_setting(&self, subject: &str, key: &str) -> Result<Option<String>> {
                Ok(sqlx::query_scalar(
                    "SELECT value FROM registry_settings WHERE subject = $1 AND key = $2",
                )
                .bind(subject)
                .bind(key)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn registry_set_setting(
                &self,
                subject: &str,
                key: &str,
                value: Option<&str>,
            ) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                match value {
                    Some(value) => {
                        sqlx::query(
                            "INSERT INTO registry_settings (subject, key, value) \
                             VALUES ($1, $2, $3) ON CONFLICT (subject, key) \
                             DO UPDATE SET value = excluded.value",
                        )
                        .bind(subject)
                        .bind(key)
                        .bind(value)
                        .execute(&mut *tx)
                        .await?;
                    }
                    None => {
                        sqlx::query("DELETE FROM registry_settings WHERE subject = $1 AND key = $2")
                            .bind(subject)
                            .bind(key)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                let action = format!("registry.{key}");
                let change = crate::audit::Change::of(&action, "registry.subject", subject);
                audited(tx, true, change).await?;
                Ok(())
            }
        }
    };
}

pub(in crate::store) use registry_store;
