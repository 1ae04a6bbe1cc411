//! The outbox (table `outbox`) and the webhook deliveries its events fan out to: one SQL
//! text for both stores.

/// Implements `OutboxStore` for `$store`, whose module provides `pool` and `dialect`.
/// Also defines `write_outbox`, which every write that emits events calls. With
/// `reads: sqlx`, also the relay's read of pending events through the pool; a store with
/// a faster read path of its own (SQLite's) brings `read_pending_events`.
macro_rules! outbox_store {
    ($store:ty, reads: sqlx) => {
        $crate::store::sql::outbox::outbox_store!($store);

        impl $store {
            async fn read_pending_events(&self, limit: u32) -> Result<Vec<OutboxRow>> {
                let rows = sqlx::query(PENDING_EVENTS)
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
        }
    };
    ($store:ty) => {
        /// The oldest unsent events, up to `$1`.
        const PENDING_EVENTS: &str =
            "SELECT seq, topic, payload FROM outbox WHERE sent_at IS NULL ORDER BY seq LIMIT $1";

        #[async_trait]
        impl OutboxStore for $store {
            async fn pending_events(&self, limit: u32) -> Result<Vec<OutboxRow>> {
                self.read_pending_events(limit).await
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
            let mut batch = Batch::default();
            push_outbox(&mut batch, events, now);
            dialect::run_batch(tx, &batch).await?;
            Ok(())
        }

        /// [`write_outbox`]'s statements, added to `batch`.
        pub(super) fn push_outbox<'q>(
            batch: &mut Batch<'q>,
            events: impl IntoIterator<Item = &'q Event>,
            now: i64,
        ) {
            // One statement for all the events, and one for all their deliveries (a
            // processed document writes two events): each statement is a round trip, or on
            // SQLite a hand-off to the connection's thread unless batched.
            let events: Vec<&'q Event> = events.into_iter().collect();
            if events.is_empty() {
                return;
            }
            // An event's values, in the order both statements list them: the five of the
            // event, then the time.
            let values = |events: &[(&'q Event, &String)]| -> Vec<crate::store::sql::Value<'q>> {
                let mut values = Vec::with_capacity(6 * events.len());
                for (event, payload) in events {
                    values.push(event.event_id().into());
                    values.push(event.topic().name.into());
                    values.push(event.document_id().into());
                    values.push(event.tenant_id().into());
                    values.push(payload.to_string().into());
                    values.push(now.into());
                }
                values
            };
            const ROW: &str = "($1, $2, $3, $4, $5, $6)";
            let payloads: Vec<String> = events.iter().map(|e| e.to_json()).collect();
            let all: Vec<(&Event, &String)> = events.iter().copied().zip(&payloads).collect();
            batch.push_rows(
                "INSERT INTO outbox (event_id, topic, document_id, tenant_id, payload, created_at) \
                 {rows}"
                    .to_owned(),
                ROW,
                values(&all),
            );

            let delivered: Vec<(&Event, &String)> = all
                .into_iter()
                .filter(|(e, _)| crate::webhooks::EVENT_TYPES.contains(&e.topic().name))
                .collect();
            if delivered.is_empty() {
                return;
            }
            batch.push_rows(
                format!(
                    "INSERT INTO webhook_deliveries (webhook_id, tenant_id, event_id, event_type, \
                     document_id, event, status, next_attempt_at, created_at) \
                     SELECT w.id, w.tenant_id, e.column1, e.column2, e.column3, e.column5, 'pending', \
                     e.column6, e.column6 FROM ({{rows}}) AS e JOIN webhooks w ON w.tenant_id = e.column4 \
                     WHERE w.status = 'active' AND {} ON CONFLICT (webhook_id, event_id) DO NOTHING",
                    dialect::json_array_has("w.event_types", "e.column2")
                ),
                ROW,
                values(&delivered),
            );
        }
    };
}

pub(in crate::store) use outbox_store;
