//! What PostgreSQL spells differently from SQLite in the shared SQL (`store/sql/`).

use crate::error::Result;

pub(super) type Db = sqlx::Postgres;

pub(super) const LEAST: &str = "LEAST";

/// What a statement returns to make its transaction's commit not wait for its flush
/// (this transaction only); the flush then comes with `make_durable`.
pub(super) const UNFLUSHED_COMMIT: &str = "set_config('synchronous_commit', 'off', true)";

/// `param` is one of a list bound with [`list`] (an array).
pub(super) fn in_list(param: &str) -> String {
    format!("= ANY({param})")
}

pub(super) fn list<T: Clone>(items: &[T]) -> Result<Vec<T>> {
    Ok(items.to_vec())
}

/// Whether the JSON array in `array` (a text column) holds the string `value`.
pub(super) fn json_array_has(array: &str, value: &str) -> String {
    format!("{array}::jsonb ? {value}")
}

/// The JSON array in `array` with the string `value` appended, unless it holds it.
pub(super) fn json_array_add(array: &str, value: &str) -> String {
    format!(
        "CASE WHEN {array}::jsonb @> jsonb_build_array({value}::text) THEN {array} \
         ELSE ({array}::jsonb || jsonb_build_array({value}::text))::text END"
    )
}

/// Creates of one tenant's webhooks queue behind this lock (until the transaction ends),
/// so concurrent creates from any process cannot both pass the cap.
pub(super) async fn lock_tenant_webhooks(
    tx: &mut sqlx::Transaction<'_, Db>,
    tenant: crate::model::TenantId,
) -> Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(format!("webhooks:{}", tenant.0))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Locks a document's job row before the document's: a worker's claim locks the job,
/// then the document, and deleting the document would lock them the other way round
/// (its cascade to the job): two transactions each waiting for the other's row.
pub(super) async fn lock_document_job(
    tx: &mut sqlx::Transaction<'_, Db>,
    document: &str,
) -> Result<()> {
    sqlx::query("SELECT 1 FROM jobs WHERE document_id = $1 FOR UPDATE")
        .bind(document)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Deletes the running jobs among `leases` (job id, owner) that their owner still holds:
/// the ids deleted. One statement whatever their number.
pub(super) async fn delete_held_jobs(
    tx: &mut sqlx::Transaction<'_, Db>,
    leases: &[(i64, &str)],
) -> Result<Vec<i64>> {
    let (ids, owners): (Vec<i64>, Vec<&str>) = leases.iter().copied().unzip();
    Ok(sqlx::query_scalar(
        "DELETE FROM jobs USING unnest($1::bigint[], $2::text[]) AS held(id, owner) \
         WHERE jobs.id = held.id AND jobs.lease_owner = held.owner AND jobs.state = 'running' \
         RETURNING jobs.id",
    )
    .bind(ids)
    .bind(owners)
    .fetch_all(&mut **tx)
    .await?)
}

/// The advisory lock key of registry writes ("registry" in ASCII).
const REGISTRY_LOCK: i64 = 0x7265_6769_7374_7279;

/// Registry writes that number versions queue behind this lock (until the transaction
/// ends), so processes registering at once cannot collide.
pub(super) async fn lock_registry(tx: &mut sqlx::Transaction<'_, Db>) -> Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(REGISTRY_LOCK)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Makes the transaction read one snapshot (READ COMMITTED, the default, takes one per
/// statement).
pub(super) async fn read_snapshot(tx: &mut sqlx::Transaction<'_, Db>) -> Result<()> {
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The database server's time, in unix milliseconds like every time column.
pub(super) const DB_NOW: &str = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

pub(super) fn lease_millis(lease: std::time::Duration) -> i64 {
    i64::try_from(lease.as_millis()).unwrap_or(i64::MAX)
}

/// When a lease taken now for `lease` ends, as SQL and the value to bind as `param`: by
/// the database's clock, so processes whose clocks differ still agree.
pub(super) fn lease_until(param: &str, lease: std::time::Duration) -> (String, i64) {
    (format!("{DB_NOW} + {param}"), lease_millis(lease))
}

/// A text's length in characters.
pub(super) const CHAR_LENGTH: &str = "char_length";

/// Runs `batch` in `tx` as one statement (one round trip): every statement but the last
/// becomes a data-modifying `WITH` clause of the last, which PostgreSQL runs exactly once
/// each, in one snapshot (foreign keys are checked at the statement's end, so a row may
/// refer to one another clause inserts). The rows the last statement returns.
pub(super) async fn run_batch(
    tx: &mut sqlx::Transaction<'_, Db>,
    batch: &crate::store::sql::Batch<'_>,
) -> Result<Vec<sqlx::postgres::PgRow>> {
    let Some(((last, _), before)) = batch.statements.split_last() else {
        return Ok(Vec::new());
    };
    let mut sql = String::new();
    // Each statement's placeholders follow the ones before it.
    let mut offset = 0;
    for (i, (statement, values)) in before.iter().enumerate() {
        let at = offset;
        offset += values.len();
        sql.push_str(if i == 0 { "WITH " } else { ", " });
        sql.push_str(&format!("s{i} AS ("));
        sql.push_str(&crate::store::sql::renumber(statement, |n| {
            format!("${}", n + at)
        }));
        sql.push(')');
    }
    if !before.is_empty() {
        sql.push(' ');
    }
    sql.push_str(&crate::store::sql::renumber(last, |n| {
        format!("${}", n + offset)
    }));
    let mut query = sqlx::query(&sql);
    for (_, values) in &batch.statements {
        for value in values {
            query = crate::store::sql::bind_value!(query, value);
        }
    }
    Ok(query.fetch_all(&mut **tx).await?)
}

/// The usage rows of `tenants` (sorted), locked to the end of the transaction in that
/// order (so two transactions never wait for each other's rows). The transaction's commit
/// then does not wait for its flush: see [`UNFLUSHED_COMMIT`].
pub(super) async fn lock_usage_rows(
    tx: &mut sqlx::Transaction<'_, Db>,
    tenants: &[&str],
) -> Result<Vec<sqlx::postgres::PgRow>> {
    static LOCK: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "SELECT tenant_id, bytes, documents, max_bytes, max_documents, {UNFLUSHED_COMMIT} \
             FROM tenant_usage WHERE tenant_id {} ORDER BY tenant_id FOR UPDATE",
            in_list("$1")
        )
    });
    Ok(sqlx::query(LOCK.as_str())
        .bind(list(tenants)?)
        .fetch_all(&mut **tx)
        .await?)
}
