//! Responses kept per `Idempotency-Key` (table `idempotency_keys`): one SQL text for both
//! stores.

/// Implements `IdempotencyStore` for `$store`, whose module provides `pool` and `dialect`.
/// Also defines `keep_response`, which the writes that keep a response call.
macro_rules! idempotency_store {
    ($store:ty) => {
        #[async_trait]
        impl IdempotencyStore for $store {
            async fn idempotent_response(
                &self,
                tenant: TenantId,
                key: &str,
                not_before: OffsetDateTime,
            ) -> Result<Option<StoredResponse>> {
                let row = sqlx::query(
                    "SELECT request_hash, status, location, body FROM idempotency_keys \
                     WHERE tenant_id = $1 AND key = $2 AND created_at >= $3",
                )
                .bind(tenant.0.to_string())
                .bind(key)
                .bind(millis(not_before))
                .fetch_optional(&self.pool)
                .await?;
                row.map(|r| {
                    Ok(StoredResponse {
                        request_hash: r.try_get("request_hash")?,
                        status: r.try_get::<i64, _>("status")? as u16,
                        location: r.try_get("location")?,
                        body: r.try_get("body")?,
                    })
                })
                .transpose()
            }
        }

        /// Keeps `kept` for `tenant` inside `tx`, forgetting expired responses first; false when
        /// the key already holds an unexpired response (nothing is changed then). A concurrent
        /// holder that has not committed yet makes this wait for its outcome (the primary key).
        pub(super) async fn keep_response(
            tx: &mut sqlx::Transaction<'_, dialect::Db>,
            tenant: TenantId,
            kept: KeptResponse<'_>,
            now: i64,
        ) -> Result<bool> {
            sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
                .bind(millis(kept.forget_before))
                .execute(&mut **tx)
                .await?;
            let inserted = sqlx::query(
                "INSERT INTO idempotency_keys \
                 (tenant_id, key, request_hash, status, location, body, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (tenant_id, key) DO NOTHING",
            )
            .bind(tenant.0.to_string())
            .bind(kept.key)
            .bind(&kept.response.request_hash)
            .bind(i64::from(kept.response.status))
            .bind(&kept.response.location)
            .bind(&kept.response.body)
            .bind(now)
            .execute(&mut **tx)
            .await?;
            Ok(inserted.rows_affected() == 1)
        }
    };
}

pub(in crate::store) use idempotency_store;
