//! Documents and their texts (tables `documents`, `document_texts`): one SQL text for both
//! stores.

/// Implements `DocumentStore` for `$store`, whose module provides `pool`, `readers()` (the
/// pool of the API's reads of documents: lists, pages, texts) and `dialect`.
/// With `reads: sqlx`, also the point reads, through the pool (documents through the store's
/// `docs` cache); a store with a faster read path of its own (SQLite's) brings
/// `read_document`, `read_list`, `read_text`, `read_text_prefixes`, `read_inline_blob`,
/// `read_has_inline_blob` and `may_hold_inline_blob`.
macro_rules! document_store {
    ($store:ty, reads: sqlx) => {
        $crate::store::sql::documents::document_store!($store);

        impl $store {
            async fn read_list(
                &self,
                tenant: TenantId,
                filter: &ListFilter,
                after: Option<DocumentId>,
                limit: u32,
            ) -> Result<Page> {
                self.list_through_pool(tenant, filter, after, limit).await
            }

            async fn read_document(
                &self,
                tenant: TenantId,
                id: DocumentId,
            ) -> Result<Option<Document>> {
                let read = async {
                    sqlx::query(&format!(
                        "SELECT {DOC_COLUMNS} FROM documents WHERE id = $1 AND tenant_id = $2"
                    ))
                    .bind(id.to_string())
                    .bind(tenant.0.to_string())
                    .fetch_optional(self.readers())
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
                .fetch_all(self.readers())
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
                .fetch_optional(self.readers())
                .await?)
            }
        }
    };
    ($store:ty) => {
        $crate::store::sql::documents::usage_row!();

        impl $store {
            /// A page of a tenant's documents through the pool of reads. A page that
            /// bounds `created_at` looks at a window of documents only: two index walks of
            /// at most `CREATED_WINDOW` entries, to the window's floor and then through it.
            async fn list_through_pool(
                &self,
                tenant: TenantId,
                filter: &ListFilter,
                after: Option<DocumentId>,
                limit: u32,
            ) -> Result<Page> {
                let floor: Option<String> = if filter.bounds_created() {
                    window_floor::<dialect::Db>(tenant, filter, after)
                        .build_query_scalar()
                        .fetch_optional(self.readers())
                        .await?
                } else {
                    None
                };
                let mut query =
                    list_query::<dialect::Db>(tenant, filter, after, floor.clone(), limit);
                let rows = query.build().fetch_all(self.readers()).await?;
                let items = rows
                    .iter()
                    .map(document_from_row)
                    .collect::<Result<Vec<_>>>()?;
                page_within(items, limit, floor)
            }
        }

        #[async_trait]
        impl DocumentStore for $store {
            async fn insert_documents(
                &self,
                uploads: &[Upload<'_>],
                defaults: Quota,
            ) -> Result<Vec<Result<Option<Document>>>> {
                if uploads.is_empty() {
                    return Ok(Vec::new());
                }
                let ids: Vec<String> = uploads.iter().map(|u| u.doc.id.to_string()).collect();
                let tenants: Vec<String> = uploads
                    .iter()
                    .map(|u| u.doc.tenant_id.0.to_string())
                    .collect();
                // Each upload's outcome once decided; those left undecided are inserted.
                let mut outcomes: Vec<Option<Result<Option<Document>>>> =
                    uploads.iter().map(|_| None).collect();
                let mut tx = self.pool.begin().await?;

                // Keys first: an upload whose key another response holds is not counted.
                let keyed =
                    $crate::store::sql::documents::first_of_each_key(uploads, &mut outcomes);
                let kept = keep_responses(&mut tx, uploads, &keyed).await?;
                for (i, kept) in keyed.iter().zip(kept) {
                    if !kept {
                        outcomes[*i] = Some(Ok(None));
                    }
                }

                // Then the quotas, in order, under the usage rows' locks (held to the
                // commit: concurrent uploads of a tenant, from any process, queue on them).
                let wanted: std::collections::BTreeSet<&str> = (0..uploads.len())
                    .filter(|i| outcomes[*i].is_none())
                    .map(|i| tenants[i].as_str())
                    .collect();
                let wanted: Vec<&str> = wanted.into_iter().collect();
                let before = lock_usage(&mut tx, &wanted).await?;
                let mut counted = before.clone();
                let refused_keys = $crate::store::sql::documents::count_uploads(
                    uploads,
                    &tenants,
                    &mut counted,
                    defaults,
                    &mut outcomes,
                )?;

                // Every write in one batch (on SQLite one hand-off to the connection's
                // thread, on PostgreSQL one statement).
                let inserted: Vec<usize> = (0..uploads.len())
                    .filter(|i| outcomes[*i].is_none())
                    .collect();
                let mut batch = Batch::default();
                if !inserted.is_empty() {
                    $crate::store::sql::documents::push_documents(
                        &mut batch, uploads, &ids, &tenants, &inserted,
                    );
                    push_outbox(
                        &mut batch,
                        inserted.iter().flat_map(|i| uploads[*i].events.iter()),
                        inserted
                            .iter()
                            .map(|i| millis(uploads[*i].doc.created_at))
                            .max()
                            .unwrap_or_default(),
                    );
                    push_audits(
                        &mut batch,
                        inserted.iter().filter_map(|i| {
                            uploads[*i].caller.map(|caller| {
                                (
                                    caller,
                                    crate::audit::Change::of(
                                        "document.upload",
                                        "document",
                                        &ids[*i],
                                    ),
                                )
                            })
                        }),
                    );
                    $crate::store::sql::documents::push_usage(&mut batch, &before, &counted);
                }
                // A refused upload's key is not kept: it would answer a retry with a
                // response the tenant never got.
                $crate::store::sql::documents::push_forget_keys(&mut batch, uploads, &refused_keys);
                dialect::run_batch(&mut tx, &batch).await?;
                tx.commit().await?;
                self.committed_unflushed();
                self.jobs_queued(inserted.len());
                Ok(outcomes
                    .into_iter()
                    .zip(uploads)
                    .map(|(outcome, upload)| {
                        outcome.unwrap_or_else(|| Ok(Some(upload.doc.queued())))
                    })
                    .collect())
            }

            async fn get_document(
                &self,
                tenant: TenantId,
                id: DocumentId,
            ) -> Result<Option<Document>> {
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
                // Each store's fastest path (see `read_list`).
                self.read_list(tenant, filter, after, limit).await
            }

            async fn list_documents_offset(
                &self,
                tenant: TenantId,
                offset: u64,
                limit: u32,
            ) -> Result<(Vec<Document>, u64)> {
                let tenant = tenant.0.to_string();
                let mut tx = self.readers().begin().await?;
                // One snapshot for both statements, so the total and the page agree.
                dialect::read_snapshot(&mut tx).await?;
                // The count kept with every insert and delete (the tenant's usage row), not
                // a count of the tenant's documents, which would walk them all.
                let total: i64 = sqlx::query_scalar(
                    "SELECT COALESCE((SELECT documents FROM tenant_usage WHERE tenant_id = $1), 0)",
                )
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
                .fetch_all(self.readers())
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
                write_audit(
                    &mut tx,
                    crate::audit::Change::of("document.delete", "document", &id_text),
                )
                .await?;
                tx.commit().await?;
                Ok(Some(keys))
            }

            async fn set_thumbnail(
                &self,
                tenant: TenantId,
                id: DocumentId,
                key: &str,
            ) -> Result<bool> {
                let _changing = self.docs.changing(id);
                let r = sqlx::query(
                    "UPDATE documents SET thumbnail_key = $3 WHERE id = $1 AND tenant_id = $2",
                )
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
        /// A `tenant_usage` row's counts and quotas.
        fn usage_from_row(r: &<dialect::Db as sqlx::Database>::Row) -> Result<StoredUsage> {
            Ok(StoredUsage {
                bytes: r.try_get::<i64, _>("bytes")?.max(0) as u64,
                documents: r.try_get::<i64, _>("documents")?.max(0) as u64,
                max_bytes: quota_from_column(r.try_get("max_bytes")?),
                max_documents: quota_from_column(r.try_get("max_documents")?),
            })
        }

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
            row.as_ref().map(usage_from_row).transpose()
        }

        /// The usage of `tenants` (sorted), each row locked to the end of `tx`.
        async fn lock_usage<'t>(
            tx: &mut sqlx::Transaction<'_, dialect::Db>,
            tenants: &[&'t str],
        ) -> Result<std::collections::BTreeMap<&'t str, StoredUsage>> {
            if tenants.is_empty() {
                return Ok(Default::default());
            }
            let mut usage = locked_usage(tx, tenants).await?;
            if usage.len() < tenants.len() {
                // Tenants made without their usage row (by a process of a version before
                // quotas, during a rolling upgrade): give them one.
                let missing: Vec<&str> =
                    tenants.iter().copied().filter(|t| !usage.contains_key(t)).collect();
                let mut batch = Batch::default();
                batch.push_rows(
                    "INSERT INTO tenant_usage (tenant_id) {rows} ON CONFLICT (tenant_id) DO NOTHING"
                        .to_owned(),
                    "($1)",
                    missing.iter().map(|t| (*t).into()).collect(),
                );
                dialect::run_batch(tx, &batch).await?;
                usage = locked_usage(tx, tenants).await?;
                if usage.len() < tenants.len() {
                    return Err(Error::Corrupt("a tenant's usage row cannot be made".into()));
                }
            }
            Ok(usage)
        }

        /// [`lock_usage`] of the tenants that have a row.
        async fn locked_usage<'t>(
            tx: &mut sqlx::Transaction<'_, dialect::Db>,
            tenants: &[&'t str],
        ) -> Result<std::collections::BTreeMap<&'t str, StoredUsage>> {
            let rows = dialect::lock_usage_rows(tx, tenants).await?;
            let mut usage = std::collections::BTreeMap::new();
            for row in &rows {
                let id: String = row.try_get("tenant_id")?;
                let Some(tenant) = tenants.iter().find(|t| **t == id) else {
                    return Err(Error::Corrupt(format!("the usage of tenant {id} was not asked for")));
                };
                usage.insert(*tenant, usage_from_row(row)?);
            }
            Ok(usage)
        }
    };
}

