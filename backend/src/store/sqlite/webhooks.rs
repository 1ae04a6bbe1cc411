//! Webhook subscriptions and deliveries: tables `webhooks`, `webhook_deliveries`.

use super::*;

crate::store::sql::webhooks::webhook_store!(SqliteStore);

impl SqliteStore {
    /// One process sends: the claim only has to be atomic, which SQLite's single writer
    /// makes it.
    async fn claim_due(&self, now: i64, lease_until: i64, limit: u32) -> Result<Vec<DueDelivery>> {
        let mut tx = self.pool.begin().await?;
        // Writing first takes SQLite's write lock up front (see claim_job).
        let claimed: Vec<i64> = sqlx::query_scalar(
            "UPDATE webhook_deliveries SET next_attempt_at = ?2 WHERE id IN ( \
               SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id \
               WHERE d.status = 'pending' AND d.next_attempt_at <= ?1 AND w.status = 'active' \
               ORDER BY d.next_attempt_at, d.id LIMIT ?3) RETURNING id",
        )
        .bind(now)
        .bind(lease_until)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        let mut due = Vec::with_capacity(claimed.len());
        for id in claimed {
            let row = sqlx::query(&format!(
                "SELECT {DELIVERY_COLUMNS}, d.event, d.body, w.url, w.secret, w.previous_secret, \
                 w.previous_expires_at FROM webhook_deliveries d \
                 JOIN webhooks w ON w.id = d.webhook_id WHERE d.id = ?1"
            ))
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            due.push(due_from_row(&row, now)?);
        }
        tx.commit().await?;
        Ok(due)
    }
}
