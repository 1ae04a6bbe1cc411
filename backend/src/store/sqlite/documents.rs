//! Documents and their texts: tables `documents`, `document_texts`. Point reads go through
//! the rusqlite read path and the document cache, which every write here keeps current.

use super::*;

crate::store::sql::documents::document_store!(SqliteStore);

impl SqliteStore {
    async fn read_document(&self, tenant: TenantId, id: DocumentId) -> Result<Option<Document>> {
        let read = async {
            let raw = self.reads.with(|c| {
                let mut stmt = c.prepare_cached(&format!(
                    "SELECT {DOC_COLUMNS} FROM documents WHERE id = ?1 AND tenant_id = ?2"
                ))?;
                let mut rows =
                    stmt.query(rusqlite::params![id.to_string(), tenant.0.to_string()])?;
                rows.next()?.map(RawDocument::from_rusqlite).transpose()
            })?;
            raw.map(RawDocument::into_document).transpose()
        };
        self.docs.read_through(tenant, id, read).await
    }

    /// Pages bounded by an index (the tenant's documents, by status or not, from a key)
    /// are read inline like a point read: at most `limit + 1` index entries and rows.
    /// A filter on `created_at` walks up to a window of rows (`CREATED_WINDOW`), so it
    /// goes through the pool's own threads.
    async fn read_list(
        &self,
        tenant: TenantId,
        filter: &ListFilter,
        after: Option<DocumentId>,
        limit: u32,
    ) -> Result<Page> {
        if filter.bounds_created() {
            return self.list_through_pool(tenant, filter, after, limit).await;
        }
        // The conditions of `list_query`, for rusqlite: one text per shape, prepared once
        // per connection.
        let tenant = tenant.0.to_string();
        let status = filter.status.map(|s| s.as_str());
        let after = after.map(|id| id.to_string());
        // One extra row tells whether another page follows.
        let rows = i64::from(limit) + 1;
        let mut sql = format!("SELECT {DOC_COLUMNS} FROM documents WHERE tenant_id = ?");
        let mut params: Vec<&dyn rusqlite::ToSql> = vec![&tenant];
        if let Some(status) = &status {
            sql.push_str(" AND status = ?");
            params.push(status);
        }
        if let Some(after) = &after {
            sql.push_str(" AND id < ?");
            params.push(after);
        }
        sql.push_str(" ORDER BY id DESC LIMIT ?");
        params.push(&rows);
        let raws = self.reads.with(|c| {
            let mut stmt = c.prepare_cached(&sql)?;
            stmt.query_map(params.as_slice(), RawDocument::from_rusqlite)?
                .collect::<rusqlite::Result<Vec<_>>>()
        })?;
        let items = raws
            .into_iter()
            .map(RawDocument::into_document)
            .collect::<Result<Vec<_>>>()?;
        Ok(page(items, limit))
    }

    async fn read_text_prefixes(
        &self,
        tenant: TenantId,
        ids: &[DocumentId],
        max_chars: u32,
    ) -> Result<std::collections::HashMap<DocumentId, (String, bool)>> {
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

    async fn read_text(&self, tenant: TenantId, id: DocumentId) -> Result<Option<String>> {
        self.reads.with(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT t.text FROM document_texts t JOIN documents d ON d.id = t.document_id \
                 WHERE d.id = ?1 AND d.tenant_id = ?2",
            )?;
            let mut rows = stmt.query(rusqlite::params![id.to_string(), tenant.0.to_string()])?;
            rows.next()?.map(|r| r.get(0)).transpose()
        })
    }

    async fn read_inline_blob(&self, blob_key: &str) -> Result<Option<Vec<u8>>> {
        self.reads.with(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT b.bytes FROM document_bytes b JOIN documents d ON d.id = b.document_id \
                 WHERE d.blob_key = ?1",
            )?;
            let mut rows = stmt.query(rusqlite::params![blob_key])?;
            rows.next()?.map(|r| r.get(0)).transpose()
        })
    }

    /// Looked for on the read path first, so that deleting what is not there (the usual
    /// case: a deleted document's bytes went with its row) never waits for the writer.
    async fn may_hold_inline_blob(&self, blob_key: &str) -> Result<bool> {
        self.read_has_inline_blob(blob_key).await
    }

    async fn read_has_inline_blob(&self, blob_key: &str) -> Result<bool> {
        self.reads.with(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM document_bytes b JOIN documents d \
                 ON d.id = b.document_id WHERE d.blob_key = ?1)",
            )?;
            stmt.query_row(rusqlite::params![blob_key], |r| r.get(0))
        })
    }

    /// Drops the cached copy of a document just written.
    pub(super) fn forget_cached(&self, id: DocumentId) {
        self.docs.forget(id);
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
            failure_code: row.get(15)?,
        })
    }
}