/// The uploads that keep a response, the first of each tenant's key only, ordered by
/// tenant and key (the order their rows are locked in, in every process); an upload
/// whose key an earlier one of `uploads` has gets its outcome: the key is held.
pub(in crate::store) fn first_of_each_key(
    uploads: &[crate::store::Upload<'_>],
    outcomes: &mut [Option<crate::error::Result<Option<crate::model::Document>>>],
) -> Vec<usize> {
    let mut first: std::collections::BTreeMap<(crate::model::TenantId, &str), usize> =
        std::collections::BTreeMap::new();
    for (i, upload) in uploads.iter().enumerate() {
        if let Some(kept) = upload.kept {
            match first.entry((upload.doc.tenant_id, kept.key)) {
                std::collections::btree_map::Entry::Vacant(v) => {
                    v.insert(i);
                }
                std::collections::btree_map::Entry::Occupied(_) => outcomes[i] = Some(Ok(None)),
            }
        }
    }
    first.into_values().collect()
}

/// The rows of the uploads `inserted`: documents, their bytes kept in the database, and
/// their jobs, a statement each (`ids` and `tenants` as text, one per upload).
pub(in crate::store) fn push_documents<'q>(
    batch: &mut super::Batch<'q>,
    uploads: &'q [crate::store::Upload<'q>],
    ids: &'q [String],
    tenants: &'q [String],
    inserted: &[usize],
) {
    const COLUMNS: usize = 8;
    let mut values = Vec::with_capacity(COLUMNS * inserted.len());
    for &i in inserted {
        let doc = uploads[i].doc;
        values.extend([
            ids[i].as_str().into(),
            tenants[i].as_str().into(),
            doc.filename.as_str().into(),
            doc.content_type.mime().into(),
            i64::try_from(doc.size_bytes).unwrap_or(i64::MAX).into(),
            doc.sha256.as_str().into(),
            doc.blob_key.as_str().into(),
            crate::store::rows::millis(doc.created_at).into(),
        ]);
    }
    batch.push_rows(
        "INSERT INTO documents (id, tenant_id, filename, status, content_type, size_bytes, \
         sha256, blob_key, created_at, updated_at) {rows}"
            .to_owned(),
        "($1, $2, $3, 'queued', $4, $5, $6, $7, $8, $8)",
        values,
    );
    let bytes: Vec<(usize, &'q [u8])> = inserted
        .iter()
        .filter_map(|&i| {
            uploads[i]
                .doc
                .inline_bytes
                .as_ref()
                .map(|b| (i, b.0.as_slice()))
        })
        .collect();
    if !bytes.is_empty() {
        batch.push_rows(
            "INSERT INTO document_bytes (document_id, bytes) {rows}".to_owned(),
            "($1, $2)",
            bytes
                .iter()
                .flat_map(|(i, b)| [ids[*i].as_str().into(), (*b).into()])
                .collect(),
        );
    }
    batch.push_rows(
        "INSERT INTO jobs (document_id, state, created_at) {rows}".to_owned(),
        "($1, 'queued', $2)",
        inserted
            .iter()
            .flat_map(|&i| {
                [
                    ids[i].as_str().into(),
                    crate::store::rows::millis(uploads[i].doc.created_at).into(),
                ]
            })
            .collect(),
    );
}

/// Counts the uploads still undecided in `outcomes` against their tenants' usage in
/// `counted`, in order: each that fits is added, each that does not gets its refusal.
/// The refused uploads that keep a response (their keys to forget).
pub(in crate::store) fn count_uploads(
    uploads: &[crate::store::Upload<'_>],
    tenants: &[String],
    counted: &mut std::collections::BTreeMap<&str, crate::model::StoredUsage>,
    defaults: crate::model::Quota,
    outcomes: &mut [Option<crate::error::Result<Option<crate::model::Document>>>],
) -> crate::error::Result<Vec<usize>> {
    let mut refused_keys = Vec::new();
    for (i, upload) in uploads.iter().enumerate() {
        if outcomes[i].is_some() {
            continue;
        }
        let Some(usage) = counted.get_mut(tenants[i].as_str()) else {
            return Err(crate::Error::Corrupt(
                "an upload's tenant was not counted".into(),
            ));
        };
        let now = usage.under(defaults);
        let size = upload.doc.size_bytes;
        let fits = now.documents < now.limits.max_documents.unwrap_or(u64::MAX)
            && now
                .bytes
                .checked_add(size)
                .is_some_and(|b| b <= now.limits.max_bytes.unwrap_or(u64::MAX));
        if fits {
            usage.documents += 1;
            usage.bytes += size;
        } else {
            outcomes[i] = Some(Err(crate::IngestError::QuotaExceeded(now).into()));
            if upload.kept.is_some() {
                refused_keys.push(i);
            }
        }
    }
    Ok(refused_keys)
}

/// Adds to each tenant's usage row what was counted on it since `before`.
pub(in crate::store) fn push_usage<'q>(
    batch: &mut super::Batch<'q>,
    before: &std::collections::BTreeMap<&'q str, crate::model::StoredUsage>,
    counted: &std::collections::BTreeMap<&'q str, crate::model::StoredUsage>,
) {
    for (tenant, usage) in counted {
        let Some(old) = before.get(tenant) else {
            continue;
        };
        let documents = usage.documents.saturating_sub(old.documents);
        if documents == 0 {
            continue;
        }
        batch.push(
            "UPDATE tenant_usage SET bytes = bytes + $2, documents = documents + $3 \
             WHERE tenant_id = $1",
            vec![
                (*tenant).into(),
                i64::try_from(usage.bytes.saturating_sub(old.bytes))
                    .unwrap_or(i64::MAX)
                    .into(),
                i64::try_from(documents).unwrap_or(i64::MAX).into(),
            ],
        );
    }
}

/// Forgets the responses kept for the keys of `refused` (uploads of `uploads`).
pub(in crate::store) fn push_forget_keys<'q>(
    batch: &mut super::Batch<'q>,
    uploads: &'q [crate::store::Upload<'q>],
    refused: &[usize],
) {
    if refused.is_empty() {
        return;
    }
    let mut values = Vec::with_capacity(2 * refused.len());
    for &i in refused {
        if let Some(kept) = uploads[i].kept {
            values.push(uploads[i].doc.tenant_id.0.to_string().into());
            values.push(kept.key.into());
        }
    }
    batch.push_rows(
        "DELETE FROM idempotency_keys WHERE (tenant_id, key) IN ({rows})".to_owned(),
        "($1, $2)",
        values,
    );
}

pub(in crate::store) use usage_row;
