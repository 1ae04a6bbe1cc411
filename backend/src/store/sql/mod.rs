//! The SQL both stores run, one text per domain: each file holds a macro that expands a
//! domain's trait implementation into a store module. Placeholders are `$N` (sqlx binds
//! them by position on SQLite as on PostgreSQL); what the databases really do differently
//! comes from the expanding module's `dialect` (SQL fragments and types) and from the
//! store's own methods (claims, locks, the SQLite read path).

pub(super) mod audit;
pub(super) mod broker;
pub(super) mod documents;
pub(super) mod idempotency;
pub(super) mod jobs;
pub(super) mod outbox;
pub(super) mod registry;
pub(super) mod tenants;
pub(super) mod webhooks;

/// What the expanded implementations name unqualified: each store module imports it, and
/// its domain files take it from there.
pub(super) mod prelude {
    pub(in crate::store) use super::{Batch, quota_column, quota_from_column};
    pub(in crate::store) use crate::error::{Error, Result};
    pub(in crate::store) use crate::events::Event;
    pub(in crate::store) use crate::model::{
        ContentType, Document, DocumentId, ListFilter, Page, Quota, QuotaSetting, StoredUsage,
        Tenant, TenantId,
    };
    pub(in crate::store) use crate::store::{
        ClaimedJob, Completion, DocumentStore, IdempotencyStore, JobResult, JobStore, KeptResponse,
        OutboxRow, OutboxStore, RegistryReference, RegistrySchema, RegistryStore, RegistryUse,
        RegistryVersion, StoredResponse, TenantStore, Upload, WebhookStore,
    };
    pub(in crate::store) use crate::webhooks::{
        Delivery, DeliveryStatus, DueDelivery, NewWebhook, Outcome, Webhook, WebhookStatus,
    };
}

/// How a quota is stored: the largest BIGINT stands for unlimited, so that one comparison
/// (`n <= limit`) serves every case. A limit that large could never be reached anyway.
pub(super) fn quota_column(limit: Option<u64>) -> i64 {
    limit.map_or(i64::MAX, |n| i64::try_from(n).unwrap_or(i64::MAX))
}

/// A stored quota column: `None` (NULL) is the default; `Some(None)` unlimited.
pub(super) fn quota_from_column(v: Option<i64>) -> Option<Option<u64>> {
    v.map(|n| (n != i64::MAX).then(|| n.max(0) as u64))
}

/// `sql` with each placeholder `$n` replaced by `to(n)`, in order. A `$` that no digit
/// follows (a JSON path) stays.
pub(super) fn renumber(sql: &str, mut to: impl FnMut(usize) -> String) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        rest = &rest[at + 1..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            out.push('$');
            continue;
        }
        out.push_str(&to(rest[..digits].parse().unwrap_or(0)));
        rest = &rest[digits..];
    }
    out.push_str(rest);
    out
}

