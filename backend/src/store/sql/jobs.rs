//! The job queue (table `jobs`) and the results it writes to `documents`: one SQL text for
//! both stores.

/// Implements `JobStore` for `$store`, whose module provides `pool` and `dialect`.
macro_rules! job_store {
    ($store:ty) => {
        /// A claimed job, from its columns `id, document_id, attempts, tenant_id,
        /// content_type, blob_key, inline_bytes`.
        fn claimed_from_row(row: &<dialect::Db as sqlx::Database>::Row) -> Result<ClaimedJob> {
            let content_type: String = row.try_get("content_type")?;
            Ok(ClaimedJob {
                job_id: row.try_get("id")?,
                document_id: parse_uuid(&row.try_get::<String, _>("document_id")?)?,
                tenant_id: TenantId(parse_uuid(&row.try_get::<String, _>("tenant_id")?)?),
                content_type: ContentType::parse(&content_type)
                    .ok_or_else(|| Error::Corrupt(format!("content type {content_type:?}")))?,
                blob_key: row.try_get("blob_key")?,
                attempts: row.try_get::<i64, _>("attempts")? as u32,
                inline_bytes: row
                    .try_get::<Option<Vec<u8>>, _>("inline_bytes")?
                    .map(crate::store::InlineBytes),
            })
        }

        /// The statements that write documents' pages, several rows each (a page listed
        /// twice keeps its last layout).
        fn push_pages<'q>(batch: &mut Batch<'q>, documents: &[(&'q str, &'q [(u32, String)])]) {
            /// Rows per statement: few statements for a long document, well under either
            /// database's limit on values per statement.
            const ROWS: usize = 500;
            let rows: Vec<((&str, i32), &str)> = documents
                .iter()
                .flat_map(|(id, pages)| {
                    pages.iter().map(move |(n, layout)| {
                        ((*id, i32::try_from(*n).unwrap_or(i32::MAX)), layout.as_str())
                    })
                })
                .collect::<std::collections::BTreeMap<_, _>>()
                .into_iter()
                .collect();
            for chunk in rows.chunks(ROWS) {
                let mut values = Vec::with_capacity(3 * chunk.len());
                for ((id, number), layout) in chunk {
                    values.push((*id).into());
                    values.push((*number).into());
                    values.push((*layout).into());
                }
                batch.push_rows(
                    "INSERT INTO document_pages (document_id, number, layout) {rows} \
                     ON CONFLICT (document_id, number) DO UPDATE SET layout = excluded.layout"
                        .to_owned(),
                    "($1, $2, $3)",
                    values,
                );
            }
        }

        /// The writes that record `held` (results whose lease checks passed, with their
        /// documents' ids as text): each document's row, then the texts, pages and
        /// events of them all, a statement each (each statement is a round trip on
        /// PostgreSQL).
        fn push_results<'q>(batch: &mut Batch<'q>, held: &[(&'q str, &'q Completion<'q>)]) -> Result<()> {
            let mut texts: Vec<(&'q str, &'q str)> = Vec::new();
            let mut pages: Vec<(&'q str, &'q [(u32, String)])> = Vec::new();
            // The processed documents' rows: id, then the values of `PROCESSED`.
            let mut processed: Vec<crate::store::sql::Value<'q>> = Vec::new();
            for (id, c) in held {
                let attempts = i64::from(c.job.attempts);
                let now = millis(c.now);
                match c.result {
                    JobResult::Processed {
                        text,
                        extracted,
                        warnings,
                        classification,
                        thumbnail_key,
                        pages: layout,
                    } => {
                        let classification_json =
                            classification.as_ref().map(to_json).transpose()?;
                        processed.extend([
                            (*id).into(),
                            to_json(extracted)?.into(),
                            to_json(warnings)?.into(),
                            now.into(),
                            classification_json.into(),
                            thumbnail_key.as_deref().into(),
                            attempts.into(),
                        ]);
                        texts.push((id, text.as_str()));
                        pages.push((id, layout.as_slice()));
                    }
                    JobResult::Failed { reason, code } => {
                        batch.push(
                            "UPDATE documents SET status = 'failed', failure = $2, updated_at = $3, \
                             failure_code = $4, attempts = $5 WHERE id = $1",
                            vec![
                                (*id).into(),
                                reason.as_str().into(),
                                now.into(),
                                code.map(|c| c.as_str()).into(),
                                attempts.into(),
                            ],
                        );
                    }
                }
            }
            /// What a processed document's row is set to, from `$2` on (`$1` is its id),
            /// and its values' row.
            const PROCESSED: &str = "status = 'processed', failure = NULL, failure_code = NULL, \
                extracted = $2, warnings = $3, updated_at = $4, classification = $5, \
                thumbnail_key = $6, attempts = $7";
            const PROCESSED_ROW: &str = "($1, $2, $3, $4, $5, $6, $7)";
            if dialect::UPDATES_BY_ROWS {
                if !processed.is_empty() {
                    batch.push_rows(
                        format!(
                            // Found by key (`= ANY`): a join the planner may make a scan of
                            // the table, which a plan cached while it was small would keep.
                            "UPDATE documents SET {} FROM ({{rows}}) AS v WHERE documents.id = v.column1 \
                             AND documents.id = ANY(ARRAY(SELECT column1 FROM ({{rows}}) AS k))",
                            crate::store::sql::renumber(PROCESSED, |n| format!("v.column{n}"))
                        ),
                        PROCESSED_ROW,
                        processed,
                    );
                }
            } else {
                let mut values = processed.into_iter();
                while values.len() > 0 {
                    batch.push(
                        format!("UPDATE documents SET {PROCESSED} WHERE id = $1"),
                        values
                            .by_ref()
                            .take(crate::store::sql::row_width(PROCESSED_ROW))
                            .collect(),
                    );
                }
            }
            if !texts.is_empty() {
                batch.push_rows(
                    "INSERT INTO document_texts (document_id, text) {rows} \
                     ON CONFLICT (document_id) DO UPDATE SET text = excluded.text"
                        .to_owned(),
                    "($1, $2)",
                    texts.iter().flat_map(|(id, text)| [(*id).into(), (*text).into()]).collect(),
                );
            }
            push_pages(batch, &pages);
            // The outbox rows' time: the latest result's.
            let now = held.iter().map(|(_, c)| millis(c.now)).max().unwrap_or_default();
            push_outbox(batch, held.iter().flat_map(|(_, c)| c.events.iter()), now);
            Ok(())
        }

        impl $store {
            /// Ends the lease `owner` holds on a running job `lease` from now (the store's
            /// clock), setting `more` too; false when `owner` does not hold it.
            async fn move_lease(
                &self,
                job_id: i64,
                owner: &str,
                lease: Duration,
                more: &str,
            ) -> Result<bool> {
                let (until, value) = dialect::lease_until("$3", lease);
                let r = sqlx::query(&format!(
                    "UPDATE jobs SET lease_until = {until}{more} \
                     WHERE id = $1 AND lease_owner = $2 AND state = 'running' AND attempts > 0"
                ))
                .bind(job_id)
                .bind(owner)
                .bind(value)
                .execute(&self.pool)
                .await?;
                Ok(r.rows_affected() == 1)
            }
        }

        #[async_trait]
        impl JobStore for $store {
            async fn claim_jobs(
                &self,
                owner: &str,
                lease: Duration,
                max: u32,
            ) -> Result<Vec<ClaimedJob>> {
                // Claims are where the stores differ: row locks (PostgreSQL) or the single
                // writer (SQLite).
                self.claim(owner, lease, max).await
            }
            async fn renew_lease(&self, job_id: i64, owner: &str, lease: Duration) -> Result<bool> {
                self.move_lease(job_id, owner, lease, "").await
            }
            async fn defer_job(&self, job_id: i64, owner: &str, delay: Duration) -> Result<bool> {
                // A lease nobody renews, under an owner no worker has: it expires after
                // `delay` and any worker claims the job again (counting that claim, which
                // the decrement here offsets).
                self.move_lease(
                    job_id,
                    owner,
                    delay,
                    ", lease_owner = 'deferred', attempts = attempts - 1",
                )
                .await
            }
            async fn complete_jobs(&self, done: &[Completion<'_>]) -> Result<Vec<bool>> {
                if done.is_empty() {
                    return Ok(Vec::new());
                }
                // Not served from the cache from now until after the commit: what the commit
                // wakes (the webhook sender) reads the result, never the copy before it.
                let _changing: Vec<_> =
                    done.iter().map(|c| self.docs.changing(c.job.document_id)).collect();
                let ids: Vec<String> = done.iter().map(|c| c.job.document_id.to_string()).collect();
                let mut tx = self.pool.begin().await?;
                // The lease checks first, one statement for all: each locks its job before
                // any document (as a document's delete does). A job not deleted was lost
                // (another worker owns it now) or its document was deleted: nothing of
                // its result is written.
                let leases: Vec<(i64, &str)> = done.iter().map(|c| (c.job.job_id, c.owner)).collect();
                let deleted: std::collections::HashSet<i64> =
                    dialect::delete_held_jobs(&mut tx, &leases).await?.into_iter().collect();
                let recorded: Vec<bool> =
                    done.iter().map(|c| deleted.contains(&c.job.job_id)).collect();
                let held: Vec<(&str, &Completion<'_>)> = done
                    .iter()
                    .zip(&ids)
                    .filter(|(c, _)| deleted.contains(&c.job.job_id))
                    .map(|(c, id)| (id.as_str(), c))
                    .collect();
                // Their writes in one batch (on SQLite one hand-off to the connection's
                // thread).
                let mut batch = Batch::default();
                push_results(&mut batch, &held)?;
                dialect::run_batch(&mut tx, &batch).await?;
                tx.commit().await?;
                self.committed_unflushed();
                Ok(recorded)
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
                     WHERE state = 'running' AND attempts > 0 AND substr(lease_owner, 1, length($1)) = $1",
                )
                .bind(owner_prefix)
                .execute(&self.pool)
                .await?;
                Ok(r.rows_affected())
            }

            async fn take_running_jobs(&self, owner: &str) -> Result<Vec<ClaimedJob>> {
                self.take_running(owner).await
            }
            async fn queue_depth(&self) -> Result<u64> {
                let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs")
                    .fetch_one(&self.pool)
                    .await?;
                Ok(n as u64)
            }
        }
    };
}

pub(in crate::store) use job_store;
