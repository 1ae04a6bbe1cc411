//! Recently read documents, so the hot `GET /v2/documents/{id}` does not reach the database
//! per request (on SQLite a read transaction: two `fcntl` locks and a pager mutex; on
//! PostgreSQL a round trip to another process).
//!
//! Correct when every change of a document row reaches [`DocCache::forget`] after its
//! commit. On SQLite this process is the only writer of its data folder: every store method
//! that changes a document row calls it. On PostgreSQL other processes write too: each
//! change notifies (a trigger, delivered at commit) and a listener forgets the id; while
//! the listener is not connected the cache is [paused](DocCache::pause). A read that
//! missed records the cache's epoch *before* it reads the database and stores its row only
//! if nothing was forgotten since, so a row read before a commit can never be stored after
//! that commit's `forget`. A write that knows its document beforehand holds
//! [`DocCache::changing`] across its transaction: the document is neither served nor kept
//! until it has committed, so nothing woken by the commit (the webhook sender) can read the
//! old copy in the moment before it is forgotten.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::error::Result;
use crate::model::{Document, DocumentId, TenantId};

/// Entries kept at most (a document is ~0.5 KB, so ~5 MB at most).
const MAX_ENTRIES: usize = 10_000;

pub(crate) struct DocCache {
    inner: Mutex<Inner>,
}

struct Inner {
    /// Bumped by every `forget`, `pause` and `resume`.
    epoch: u64,
    /// False while changes may go unseen: nothing is served or kept.
    live: bool,
    docs: HashMap<DocumentId, Document>,
    /// Documents being written, with how many writes each: never served nor kept.
    changing: HashMap<DocumentId, u32>,
}

impl Inner {
    /// Drops `id`'s copy, and any row read before now from being kept.
    fn forget(&mut self, id: DocumentId) {
        self.epoch = self.epoch.wrapping_add(1);
        self.docs.remove(&id);
    }
}

/// A write of one document under way; forgets it when dropped (after the commit).
pub(crate) struct Changing<'a> {
    cache: &'a DocCache,
    id: DocumentId,
}

impl Drop for Changing<'_> {
    fn drop(&mut self) {
        if let Ok(mut inner) = self.cache.inner.lock() {
            if let Some(n) = inner.changing.get_mut(&self.id) {
                *n -= 1;
                if *n == 0 {
                    inner.changing.remove(&self.id);
                }
            }
            inner.forget(self.id);
        }
    }
}

/// What a miss saw before it read the database; see [`DocCache::put`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Epoch(u64);

impl DocCache {
    /// A cache in use from the start: its owner sees every change (the embedded store).
    pub(crate) fn live() -> Self {
        Self::with(true)
    }

    /// A cache bypassed until [`resume`](Self::resume) (a shared store's, until it hears
    /// other processes' changes).
    pub(crate) fn paused() -> Self {
        Self::with(false)
    }

    fn with(live: bool) -> Self {
        Self {
            inner: Mutex::new(Inner {
                epoch: 0,
                live,
                docs: HashMap::new(),
                changing: HashMap::new(),
            }),
        }
    }

    /// The document `id` of `tenant`: from the cache (another tenant's is never served),
    /// else from `read`, whose row is then kept unless a change was forgotten meanwhile.
    pub(crate) async fn read_through<F>(
        &self,
        tenant: TenantId,
        id: DocumentId,
        read: F,
    ) -> Result<Option<Document>>
    where
        F: Future<Output = Result<Option<Document>>>,
    {
        if let Some(doc) = self.get(id) {
            return Ok((doc.tenant_id == tenant).then_some(doc));
        }
        let seen = self.epoch();
        let doc = read.await?;
        if let Some(doc) = &doc {
            self.put(seen, doc);
        }
        Ok(doc)
    }

    pub(crate) fn get(&self, id: DocumentId) -> Option<Document> {
        let inner = self.inner.lock().ok()?;
        inner.docs.get(&id).filter(|_| inner.live).cloned()
    }

