//! The SQL both stores run, one text per domain: each file holds a macro that expands a
//! domain's trait implementation into a store module. Placeholders are `$N` (sqlx binds
//! them by position on SQLite as on PostgreSQL); what the databases really do differently
//! comes from the expanding module's `dialect` (SQL fragments and types) and from the
//! store's own methods (claims, locks, the SQLite read path).

pub(super) mod documents;
pub(super) mod idempotency;
pub(super) mod jobs;
pub(super) mod outbox;
pub(super) mod registry;
pub(super) mod tenants;
pub(super) mod webhooks;
