//! Documents and their texts: tables `documents`, `document_texts`.

use super::*;

#[async_trait]
impl DocumentStore for SqliteStore {
    async fn insert_document(
        &self,
        doc: &NewDocument,
        events: &[Event],
        kept: Option<KeptResponse<'_>>,
    ) -> Result<Option<Document>> {
        let now = millis(doc.created_at);
        let mut tx = self.pool.begin().await?;
        if let Some(kept) = kept
            && !keep_response(&mut tx, doc.tenant_id, kept, now).await?
        {
            // Another request holds the key: write nothing (the rollback is the drop).
            return Ok(None);
        }
        sqlx::query(
            "INSERT INTO documents (id, tenant_id, filename, status, content_type, size_bytes, \
             sha256, blob_key, created_at, updated_at) \
             VALUES (?1, ?2, ?3, 'queued', ?4, ?5, ?6, ?7, ?8, ?8)",
        )
        .bind(doc.id.to_string())
        .bind(doc.tenant_id.0.to_string())
        .bind(&doc.filename)
        .bind(doc.content_type.mime())
        .bind(doc.size_bytes as i64)
        .bind(&doc.sha256)
        .bind(&doc.blob_key)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO jobs (document_id, state, created_at) VALUES (?1, 'queued', ?2)")
            .bind(doc.id.to_string())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        write_outbox(&mut tx, events, now).await?;
        tx.commit().await?;
        Ok(Some(doc.queued()))
    }

