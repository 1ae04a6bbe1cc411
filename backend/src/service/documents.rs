//! Documents: upload, read, list, delete, and the thumbnail rendered on first request.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::blobs::{self, PendingBlob};
use crate::events::Event;
use crate::model::{ContentType, Document, DocumentId, ListFilter, Page, TenantId};
use crate::store::NewDocument;
use crate::{Backend, IngestError, Result, pipeline, validate_filename};

impl Backend {
    /// Starts receiving an upload; feed it with [`PendingBlob::write`], then [`Self::submit`].
    pub async fn begin_upload(&self) -> Result<PendingBlob> {
        self.0.blobs.begin(self.0.config.max_upload_bytes).await
    }

    /// Checks the bytes' type (against `declared`, when the client named a supported type),
    /// stores them, and enqueues processing. On any error nothing is stored.
    pub async fn submit(
        &self,
        tenant: TenantId,
        filename: &str,
        declared: Option<ContentType>,
        upload: PendingBlob,
    ) -> Result<Document> {
        self.submit_with_id(tenant, Uuid::now_v7(), filename, declared, upload)
            .await
    }

    /// [`Self::submit`] with a chosen id (imports that keep ids; contract tests whose
    /// provider states name a document).
    pub async fn submit_with_id(
        &self,
        tenant: TenantId,
        id: DocumentId,
        filename: &str,
        declared: Option<ContentType>,
        upload: PendingBlob,
    ) -> Result<Document> {
        validate_filename(filename)?;
        let facts = upload.facts();
        if facts.size == 0 {
            return Err(IngestError::Empty.into());
        }
        let content_type = pipeline::sniff::sniff(&facts.head, facts.is_text)
            .map_err(|detected| IngestError::Unsupported { detected })?;
        if let Some(declared) = declared.filter(|d| *d != content_type) {
            return Err(IngestError::Mismatch {
                declared: declared.mime(),
                detected: content_type.mime(),
            }
            .into());
        }
        let blob_key = blob_key(tenant, id);
        upload.commit(&self.0.blobs, &blob_key).await?;
        let new = NewDocument {
            id,
            tenant_id: tenant,
            filename: filename.to_owned(),
            content_type,
            size_bytes: facts.size,
            sha256: facts.sha256,
            blob_key: blob_key.clone(),
            created_at: OffsetDateTime::now_utc(),
        };
        let uploaded = Event::uploaded(
            new.id,
            new.tenant_id,
            new.created_at,
            &new.filename,
            new.content_type.mime(),
            new.size_bytes,
            &new.sha256,
        );
        match self.0.store.insert_document(&new, &[uploaded]).await {
            Ok(doc) => {
                self.0.wake.notify_one();
                self.0.events_wake.notify_one();
                Ok(doc)
            }
            Err(e) => {
                // Without its row the blob is unreachable: remove it.
                let _ = self.0.blobs.delete(&blob_key).await;
                Err(e)
            }
        }
    }

    pub async fn document(&self, tenant: TenantId, id: DocumentId) -> Result<Option<Document>> {
        self.0.store.get_document(tenant, id).await
    }

    pub async fn list(
        &self,
        tenant: TenantId,
        filter: &ListFilter,
        after: Option<DocumentId>,
        limit: u32,
    ) -> Result<Page> {
        self.0
            .store
            .list_documents(tenant, filter, after, limit)
            .await
    }

    /// Offset pagination for the legacy API: a page and the tenant's total.
    pub async fn list_offset(
        &self,
        tenant: TenantId,
        offset: u64,
        limit: u32,
    ) -> Result<(Vec<Document>, u64)> {
        self.0
            .store
            .list_documents_offset(tenant, offset, limit)
            .await
    }

    pub async fn text(&self, tenant: TenantId, id: DocumentId) -> Result<Option<String>> {
        self.0.store.get_text(tenant, id).await
    }

    /// For each of `ids` that has a text: its first `max_chars` characters, and whether
    /// it goes on (one query for a page).
    pub async fn text_prefixes(
        &self,
        tenant: TenantId,
        ids: &[DocumentId],
        max_chars: u32,
    ) -> Result<std::collections::HashMap<DocumentId, (String, bool)>> {
        self.0.store.get_text_prefixes(tenant, ids, max_chars).await
    }

    /// Deletes a document and its blob; false when there was no such document.
    pub async fn delete(&self, tenant: TenantId, id: DocumentId) -> Result<bool> {
        let now = OffsetDateTime::now_utc();
        let deleted = Event::deleted(id, tenant, now);
        match self
            .0
            .store
            .delete_document(tenant, id, &[deleted], now)
            .await?
        {
            Some(keys) => {
                self.0.events_wake.notify_one();
                for key in keys {
                    self.0.blobs.delete(&key).await?;
                }
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// A processed document's thumbnail (PNG), if it has or can have one. A PDF's is
    /// rendered on first request and kept.
    pub async fn thumbnail(&self, doc: &Document) -> Result<Option<Vec<u8>>> {
        if let Some(key) = &doc.thumbnail_key {
            return Ok(Some(self.0.blobs.read(key).await?));
        }
        if doc.content_type != ContentType::Pdf || self.0.pipeline.tools.pdftoppm.is_none() {
            return Ok(None);
        }
        let key = blob_key(doc.tenant_id, doc.id);
        let bytes = self.0.blobs.read(&key).await?;
        let png = match pipeline::render_thumbnail(self.0.pipeline.clone(), bytes).await {
            Some(Ok(png)) => png,
            Some(Err(e)) => {
                tracing::warn!(doc = %doc.id, error = %e, "could not render a thumbnail");
                return Ok(None);
            }
            None => return Ok(None),
        };
        let thumb_key = blobs::thumbnail_key(&key);
        self.0.blobs.put(&thumb_key, &png).await?;
        if !self
            .0
            .store
            .set_thumbnail(doc.tenant_id, doc.id, &thumb_key)
            .await?
        {
            // Deleted meanwhile: do not leave an orphan.
            self.0.blobs.delete(&thumb_key).await?;
        }
        Ok(Some(png))
    }
}

/// Where a document's bytes are stored.
pub(crate) fn blob_key(tenant: TenantId, id: DocumentId) -> String {
    format!("{}/{}", tenant.0.simple(), id.simple())
}
