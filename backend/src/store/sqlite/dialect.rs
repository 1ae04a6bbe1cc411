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
