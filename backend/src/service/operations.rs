//! What the HTTP front needs of the store beyond the domain operations: durability of
//! acknowledged writes, health, shared request quotas, and the webhook sender's queue.

use std::sync::Arc;

use time::OffsetDateTime;

use crate::store::Store;
use crate::webhooks::{DueDelivery, Outcome};
use crate::{Backend, Result};

impl Backend {
    /// Returns once every commit made so far is on disk (what a write's success
    /// acknowledges must survive power loss).
    pub async fn make_durable(&self) -> Result<()> {
        self.store().make_durable().await
    }

    /// The store to count request quotas in when other processes share it; `None` for a
    /// store of this process alone.
    pub fn shared_quota_store(&self) -> Option<Arc<dyn Store>> {
        self.store().is_shared().then(|| self.store().clone())
    }

    /// Forgets quota windows that started before `before` (unix ms).
    pub async fn forget_quota_windows(&self, before: i64) -> Result<u64> {
        self.store().forget_quota_windows(before).await
    }

    /// Takes up to `limit` due webhook deliveries, held until `lease_until`.
    pub async fn claim_deliveries(
        &self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<DueDelivery>> {
        self.store().claim_deliveries(now, lease_until, limit).await
    }

    /// Keeps the body rendered at a delivery's first attempt.
    pub async fn set_delivery_body(&self, id: i64, body: &str) -> Result<()> {
        self.store().set_delivery_body(id, body).await
    }

    /// Deliveries not yet delivered nor given up (the sender's backlog).
    pub async fn deliveries_pending(&self) -> Result<u64> {
        self.store().deliveries_pending().await
    }

    /// Records a delivery attempt: `retry_at` is when to try again (`None`: give up); the
    /// subscription is disabled after `disable_after` failures in a row over `failing_for`.
    pub async fn record_delivery(
        &self,
        id: i64,
        outcome: &Outcome,
        retry_at: Option<OffsetDateTime>,
        disable_after: u32,
        failing_for: std::time::Duration,
        now: OffsetDateTime,
    ) -> Result<()> {
        self.store()
            .record_delivery(id, outcome, retry_at, disable_after, failing_for, now)
            .await
    }
}
