//! Webhook subscriptions and deliveries: tables `webhooks`, `webhook_deliveries`.

use super::*;

crate::store::sql::webhooks::webhook_store!(PgStore);

impl PgStore {
    /// Locks the due rows it takes and skips rows others hold, so senders in several
    /// processes never take one delivery twice nor wait for each other.
    async fn claim_due(&self, now: i64, lease_until: i64, limit: u32) -> Result<Vec<DueDelivery>> {
        let rows = sqlx::query(&format!(
            "WITH due AS (SELECT d.id FROM webhook_deliveries d \
                 JOIN webhooks w ON w.id = d.webhook_id \
                 WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND w.status = 'active' \
                 ORDER BY d.next_attempt_at, d.id LIMIT $3 FOR UPDATE OF d SKIP LOCKED), \
             claimed AS (UPDATE webhook_deliveries SET next_attempt_at = $2 FROM due \
                 WHERE webhook_deliveries.id = due.id RETURNING webhook_deliveries.*) \
             SELECT {DELIVERY_COLUMNS}, d.event, d.body, w.url, w.secret, w.previous_secret, \
             w.previous_expires_at FROM claimed d JOIN webhooks w ON w.id = d.webhook_id \
             ORDER BY d.next_attempt_at, d.id"
        ))
        .bind(now)
        .bind(lease_until)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| due_from_row(row, now)).collect()
    }
}
