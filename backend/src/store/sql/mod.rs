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
    pub(in crate::store) use super::{quota_column, quota_from_column};
    pub(in crate::store) use crate::error::{Error, Result};
    pub(in crate::store) use crate::events::Event;
    pub(in crate::store) use crate::model::{
        ContentType, Document, DocumentId, ListFilter, Page, Quota, QuotaSetting, StoredUsage,
        Tenant, TenantId,
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

/// How a quota is stored: the largest BIGINT stands for unlimited, so that one comparison
/// (`n <= limit`) serves every case. A limit that large could never be reached anyway.
pub(super) fn quota_column(limit: Option<u64>) -> i64 {
    limit.map_or(i64::MAX, |n| i64::try_from(n).unwrap_or(i64::MAX))
}

/// A stored quota column: `None` (NULL) is the default; `Some(None)` unlimited.
pub(super) fn quota_from_column(v: Option<i64>) -> Option<Option<u64>> {
    v.map(|n| (n != i64::MAX).then(|| n.max(0) as u64))
}
