//! The job queue: table `jobs`, and the results it writes to `documents`.

use std::time::Duration;

use super::*;

crate::store::sql::jobs::job_store!(SqliteStore);

/// One process owns the file: its clock is the store's, and SQLite's single writer makes
/// each claim atomic.
impl SqliteStore {
    async fn claim(&self, owner: &str, lease: Duration, max: u32) -> Result<Vec<ClaimedJob>> {
        // One process owns the file: its clock is the store's.
        let now = OffsetDateTime::now_utc();
        let lease_until = now + lease;
        let mut tx = self.pool.begin().await?;
        // Both statements choose the oldest claimable jobs alike (nothing changes the jobs
        // in between, and the first write holds SQLite's write lock to the commit), so
        // they go together: one hand-off to the connection's thread. The first writes, so
        // SQLite takes the write lock up front (a deferred read-then-write transaction
        // could fail to upgrade under contention).
        static CLAIM: std::sync::LazyLock<[String; 2]> = std::sync::LazyLock::new(|| {
            let claimable = |column: &str| {
                format!(
                    "SELECT {column} FROM jobs WHERE state = 'queued' \
                     OR (state = 'running' AND lease_until < $3) ORDER BY id LIMIT $4"
                )
            };
            [
                format!(
                    "UPDATE documents SET status = 'processing', updated_at = $3 WHERE id IN ({}) \
                     RETURNING id, tenant_id, content_type, blob_key, (SELECT bytes FROM \
                     document_bytes b WHERE b.document_id = documents.id) AS inline_bytes",
                    claimable("document_id")
                ),
                format!(
                    "UPDATE jobs SET state = 'running', lease_owner = $1, lease_until = $2, \
                     attempts = attempts + 1 WHERE id IN ({}) RETURNING id, document_id, attempts",
                    claimable("id")
                ),
            ]
        });
        let mut batch = Batch::default();
        for sql in CLAIM.iter() {
            batch.push(
                sql.as_str(),
                vec![
                    owner.into(),
                    millis(lease_until).into(),
                    millis(now).into(),
                    i64::from(max).into(),
                ],
            );
        }
        let rows = dialect::run_batch(&mut tx, &batch).await?;
        // The documents' rows come first, then the jobs' (as many: every job has its
        // document), each in no set order.
        if rows.len() % 2 != 0 {
            return Err(Error::Corrupt(format!(
                "a claim returned {} rows, not a document's and a job's each",
                rows.len()
            )));
        }
        let (docs, jobs) = rows.split_at(rows.len() / 2);
        let mut docs: std::collections::HashMap<String, &SqliteRow> = docs
            .iter()
            .map(|d| Ok((d.try_get::<String, _>("id")?, d)))
            .collect::<Result<_>>()?;
        let mut claimed = Vec::with_capacity(jobs.len());
        for row in jobs {
            let document_id: String = row.try_get("document_id")?;
            let doc = docs.remove(&document_id).ok_or_else(|| {
                Error::Corrupt(format!(
                    "a claimed job's document {document_id} was not marked"
                ))
            })?;
            let content_type: String = doc.try_get("content_type")?;
            let tenant_id: String = doc.try_get("tenant_id")?;
            claimed.push(ClaimedJob {
                job_id: row.try_get("id")?,
                document_id: parse_uuid(&document_id)?,
                tenant_id: TenantId(parse_uuid(&tenant_id)?),
                content_type: ContentType::parse(&content_type)
                    .ok_or_else(|| Error::Corrupt(format!("content type {content_type:?}")))?,
                blob_key: doc.try_get("blob_key")?,
                attempts: row.try_get::<i64, _>("attempts")? as u32,
                inline_bytes: doc
                    .try_get::<Option<Vec<u8>>, _>("inline_bytes")?
                    .map(crate::store::InlineBytes),
            });
        }
        if !docs.is_empty() {
            return Err(Error::Corrupt(format!(
                "a claim marked {} documents without a job",
                docs.len()
            )));
        }
        if claimed.is_empty() {
            return Ok(claimed);
        }
        tx.commit().await?;
        for job in &claimed {
            self.forget_cached(job.document_id);
        }
        // Oldest first, as the queue's order.
        claimed.sort_by_key(|j| j.job_id);
        Ok(claimed)
    }

    async fn take_running(&self, owner: &str) -> Result<Vec<ClaimedJob>> {
        let rows = sqlx::query(
            "UPDATE jobs SET lease_owner = ?1 WHERE state = 'running' \
             RETURNING id, attempts, (SELECT content_type FROM documents d \
             WHERE d.id = document_id) AS content_type, (SELECT blob_key FROM documents d \
             WHERE d.id = document_id) AS blob_key, (SELECT tenant_id FROM documents d \
             WHERE d.id = document_id) AS tenant_id, document_id, (SELECT bytes FROM \
             document_bytes b WHERE b.document_id = jobs.document_id) AS inline_bytes",
        )
        .bind(owner)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(claimed_from_row).collect()
    }
}
