//! Documents and their texts: tables `documents`, `document_texts`.

use super::*;

crate::store::sql::documents::document_store!(PgStore);

impl PgStore {
    async fn read_document(&self, tenant: TenantId, id: DocumentId) -> Result<Option<Document>> {
        sqlx::query(&format!(
            "SELECT {DOC_COLUMNS} FROM documents WHERE id = $1 AND tenant_id = $2"
        ))
        .bind(id.to_string())
        .bind(tenant.0.to_string())
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(document_from_row)
        .transpose()
    }

    async fn read_text_prefixes(
        &self,
        tenant: TenantId,
        ids: &[DocumentId],
        max_chars: u32,
    ) -> Result<std::collections::HashMap<DocumentId, (String, bool)>> {
        let ids: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
        let rows = sqlx::query(
            "SELECT d.id, substr(t.text, 1, $3) AS prefix, char_length(t.text) > $3 AS more \
             FROM document_texts t JOIN documents d ON d.id = t.document_id \
             WHERE d.tenant_id = $2 AND d.id = ANY($1)",
        )
        .bind(&ids)
        .bind(tenant.0.to_string())
        .bind(i32::try_from(max_chars).unwrap_or(i32::MAX))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    parse_uuid(&r.try_get::<String, _>("id")?)?,
                    (r.try_get("prefix")?, r.try_get("more")?),
                ))
            })
            .collect()
    }

    async fn read_text(&self, tenant: TenantId, id: DocumentId) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT t.text FROM document_texts t JOIN documents d ON d.id = t.document_id \
             WHERE d.id = $1 AND d.tenant_id = $2",
        )
        .bind(id.to_string())
        .bind(tenant.0.to_string())
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Nothing is cached: another process may write.
    pub(super) fn forget_cached(&self, _id: DocumentId) {}
}
