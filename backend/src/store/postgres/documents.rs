//! Documents and their texts: tables `documents`, `document_texts`.

use super::*;

crate::store::sql::documents::document_store!(PgStore, reads: sqlx);