/// `count` copies of `row` (a row of a multi-row `VALUES`, such as `($1, 'queued', $2)`),
/// each numbering its placeholders after the copy before it.
pub(super) fn value_rows(row: &str, count: usize) -> String {
    let columns = row_width(row);
    (0..count)
        .map(|i| renumber(row, |n| format!("${}", i * columns + n)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Statements that run one after another in the caller's transaction, where nothing
/// between them depends on what one returned. SQLite gets them in one text (one hand-off
/// to the connection's thread instead of one each: `sqlite/dialect.rs`); PostgreSQL as
/// one statement, the others as data-modifying `WITH` clauses of the last (one round trip
/// instead of one each: `postgres/dialect.rs`). So every statement but the last is an
/// INSERT, UPDATE or DELETE, none changes a row another changes, and only the last one's
/// rows can be read. Each statement numbers its own placeholders from `$1`, and has a
/// value for each number up to the highest.
#[derive(Default)]
pub(super) struct Batch<'q> {
    pub(super) statements: Vec<Statement<'q>>,
}

/// A statement of a [`Batch`] and the values of its placeholders.
pub(super) struct Statement<'q> {
    pub(super) sql: std::borrow::Cow<'q, str>,
    /// For a statement of rows ([`Batch::push_rows`]): a row such as `($1, 'queued', $2)`,
    /// whose placeholders `values` fill row after row; `{rows}` in `sql` stands for them.
    pub(super) row: Option<&'static str>,
    pub(super) values: Vec<Value<'q>>,
}

impl<'q> Batch<'q> {
    /// Adds a statement and the values of its placeholders, in order.
    pub(super) fn push(
        &mut self,
        sql: impl Into<std::borrow::Cow<'q, str>>,
        values: Vec<Value<'q>>,
    ) {
        self.statements.push(Statement {
            sql: sql.into(),
            row: None,
            values,
        });
    }

    /// Adds a statement of rows: `sql` names them `{rows}` where a `VALUES` list would
    /// stand (and has no placeholder of its own); each row is `row` (such as
    /// `($1, 'queued', $2)`), its placeholders filled from `values` row after row. As a
    /// subquery the rows' columns are `column1`, `column2`, … (SQLite's names).
    /// SQLite gets a multi-row `VALUES`; PostgreSQL one array a placeholder (`unnest`),
    /// so that the text, parsed and planned once a connection, is the same whatever the
    /// number of rows.
    pub(super) fn push_rows(&mut self, sql: String, row: &'static str, values: Vec<Value<'q>>) {
        self.statements.push(Statement {
            sql: sql.into(),
            row: Some(row),
            values,
        });
    }
}

/// The number of values a row of [`Batch::push_rows`] takes: its highest placeholder.
pub(super) fn row_width(row: &str) -> usize {
    let mut width = 0;
    renumber(row, |n| {
        width = width.max(n);
        String::new()
    });
    width
}

/// A value bound to a batched statement (each store binds it as the type it names).
#[derive(Debug, Clone)]
pub(super) enum Value<'q> {
    Text(Option<std::borrow::Cow<'q, str>>),
    Int(Option<i64>),
    Int4(i32),
    Bytes(&'q [u8]),
    /// One value a row, bound as an array (PostgreSQL's rows of a batch).
    Array(Column<'q>),
}

/// The values of one placeholder of every row, bound as one array.
#[derive(Debug, Clone)]
pub(super) enum Column<'q> {
    Text(Vec<Option<std::borrow::Cow<'q, str>>>),
    Int(Vec<Option<i64>>),
    Int4(Vec<i32>),
    Bytes(Vec<&'q [u8]>),
}

impl<'q> From<&'q str> for Value<'q> {
    fn from(s: &'q str) -> Self {
        Self::Text(Some(s.into()))
    }
}

impl From<String> for Value<'_> {
    fn from(s: String) -> Self {
        Self::Text(Some(s.into()))
    }
}

impl From<Option<String>> for Value<'_> {
    fn from(s: Option<String>) -> Self {
        Self::Text(s.map(Into::into))
    }
}

impl<'q> From<Option<&'q str>> for Value<'q> {
    fn from(s: Option<&'q str>) -> Self {
        Self::Text(s.map(Into::into))
    }
}

impl From<i64> for Value<'_> {
    fn from(n: i64) -> Self {
        Self::Int(Some(n))
    }
}

impl From<Option<i64>> for Value<'_> {
    fn from(n: Option<i64>) -> Self {
        Self::Int(n)
    }
}

impl From<i32> for Value<'_> {
    fn from(n: i32) -> Self {
        Self::Int4(n)
    }
}

impl<'q> From<&'q [u8]> for Value<'q> {
    fn from(b: &'q [u8]) -> Self {
        Self::Bytes(b)
    }
}

/// Binds `value` to `query` (as the type it names), for either store; an array value is
/// `$array`, with the array as `$column`.
macro_rules! bind_value {
    ($query:expr, $value:expr, $column:ident => $array:expr) => {
        match $value {
            $crate::store::sql::Value::Text(Some(std::borrow::Cow::Borrowed(s))) => $query.bind(*s),
            $crate::store::sql::Value::Text(Some(std::borrow::Cow::Owned(s))) => {
                $query.bind(s.as_str())
            }
            $crate::store::sql::Value::Text(None) => $query.bind(None::<&str>),
            $crate::store::sql::Value::Int(n) => $query.bind(*n),
            $crate::store::sql::Value::Int4(n) => $query.bind(*n),
            $crate::store::sql::Value::Bytes(b) => $query.bind(*b),
            $crate::store::sql::Value::Array($column) => $array,
        }
    };
}

pub(super) use bind_value;
