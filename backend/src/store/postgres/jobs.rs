//! The job queue: table `jobs`, and the results it writes to `documents`. Claims lock the
//! row they take and skip rows others hold, so workers in several processes never take
//! one job twice nor wait for each other.

use std::time::Duration;

use super::*;

crate::store::sql::jobs::job_store!(PgStore);

use dialect::{DB_NOW, UNFLUSHED_COMMIT, lease_millis};

/// A claimed job's columns, from its job `j` and document `d`, with [`KEPT_BYTES`].
const CLAIMED: &str = "j.id, j.document_id, j.attempts, d.tenant_id, d.content_type, d.blob_key";
/// The bytes kept with a claimed document's row, if any: read with the claim, not by a
/// round trip of their own, and by key for each job (a join may be planned as a read of
/// the whole table).
const KEPT_BYTES: &str =
    "(SELECT b.bytes FROM document_bytes b WHERE b.document_id = j.document_id) AS inline_bytes";

impl PgStore {
    async fn claim(&self, owner: &str, lease: Duration, max: u32) -> Result<Vec<ClaimedJob>> {
        // One statement, a transaction of its own (no round trips to begin and commit
        // one): the jobs are taken and their documents marked `processing`. Leases
        // are the database's time, not any one process's. Jobs whose lease ran out come
        // first (few, and older than any queued one), then queued ones by `jobs_queued`:
        // one `OR` of both would be planned as a filtered walk through the whole table.
        // Each is a CTE of its own (no `FOR UPDATE` in a `UNION`); rows are locked only as
        // `next` reads them, so no more than it takes. Expired jobs are taken in
        // `jobs_ready`'s order, which reads only running jobs: in id order the planner
        // walks the primary key through every queued job to find them. The rows taken and
        // marked are found by key (`= ANY(ARRAY(…))`), never by a join the planner may
        // make a scan of the whole table: a plan cached while a table was small would
        // keep scanning it as it grew.
        //
        // The claim is committed without waiting for its flush (`synchronous_commit` off
        // for this transaction only, set with the row it returns, so only when it took
        // one). A claim lost to a crash of the database leaves the job to be claimed
        // again, which is what a crash does to a claimed job anyway, and a result written
        // under a lease another worker has since taken is dropped. The result is
        // committed and flushed as before, and with it everything logged earlier: one
        // disk flush per document fewer on a worker's path. A row that cannot be read
        // after the commit leaves its job claimed until its lease runs out, as a crash
        // of this process would.
        let claimed = sqlx::query(&format!(
            "WITH clock AS (SELECT {DB_NOW} AS now), \
             expired AS (SELECT id FROM jobs, clock \
                 WHERE state = 'running' AND lease_until < clock.now \
                 ORDER BY state, lease_until LIMIT $4 FOR UPDATE OF jobs SKIP LOCKED), \
             queued AS (SELECT id FROM jobs WHERE state = 'queued' \
                 ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED), \
             next AS (SELECT id FROM expired UNION ALL SELECT id FROM queued LIMIT $4), \
             taken AS (UPDATE jobs SET state = 'running', lease_owner = $1, \
                 lease_until = (SELECT now FROM clock) + $2, attempts = attempts + 1 \
                 WHERE jobs.id = ANY(ARRAY(SELECT id FROM next)) \
                 RETURNING jobs.id, jobs.document_id, jobs.attempts), \
             marked AS (UPDATE documents SET status = 'processing', updated_at = $3 \
                 WHERE documents.id = ANY(ARRAY(SELECT document_id FROM taken)) \
                 RETURNING documents.id, documents.tenant_id, documents.content_type, \
                     documents.blob_key) \
             SELECT {CLAIMED}, {KEPT_BYTES}, {UNFLUSHED_COMMIT} AS commit_mode \
             FROM taken j JOIN marked d ON d.id = j.document_id"
        ))
        .bind(owner)
        .bind(lease_millis(lease))
        .bind(millis(OffsetDateTime::now_utc()))
        .bind(i64::from(max))
        .fetch_all(&self.pool)
        .await?;
        let mut jobs = claimed
            .iter()
            .map(claimed_from_row)
            .collect::<Result<Vec<_>>>()?;
        // Oldest first, as the queue's order.
        jobs.sort_by_key(|j| j.job_id);
        Ok(jobs)
    }

    async fn take_running(&self, owner: &str) -> Result<Vec<ClaimedJob>> {
        let rows = sqlx::query(&format!(
            "WITH taken AS (UPDATE jobs SET lease_owner = $1 WHERE state = 'running' \
                 RETURNING id, document_id, attempts) \
             SELECT {CLAIMED}, {KEPT_BYTES} FROM taken j JOIN documents d ON d.id = j.document_id"
        ))
        .bind(owner)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(claimed_from_row).collect()
    }
}
