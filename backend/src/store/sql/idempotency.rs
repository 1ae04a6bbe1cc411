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

        /// Keeps the responses of `uploads` numbered `keyed` inside `tx`, forgetting
        /// expired responses first (those before the newest upload's bound): whether each
        /// was kept. One is not when its key already holds an unexpired response (which
        /// stays). A concurrent holder that has not committed yet makes this wait for its
        /// outcome (the primary key); `keyed` in the order of their keys, so that two
        /// transactions wait for each other's keys in one order.
        pub(super) async fn keep_responses(
            tx: &mut sqlx::Transaction<'_, dialect::Db>,
            uploads: &[Upload<'_>],
            keyed: &[usize],
        ) -> Result<Vec<bool>> {
            let kept: Vec<(TenantId, KeptResponse<'_>, i64)> = keyed
                .iter()
                .filter_map(|&i| {
                    let u = &uploads[i];
                    u.kept
                        .map(|k| (u.doc.tenant_id, k, millis(u.doc.created_at)))
                })
                .collect();
            let Some(forget_before) = kept.iter().map(|(_, k, _)| k.forget_before).max() else {
                return Ok(Vec::new());
            };
            sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
                .bind(millis(forget_before))
                .execute(&mut **tx)
                .await?;
            let tenants: Vec<String> = kept.iter().map(|(t, _, _)| t.0.to_string()).collect();
            let mut values = Vec::with_capacity(7 * kept.len());
            for ((_, k, now), tenant) in kept.iter().zip(&tenants) {
                values.extend([
                    tenant.as_str().into(),
                    k.key.into(),
                    k.response.request_hash.as_str().into(),
                    i64::from(k.response.status).into(),
                    k.response.location.as_deref().into(),
                    k.response.body.as_str().into(),
                    (*now).into(),
                ]);
            }
            let mut batch = Batch::default();
            batch.push_rows(
                "INSERT INTO idempotency_keys \
                 (tenant_id, key, request_hash, status, location, body, created_at) {rows} \
                 ON CONFLICT (tenant_id, key) DO NOTHING RETURNING tenant_id, key"
                    .to_owned(),
                "($1, $2, $3, $4, $5, $6, $7)",
                values,
            );
            let rows = dialect::run_batch(tx, &batch).await?;
            let mut inserted = std::collections::HashSet::new();
            for row in &rows {
                inserted.insert((
                    row.try_get::<String, _>("tenant_id")?,
                    row.try_get::<String, _>("key")?,
                ));
            }
            Ok(kept
                .iter()
                .zip(tenants)
                .map(|((_, k, _), tenant)| inserted.contains(&(tenant, k.key.to_owned())))
                .collect())
        }
    };
}

pub(in crate::store) use idempotency_store;
