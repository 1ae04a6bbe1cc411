//! The audit trail (table `audit_events`): one SQL text for both stores.

/// Implements `AuditStore` for `$store`, whose module provides `pool` and `dialect`.
/// Also defines `write_audit`, which every audited write calls inside its transaction.
macro_rules! audit_store {
    ($store:ty) => {
        #[async_trait]
        impl crate::store::AuditStore for $store {
            async fn audit_events(
                &self,
                tenant: Option<TenantId>,
                filter: &crate::audit::AuditFilter,
                before: Option<i64>,
                limit: u32,
            ) -> Result<Vec<crate::audit::AuditEvent>> {
                // Every condition is bound; an absent one binds NULL and holds for all rows.
                // An action ending in `.` is a prefix, whose `_` and `%` are not wildcards.
                let (exact, prefix) = match filter.action.as_deref() {
                    Some(a) if a.ends_with('.') => {
                        let escaped = a.replace('!', "!!").replace('_', "!_").replace('%', "!%");
                        (None, Some(format!("{escaped}%")))
                    }
                    Some(a) => (Some(a.to_owned()), None),
                    None => (None, None),
                };
                let rows = sqlx::query(
                    "SELECT seq, tenant_id, at, actor, action, resource_type, resource_id, \
                     address, request_id FROM audit_events \
                     WHERE (CAST($1 AS TEXT) IS NULL OR tenant_id = $1) \
                     AND (CAST($2 AS BIGINT) IS NULL OR seq < $2) \
                     AND (CAST($3 AS TEXT) IS NULL OR action = $3) \
                     AND (CAST($4 AS TEXT) IS NULL OR action LIKE $4 ESCAPE '!') \
                     AND (CAST($5 AS BIGINT) IS NULL OR at >= $5) \
                     AND (CAST($6 AS BIGINT) IS NULL OR at < $6) \
                     ORDER BY seq DESC LIMIT $7",
                )
                .bind(tenant.map(|t| t.0.to_string()))
                .bind(before)
                .bind(exact)
                .bind(prefix)
                .bind(filter.since.map(millis))
                .bind(filter.until.map(millis))
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|r| {
                        let tenant: String = r.try_get("tenant_id")?;
                        Ok(crate::audit::AuditEvent {
                            seq: r.try_get("seq")?,
                            at: from_millis(r.try_get("at")?)?,
                            tenant: TenantId(parse_uuid(&tenant)?),
                            actor: r.try_get("actor")?,
                            action: r.try_get("action")?,
                            resource_type: r.try_get("resource_type")?,
                            resource_id: r.try_get("resource_id")?,
                            address: r.try_get("address")?,
                            request_id: r.try_get("request_id")?,
                        })
                    })
                    .collect()
            }

            async fn purge_audit_events(&self, before: OffsetDateTime, limit: u32) -> Result<u64> {
                let r = sqlx::query(
                    "DELETE FROM audit_events WHERE seq IN \
                     (SELECT seq FROM audit_events WHERE at < $1 ORDER BY at LIMIT $2)",
                )
                .bind(millis(before))
                .bind(i64::from(limit))
                .execute(&self.pool)
                .await?;
                Ok(r.rows_affected())
            }
        }

        /// Appends `change` to the audit trail inside the caller's transaction, when the
        /// task runs for an identified caller (see [`crate::audit`]); the system's own
        /// writes are not recorded.
        pub(super) async fn write_audit(
            tx: &mut sqlx::Transaction<'_, dialect::Db>,
            change: crate::audit::Change<'_>,
        ) -> Result<()> {
            let mut batch = Batch::default();
            push_audit(&mut batch, change);
            dialect::run_batch(tx, &batch).await?;
            Ok(())
        }

        /// [`write_audit`]'s statement (when there is one), added to `batch`.
        pub(super) fn push_audit(batch: &mut Batch<'_>, change: crate::audit::Change<'_>) {
            if let Some(caller) = crate::audit::current() {
                push_audits(batch, [(&caller, change)]);
            }
        }

        /// One statement for the entries of `changes` made by a tenant's caller (an
        /// operator's changes of no tenant are not in any tenant's trail).
        pub(super) fn push_audits<'c>(
            batch: &mut Batch<'_>,
            changes: impl IntoIterator<Item = (&'c crate::audit::Caller, crate::audit::Change<'c>)>,
        ) {
            let at = millis(OffsetDateTime::now_utc());
            let mut values = Vec::new();
            for (caller, change) in changes {
                let Some(tenant) = caller.tenant else {
                    continue;
                };
                let resource: String = change
                    .resource_id
                    .chars()
                    .take(crate::audit::MAX_RESOURCE_CHARS)
                    .collect();
                values.extend([
                    tenant.0.to_string().into(),
                    at.into(),
                    caller.actor.clone().unwrap_or_default().into(),
                    change.action.to_owned().into(),
                    change.resource_type.to_owned().into(),
                    resource.into(),
                    caller.address.clone().into(),
                    caller.request_id.clone().into(),
                ]);
            }
            if values.is_empty() {
                return;
            }
            batch.push_rows(
                "INSERT INTO audit_events (tenant_id, at, actor, action, resource_type, \
                 resource_id, address, request_id) {rows}"
                    .to_owned(),
                "($1, $2, $3, $4, $5, $6, $7, $8)",
                values,
            );
        }

        /// Commits `tx`, with `change` in the trail when `changed`; whether it changed.
        pub(super) async fn audited(
            mut tx: sqlx::Transaction<'_, dialect::Db>,
            changed: bool,
            change: crate::audit::Change<'_>,
        ) -> Result<bool> {
            if changed {
                write_audit(&mut tx, change).await?;
            }
            tx.commit().await?;
            Ok(changed)
        }
    };
}

pub(in crate::store) use audit_store;
