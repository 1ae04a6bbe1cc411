//! Documents and their texts (tables `documents`, `document_texts`): one SQL text for both
//! stores.

/// Implements `DocumentStore` for `$store`, whose module provides `pool` and `dialect`.
/// With `reads: sqlx`, also the point reads, through the pool (documents through the store's
/// `docs` cache); a store with a faster read path of its own (SQLite's) brings
/// `read_document`, `read_text`, `read_text_prefixes`, `read_inline_blob`,
/// `read_has_inline_blob` and `may_hold_inline_blob`.
macro_rules! document_store {
    ($store:ty, reads: sqlx) => {
        $crate::store::sql::documents::document_store!($store);

        impl $store {
            async fn read_document(&self, tenant: TenantId, id: DocumentId) -> Result<Option<Document>> {
                let read = async {
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
                };
                self.docs.read_through(tenant, id, read).await
            }

            async fn read_text_prefixes(
                &self,
                tenant: TenantId,
                ids: &[DocumentId],
                max_chars: u32,
            ) -> Result<std::collections::HashMap<DocumentId, (String, bool)>> {
                let ids: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
                let rows = sqlx::query(&format!(
                    "SELECT d.id, substr(t.text, 1, $3) AS prefix, {}(t.text) > $3 AS more \
                     FROM document_texts t JOIN documents d ON d.id = t.document_id \
                     WHERE d.tenant_id = $2 AND d.id {}",
                    dialect::CHAR_LENGTH,
                    dialect::in_list("$1")
                ))
                .bind(dialect::list(&ids)?)
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

            async fn read_inline_blob(&self, blob_key: &str) -> Result<Option<Vec<u8>>> {
                Ok(sqlx::query_scalar(
                    "SELECT b.bytes FROM document_bytes b JOIN documents d ON d.id = b.document_id \
                     WHERE d.blob_key = $1",
                )
                .bind(blob_key)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn read_has_inline_blob(&self, blob_key: &str) -> Result<bool> {
                Ok(sqlx::query_scalar(
                    "SELECT EXISTS (SELECT 1 FROM document_bytes b JOIN documents d \
                     ON d.id = b.document_id WHERE d.blob_key = $1)",
                )
                .bind(blob_key)
                .fetch_one(&self.pool)
                .await?)
            }

            /// A delete that finds nothing costs what a look would: no look first.
            async fn may_hold_inline_blob(&self, _blob_key: &str) -> Result<bool> {
                Ok(true)
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
        }
    };
    ($store:ty) => {
        $crate::store::sql::documents::usage_row!();

        #[async_trait]
        impl DocumentStore for $store {
            async fn insert_document(
                &self,
                doc: &NewDocument,
                events: &[Event],
                kept: Option<KeptResponse<'_>>,
                defaults: Quota,
            ) -> Result<Option<Document>> {
                let now = millis(doc.created_at);
                let mut tx = self.pool.begin().await?;
                if let Some(kept) = kept
                    && !keep_response(&mut tx, doc.tenant_id, kept, now).await?
                {
                    // Another request holds the key: write nothing (the rollback is the drop).
                    return Ok(None);
                }
                let id = doc.id.to_string();
                let tenant = doc.tenant_id.0.to_string();
                // Every write in one batch (on SQLite one hand-off to the connection's
                // thread); only the usage update returns a row, when the document counted.
                let mut batch = Batch::default();
                batch.push(
                    "INSERT INTO documents (id, tenant_id, filename, status, content_type, size_bytes, \
                     sha256, blob_key, created_at, updated_at) \
                     VALUES ($1, $2, $3, 'queued', $4, $5, $6, $7, $8, $8)",
                    vec![
                        id.as_str().into(),
                        tenant.as_str().into(),
                        doc.filename.as_str().into(),
                        doc.content_type.mime().into(),
                        (doc.size_bytes as i64).into(),
                        doc.sha256.as_str().into(),
                        doc.blob_key.as_str().into(),
                        now.into(),
                    ],
                );
                if let Some(bytes) = &doc.inline_bytes {
                    batch.push(
                        "INSERT INTO document_bytes (document_id, bytes) VALUES ($1, $2)",
                        vec![id.as_str().into(), bytes.0.as_slice().into()],
                    );
                }
                batch.push(
                    "INSERT INTO jobs (document_id, state, created_at) VALUES ($1, 'queued', $2)",
                    vec![id.as_str().into(), now.into()],
                );
                push_outbox(&mut batch, events, now);
                push_audit(&mut batch, crate::audit::Change::of("document.upload", "document", &id));
                // Last, so that on PostgreSQL the usage row stays locked for the commit
                // only: concurrent uploads of one tenant queue on it, and each sees the
                // usage the one before committed (a conditional update, never a read
                // then a write). The commit does not wait for its flush, which would keep
                // the row locked meanwhile: the upload is acknowledged after
                // `make_durable`, one flush for every upload meanwhile.
                static COUNT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
                    format!(
                        "UPDATE tenant_usage SET bytes = bytes + $2, documents = documents + 1 \
                         WHERE tenant_id = $1 AND documents + 1 <= COALESCE(max_documents, $3) \
                         AND bytes + $2 <= COALESCE(max_bytes, $4) RETURNING {}",
                        dialect::UNFLUSHED_COMMIT
                    )
                });
                let size = i64::try_from(doc.size_bytes).unwrap_or(i64::MAX);
                let count = || -> Vec<crate::store::sql::Value<'_>> {
                    vec![
                        tenant.as_str().into(),
                        size.into(),
                        quota_column(defaults.max_documents).into(),
                        quota_column(defaults.max_bytes).into(),
                    ]
                };
                let mut counted = !dialect::run_batch_locking_last(&mut tx, batch, COUNT.as_str(), count())
                    .await?
                    .is_empty();
                let mut tries = 0;
                while !counted {
                    match usage_row(&mut tx, doc.tenant_id).await? {
                        Some(usage) => {
                            // Refused: the rollback (the drop) leaves nothing written.
                            return Err(crate::IngestError::QuotaExceeded(usage.under(defaults)).into());
                        }
                        // A tenant made without its usage row (by a process of a version
                        // before quotas, during a rolling upgrade): give it one, count again.
                        None if tries == 0 => {
                            sqlx::query(
                                "INSERT INTO tenant_usage (tenant_id) VALUES ($1) ON CONFLICT (tenant_id) DO NOTHING",
                            )
                            .bind(&tenant)
                            .execute(&mut *tx)
                            .await?;
                            tries += 1;
                            let mut again = Batch::default();
                            again.push(COUNT.as_str(), count());
                            counted = !dialect::run_batch(&mut tx, &again).await?.is_empty();
                        }
                        None => return Err(Error::Corrupt("a tenant's usage row cannot be made".into())),
                    }
                }
                tx.commit().await?;
                self.committed_unflushed();
                Ok(Some(doc.queued()))
            }

            async fn get_document(&self, tenant: TenantId, id: DocumentId) -> Result<Option<Document>> {
                // Point reads take each store's fastest path (see `read_document`).
                self.read_document(tenant, id).await
            }

            async fn list_documents(
                &self,
                tenant: TenantId,
                filter: &ListFilter,
                after: Option<DocumentId>,
                limit: u32,
            ) -> Result<Page> {
                let mut query = list_query::<dialect::Db>(tenant, filter, after, limit);
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
                // One snapshot for both statements, so the total and the page agree.
                dialect::read_snapshot(&mut tx).await?;
                let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM documents WHERE tenant_id = $1")
                    .bind(&tenant)
                    .fetch_one(&mut *tx)
                    .await?;
                let rows = sqlx::query(&format!(
                    "SELECT {DOC_COLUMNS} FROM documents WHERE tenant_id = $1 \
                     ORDER BY id DESC LIMIT $2 OFFSET $3"
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
                self.read_text_prefixes(tenant, ids, max_chars).await
            }

            async fn get_text(&self, tenant: TenantId, id: DocumentId) -> Result<Option<String>> {
                self.read_text(tenant, id).await
            }

            async fn get_pages(
                &self,
                tenant: TenantId,
                id: DocumentId,
                first: u32,
                last: u32,
            ) -> Result<Vec<(u32, String)>> {
                let rows = sqlx::query(
                    "SELECT p.number, p.layout FROM document_pages p \
                     JOIN documents d ON d.id = p.document_id \
                     WHERE d.id = $1 AND d.tenant_id = $2 AND p.number BETWEEN $3 AND $4 \
                     ORDER BY p.number",
                )
                .bind(id.to_string())
                .bind(tenant.0.to_string())
                .bind(i32::try_from(first).unwrap_or(i32::MAX))
                .bind(i32::try_from(last).unwrap_or(i32::MAX))
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|r| {
                        let n: i32 = r.try_get("number")?;
                        Ok((u32::try_from(n).unwrap_or(0), r.try_get("layout")?))
                    })
                    .collect()
            }

            async fn delete_document(
                &self,
                tenant: TenantId,
                id: DocumentId,
                events: &[Event],
                now: OffsetDateTime,
            ) -> Result<Option<Vec<String>>> {
                // Not served from the cache from now until after the commit.
                let _changing = self.docs.changing(id);
                let id_text = id.to_string();
                let mut tx = self.pool.begin().await?;
                dialect::lock_document_job(&mut tx, &id_text).await?;
                let row = sqlx::query(
                    "DELETE FROM documents WHERE id = $1 AND tenant_id = $2 \
                     RETURNING blob_key, thumbnail_key, size_bytes, extracted",
                )
                .bind(&id_text)
                .bind(tenant.0.to_string())
                .fetch_optional(&mut *tx)
                .await?;
                let Some(row) = row else {
                    return Ok(None);
                };
                let blob_key = row.try_get::<String, _>("blob_key")?;
                let searchable = row
                    .try_get::<Option<String>, _>("extracted")?
                    .and_then(|e| serde_json::from_str::<crate::model::Extracted>(&e).ok())
                    .is_some_and(|e| e.searchable_pdf);
                let mut keys = vec![row.try_get::<String, _>("blob_key")?];
                keys.extend(row.try_get::<Option<String>, _>("thumbnail_key")?);
                keys.extend(searchable.then(|| crate::blobs::searchable_key(&blob_key)));
                sqlx::query(
                    "UPDATE tenant_usage SET bytes = bytes - $2, documents = documents - 1 \
                     WHERE tenant_id = $1",
                )
                .bind(tenant.0.to_string())
                .bind(row.try_get::<i64, _>("size_bytes")?)
                .execute(&mut *tx)
                .await?;
                write_outbox(&mut tx, events, millis(now)).await?;
                write_audit(&mut tx, crate::audit::Change::of("document.delete", "document", &id_text)).await?;
                tx.commit().await?;
                Ok(Some(keys))
            }

            async fn set_thumbnail(&self, tenant: TenantId, id: DocumentId, key: &str) -> Result<bool> {
                let _changing = self.docs.changing(id);
                let r =
                    sqlx::query("UPDATE documents SET thumbnail_key = $3 WHERE id = $1 AND tenant_id = $2")
                        .bind(id.to_string())
                        .bind(tenant.0.to_string())
                        .bind(key)
                        .execute(&self.pool)
                        .await?;
                Ok(r.rows_affected() == 1)
            }

            async fn set_thumbnail_failure(
                &self,
                tenant: TenantId,
                id: DocumentId,
                reason: &str,
            ) -> Result<bool> {
                let _changing = self.docs.changing(id);
                let r = sqlx::query(&format!(
                    "UPDATE documents SET thumbnail_failure = $3, warnings = {} \
                     WHERE id = $1 AND tenant_id = $2 AND thumbnail_key IS NULL",
                    dialect::json_array_add("warnings", "$4")
                ))
                .bind(id.to_string())
                .bind(tenant.0.to_string())
                .bind(reason)
                .bind(crate::pipeline::THUMBNAIL_UNAVAILABLE)
                .execute(&self.pool)
                .await?;
                Ok(r.rows_affected() == 1)
            }

            async fn existing_blob_keys(&self, blob_keys: &[String]) -> Result<Vec<String>> {
                Ok(sqlx::query_scalar(&format!(
                    "SELECT blob_key FROM documents WHERE blob_key {}",
                    dialect::in_list("$1")
                ))
                .bind(dialect::list(blob_keys)?)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn inline_blob(&self, blob_key: &str) -> Result<Option<Vec<u8>>> {
                self.read_inline_blob(blob_key).await
            }

            async fn has_inline_blob(&self, blob_key: &str) -> Result<bool> {
                self.read_has_inline_blob(blob_key).await
            }

            async fn delete_inline_blob(&self, blob_key: &str) -> Result<bool> {
                if !self.may_hold_inline_blob(blob_key).await? {
                    return Ok(false);
                }
                let r = sqlx::query(
                    "DELETE FROM document_bytes WHERE document_id IN \
                     (SELECT id FROM documents WHERE blob_key = $1)",
                )
                .bind(blob_key)
                .execute(&self.pool)
                .await?;
                Ok(r.rows_affected() > 0)
            }
        }
    };
}

pub(in crate::store) use document_store;

/// A tenant's usage row, read in the transaction `tx` (`None` when it has none).
macro_rules! usage_row {
    () => {
        pub(super) async fn usage_row(
            tx: &mut sqlx::Transaction<'_, dialect::Db>,
            tenant: TenantId,
        ) -> Result<Option<StoredUsage>> {
            let row = sqlx::query(
                "SELECT bytes, documents, max_bytes, max_documents FROM tenant_usage WHERE tenant_id = $1",
            )
            .bind(tenant.0.to_string())
            .fetch_optional(&mut **tx)
            .await?;
            row.map(|r| {
                Ok(StoredUsage {
                    bytes: r.try_get::<i64, _>("bytes")?.max(0) as u64,
                    documents: r.try_get::<i64, _>("documents")?.max(0) as u64,
                    max_bytes: quota_from_column(r.try_get("max_bytes")?),
                    max_documents: quota_from_column(r.try_get("max_documents")?),
                })
            })
            .transpose()
        }
    };
}

pub(in crate::store) use usage_row;
