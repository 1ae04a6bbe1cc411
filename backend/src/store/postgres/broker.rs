//! The embedded Pact Broker: table `broker_records`, in the SQL both stores share.

use super::*;
use crate::store::sql::broker as sql;
use docintel_broker::{Record, RecordStore, StoreError, StoreResult};

fn record(r: &PgRow) -> StoreResult<Record> {
    let field = |name: &str| r.try_get(name).map_err(StoreError::new);
    Ok(Record {
        seq: r.try_get("seq").map_err(StoreError::new)?,
        scope: field("scope")?,
        key: field("key")?,
        body: field("body")?,
    })
}

#[async_trait]
impl RecordStore for PgStore {
    async fn broker_insert(
        &self,
        kind: &str,
        scope: &str,
        key: &str,
        body: &str,
    ) -> StoreResult<bool> {
        let done = sqlx::query(sql::INSERT)
            .bind(kind)
            .bind(scope)
            .bind(key)
            .bind(body)
            .execute(&self.pool)
            .await
            .map_err(StoreError::new)?;
        Ok(done.rows_affected() == 1)
    }

    async fn broker_replace(
        &self,
        kind: &str,
        scope: &str,
        key: &str,
        expected: &str,
        body: &str,
    ) -> StoreResult<bool> {
        let done = sqlx::query(sql::REPLACE)
            .bind(kind)
            .bind(scope)
            .bind(key)
            .bind(expected)
            .bind(body)
            .execute(&self.pool)
            .await
            .map_err(StoreError::new)?;
        Ok(done.rows_affected() == 1)
    }

    async fn broker_get(&self, kind: &str, scope: &str, key: &str) -> StoreResult<Option<Record>> {
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

    async fn broker_list(&self, kind: &str, scope: Option<&str>) -> StoreResult<Vec<Record>> {
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

    async fn broker_list_in(&self, kind: &str, scopes: &[String]) -> StoreResult<Vec<Record>> {
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

    async fn broker_delete(&self, kind: &str, scope: &str, key: Option<&str>) -> StoreResult<u64> {
        let done = sqlx::query(sql::DELETE)
            .bind(kind)
            .bind(scope)
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(StoreError::new)?;
        Ok(done.rows_affected())
    }
}
