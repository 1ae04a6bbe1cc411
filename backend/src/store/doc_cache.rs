//! Recently read documents, so the hot `GET /v2/documents/{id}` does not open a SQLite read
//! transaction (two `fcntl` locks and a pager mutex) per request.
//!
//! Correct because this process is the only writer of its data folder (the embedded mode):
//! every store method that changes a document row calls [`DocCache::forget`] after its
//! commit. A read that missed records the cache's epoch *before* it reads the database and
//! stores its row only if no write was forgotten since, so a row read before a commit can
//! never be stored after that commit's `forget`.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::model::{Document, DocumentId};

/// Entries kept at most (a document is ~0.5 KB, so ~5 MB at most).
const MAX_ENTRIES: usize = 10_000;

#[derive(Default)]
pub(crate) struct DocCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Bumped by every `forget`.
    epoch: u64,
    docs: HashMap<DocumentId, Document>,
}

/// What a miss saw before it read the database; see [`DocCache::put`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Epoch(u64);

impl DocCache {
    pub(crate) fn get(&self, id: DocumentId) -> Option<Document> {
        self.inner.lock().ok()?.docs.get(&id).cloned()
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
        if inner.epoch != seen.0 {
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
            inner.epoch = inner.epoch.wrapping_add(1);
            inner.docs.remove(&id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ContentType, DocumentStatus, TenantId};
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
        let cache = DocCache::default();
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
        let cache = DocCache::default();
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
    fn the_cache_stays_bounded() {
        let cache = DocCache::default();
        for _ in 0..MAX_ENTRIES + 50 {
            let mut d = doc(DocumentStatus::Queued);
            d.id = Uuid::now_v7();
            cache.put(cache.epoch(), &d);
        }
        let len = cache.inner.lock().map(|i| i.docs.len()).unwrap_or(0);
        assert_eq!(len, MAX_ENTRIES);
    }
}
