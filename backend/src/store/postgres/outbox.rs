//! The outbox: table `outbox`.

use super::*;

crate::store::sql::outbox::outbox_store!(PgStore, reads: sqlx);