    async fn get_document(&self, tenant: TenantId, id: DocumentId) -> Result<Option<Document>> {
        if let Some(doc) = self.docs.get(id) {
            return Ok((doc.tenant_id == tenant).then_some(doc));
        }
        let seen = self.docs.epoch();
        let raw = self.reads.with(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {DOC_COLUMNS} FROM documents WHERE id = ?1 AND tenant_id = ?2"
            ))?;
            let mut rows = stmt.query(rusqlite::params![id.to_string(), tenant.0.to_string()])?;
            rows.next()?.map(RawDocument::from_rusqlite).transpose()
        })?;
        let doc = raw.map(RawDocument::into_document).transpose()?;
        if let Some(doc) = &doc {
            self.docs.put(seen, doc);
        }
        Ok(doc)
    }

    async fn list_documents(
        &self,
        tenant: TenantId,
        filter: &ListFilter,
        after: Option<DocumentId>,
        limit: u32,
    ) -> Result<Page> {
        let mut query = list_query::<Sqlite>(tenant, filter, after, limit);
        let rows = query.build().fetch_all(&self.pool).await?;
        let items = rows
            .iter()
            .map(document_from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok(page(items, limit))
    }

    async fn list_documents_offset(
        &self,
        tenant: TenantId,
        offset: u64,
        limit: u32,
    ) -> Result<(Vec<Document>, u64)> {
        let tenant = tenant.0.to_string();
        let mut tx = self.pool.begin().await?;
        // One read transaction, so the total and the page agree.
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM documents WHERE tenant_id = ?1")
            .bind(&tenant)
            .fetch_one(&mut *tx)
            .await?;
        let rows = sqlx::query(&format!(
            "SELECT {DOC_COLUMNS} FROM documents WHERE tenant_id = ?1 \
             ORDER BY id DESC LIMIT ?2 OFFSET ?3"
        ))
        .bind(&tenant)
        .bind(i64::from(limit))
        .bind(i64::try_from(offset).unwrap_or(i64::MAX))
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let docs = rows
            .iter()
            .map(document_from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok((docs, total as u64))
    }

    async fn get_text_prefixes(
        &self,
        tenant: TenantId,
        ids: &[DocumentId],
        max_chars: u32,
    ) -> Result<std::collections::HashMap<DocumentId, (String, bool)>> {
        if ids.is_empty() {
            return Ok(Default::default());
        }
        let ids = serde_json::Value::from(ids.iter().map(|id| id.to_string()).collect::<Vec<_>>())
            .to_string();
        let rows: Vec<(String, String, bool)> = self.reads.with(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT d.id, substr(t.text, 1, ?3), length(t.text) > ?3 FROM document_texts t \
                 JOIN documents d ON d.id = t.document_id \
                 WHERE d.tenant_id = ?2 AND d.id IN (SELECT value FROM json_each(?1))",
            )?;
            stmt.query_map(
                rusqlite::params![ids, tenant.0.to_string(), max_chars],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?
            .collect()
        })?;
        rows.into_iter()
            .map(|(id, text, more)| Ok((parse_uuid(&id)?, (text, more))))
            .collect()
    }

    async fn get_text(&self, tenant: TenantId, id: DocumentId) -> Result<Option<String>> {
        self.reads.with(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT t.text FROM document_texts t JOIN documents d ON d.id = t.document_id \
                 WHERE d.id = ?1 AND d.tenant_id = ?2",
            )?;
            let mut rows = stmt.query(rusqlite::params![id.to_string(), tenant.0.to_string()])?;
            rows.next()?.map(|r| r.get(0)).transpose()
        })
    }

    async fn delete_document(
        &self,
        tenant: TenantId,
        id: DocumentId,
        events: &[Event],
        now: OffsetDateTime,
    ) -> Result<Option<Vec<String>>> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "DELETE FROM documents WHERE id = ?1 AND tenant_id = ?2 \
             RETURNING blob_key, thumbnail_key",
        )
        .bind(id.to_string())
        .bind(tenant.0.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let mut keys = vec![row.try_get::<String, _>("blob_key")?];
        keys.extend(row.try_get::<Option<String>, _>("thumbnail_key")?);
        write_outbox(&mut tx, events, millis(now)).await?;
        tx.commit().await?;
        self.docs.forget(id);
        Ok(Some(keys))
    }

    async fn set_thumbnail(&self, tenant: TenantId, id: DocumentId, key: &str) -> Result<bool> {
        let r =
            sqlx::query("UPDATE documents SET thumbnail_key = ?3 WHERE id = ?1 AND tenant_id = ?2")
                .bind(id.to_string())
                .bind(tenant.0.to_string())
                .bind(key)
                .execute(&self.pool)
                .await?;
        self.docs.forget(id);
        Ok(r.rows_affected() == 1)
    }

    async fn set_thumbnail_failure(
        &self,
        tenant: TenantId,
        id: DocumentId,
        reason: &str,
    ) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE documents SET thumbnail_failure = ?3, warnings = CASE \
               WHEN EXISTS (SELECT 1 FROM json_each(warnings) WHERE value = ?4) THEN warnings \
               ELSE json_insert(warnings, '$[#]', ?4) END \
             WHERE id = ?1 AND tenant_id = ?2 AND thumbnail_key IS NULL",
        )
        .bind(id.to_string())
        .bind(tenant.0.to_string())
        .bind(reason)
        .bind(crate::pipeline::THUMBNAIL_UNAVAILABLE)
        .execute(&self.pool)
        .await?;
        self.docs.forget(id);
        Ok(r.rows_affected() == 1)
    }

    async fn existing_blob_keys(&self, blob_keys: &[String]) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT blob_key FROM documents WHERE blob_key IN (SELECT value FROM json_each(?1))",
        )
        .bind(to_json(&blob_keys)?)
        .fetch_all(&self.pool)
        .await?)
    }
}

impl RawDocument {
    /// Columns in [`DOC_COLUMNS`] order.
    fn from_rusqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get(0)?,
            tenant_id: row.get(1)?,
            filename: row.get(2)?,
            status: row.get(3)?,
            failure: row.get(4)?,
            content_type: row.get(5)?,
            size_bytes: row.get(6)?,
            sha256: row.get(7)?,
            extracted: row.get(8)?,
            warnings: row.get(9)?,
            created_at: row.get(10)?,
            updated_at: row.get(11)?,
            classification: row.get(12)?,
            thumbnail_key: row.get(13)?,
            thumbnail_failure: row.get(14)?,
        })
    }
}
