//! Documents and their texts: tables `documents`, `document_texts`.

use super::*;

crate::store::sql::documents::document_store!(PgStore, reads: sqlx);

impl PgStore {
    /// Drops the cached copy of a document just written here at once (other processes
    /// drop theirs when the change's notice reaches them).
    pub(super) fn forget_cached(&self, id: DocumentId) {
        self.docs.forget(id);
    }
}
