//! The SQL of the embedded Pact Broker's records, one text for SQLite and PostgreSQL
//! (sqlx binds `$N` by position on both), so the two stores cannot drift apart.

pub const INSERT: &str = "INSERT INTO broker_records (kind, scope, key, body) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (kind, scope, key) DO NOTHING";

pub const REPLACE: &str = "UPDATE broker_records SET body = $5 \
     WHERE kind = $1 AND scope = $2 AND key = $3 AND body = $4";

pub const GET: &str = "SELECT seq, scope, key, body FROM broker_records \
     WHERE kind = $1 AND scope = $2 AND key = $3";

// Two statements, not `(scope IS NULL OR scope = …)`: with the OR the planner can only
// use the index's `kind` prefix, and a scoped list would read every record of its kind.
pub const LIST_IN_SCOPE: &str = "SELECT seq, scope, key, body FROM broker_records \
     WHERE kind = $1 AND scope = $2 ORDER BY seq";

pub const LIST: &str =
    "SELECT seq, scope, key, body FROM broker_records WHERE kind = $1 ORDER BY seq";

pub const GENERATION: &str = "SELECT n FROM broker_generation WHERE id = 1";

pub const SCOPES: &str = "SELECT DISTINCT scope FROM broker_records WHERE kind = $1 ORDER BY scope";

// The CAST: PostgreSQL cannot tell a parameter's type from `IS NULL` alone.
pub const DELETE: &str = "DELETE FROM broker_records \
     WHERE kind = $1 AND scope = $2 AND (CAST($3 AS TEXT) IS NULL OR key = $3)";

/// The most scopes one statement lists: far below either database's limit on parameters.
pub const SCOPES_PER_QUERY: usize = 1000;

/// The records of `$1` in the `n` scopes bound after it.
pub fn list_in(n: usize) -> String {
    format!(
        "SELECT seq, scope, key, body FROM broker_records \
         WHERE kind = $1 AND scope IN ({}) ORDER BY seq",
        scope_parameters(n)
    )
}

/// How many records of `$1` the `n` scopes bound after it hold, and their bytes.
pub fn usage(n: usize) -> String {
    format!(
        "SELECT COUNT(*), CAST(COALESCE(SUM(octet_length(body)), 0) AS BIGINT) \
         FROM broker_records WHERE kind = $1 AND scope IN ({})",
        scope_parameters(n)
    )
}

