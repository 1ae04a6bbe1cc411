//! What PostgreSQL spells differently from SQLite in the shared SQL (`store/sql/`).

use crate::error::Result;

pub(super) type Db = sqlx::Postgres;

pub(super) const LEAST: &str = "LEAST";

/// What a statement returns to make its transaction's commit not wait for its flush
/// (this transaction only); the flush then comes with `make_durable`.
pub(super) const UNFLUSHED_COMMIT: &str = "set_config('synchronous_commit', 'off', true)";

/// Whether rows are updated by one statement over all of them (`UPDATE … FROM {rows}`):
/// one text whatever their number. (SQLite updates a row a statement, each by its key.)
pub(super) const UPDATES_BY_ROWS: bool = true;

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
/// the ids deleted. One statement whatever their number. The transaction then commits
/// without waiting for its flush ([`UNFLUSHED_COMMIT`]): a result lost with the
/// database's log leaves its job claimed, to be worked again when its lease runs out, and
/// what leaves the database from it waits for a flush first (the relay flushes before it
/// publishes; the claim of webhook deliveries commits with its flush).
pub(super) async fn delete_held_jobs(
    tx: &mut sqlx::Transaction<'_, Db>,
    leases: &[(i64, &str)],
) -> Result<Vec<i64>> {
    static DELETE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "DELETE FROM jobs USING unnest($1::bigint[], $2::text[]) AS held(id, owner) \
             WHERE jobs.id = ANY($1) AND jobs.id = held.id AND jobs.lease_owner = held.owner \
             AND jobs.state = 'running' RETURNING jobs.id, {UNFLUSHED_COMMIT}"
        )
    });
    let (ids, owners): (Vec<i64>, Vec<&str>) = leases.iter().copied().unzip();
    Ok(sqlx::query_scalar(DELETE.as_str())
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
    let statements = batch
        .statements
        .iter()
        .map(|s| match s.row {
            Some(row) => rows_statement(&s.sql, row, &s.values),
            None => Ok((
                std::borrow::Cow::Borrowed(s.sql.as_ref()),
                std::borrow::Cow::Borrowed(s.values.as_slice()),
            )),
        })
        .collect::<Result<Vec<_>>>()?;
    let Some(((last, _), before)) = statements.split_last() else {
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
    for (_, values) in &statements {
        for value in values.iter() {
            query = crate::store::sql::bind_value!(query, value, column => match column {
                Column::Text(v) => query.bind(v.iter().map(|s| s.as_deref()).collect::<Vec<_>>()),
                Column::Int(v) => query.bind(v.as_slice()),
                Column::Int4(v) => query.bind(v.as_slice()),
                Column::Bytes(v) => query.bind(v.as_slice()),
            });
        }
    }
    Ok(query.fetch_all(&mut **tx).await?)
}

use crate::store::sql::{Column, Value};

/// A statement of rows ([`Batch::push_rows`](crate::store::sql::Batch::push_rows)) as
/// PostgreSQL runs it: `{rows}` becomes
/// `SELECT r.c1 AS column1, 'queued' AS column2, … FROM unnest($1::text[], …) AS r(c1, …)`,
/// one array a placeholder of `row`, typed as its values are. Its text is the same
/// whatever the number of rows, so a connection parses and plans it once, where a
/// `VALUES` list of every row made a new text (and a new plan) for each number of rows.
fn rows_statement<'a, 'q>(
    sql: &'a str,
    row: &str,
    values: &[Value<'q>],
) -> Result<(std::borrow::Cow<'a, str>, std::borrow::Cow<'a, [Value<'q>]>)> {
    let corrupt = |what: &str| crate::error::Error::Corrupt(format!("{what} in rows of {row}"));
    let width = crate::store::sql::row_width(row);
    if width == 0 || !values.len().is_multiple_of(width) {
        return Err(corrupt("values that fill no whole row"));
    }
    let items: Vec<&str> = row
        .trim()
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| corrupt("a row without parentheses"))?
        .split(", ")
        .collect();
    let rows = values.len() / width;
    // Each item of the row, its placeholders `$n` read from the n-th array.
    let select = |to: &dyn Fn(usize) -> String| {
        items
            .iter()
            .enumerate()
            .map(|(j, item)| {
                format!(
                    "{} AS column{}",
                    crate::store::sql::renumber(item, to),
                    j + 1
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    if rows == 0 {
        // No values to type the arrays by: one row of NULLs, filtered out.
        let source = format!("SELECT {} WHERE false", select(&|_| "NULL".to_owned()));
        return Ok((sql.replace("{rows}", &source).into(), Vec::new().into()));
    }
    let mut arrays = Vec::with_capacity(width);
    let mut placeholders = Vec::with_capacity(width);
    for n in 1..=width {
        let column = (0..rows).map(|r| &values[r * width + n - 1]);
        // Every row's value of this placeholder, if all are of the first row's type.
        macro_rules! gather {
            ($column:expr, $variant:ident, $ty:literal, |$x:ident| $take:expr) => {
                (
                    $column
                        .map(|v| match v {
                            Value::$variant($x) => Some($take),
                            _ => None,
                        })
                        .collect::<Option<_>>()
                        .map(Column::$variant),
                    $ty,
                )
            };
        }
        let (array, ty) = match &values[n - 1] {
            Value::Text(_) => gather!(column, Text, "text", |t| t.clone()),
            Value::Int(_) => gather!(column, Int, "int8", |i| *i),
            Value::Int4(_) => gather!(column, Int4, "int4", |i| *i),
            Value::Bytes(_) => gather!(column, Bytes, "bytea", |b| *b),
            Value::Array(_) => return Err(corrupt("an array value")),
        };
        let array = array.ok_or_else(|| corrupt("a column of mixed types"))?;
        arrays.push(Value::Array(array));
        placeholders.push(format!("${n}::{ty}[]"));
    }
    let names: Vec<String> = (1..=width).map(|n| format!("c{n}")).collect();
    let source = format!(
        "SELECT {} FROM unnest({}) AS r({})",
        select(&|n| format!("r.c{n}")),
        placeholders.join(", "),
        names.join(", ")
    );
    Ok((sql.replace("{rows}", &source).into(), arrays.into()))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(column: &Value<'_>) -> Vec<Option<String>> {
        match column {
            Value::Array(Column::Text(v)) => {
                v.iter().map(|s| s.as_deref().map(str::to_owned)).collect()
            }
            other => panic!("not a text array: {other:?}"),
        }
    }

    #[test]
    fn rows_are_one_text_whatever_their_number_with_a_typed_array_a_placeholder() {
        const ROW: &str = "($1, 'queued', $2, $2)";
        let one = [Value::from("a"), Value::from(1_i64)];
        let three = [
            Value::from("a"),
            Value::from(1_i64),
            Value::from(None::<String>),
            Value::from(None::<i64>),
            Value::from("c"),
            Value::from(3_i64),
        ];
        let (sql1, values1) =
            rows_statement("INSERT INTO t (a, s, b, c) {rows}", ROW, &one).unwrap();
        let (sql3, values3) =
            rows_statement("INSERT INTO t (a, s, b, c) {rows}", ROW, &three).unwrap();
        assert_eq!(sql1, sql3);
        assert_eq!(
            sql3,
            "INSERT INTO t (a, s, b, c) SELECT r.c1 AS column1, 'queued' AS column2, \
             r.c2 AS column3, r.c2 AS column4 FROM unnest($1::text[], $2::int8[]) AS r(c1, c2)"
        );
        assert_eq!(values3.len(), 2);
        assert_eq!(
            texts(&values3[0]),
            [Some("a".into()), None, Some("c".into())]
        );
        match &values3[1] {
            Value::Array(Column::Int(v)) => assert_eq!(v, &[Some(1), None, Some(3)]),
            other => panic!("not an int8 array: {other:?}"),
        }
        assert_eq!(texts(&values1[0]), [Some("a".into())]);
    }

    #[test]
    fn rows_of_mixed_types_or_partial_rows_are_refused_and_no_rows_select_nothing() {
        let mixed = [Value::from("a"), Value::from(1_i64), Value::from(2_i64)];
        assert!(rows_statement("{rows}", "($1)", &mixed).is_err());
        let partial = [Value::from("a"), Value::from(1_i64), Value::from("b")];
        assert!(rows_statement("{rows}", "($1, $2)", &partial).is_err());
        let (sql, values) =
            rows_statement("DELETE FROM t WHERE (a, b) IN ({rows})", "($1, $2)", &[]).unwrap();
        assert_eq!(
            sql,
            "DELETE FROM t WHERE (a, b) IN (SELECT NULL AS column1, NULL AS column2 WHERE false)"
        );
        assert!(values.is_empty());
    }
}
