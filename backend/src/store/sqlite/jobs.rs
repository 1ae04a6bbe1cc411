//! The job queue: table `jobs`, and the results it writes to `documents`.

use std::time::Duration;

use super::*;

crate::store::sql::jobs::job_store!(SqliteStore);

/// One process owns the file: its clock is the store's, and SQLite's single writer makes
/// each claim atomic.
impl SqliteStore {
    async fn claim(&self, owner: &str, lease: Duration) -> Result<Option<ClaimedJob>> {
        // One process owns the file: its clock is the store's.
        let now = OffsetDateTime::now_utc();
        let lease_until = now + lease;
        let mut tx = self.pool.begin().await?;
        // Both statements choose the oldest claimable job alike (nothing changes the jobs
        // in between, and the first write holds SQLite's write lock to the commit), so
        // they go together: one hand-off to the connection's thread. The first writes, so
        // SQLite takes the write lock up front (a deferred read-then-write transaction
        // could fail to upgrade under contention).
        static CLAIM: std::sync::LazyLock<[String; 2]> = std::sync::LazyLock::new(|| {
            let claimable = |column: &str| {
                format!(
                    "SELECT {column} FROM jobs WHERE state = 'queued' \
                     OR (state = 'running' AND lease_until < $3) ORDER BY id LIMIT 1"
                )
            };
            [
                format!(
                    "UPDATE documents SET status = 'processing', updated_at = $3 WHERE id = ({}) \
                     RETURNING tenant_id, content_type, blob_key",
                    claimable("document_id")
                ),
                format!(
                    "UPDATE jobs SET state = 'running', lease_owner = $1, lease_until = $2, \
                     attempts = attempts + 1 WHERE id = ({}) RETURNING id, document_id, attempts",
                    claimable("id")
                ),
            ]
        });
        let mut batch = Batch::default();
        for sql in CLAIM.iter() {
            batch.push(
                sql.as_str(),
                vec![owner.into(), millis(lease_until).into(), millis(now).into()],
            );
        }
        let rows = dialect::run_batch(&mut tx, &batch).await?;
        let [doc, row] = &rows[..] else {
            if rows.is_empty() {
                return Ok(None);
            }
            return Err(Error::Corrupt(format!(
                "a claim returned {} rows",
                rows.len()
            )));
        };
        let job_id: i64 = row.try_get("id")?;
        let document_id: String = row.try_get("document_id")?;
        let attempts: i64 = row.try_get("attempts")?;
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
        self.forget_cached(job.document_id);
        Ok(Some(job))
    }

    async fn take_running(&self, owner: &str) -> Result<Vec<ClaimedJob>> {
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
        rows.iter().map(claimed_from_row).collect()
    }
}
