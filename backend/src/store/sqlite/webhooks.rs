//! Webhook subscriptions and deliveries: tables `webhooks`, `webhook_deliveries`.

use super::*;

crate::store::sql::webhooks::webhook_store!(SqliteStore);

impl SqliteStore {
    /// One process sends: the claim only has to be atomic, which SQLite's single writer
    /// makes one statement (no transaction: with nothing due, as after most documents,
    /// it costs one hand-off to the connection's thread).
    async fn claim_due(&self, now: i64, lease_until: i64, limit: u32) -> Result<Vec<DueDelivery>> {
        static CLAIM: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            // RETURNING names the updated table's columns unqualified; the webhook's come
            // from subqueries (it cannot join).
            let delivery: Vec<&str> = DELIVERY_COLUMNS
                .split(',')
                .map(|c| c.trim().trim_start_matches("d."))
                .collect();
            let webhook = ["url", "secret", "previous_secret", "previous_expires_at"]
                .map(|c| format!("(SELECT w.{c} FROM webhooks w WHERE w.id = webhook_id) AS {c}"));
            format!(
                "UPDATE webhook_deliveries SET next_attempt_at = ?2 WHERE id IN ( \
                   SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id \
                   WHERE d.status = 'pending' AND d.next_attempt_at <= ?1 AND w.status = 'active' \
                   ORDER BY d.next_attempt_at, d.id LIMIT ?3) \
                 RETURNING {}, event, body, {}",
                delivery.join(", "),
                webhook.join(", ")
            )
        });
        let rows = sqlx::query(CLAIM.as_str())
            .bind(now)
            .bind(lease_until)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|row| due_from_row(row, now)).collect()
    }
}
