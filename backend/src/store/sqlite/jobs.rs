//! The job queue: table `jobs`, and the results it writes to `documents`.

use std::time::Duration;

use super::*;

#[async_trait]
impl JobStore for SqliteStore {
    async fn claim_job(&self, owner: &str, lease: Duration) -> Result<Option<ClaimedJob>> {
        // One process owns the file: its clock is the store's.
        let now = OffsetDateTime::now_utc();
        let lease_until = now + lease;
        let mut tx = self.pool.begin().await?;
        // The first statement writes, so SQLite takes the write lock up front (a deferred
        // read-then-write transaction could fail to upgrade under contention).
        let claimed = sqlx::query(
            "UPDATE jobs SET state = 'running', lease_owner = ?1, lease_until = ?2, \
             attempts = attempts + 1 \
             WHERE id = (SELECT id FROM jobs WHERE state = 'queued' \
                         OR (state = 'running' AND lease_until < ?3) ORDER BY id LIMIT 1) \
             RETURNING id, document_id, attempts",
        )
        .bind(owner)
        .bind(millis(lease_until))
        .bind(millis(now))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = claimed else {
            return Ok(None);
        };
        let job_id: i64 = row.try_get("id")?;
        let document_id: String = row.try_get("document_id")?;
        let attempts: i64 = row.try_get("attempts")?;
        let doc = sqlx::query(
            "UPDATE documents SET status = 'processing', updated_at = ?2 WHERE id = ?1 \
             RETURNING tenant_id, content_type, blob_key",
        )
        .bind(&document_id)
        .bind(millis(now))
        .fetch_one(&mut *tx)
        .await?;
        let content_type: String = doc.try_get("content_type")?;
        let tenant_id: String = doc.try_get("tenant_id")?;
        let job = ClaimedJob {
            job_id,
            document_id: parse_uuid(&document_id)?,
            tenant_id: TenantId(parse_uuid(&tenant_id)?),
            content_type: ContentType::parse(&content_type)
                .ok_or_else(|| Error::Corrupt(format!("content type {content_type:?}")))?,
            blob_key: doc.try_get("blob_key")?,
            attempts: attempts as u32,
        };
        tx.commit().await?;
        self.docs.forget(job.document_id);
        Ok(Some(job))
    }

    async fn renew_lease(&self, job_id: i64, owner: &str, lease: Duration) -> Result<bool> {
        let lease_until = OffsetDateTime::now_utc() + lease;
        let r = sqlx::query(
            "UPDATE jobs SET lease_until = ?3 WHERE id = ?1 AND lease_owner = ?2 AND state = 'running'",
        )
        .bind(job_id)
        .bind(owner)
        .bind(millis(lease_until))
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn complete_job(
        &self,
        job: &ClaimedJob,
        owner: &str,
        result: &JobResult,
        events: &[Event],
        now: OffsetDateTime,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let removed = sqlx::query(
            "DELETE FROM jobs WHERE id = ?1 AND lease_owner = ?2 AND state = 'running'",
        )
        .bind(job.job_id)
        .bind(owner)
        .execute(&mut *tx)
        .await?;
        if removed.rows_affected() != 1 {
            // Lost the lease (another worker owns it now) or the document was deleted.
            return Ok(false);
        }
        let id = job.document_id.to_string();
        sqlx::query("UPDATE documents SET attempts = ?2 WHERE id = ?1")
            .bind(&id)
            .bind(i64::from(job.attempts))
            .execute(&mut *tx)
            .await?;
        let now = millis(now);
        match result {
            JobResult::Processed {
                text,
                extracted,
                warnings,
                classification,
                thumbnail_key,
            } => {
                let classification_json = classification.as_ref().map(to_json).transpose()?;
                sqlx::query(
                    "UPDATE documents SET status = 'processed', failure = NULL, extracted = ?2, \
                     warnings = ?3, updated_at = ?4, classification = ?5, thumbnail_key = ?6 \
                     WHERE id = ?1",
                )
                .bind(&id)
                .bind(to_json(extracted)?)
                .bind(to_json(warnings)?)
                .bind(now)
                .bind(classification_json)
                .bind(thumbnail_key)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO document_texts (document_id, text) VALUES (?1, ?2) \
                     ON CONFLICT (document_id) DO UPDATE SET text = excluded.text",
                )
                .bind(&id)
                .bind(text)
                .execute(&mut *tx)
                .await?;
            }
            JobResult::Failed { reason } => {
                sqlx::query(
                    "UPDATE documents SET status = 'failed', failure = ?2, updated_at = ?3 \
                     WHERE id = ?1",
                )
                .bind(&id)
                .bind(reason)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
        }
        write_outbox(&mut tx, events, now).await?;
        tx.commit().await?;
        self.docs.forget(job.document_id);
        Ok(true)
    }

    async fn release_all_leases(&self) -> Result<u64> {
        let r = sqlx::query(
            "UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_until = NULL \
             WHERE state = 'running'",
        )
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected())
    }

    async fn release_leases_of(&self, owner_prefix: &str) -> Result<u64> {
        let r = sqlx::query(
            "UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_until = NULL, \
             attempts = attempts - 1 \
             WHERE state = 'running' AND attempts > 0 AND substr(lease_owner, 1, length(?1)) = ?1",
        )
        .bind(owner_prefix)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected())
    }

    async fn take_running_jobs(&self, owner: &str) -> Result<Vec<ClaimedJob>> {
        let rows = sqlx::query(
            "UPDATE jobs SET lease_owner = ?1 WHERE state = 'running' \
             RETURNING id, attempts, (SELECT content_type FROM documents d \
             WHERE d.id = document_id) AS content_type, (SELECT blob_key FROM documents d \
             WHERE d.id = document_id) AS blob_key, (SELECT tenant_id FROM documents d \
             WHERE d.id = document_id) AS tenant_id, document_id",
        )
        .bind(owner)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let content_type: String = r.try_get("content_type")?;
                let document_id: String = r.try_get("document_id")?;
                let attempts: i64 = r.try_get("attempts")?;
                let tenant_id: String = r.try_get("tenant_id")?;
                Ok(ClaimedJob {
                    job_id: r.try_get("id")?,
                    document_id: parse_uuid(&document_id)?,
                    tenant_id: TenantId(parse_uuid(&tenant_id)?),
                    content_type: ContentType::parse(&content_type)
                        .ok_or_else(|| Error::Corrupt(format!("content type {content_type:?}")))?,
                    blob_key: r.try_get("blob_key")?,
                    attempts: attempts as u32,
                })
            })
            .collect()
    }

    async fn queue_depth(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs")
            .fetch_one(&self.pool)
            .await?;
        Ok(n as u64)
    }
}