/// `$2, $3, …` for `n` scopes.
fn scope_parameters(n: usize) -> String {
    (2..n + 2)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `RecordStore` implementation of a store whose rows are `$row`: the same code for
/// both stores, over the SQL above.
macro_rules! broker_store {
    ($store:ty, $row:ty) => {
        fn record(r: &$row) -> StoreResult<Record> {
            let field = |name: &str| r.try_get(name).map_err(StoreError::new);
            Ok(Record {
                seq: r.try_get("seq").map_err(StoreError::new)?,
                scope: field("scope")?,
                key: field("key")?,
                body: field("body")?,
            })
        }

        /// Commits a broker write, recorded in the audit trail as
        /// `broker.{kind}.{verb}` on `scope/key` when it changed something.
        async fn broker_audited(
            tx: sqlx::Transaction<'_, dialect::Db>,
            changed: bool,
            verb: &str,
            kind: &str,
            scope: &str,
            key: Option<&str>,
        ) -> StoreResult<bool> {
            let action = format!("broker.{kind}.{verb}");
            let resource_type = format!("broker.{kind}");
            let resource = match key {
                Some(key) if scope.is_empty() => key.to_owned(),
                Some(key) => format!("{scope}/{key}"),
                None => scope.to_owned(),
            };
            let change = crate::audit::Change::of(&action, &resource_type, &resource);
            audited(tx, changed, change).await.map_err(StoreError::new)
        }

        #[async_trait]
        impl RecordStore for $store {
            async fn broker_insert(
                &self,
                kind: &str,
                scope: &str,
                key: &str,
                body: &str,
            ) -> StoreResult<bool> {
                let mut tx = self.pool.begin().await.map_err(StoreError::new)?;
                let done = sqlx::query(sql::INSERT)
                    .bind(kind)
                    .bind(scope)
                    .bind(key)
                    .bind(body)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::new)?;
                broker_audited(
                    tx,
                    done.rows_affected() == 1,
                    "create",
                    kind,
                    scope,
                    Some(key),
                )
                .await
            }

            async fn broker_replace(
                &self,
                kind: &str,
                scope: &str,
                key: &str,
                expected: &str,
                body: &str,
            ) -> StoreResult<bool> {
                let mut tx = self.pool.begin().await.map_err(StoreError::new)?;
                let done = sqlx::query(sql::REPLACE)
                    .bind(kind)
                    .bind(scope)
                    .bind(key)
                    .bind(expected)
                    .bind(body)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::new)?;
                broker_audited(
                    tx,
                    done.rows_affected() == 1,
                    "update",
                    kind,
                    scope,
                    Some(key),
                )
                .await
            }

            async fn broker_get(
                &self,
                kind: &str,
                scope: &str,
                key: &str,
            ) -> StoreResult<Option<Record>> {
                sqlx::query(sql::GET)
                    .bind(kind)
                    .bind(scope)
                    .bind(key)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(StoreError::new)?
                    .as_ref()
                    .map(record)
                    .transpose()
            }

            async fn broker_list(
                &self,
                kind: &str,
                scope: Option<&str>,
            ) -> StoreResult<Vec<Record>> {
                let query = match scope {
                    Some(scope) => sqlx::query(sql::LIST_IN_SCOPE).bind(kind).bind(scope),
                    None => sqlx::query(sql::LIST).bind(kind),
                };
                query
                    .fetch_all(&self.pool)
                    .await
                    .map_err(StoreError::new)?
                    .iter()
                    .map(record)
                    .collect()
            }

            async fn broker_list_in(
                &self,
                kind: &str,
                scopes: &[String],
            ) -> StoreResult<Vec<Record>> {
                let mut records = Vec::new();
                for chunk in scopes.chunks(sql::SCOPES_PER_QUERY) {
                    let text = sql::list_in(chunk.len());
                    let mut query = sqlx::query(&text).bind(kind);
                    for scope in chunk {
                        query = query.bind(scope);
                    }
                    for row in query.fetch_all(&self.pool).await.map_err(StoreError::new)? {
                        records.push(record(&row)?);
                    }
                }
                // Each statement is in creation order; more than one are merged into it.
                records.sort_by_key(|r| r.seq);
                Ok(records)
            }

            async fn broker_generation(&self) -> StoreResult<i64> {
                sqlx::query_scalar(sql::GENERATION)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(StoreError::new)
            }

            async fn broker_scopes(&self, kind: &str) -> StoreResult<Vec<String>> {
                sqlx::query_scalar(sql::SCOPES)
                    .bind(kind)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(StoreError::new)
            }

            async fn broker_usage(&self, kind: &str, scopes: &[String]) -> StoreResult<(u64, u64)> {
                let (mut count, mut bytes) = (0, 0);
                for chunk in scopes.chunks(sql::SCOPES_PER_QUERY) {
                    let text = sql::usage(chunk.len());
                    let mut query = sqlx::query_as::<_, (i64, i64)>(&text).bind(kind);
                    for scope in chunk {
                        query = query.bind(scope);
                    }
                    let (n, b) = query.fetch_one(&self.pool).await.map_err(StoreError::new)?;
                    count += n.max(0) as u64;
                    bytes += b.max(0) as u64;
                }
                Ok((count, bytes))
            }

            async fn broker_delete(
                &self,
                kind: &str,
                scope: &str,
                key: Option<&str>,
            ) -> StoreResult<u64> {
                let mut tx = self.pool.begin().await.map_err(StoreError::new)?;
                let done = sqlx::query(sql::DELETE)
                    .bind(kind)
                    .bind(scope)
                    .bind(key)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::new)?;
                broker_audited(tx, done.rows_affected() > 0, "delete", kind, scope, key).await?;
                Ok(done.rows_affected())
            }
        }
    };
}
pub(in crate::store) use broker_store;
