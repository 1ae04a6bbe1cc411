//! Webhook subscriptions and deliveries (tables `webhooks`, `webhook_deliveries`): one SQL
//! text for both stores.

/// Implements `WebhookStore` for `$store`, whose module provides `pool` and `dialect`.
macro_rules! webhook_store {
    ($store:ty) => {
        /// A claimed delivery, from its `DELIVERY_COLUMNS` with the event, body and the
        /// webhook's url and secrets; the previous secret signs too until it expires.
        fn due_from_row(
            row: &<dialect::Db as sqlx::Database>::Row,
            now: i64,
        ) -> Result<DueDelivery> {
            let mut secrets = vec![row.try_get::<String, _>("secret")?];
            let previous: Option<String> = row.try_get("previous_secret")?;
            let until: Option<i64> = row.try_get("previous_expires_at")?;
            if let (Some(p), Some(until)) = (previous, until)
                && until > now
            {
                secrets.push(p);
            }
            Ok(DueDelivery {
                tenant_id: TenantId(parse_uuid(&row.try_get::<String, _>("tenant_id")?)?),
                url: row.try_get("url")?,
                secrets,
                event: row.try_get("event")?,
                body: row.try_get("body")?,
                delivery: delivery_from_row(row)?,
            })
        }

        #[async_trait]
        impl WebhookStore for $store {
            async fn create_webhook(
                &self,
                tenant: TenantId,
                new: &NewWebhook,
                secret: &str,
                now: OffsetDateTime,
            ) -> Result<Webhook> {
                let id = Uuid::now_v7();
                let mut tx = self.pool.begin().await?;
                // Concurrent creates of one tenant must not both pass the cap.
                dialect::lock_tenant_webhooks(&mut tx, tenant).await?;
                let inserted = sqlx::query(
                    "INSERT INTO webhooks (id, tenant_id, url, description, event_types, secret, status, \
                     created_at) SELECT $1, $2, $3, $4, $5, $6, 'active', $7 \
                     WHERE (SELECT COUNT(*) FROM webhooks WHERE tenant_id = $2) < $8",
                )
                .bind(id.to_string())
                .bind(tenant.0.to_string())
                .bind(&new.url)
                .bind(&new.description)
                .bind(to_json(&new.event_types)?)
                .bind(secret)
                .bind(millis(now))
                .bind(i64::from(crate::webhooks::MAX_PER_TENANT))
                .execute(&mut *tx)
                .await?;
                if inserted.rows_affected() == 0 {
                    return Err(crate::webhooks::WebhookError::TooMany.into());
                }
                let id_text = id.to_string();
                write_audit(&mut tx, crate::audit::Change::of("webhook.create", "webhook", &id_text)).await?;
                tx.commit().await?;
                Ok(Webhook {
                    id,
                    tenant_id: tenant,
                    url: new.url.clone(),
                    description: new.description.clone(),
                    event_types: new.event_types.clone(),
                    status: WebhookStatus::Active,
                    disabled_reason: None,
                    consecutive_failures: 0,
                    created_at: from_millis(millis(now))?,
                })
            }

            async fn list_webhooks(&self, tenant: TenantId) -> Result<Vec<Webhook>> {
                let rows = sqlx::query(&format!(
                    "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE tenant_id = $1 ORDER BY id"
                ))
                .bind(tenant.0.to_string())
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(webhook_from_row).collect()
            }

            async fn get_webhook(&self, tenant: TenantId, id: Uuid) -> Result<Option<Webhook>> {
                sqlx::query(&format!(
                    "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE tenant_id = $1 AND id = $2"
                ))
                .bind(tenant.0.to_string())
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await?
                .as_ref()
                .map(webhook_from_row)
                .transpose()
            }

            async fn delete_webhook(&self, tenant: TenantId, id: Uuid) -> Result<bool> {
                let mut tx = self.pool.begin().await?;
                // Deliveries first, then the webhook: the order in which the sender records
                // an attempt locks them. The cascade alone would lock the webhook first, and
                // PostgreSQL would break the deadlock by failing one of the two.
                sqlx::query("DELETE FROM webhook_deliveries WHERE tenant_id = $1 AND webhook_id = $2")
                    .bind(tenant.0.to_string())
                    .bind(id.to_string())
                    .execute(&mut *tx)
                    .await?;
                let r = sqlx::query("DELETE FROM webhooks WHERE tenant_id = $1 AND id = $2")
                    .bind(tenant.0.to_string())
                    .bind(id.to_string())
                    .execute(&mut *tx)
                    .await?;
                audited(tx, r.rows_affected() == 1, crate::audit::Change::of("webhook.delete", "webhook", &id.to_string())).await
            }

            async fn rotate_webhook_secret(
                &self,
                tenant: TenantId,
                id: Uuid,
                secret: &str,
                previous_until: OffsetDateTime,
            ) -> Result<bool> {
                let mut tx = self.pool.begin().await?;
                let r = sqlx::query(
                    "UPDATE webhooks SET previous_secret = secret, previous_expires_at = $3, secret = $4 \
                     WHERE tenant_id = $1 AND id = $2",
                )
                .bind(tenant.0.to_string())
                .bind(id.to_string())
                .bind(millis(previous_until))
                .bind(secret)
                .execute(&mut *tx)
                .await?;
                audited(tx, r.rows_affected() == 1, crate::audit::Change::of("webhook.rotate_secret", "webhook", &id.to_string())).await
            }

            async fn enable_webhook(&self, tenant: TenantId, id: Uuid) -> Result<bool> {
                let mut tx = self.pool.begin().await?;
                let r = sqlx::query(
                    "UPDATE webhooks SET status = 'active', disabled_reason = NULL, \
                     consecutive_failures = 0 WHERE tenant_id = $1 AND id = $2",
                )
                .bind(tenant.0.to_string())
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?;
                audited(tx, r.rows_affected() == 1, crate::audit::Change::of("webhook.enable", "webhook", &id.to_string())).await
            }

            async fn webhook_deliveries(
                &self,
                tenant: TenantId,
                id: Uuid,
                limit: u32,
            ) -> Result<Vec<Delivery>> {
                let rows = sqlx::query(&format!(
                    "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d \
                     WHERE d.tenant_id = $1 AND d.webhook_id = $2 ORDER BY d.id DESC LIMIT $3"
                ))
                .bind(tenant.0.to_string())
                .bind(id.to_string())
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(delivery_from_row).collect()
            }

            async fn claim_deliveries(
                &self,
                now: OffsetDateTime,
                lease_until: OffsetDateTime,
                limit: u32,
            ) -> Result<Vec<DueDelivery>> {
                // Claiming is where the databases differ: row locks (PostgreSQL) or the
                // single writer (SQLite).
                self.claim_due(millis(now), millis(lease_until), limit).await
            }

            async fn deliveries_pending(&self) -> Result<u64> {
                let n: i64 =
                    sqlx::query_scalar("SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending'")
                        .fetch_one(&self.pool)
                        .await?;
                Ok(n as u64)
            }

            async fn set_delivery_body(&self, id: i64, body: &str) -> Result<()> {
                sqlx::query("UPDATE webhook_deliveries SET body = $2 WHERE id = $1")
                    .bind(id)
                    .bind(body)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn record_delivery(
                &self,
                id: i64,
                outcome: &Outcome,
                retry_at: Option<OffsetDateTime>,
                disable_after: u32,
                failing_for: std::time::Duration,
                now: OffsetDateTime,
            ) -> Result<()> {
                let now = millis(now);
                let mut tx = self.pool.begin().await?;
                match outcome {
                    Outcome::Delivered { status } => {
                        let webhook: Option<String> = sqlx::query_scalar(
                            "UPDATE webhook_deliveries SET status = 'delivered', attempts = attempts + 1, \
                             last_status = $2, last_error = NULL, next_attempt_at = NULL, \
                             delivered_at = $3 WHERE id = $1 RETURNING webhook_id",
                        )
                        .bind(id)
                        .bind(i64::from(*status))
                        .bind(now)
                        .fetch_optional(&mut *tx)
                        .await?;
                        sqlx::query(
                            "UPDATE webhooks SET consecutive_failures = 0, failing_since = NULL WHERE id = $1",
                        )
                            .bind(webhook)
                            .execute(&mut *tx)
                            .await?;
                    }
                    Outcome::Failed { status, error } => {
                        let webhook: Option<String> = sqlx::query_scalar(
                            "UPDATE webhook_deliveries SET status = $4, attempts = attempts + 1, \
                             last_status = $2, last_error = $3, next_attempt_at = $5 \
                             WHERE id = $1 RETURNING webhook_id",
                        )
                        .bind(id)
                        .bind(status.map(i64::from))
                        .bind(error)
                        .bind(if retry_at.is_some() {
                            "pending"
                        } else {
                            "failed"
                        })
                        .bind(retry_at.map(millis))
                        .fetch_optional(&mut *tx)
                        .await?;
                        sqlx::query(
                            "UPDATE webhooks SET consecutive_failures = consecutive_failures + 1, \
                             failing_since = COALESCE(failing_since, $4), \
                             status = CASE WHEN consecutive_failures + 1 >= $2 \
                               AND $4 - COALESCE(failing_since, $4) >= $5 THEN 'disabled' ELSE status END, \
                             disabled_reason = CASE WHEN consecutive_failures + 1 >= $2 \
                               AND $4 - COALESCE(failing_since, $4) >= $5 \
                               THEN 'disabled after ' || (consecutive_failures + 1) || \
                                    ' failed attempts in a row; last error: ' || $3 \
                               ELSE disabled_reason END \
                             WHERE id = $1",
                        )
                        .bind(webhook)
                        .bind(disable_after as i64)
                        .bind(error)
                        .bind(now)
                        .bind(i64::try_from(failing_for.as_millis()).unwrap_or(i64::MAX))
                        .execute(&mut *tx)
                        .await?;
                    }
                }
                tx.commit().await?;
                Ok(())
            }
        }
    };
}

pub(in crate::store) use webhook_store;
