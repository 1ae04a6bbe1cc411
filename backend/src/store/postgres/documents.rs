//! Documents and their texts: tables `documents`, `document_texts`.

use super::*;

crate::store::sql::documents::document_store!(PgStore, reads: sqlx);

impl PgStore {
    /// Nothing is cached: another process may write.
    pub(super) fn forget_cached(&self, _id: DocumentId) {}
}
