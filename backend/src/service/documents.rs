//! Documents: upload, read, list, delete, and the thumbnail rendered on first request.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use time::OffsetDateTime;
use uuid::Uuid;

use super::uploads::Kept;
use crate::blobs::{self, PendingBlob};
use crate::events::Event;
use crate::model::{ContentType, Document, DocumentId, ListFilter, Page, TenantId, Usage};
use crate::store::{NewDocument, StoredResponse};
use crate::{Backend, Error, IDEMPOTENCY_TTL, IngestError, Result, pipeline, validate_filename};

/// What an upload under an `Idempotency-Key` became.
#[derive(Debug)]
pub enum Submitted {
    /// A new document: the response kept for the key describes it.
    Created(StoredResponse),
    /// Nothing new: the key already holds this response.
    Earlier(StoredResponse),
}

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
        let new = Arc::new(
            self.store_upload(tenant, id, filename, declared, upload)
                .await?,
        );
        match self.insert(&new, None).await? {
            Some(doc) => Ok(doc),
            // Only a kept response can make the store refuse.
            None => {
                self.drop_blob(&new).await;
                Err(Error::Corrupt(
                    "a document without a key was refused".into(),
                ))
            }
        }
    }

    /// [`Self::submit`] under an `Idempotency-Key`: `respond` renders the response to
    /// keep for the key, which is written with the document in one transaction. When the
    /// key already holds a response (an earlier or a concurrent request), nothing is
    /// stored and that response is returned instead.
    pub async fn submit_keeping_response(
        &self,
        tenant: TenantId,
        filename: &str,
        declared: Option<ContentType>,
        upload: PendingBlob,
        key: &str,
        respond: impl FnOnce(&Document) -> Result<StoredResponse>,
    ) -> Result<Submitted> {
        let new = Arc::new(
            self.store_upload(tenant, Uuid::now_v7(), filename, declared, upload)
                .await?,
        );
        let response = match respond(&new.queued()) {
            Ok(response) => response,
            Err(e) => {
                self.drop_blob(&new).await;
                return Err(e);
            }
        };
        let kept = || Kept {
            key: key.to_owned(),
            response: response.clone(),
            forget_before: new.created_at - IDEMPOTENCY_TTL,
        };
        // Twice at most: if the key's holder expires between the refused insert and the
        // read (a 24-hour boundary), the second insert takes the key.
        for _ in 0..2 {
            if self.insert(&new, Some(kept())).await?.is_some() {
                return Ok(Submitted::Created(response));
            }
            if let Some(earlier) = self.idempotent_response(tenant, key).await? {
                self.drop_blob(&new).await;
                return Ok(Submitted::Earlier(earlier));
            }
        }
        self.drop_blob(&new).await;
        Err(Error::Corrupt(format!(
            "the Idempotency-Key {key:?} is held by a response that cannot be read"
        )))
    }

    /// Checks the bytes' type and moves them to their blob; the document to insert.
    async fn store_upload(
        &self,
        tenant: TenantId,
        id: DocumentId,
        filename: &str,
        declared: Option<ContentType>,
        upload: PendingBlob,
    ) -> Result<NewDocument> {
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
        let inline_bytes = upload.commit(&blob_key).await?;
        Ok(NewDocument {
            id,
            tenant_id: tenant,
            filename: filename.to_owned(),
            content_type,
            size_bytes: facts.size,
            sha256: facts.sha256,
            blob_key,
            created_at: OffsetDateTime::now_utc(),
            inline_bytes,
        })
    }

    /// Without its row a blob is unreachable: removes it.
    async fn drop_blob(&self, new: &NewDocument) {
        if new.inline_bytes.is_some() {
            // Its bytes were to go into the row: nothing was stored.
            return;
        }
        if let Err(e) = self.0.blobs.delete_without_row(&new.blob_key).await {
            tracing::warn!(blob = %new.blob_key, error = %e, "could not remove an unused blob");
        }
    }

    /// Inserts `new` with its `doc.uploaded` event (and `kept`), together with the
    /// uploads waiting meanwhile; on an error, removes its blob.
    async fn insert(&self, new: &Arc<NewDocument>, kept: Option<Kept>) -> Result<Option<Document>> {
        let uploaded = Event::uploaded(
            new.id,
            new.tenant_id,
            new.created_at,
            &new.filename,
            new.content_type.mime(),
            new.size_bytes,
            &new.sha256,
        );
        match self.0.uploads.insert(new.clone(), uploaded, kept).await {
            Ok(inserted) => {
                if inserted.is_some() {
                    self.0.wakes.jobs.notify_one();
                    // `doc.uploaded` is no webhook event: no delivery to wake a sender for.
                    self.0.wakes.events.notify_one();
                }
                Ok(inserted)
            }
            Err(e) => {
                self.drop_blob(new).await;
                Err(e)
            }
        }
    }

    /// What the tenant stores, and the quotas in force.
    pub async fn usage(&self, tenant: TenantId) -> Result<Usage> {
        Ok(self.stored_usage(tenant).await?.under(self.0.config.quota))
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

    /// Pages `first..=last` of a processed document's layout, in order (empty when none
    /// is kept there).
    pub async fn layout(
        &self,
        tenant: TenantId,
        id: DocumentId,
        first: u32,
        last: u32,
    ) -> Result<Vec<crate::layout::Page>> {
        self.0
            .store
            .get_pages(tenant, id, first, last)
            .await?
            .into_iter()
            .map(|(_, json)| {
                serde_json::from_str(&json)
                    .map_err(|e| Error::Corrupt(format!("layout of page of {id}: {e}")))
            })
            .collect()
    }

    /// A processed document's text as Markdown, from its layout read a few pages at a
    /// time; the plain text when it has no layout (a text document).
    pub async fn markdown(&self, doc: &Document) -> Result<Option<String>> {
        const PAGES_AT_ONCE: u32 = 50;
        let pages = doc
            .extracted
            .as_ref()
            .and_then(|e| e.page_count)
            .unwrap_or(1);
        let mut out = String::new();
        let mut first = 1;
        let mut any = false;
        while first <= pages {
            let last = first.saturating_add(PAGES_AT_ONCE - 1);
            for page in self.layout(doc.tenant_id, doc.id, first, last).await? {
                any = true;
                crate::layout::markdown::render_page(&page, &mut out);
            }
            first = last.saturating_add(1);
        }
        if !any {
            return self.text(doc.tenant_id, doc.id).await;
        }
        let md = out.trim_end();
        Ok(Some(if md.is_empty() {
            String::new()
        } else {
            format!("{md}\n")
        }))
    }

    /// The searchable PDF OCR wrote for a processed document, if it has one.
    pub async fn searchable_pdf(&self, doc: &Document) -> Result<Option<Vec<u8>>> {
        if !doc.extracted.as_ref().is_some_and(|e| e.searchable_pdf) {
            return Ok(None);
        }
        let key = blobs::searchable_key(&blob_key(doc.tenant_id, doc.id));
        Ok(Some(self.0.blobs.read(&key).await?))
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
                // `doc.deleted` is no webhook event: no delivery to wake a sender for.
                self.0.wakes.events.notify_one();
                for key in keys {
                    self.0.blobs.delete_without_row(&key).await?;
                }
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// A processed document's thumbnail (PNG), if it has or can have one. A PDF's is
    /// rendered on first request and kept; a render that failed is kept as a failure and
    /// not tried again. Concurrent requests for one document wait for one render.
    pub async fn thumbnail(&self, doc: &Document) -> Result<Thumbnail> {
        if let Some(known) = self.known_thumbnail(doc).await? {
            return Ok(known);
        }
        let turn = self.0.thumbnails.turn(doc.id);
        let _turn = turn.lock().await;
        // Another request may have rendered it (or failed to) while this one waited.
        let Some(doc) = self.0.store.get_document(doc.tenant_id, doc.id).await? else {
            return Ok(Thumbnail::None);
        };
        if let Some(known) = self.known_thumbnail(&doc).await? {
            return Ok(known);
        }
        self.render_thumbnail(&doc).await
    }

    /// The thumbnail or failure already recorded, or `None` if rendering is yet to be tried.
    async fn known_thumbnail(&self, doc: &Document) -> Result<Option<Thumbnail>> {
        if let Some(key) = &doc.thumbnail_key {
            return Ok(Some(Thumbnail::Png(self.0.blobs.read(key).await?)));
        }
        if let Some(reason) = &doc.thumbnail_failure {
            return Ok(Some(Thumbnail::Failed(reason.clone())));
        }
        if doc.content_type != ContentType::Pdf {
            return Ok(Some(Thumbnail::None));
        }
        Ok(None)
    }

    async fn render_thumbnail(&self, doc: &Document) -> Result<Thumbnail> {
        let _slot = self.0.thumbnails.slot().await?;
        let key = blob_key(doc.tenant_id, doc.id);
        let bytes = self.0.blobs.read(&key).await?;
        let png = match pipeline::render_thumbnail(self.0.pipeline.clone(), bytes).await {
            Ok(png) => png,
            Err(pipeline::RenderFailure::Document(reason)) => {
                tracing::warn!(doc = %doc.id, error = %reason, "could not render a thumbnail");
                self.0
                    .store
                    .set_thumbnail_failure(doc.tenant_id, doc.id, &reason)
                    .await?;
                return Ok(Thumbnail::Failed(reason));
            }
            Err(pipeline::RenderFailure::Server(detail)) => {
                return Err(Error::Unavailable {
                    service: "PDF renderer",
                    detail,
                });
            }
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
        Ok(Thumbnail::Png(png))
    }
}

/// A document's thumbnail, as [`Backend::thumbnail`] finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Thumbnail {
    Png(Vec<u8>),
    /// None, and none can be made: a text document.
    None,
    /// Rendering it failed (or took longer than the render budget); the reason.
    Failed(String),
}

/// Thumbnail renders in this process: at most a few at once, and one at a time per
/// document.
pub(crate) struct Renders {
    slots: tokio::sync::Semaphore,
    turns: std::sync::Mutex<HashMap<DocumentId, Arc<tokio::sync::Mutex<()>>>>,
    /// Renders started, for tests and diagnostics.
    started: AtomicU64,
}

impl Renders {
    /// At most `at_once` renders run together (at least one).
    pub(crate) fn new(at_once: usize) -> Self {
        Self {
            slots: tokio::sync::Semaphore::new(at_once.max(1)),
            turns: Default::default(),
            started: AtomicU64::new(0),
        }
    }

    /// The lock that requests for `id`'s thumbnail take turns on; it leaves the map when
    /// the last request holding it ends.
    fn turn(&self, id: DocumentId) -> Turn<'_> {
        let mut turns = self.turns.lock().unwrap_or_else(|p| p.into_inner());
        let lock = turns.entry(id).or_default().clone();
        Turn {
            renders: self,
            id,
            lock,
        }
    }

    async fn slot(&self) -> Result<tokio::sync::SemaphorePermit<'_>> {
        let permit = self.slots.acquire().await.map_err(|_| Error::Unavailable {
            service: "PDF renderer",
            detail: "stopping".to_owned(),
        })?;
        self.started.fetch_add(1, Ordering::SeqCst);
        Ok(permit)
    }

    /// How many renders were started.
    #[cfg(test)]
    pub(crate) fn started(&self) -> u64 {
        self.started.load(Ordering::SeqCst)
    }
}

/// One request's hold on a document's turn lock.
struct Turn<'a> {
    renders: &'a Renders,
    id: DocumentId,
    lock: Arc<tokio::sync::Mutex<()>>,
}

impl std::ops::Deref for Turn<'_> {
    type Target = tokio::sync::Mutex<()>;
    fn deref(&self) -> &Self::Target {
        &self.lock
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        let mut turns = self.renders.turns.lock().unwrap_or_else(|p| p.into_inner());
        // Two holders: the map and this request, the last one.
        if Arc::strong_count(&self.lock) == 2 {
            turns.remove(&self.id);
        }
    }
}

/// Where a document's bytes are stored.
pub(crate) fn blob_key(tenant: TenantId, id: DocumentId) -> String {
    format!("{}/{}", tenant.0.simple(), id.simple())
}
