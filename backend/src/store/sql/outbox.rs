//! The outbox (table `outbox`) and the webhook deliveries its events fan out to: one SQL
//! text for both stores.

/// Implements `OutboxStore` for `$store`, whose module provides `pool` and `dialect`.
/// Also defines `write_outbox`, which every write that emits events calls.
macro_rules! outbox_store {
    ($store:ty) => {
        #[async_trait]
        impl OutboxStore for $store {
            async fn pending_events(&self, limit: u32) -> Result<Vec<OutboxRow>> {
                let rows = sqlx::query(
                    "SELECT seq, topic, payload FROM outbox WHERE sent_at IS NULL ORDER BY seq LIMIT $1",
                )
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|r| {
                        Ok(OutboxRow {
                            seq: r.try_get("seq")?,
                            topic: r.try_get("topic")?,
                            payload: r.try_get("payload")?,
                        })
                    })
                    .collect()
            }

            async fn mark_sent(&self, seqs: &[i64], now: OffsetDateTime) -> Result<()> {
                if seqs.is_empty() {
                    return Ok(());
                }
                sqlx::query(&format!(
                    "UPDATE outbox SET sent_at = $2 WHERE seq {} AND sent_at IS NULL",
                    dialect::in_list("$1")
                ))
                .bind(dialect::list(seqs)?)
                .bind(millis(now))
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn purge_sent(&self, before: OffsetDateTime) -> Result<u64> {
                let r = sqlx::query("DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < $1")
                    .bind(millis(before))
                    .execute(&self.pool)
                    .await?;
                Ok(r.rows_affected())
            }

            async fn outbox_lag(&self) -> Result<(u64, Option<i64>)> {
                let row = sqlx::query(
                    "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox WHERE sent_at IS NULL",
                )
                .fetch_one(&self.pool)
                .await?;
                Ok((row.try_get::<i64, _>("n")? as u64, row.try_get("oldest")?))
            }
        }

        /// Appends events to the outbox inside the caller's transaction, with a webhook delivery
        /// for every active subscription of the tenant to the event's type.
        pub(super) async fn write_outbox(
            tx: &mut sqlx::Transaction<'_, dialect::Db>,
            events: &[Event],
            now: i64,
        ) -> Result<()> {
            for event in events {
                let payload = event.to_json();
                sqlx::query(
                    "INSERT INTO outbox (event_id, topic, document_id, tenant_id, payload, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(event.event_id())
                .bind(event.topic().name)
                .bind(event.document_id())
                .bind(event.tenant_id())
                .bind(&payload)
                .bind(now)
                .execute(&mut **tx)
                .await?;
                if crate::webhooks::EVENT_TYPES.contains(&event.topic().name) {
                    sqlx::query(&format!(
                        "INSERT INTO webhook_deliveries (webhook_id, tenant_id, event_id, event_type, \
                         document_id, event, status, next_attempt_at, created_at) \
                         SELECT w.id, w.tenant_id, $1, $2, $3, $4, 'pending', $5, $5 FROM webhooks w \
                         WHERE w.tenant_id = $6 AND w.status = 'active' \
                         AND {} ON CONFLICT (webhook_id, event_id) DO NOTHING",
                        dialect::json_array_has("w.event_types", "$2")
                    ))
                    .bind(event.event_id())
                    .bind(event.topic().name)
                    .bind(event.document_id())
                    .bind(&payload)
                    .bind(now)
                    .bind(event.tenant_id())
                    .execute(&mut **tx)
                    .await?;
                }
            }
            Ok(())
        }
    };
}

pub(in crate::store) use outbox_store;
