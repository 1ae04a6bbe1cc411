//! Responses kept per `Idempotency-Key`: table `idempotency_keys`.

use super::*;

crate::store::sql::idempotency::idempotency_store!(PgStore);