    /// Hold across a write of document `id`, from before its transaction to after its
    /// commit: meanwhile the document is read from the database, and forgotten at the end.
    pub(crate) fn changing(&self, id: DocumentId) -> Changing<'_> {
        if let Ok(mut inner) = self.inner.lock() {
            *inner.changing.entry(id).or_default() += 1;
            inner.forget(id);
        }
        Changing { cache: self, id }
    }

    /// Call before reading the row that [`put`](Self::put) may store.
    pub(crate) fn epoch(&self) -> Epoch {
        Epoch(self.inner.lock().map_or(u64::MAX, |i| i.epoch))
    }

    /// Keeps `doc` unless some document was written since `seen` was taken.
    pub(crate) fn put(&self, seen: Epoch, doc: &Document) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        if inner.epoch != seen.0 || !inner.live || inner.changing.contains_key(&doc.id) {
            return;
        }
        if inner.docs.len() >= MAX_ENTRIES
            && let Some(victim) = inner.docs.keys().next().copied()
        {
            inner.docs.remove(&victim);
        }
        inner.docs.insert(doc.id, doc.clone());
    }

    /// Call after committing any change to the document's row (or its deletion).
    pub(crate) fn forget(&self, id: DocumentId) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.forget(id);
        }
    }

    /// Forgets everything and serves nothing until [`resume`](Self::resume): changes
    /// may go unseen from now on.
    pub(crate) fn pause(&self) {
        self.set_live(false);
    }

    /// Forgets everything (changes made while paused were not seen) and serves again:
    /// call once every change from now on reaches [`forget`](Self::forget).
    pub(crate) fn resume(&self) {
        self.set_live(true);
    }

    fn set_live(&self, live: bool) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.epoch = inner.epoch.wrapping_add(1);
            inner.live = live;
            inner.docs.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ContentType, DocumentStatus};
    use time::OffsetDateTime;
    use uuid::Uuid;

    fn doc(status: DocumentStatus) -> Document {
        Document {
            id: Uuid::nil(),
            tenant_id: TenantId(Uuid::nil()),
            filename: "a.txt".into(),
            status,
            failure: None,
            failure_code: None,
            content_type: ContentType::Text,
            size_bytes: 1,
            sha256: String::new(),
            extracted: None,
            warnings: Vec::new(),
            classification: None,
            thumbnail_key: None,
            thumbnail_failure: None,
            created_at: OffsetDateTime::UNIX_EPOCH,
            updated_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_read_is_kept_and_forgotten_after_a_write() {
        let cache = DocCache::live();
        let seen = cache.epoch();
        cache.put(seen, &doc(DocumentStatus::Queued));
        assert_eq!(
            cache.get(Uuid::nil()).map(|d| d.status),
            Some(DocumentStatus::Queued)
        );
        cache.forget(Uuid::nil());
        assert!(cache.get(Uuid::nil()).is_none());
    }

    #[test]
    fn a_row_read_before_a_write_is_not_kept_after_it() {
        let cache = DocCache::live();
        // A GET misses and reads the old row from the database...
        let seen = cache.epoch();
        let old = doc(DocumentStatus::Queued);
        // ...meanwhile a worker commits `processing` and forgets the document...
        cache.forget(Uuid::nil());
        // ...and only then does the GET try to keep what it read.
        cache.put(seen, &old);
        assert!(cache.get(Uuid::nil()).is_none(), "a stale row was kept");
        // The next miss starts after the write and may keep its (fresh) row.
        let seen = cache.epoch();
        cache.put(seen, &doc(DocumentStatus::Processing));
        assert_eq!(
            cache.get(Uuid::nil()).map(|d| d.status),
            Some(DocumentStatus::Processing)
        );
    }

    #[test]
    fn a_document_being_written_is_neither_served_nor_kept_until_its_commit() {
        let cache = DocCache::live();
        cache.put(cache.epoch(), &doc(DocumentStatus::Processing));
        let write = cache.changing(Uuid::nil());
        // The old copy is not served while the write is under way...
        assert!(cache.get(Uuid::nil()).is_none());
        // ...nor is a row read meanwhile kept (it may be from before the commit).
        cache.put(cache.epoch(), &doc(DocumentStatus::Processing));
        assert!(cache.get(Uuid::nil()).is_none(), "kept during the write");
        // Two writes at once: the first to end does not open the door for the other.
        let other = cache.changing(Uuid::nil());
        drop(write);
        cache.put(cache.epoch(), &doc(DocumentStatus::Processing));
        assert!(
            cache.get(Uuid::nil()).is_none(),
            "kept during the second write"
        );
        drop(other);
        // After the commit a fresh read is kept again.
        cache.put(cache.epoch(), &doc(DocumentStatus::Processed));
        assert_eq!(
            cache.get(Uuid::nil()).map(|d| d.status),
            Some(DocumentStatus::Processed)
        );
    }

    #[test]
    fn a_paused_cache_serves_and_keeps_nothing_and_resumes_empty() {
        let cache = DocCache::paused();
        let before_resume = cache.epoch();
        cache.put(before_resume, &doc(DocumentStatus::Queued));
        assert!(cache.get(Uuid::nil()).is_none(), "kept while paused");
        cache.resume();
        // A read that began before the resume (changes may have gone unseen) is not kept.
        cache.put(before_resume, &doc(DocumentStatus::Queued));
        assert!(
            cache.get(Uuid::nil()).is_none(),
            "a read from before the resume was kept"
        );
        cache.put(cache.epoch(), &doc(DocumentStatus::Queued));
        assert!(cache.get(Uuid::nil()).is_some());
        let before = cache.epoch();
        cache.pause();
        assert!(cache.get(Uuid::nil()).is_none(), "served while paused");
        cache.resume();
        assert!(cache.get(Uuid::nil()).is_none(), "kept across a pause");
        cache.put(before, &doc(DocumentStatus::Queued));
        assert!(
            cache.get(Uuid::nil()).is_none(),
            "a row read before the pause was kept after the resume"
        );
    }

    #[tokio::test]
    async fn another_tenants_document_is_never_served() {
        let cache = DocCache::live();
        let mine = doc(DocumentStatus::Processed);
        let read = cache
            .read_through(mine.tenant_id, mine.id, async { Ok(Some(mine.clone())) })
            .await
            .unwrap();
        assert!(read.is_some());
        let other = TenantId(Uuid::from_u128(1));
        let read = cache
            .read_through(other, mine.id, async { Ok(None) })
            .await
            .unwrap();
        assert!(
            read.is_none(),
            "a cached document was served to another tenant"
        );
    }

    #[test]
    fn the_cache_stays_bounded() {
        let cache = DocCache::live();
        for _ in 0..MAX_ENTRIES + 50 {
            let mut d = doc(DocumentStatus::Queued);
            d.id = Uuid::now_v7();
            cache.put(cache.epoch(), &d);
        }
        let len = cache.inner.lock().map(|i| i.docs.len()).unwrap_or(0);
        assert_eq!(len, MAX_ENTRIES);
    }
}
