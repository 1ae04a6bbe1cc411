//! The SQL both stores run, one text per domain: each file holds a macro that expands a
//! domain's trait implementation into a store module. Placeholders are `$N` (sqlx binds
//! them by position on SQLite as on PostgreSQL); what the databases really do differently
//! comes from the expanding module's `dialect` (SQL fragments and types) and from the
//! store's own methods (claims, locks, the SQLite read path).

pub(super) mod audit;
pub(super) mod broker;
pub(super) mod documents;
pub(super) mod idempotency;
pub(super) mod jobs;
pub(super) mod outbox;
pub(super) mod registry;
pub(super) mod tenants;
pub(super) mod webhooks;

/// What the expanded implementations name unqualified: each store module imports it, and
/// its domain files take it from there.
pub(super) mod prelude {
    pub(in crate::store) use crate::error::{Error, Result};
    pub(in crate::store) use crate::events::Event;
    pub(in crate::store) use crate::model::{
        ContentType, Document, DocumentId, ListFilter, Page, Tenant, TenantId,
    };
    pub(in crate::store) use crate::store::{
        ClaimedJob, DocumentStore, IdempotencyStore, JobResult, JobStore, KeptResponse,
        NewDocument, OutboxRow, OutboxStore, RegistryReference, RegistrySchema, RegistryStore,
        RegistryUse, RegistryVersion, StoredResponse, TenantStore, WebhookStore,
    };
    pub(in crate::store) use crate::webhooks::{
        Delivery, DeliveryStatus, DueDelivery, NewWebhook, Outcome, Webhook, WebhookStatus,
    };
}
