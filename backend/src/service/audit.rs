//! The audit trail: a tenant's listing, the operator's export, and retention.

use time::OffsetDateTime;

use crate::audit::{AuditEvent, AuditFilter};
use crate::model::TenantId;
use crate::{Backend, Result};

/// Entries removed per statement by retention, so a large backlog never holds a long
/// write lock.
const PURGE_BATCH: u32 = 5_000;

impl Backend {
    /// Newest first: `tenant`'s entries (every tenant's with `None`, for the operator)
    /// older than the entry `before`.
    pub async fn audit_events(
        &self,
        tenant: Option<TenantId>,
        filter: &AuditFilter,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditEvent>> {
        self.store()
            .audit_events(tenant, filter, before, limit)
            .await
    }

    /// Removes the entries older than the configured retention; how many.
    pub async fn purge_audit_events(&self, now: OffsetDateTime) -> Result<u64> {
        let before = now - self.0.config.audit_retention;
        let mut removed = 0;
        loop {
            let n = self.store().purge_audit_events(before, PURGE_BATCH).await?;
            removed += n;
            if n < u64::from(PURGE_BATCH) {
                return Ok(removed);
            }
        }
    }
}
