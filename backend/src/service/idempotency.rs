//! Responses kept per `Idempotency-Key` for [`IDEMPOTENCY_TTL`].

use time::OffsetDateTime;

use crate::model::TenantId;
use crate::{Backend, IDEMPOTENCY_TTL, Result, store};

impl Backend {
    /// The response kept for an idempotency key (kept [`IDEMPOTENCY_TTL`]).
    pub async fn idempotent_response(
        &self,
        tenant: TenantId,
        key: &str,
    ) -> Result<Option<store::StoredResponse>> {
        let now = OffsetDateTime::now_utc();
        self.0
            .store
            .idempotent_response(tenant, key, now - IDEMPOTENCY_TTL)
            .await
    }
}
