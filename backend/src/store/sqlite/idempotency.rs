//! Responses kept per `Idempotency-Key`: table `idempotency_keys`.

use super::*;

#[async_trait]
impl IdempotencyStore for SqliteStore {
    async fn idempotent_response(
        &self,
        tenant: TenantId,
        key: &str,
        not_before: OffsetDateTime,
    ) -> Result<Option<StoredResponse>> {
        let row = sqlx::query(
            "SELECT request_hash, status, location, body FROM idempotency_keys \
             WHERE tenant_id = ?1 AND key = ?2 AND created_at >= ?3",
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

    async fn store_idempotent_response(
        &self,
        tenant: TenantId,
        key: &str,
        response: &StoredResponse,
        now: OffsetDateTime,
        forget_before: OffsetDateTime,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM idempotency_keys WHERE created_at < ?1")
            .bind(millis(forget_before))
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO idempotency_keys \
             (tenant_id, key, request_hash, status, location, body, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
             ON CONFLICT (tenant_id, key) DO UPDATE SET request_hash = excluded.request_hash, \
             status = excluded.status, location = excluded.location, body = excluded.body, \
             created_at = excluded.created_at",
        )
        .bind(tenant.0.to_string())
        .bind(key)
        .bind(&response.request_hash)
        .bind(i64::from(response.status))
        .bind(&response.location)
        .bind(&response.body)
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
