//! Tenants, API keys, rate limits and settings (tables `tenants`, `api_keys`, `settings`,
//! `rate_windows`, `tenant_rate_limits`): one SQL text for both stores, expanded into each.

/// Implements `TenantStore` for `$store`, whose module provides `pool` and `dialect`.
macro_rules! tenant_store {
    ($store:ty, $row:ty) => {
        /// A key's stored scopes: NULL holds every one.
        fn key_scopes(text: Option<String>) -> Result<crate::keys::Scopes> {
            match text {
                None => Ok(crate::keys::Scopes::ALL),
                Some(t) => crate::keys::Scopes::parse_text(&t).map_err(crate::Error::Corrupt),
            }
        }

        #[async_trait]
        impl TenantStore for $store {
            async fn create_tenant(&self, name: &str, now: OffsetDateTime) -> Result<Tenant> {
                let id = Uuid::now_v7();
                let mut tx = self.pool.begin().await?;
                sqlx::query("INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3)")
                    .bind(id.to_string())
                    .bind(name)
                    .bind(millis(now))
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("INSERT INTO tenant_usage (tenant_id) VALUES ($1)")
                    .bind(id.to_string())
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(Tenant {
                    id: TenantId(id),
                    name: name.to_owned(),
                })
            }

            async fn tenant_by_name(&self, name: &str) -> Result<Option<Tenant>> {
                sqlx::query("SELECT id, name FROM tenants WHERE name = $1")
                    .bind(name)
                    .fetch_optional(&self.pool)
                    .await?
                    .as_ref()
                    .map(tenant_from_row)
                    .transpose()
            }

            async fn tenant_count(&self) -> Result<u64> {
                let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tenants")
                    .fetch_one(&self.pool)
                    .await?;
                Ok(n as u64)
            }

            async fn add_api_key(&self, tenant: TenantId, key: crate::store::NewKey<'_>) -> Result<()> {
                // Every scope is stored as NULL, so a scope added later is held by keys
                // that were made to hold every one.
                let scopes = (key.scopes != crate::keys::Scopes::ALL).then(|| key.scopes.to_text());
                let mut tx = self.pool.begin().await?;
                sqlx::query(
                    "INSERT INTO api_keys \
                     (key_hash, tenant_id, prefix, created_at, admin, scopes, expires_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(key.key_hash)
                .bind(tenant.0.to_string())
                .bind(key.prefix)
                .bind(millis(key.now))
                .bind(key.admin)
                .bind(scopes)
                .bind(key.expires_at.map(millis))
                .execute(&mut *tx)
                .await?;
                let id = crate::keys::key_id(key.key_hash);
                write_audit(&mut tx, crate::audit::Change::of("key.create", "key", &id)).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn key_grant(&self, key_hash: &str) -> Result<Option<crate::keys::KeyGrant>> {
                let Some(row) = sqlx::query(
                    "SELECT t.id, t.name, k.admin, k.scopes, k.expires_at \
                     FROM api_keys k JOIN tenants t ON t.id = k.tenant_id \
                     WHERE k.key_hash = $1 AND k.revoked_at IS NULL",
                )
                .bind(key_hash)
                .fetch_optional(&self.pool)
                .await?
                else {
                    return Ok(None);
                };
                Ok(Some(crate::keys::KeyGrant {
                    tenant: tenant_from_row(&row)?,
                    id: crate::keys::key_id(key_hash),
                    scopes: key_scopes(row.try_get("scopes")?)?,
                    admin: row.try_get("admin")?,
                    expires_at: row.try_get::<Option<i64>, _>("expires_at")?.map(from_millis).transpose()?,
                }))
            }

            async fn api_keys(&self, tenant: TenantId) -> Result<Vec<crate::keys::ApiKey>> {
                let rows = sqlx::query(
                    "SELECT key_hash, prefix, admin, scopes, created_at, last_used_at, expires_at, \
                     revoked_at FROM api_keys WHERE tenant_id = $1 ORDER BY created_at, key_hash",
                )
                .bind(tenant.0.to_string())
                .fetch_all(&self.pool)
                .await?;
                let time = |r: &_, name: &str| -> Result<Option<OffsetDateTime>> {
                    let r: &$row = r;
                    r.try_get::<Option<i64>, _>(name)?.map(from_millis).transpose()
                };
                rows.iter()
                    .map(|r| {
                        Ok(crate::keys::ApiKey {
                            id: crate::keys::key_id(&r.try_get::<String, _>("key_hash")?),
                            prefix: r.try_get("prefix")?,
                            scopes: key_scopes(r.try_get("scopes")?)?,
                            admin: r.try_get("admin")?,
                            created_at: from_millis(r.try_get("created_at")?)?,
                            last_used_at: time(r, "last_used_at")?,
                            expires_at: time(r, "expires_at")?,
                            revoked_at: time(r, "revoked_at")?,
                        })
                    })
                    .collect()
            }

            async fn revoke_api_key(
                &self,
                tenant: TenantId,
                id: &str,
                now: OffsetDateTime,
            ) -> Result<bool> {
                // The id is `key_` and the digest's first 16 hex digits.
                let Some(digits) = crate::keys::key_id_digits(id) else {
                    return Ok(false);
                };
                let mut tx = self.pool.begin().await?;
                let done = sqlx::query(
                    "UPDATE api_keys SET revoked_at = $3 \
                     WHERE tenant_id = $1 AND substr(key_hash, 1, 16) = $2 AND revoked_at IS NULL",
                )
                .bind(tenant.0.to_string())
                .bind(digits)
                .bind(millis(now))
                .execute(&mut *tx)
                .await?;
                audited(tx, done.rows_affected() > 0, crate::audit::Change::of("key.revoke", "key", id)).await
            }

            async fn touch_api_key(&self, key_hash: &str, now: OffsetDateTime) -> Result<()> {
                sqlx::query("UPDATE api_keys SET last_used_at = $2 WHERE key_hash = $1")
                    .bind(key_hash)
                    .bind(millis(now))
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn key_generation(&self) -> Result<i64> {
                Ok(sqlx::query_scalar("SELECT n FROM key_generation WHERE id = 1")
                    .fetch_one(&self.pool)
                    .await?)
            }


            async fn setting_or_init(&self, key: &str, value: &str) -> Result<String> {
                sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                    .bind(key)
                    .bind(value)
                    .execute(&self.pool)
                    .await?;
                Ok(
                    sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
                        .bind(key)
                        .fetch_one(&self.pool)
                        .await?,
                )
            }

            async fn lease_quota(
                &self,
                key_hash: &str,
                window_start: i64,
                want: u32,
                quota: u32,
            ) -> Result<crate::store::QuotaLease> {
                // One upsert under the row's lock: SET reads the row as it was, so `last_grant`
                // is exactly what this call added.
                let (got, granted): (i64, i64) = sqlx::query_as(&format!(
                    "INSERT INTO rate_windows (key_hash, window_start, granted, last_grant) \
                     VALUES ($1, $2, {least}($3, $4), {least}($3, $4)) \
                     ON CONFLICT (key_hash, window_start) DO UPDATE SET \
                         granted = {least}(rate_windows.granted + $3, $4), \
                         last_grant = {least}(rate_windows.granted + $3, $4) - rate_windows.granted \
                     RETURNING CAST(last_grant AS BIGINT), CAST(granted AS BIGINT)",
                    least = dialect::LEAST,
                ))
                .bind(key_hash)
                .bind(window_start)
                .bind(i64::from(want))
                .bind(i64::from(quota))
                .fetch_one(&self.pool)
                .await?;
                let count = |n: i64| u32::try_from(n.max(0)).unwrap_or(u32::MAX);
                Ok(crate::store::QuotaLease {
                    got: count(got),
                    granted: count(granted),
                })
            }

            async fn forget_quota_windows(&self, before: i64) -> Result<u64> {
                let r = sqlx::query("DELETE FROM rate_windows WHERE window_start < $1")
                    .bind(before)
                    .execute(&self.pool)
                    .await?;
                Ok(r.rows_affected())
            }

            async fn rate_limits(&self) -> Result<Vec<(TenantId, u32, u32)>> {
                let rows = sqlx::query("SELECT tenant_id, quota, window_secs FROM tenant_rate_limits")
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter()
                    .map(|r| {
                        Ok((
                            TenantId(parse_uuid(&r.try_get::<String, _>("tenant_id")?)?),
                            r.try_get::<i64, _>("quota")? as u32,
                            r.try_get::<i64, _>("window_secs")? as u32,
                        ))
                    })
                    .collect()
            }

            async fn tenant_usage(&self, tenant: TenantId) -> Result<StoredUsage> {
                let mut tx = self.pool.begin().await?;
                let usage = super::documents::usage_row(&mut tx, tenant).await?;
                tx.commit().await?;
                // No row yet: nothing stored, no quota of its own.
                Ok(usage.unwrap_or_default())
            }

            async fn set_storage_quota(
                &self,
                tenant: TenantId,
                max_bytes: QuotaSetting,
                max_documents: QuotaSetting,
            ) -> Result<()> {
                // (keep it, its value): NULL is the default.
                let column = |s: QuotaSetting| match s {
                    QuotaSetting::Keep => (true, None),
                    QuotaSetting::Default => (false, None),
                    QuotaSetting::Set(limit) => (false, Some(quota_column(limit))),
                };
                let (keep_bytes, bytes) = column(max_bytes);
                let (keep_documents, documents) = column(max_documents);
                let mut tx = self.pool.begin().await?;
                sqlx::query(
                    "INSERT INTO tenant_usage (tenant_id) VALUES ($1) ON CONFLICT (tenant_id) DO NOTHING",
                )
                .bind(tenant.0.to_string())
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "UPDATE tenant_usage SET \
                     max_bytes = CASE WHEN $2 THEN max_bytes ELSE $3 END, \
                     max_documents = CASE WHEN $4 THEN max_documents ELSE $5 END \
                     WHERE tenant_id = $1",
                )
                .bind(tenant.0.to_string())
                .bind(keep_bytes)
                .bind(bytes)
                .bind(keep_documents)
                .bind(documents)
                .execute(&mut *tx)
                .await?;
                let tenant_id = tenant.0.to_string();
                write_audit(&mut tx, crate::audit::Change::of("tenant.quota", "tenant", &tenant_id)).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn set_rate_limit(&self, tenant: TenantId, limit: Option<(u32, u32)>) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                match limit {
                    Some((quota, window)) => {
                        sqlx::query(
                            "INSERT INTO tenant_rate_limits (tenant_id, quota, window_secs) \
                             VALUES ($1, $2, $3) ON CONFLICT (tenant_id) DO UPDATE \
                             SET quota = excluded.quota, window_secs = excluded.window_secs",
                        )
                        .bind(tenant.0.to_string())
                        .bind(i64::from(quota))
                        .bind(i64::from(window))
                        .execute(&mut *tx)
                        .await?;
                    }
                    None => {
                        sqlx::query("DELETE FROM tenant_rate_limits WHERE tenant_id = $1")
                            .bind(tenant.0.to_string())
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                let tenant_id = tenant.0.to_string();
                write_audit(&mut tx, crate::audit::Change::of("tenant.rate_limit", "tenant", &tenant_id)).await?;
                tx.commit().await?;
                Ok(())
            }
        }
    };
}

pub(in crate::store) use tenant_store;
