//! What SQLite spells differently from PostgreSQL in the shared SQL (`store/sql/`).

use crate::error::Result;

pub(super) type Db = sqlx::Sqlite;

/// SQLite's two-argument `MIN` is the scalar minimum (PostgreSQL's `LEAST`).
pub(super) const LEAST: &str = "MIN";

/// `param IN` a list bound with [`list`]: SQLite has no arrays, so the list is JSON.
pub(super) fn in_list(param: &str) -> String {
    format!("IN (SELECT value FROM json_each({param}))")
}

pub(super) fn list<T: serde::Serialize>(items: &[T]) -> Result<String> {
    super::to_json(&items)
}

/// Whether the JSON array in `array` holds the string `value`.
pub(super) fn json_array_has(array: &str, value: &str) -> String {
    format!("EXISTS (SELECT 1 FROM json_each({array}) WHERE value = {value})")
}

/// The JSON array in `array` with the string `value` appended, unless it holds it.
pub(super) fn json_array_add(array: &str, value: &str) -> String {
    format!(
        "CASE WHEN {} THEN {array} ELSE json_insert({array}, '$[#]', {value}) END",
        json_array_has(array, value)
    )
}

/// Nothing to lock: the write that follows is one statement, and SQLite runs each write
/// under its single writer lock, so concurrent creates cannot both pass the cap.
pub(super) async fn lock_tenant_webhooks(
    _tx: &mut sqlx::Transaction<'_, Db>,
    _tenant: crate::model::TenantId,
) -> Result<()> {
    Ok(())
}

/// Nothing to lock: SQLite's single writer runs one write transaction at a time, so
/// a delete and a worker's claim cannot wait for each other's rows.
pub(super) async fn lock_document_job(
    _tx: &mut sqlx::Transaction<'_, Db>,
    _document: &str,
) -> Result<()> {
    Ok(())
}

/// Takes SQLite's write lock first: a transaction that reads before it writes fails
/// with SQLITE_BUSY if another connection wrote in between (its snapshot is stale),
/// while a write that comes first waits for the lock (busy_timeout). An UPDATE that
/// matches no row takes the lock and changes nothing.
pub(super) async fn lock_registry(tx: &mut sqlx::Transaction<'_, Db>) -> Result<()> {
    sqlx::query("UPDATE registry_settings SET value = value WHERE 0")
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Deletes the running jobs among `leases` (job id, owner) that their owner still holds:
/// the ids deleted. One statement whatever their number (the pairs go as JSON).
pub(super) async fn delete_held_jobs(
    tx: &mut sqlx::Transaction<'_, Db>,
    leases: &[(i64, &str)],
) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "DELETE FROM jobs WHERE state = 'running' AND EXISTS (SELECT 1 FROM json_each($1) held \
         WHERE held.value ->> 0 = jobs.id AND held.value ->> 1 = jobs.lease_owner) RETURNING id",
    )
    .bind(super::to_json(&leases)?)
    .fetch_all(&mut **tx)
    .await?)
}

/// Nothing to set: a SQLite transaction reads one snapshot of the database.
pub(super) async fn read_snapshot(_tx: &mut sqlx::Transaction<'_, Db>) -> Result<()> {
    Ok(())
}

/// When a lease taken now for `lease` ends, as SQL and the value to bind as `param`: one
/// process owns the file, so its clock is the store's.
pub(super) fn lease_until(param: &str, lease: std::time::Duration) -> (String, i64) {
    (
        param.to_owned(),
        super::millis(time::OffsetDateTime::now_utc() + lease),
    )
}

/// Whether rows are updated by one statement over all of them: SQLite updates a row a
/// statement, each found by its key (the texts go to its thread in one hand-off anyway).
pub(super) const UPDATES_BY_ROWS: bool = false;

/// Runs `batch` in `tx` as one text, one hand-off to the connection's thread; the rows
/// its statements return, in order.
pub(super) async fn run_batch(
    tx: &mut sqlx::Transaction<'_, Db>,
    batch: &crate::store::sql::Batch<'_>,
) -> Result<Vec<sqlx::sqlite::SqliteRow>> {
    if batch.statements.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = String::new();
    let mut values = Vec::new();
    for crate::store::sql::Statement {
        sql: statement,
        row,
        values: own,
    } in &batch.statements
    {
        if !sql.is_empty() {
            sql.push_str(";\n");
        }
        // Rows as a multi-row VALUES, their placeholders numbered row after row.
        let statement = match row {
            Some(row) => std::borrow::Cow::Owned(statement.replace(
                "{rows}",
                &format!(
                    "VALUES {}",
                    crate::store::sql::value_rows(
                        row,
                        own.len() / crate::store::sql::row_width(row).max(1)
                    )
                ),
            )),
            None => std::borrow::Cow::Borrowed(statement.as_ref()),
        };
        let (text, order) = positional(&statement);
        sql.push_str(&text);
        for n in order {
            let value = n.checked_sub(1).and_then(|i| own.get(i)).ok_or_else(|| {
                crate::error::Error::Corrupt(format!("${n} has no value in {statement}"))
            })?;
            values.push(value);
        }
    }
    let mut query = sqlx::query(&sql);
    for value in values {
        query = crate::store::sql::bind_value!(query, value, _array => {
            return Err(crate::error::Error::Corrupt(
                "an array bound on SQLite".into(),
            ));
        });
    }
    Ok(query.fetch_all(&mut **tx).await?)
}

/// The usage rows of `tenants`, by a write that changes nothing: it takes SQLite's write
/// lock up front (a deferred read-then-write transaction could fail to upgrade under
/// contention), which serialises whole transactions, so the rows stay as read to the
/// commit. (Commits return before their flush anyway: `synchronous = NORMAL`, and
/// `make_durable` flushes.)
pub(super) async fn lock_usage_rows(
    tx: &mut sqlx::Transaction<'_, Db>,
    tenants: &[&str],
) -> Result<Vec<sqlx::sqlite::SqliteRow>> {
    Ok(sqlx::query(&format!(
        "UPDATE tenant_usage SET documents = documents WHERE tenant_id {} \
         RETURNING tenant_id, bytes, documents, max_bytes, max_documents",
        in_list("$1")
    ))
    .bind(list(tenants)?)
    .fetch_all(&mut **tx)
    .await?)
}

/// `sql` with each placeholder `$n` made a `?`, and the `n`s in order: the statements
/// of one text then take their values one after another. (Numbered placeholders would
/// number across the whole text, and sqlx binds a statement's unused numbers from the
/// values after the previous statement's, running out of them.) A `$` that no digit
/// follows (a JSON path) stays.
fn positional(sql: &str) -> (String, Vec<usize>) {
    let mut order = Vec::new();
    let text = crate::store::sql::renumber(sql, |n| {
        order.push(n);
        "?".to_owned()
    });
    (text, order)
}

#[cfg(test)]
mod tests {
    use super::positional;

    #[test]
    fn placeholders_become_positional_and_json_paths_stay() {
        assert_eq!(
            positional("VALUES ($1, $2, $10, $1), json_insert(x, '$[#]', $3)"),
            (
                "VALUES (?, ?, ?, ?), json_insert(x, '$[#]', ?)".to_owned(),
                vec![1, 2, 10, 1, 3]
            )
        );
        assert_eq!(positional("SELECT 1"), ("SELECT 1".to_owned(), vec![]));
    }
}
