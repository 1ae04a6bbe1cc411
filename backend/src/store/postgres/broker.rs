//! The embedded Pact Broker: table `broker_records`.

use super::*;
use crate::store::{BrokerRecord, BrokerStore};

fn record(r: &PgRow) -> Result<BrokerRecord> {
    Ok(BrokerRecord {
        seq: r.try_get("seq")?,
        scope: r.try_get("scope")?,
        key: r.try_get("key")?,
        body: r.try_get("body")?,
    })
}

#[async_trait]
impl BrokerStore for PgStore {
    async fn broker_insert(&self, kind: &str, scope: &str, key: &str, body: &str) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO broker_records (kind, scope, key, body) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (kind, scope, key) DO NOTHING",
        )
        .bind(kind)
        .bind(scope)
        .bind(key)
        .bind(body)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn broker_replace(
        &self,
        kind: &str,
        scope: &str,
        key: &str,
        expected: &str,
        body: &str,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE broker_records SET body = $5 \
             WHERE kind = $1 AND scope = $2 AND key = $3 AND body = $4",
        )
        .bind(kind)
        .bind(scope)
        .bind(key)
        .bind(expected)
        .bind(body)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn broker_get(&self, kind: &str, scope: &str, key: &str) -> Result<Option<BrokerRecord>> {
        sqlx::query(
            "SELECT seq, scope, key, body FROM broker_records \
             WHERE kind = $1 AND scope = $2 AND key = $3",
        )
        .bind(kind)
        .bind(scope)
        .bind(key)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(record)
        .transpose()
    }

    async fn broker_list(&self, kind: &str, scope: Option<&str>) -> Result<Vec<BrokerRecord>> {
        // Two statements, not `(scope IS NULL OR scope = …)`: with the OR the planner can
        // only use the index's `kind` prefix, and a scoped list would read every record
        // of its kind.
        let query = match scope {
            Some(scope) => sqlx::query(
                "SELECT seq, scope, key, body FROM broker_records \
                 WHERE kind = $1 AND scope = $2 ORDER BY seq",
            )
            .bind(kind)
            .bind(scope),
            None => sqlx::query(
                "SELECT seq, scope, key, body FROM broker_records WHERE kind = $1 ORDER BY seq",
            )
            .bind(kind),
        };
        query
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(record)
            .collect()
    }

    async fn broker_list_in(&self, kind: &str, scopes: &[String]) -> Result<Vec<BrokerRecord>> {
        if scopes.is_empty() {
            return Ok(Vec::new());
        }
        sqlx::query(
            "SELECT seq, scope, key, body FROM broker_records \
             WHERE kind = $1 AND scope = ANY($2) ORDER BY seq",
        )
        .bind(kind)
        .bind(scopes)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(record)
        .collect()
    }

    async fn broker_scopes(&self, kind: &str) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT scope FROM broker_records WHERE kind = $1 ORDER BY scope",
        )
        .bind(kind)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn broker_usage(&self, kind: &str, scopes: &[String]) -> Result<(u64, u64)> {
        if scopes.is_empty() {
            return Ok((0, 0));
        }
        let (count, bytes): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(octet_length(body)), 0)::BIGINT FROM broker_records \
             WHERE kind = $1 AND scope = ANY($2)",
        )
        .bind(kind)
        .bind(scopes)
        .fetch_one(&self.pool)
        .await?;
        Ok((count.max(0) as u64, bytes.max(0) as u64))
    }

    async fn broker_delete(&self, kind: &str, scope: &str, key: Option<&str>) -> Result<u64> {
        let done = sqlx::query(
            "DELETE FROM broker_records WHERE kind = $1 AND scope = $2 AND ($3::TEXT IS NULL OR key = $3)",
        )
        .bind(kind)
        .bind(scope)
        .bind(key)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }
}
