//! What both stores share about rows: how times, ids and JSON columns are kept, the
//! column lists, and (through `row_mappers!`, expanded once per driver) how a row becomes
//! a document, a tenant, a webhook or a delivery.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::{Error, Result};
use sqlx::QueryBuilder;

use crate::model::{
    CREATED_WINDOW, ContentType, Document, DocumentId, DocumentStatus, ListFilter, Page, TenantId,
};

/// Times are kept as unix milliseconds.
pub(super) fn millis(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

pub(super) fn from_millis(ms: i64) -> Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .map_err(|e| Error::Corrupt(format!("timestamp {ms}: {e}")))
}

pub(super) fn parse_uuid(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|e| Error::Corrupt(format!("id {s:?}: {e}")))
}

/// A JSON column value.
pub(super) fn to_json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| Error::Corrupt(format!("result: {e}")))
}

pub(super) const DOC_COLUMNS: &str = "id, tenant_id, filename, status, failure, content_type, size_bytes, \
     sha256, extracted, warnings, created_at, updated_at, classification, thumbnail_key, \
     thumbnail_failure, failure_code";

pub(super) const WEBHOOK_COLUMNS: &str = "id, tenant_id, url, description, event_types, status, \
     disabled_reason, consecutive_failures, created_at";

pub(super) const DELIVERY_COLUMNS: &str = "d.id, d.webhook_id, d.tenant_id, d.event_id, d.event_type, \
     d.document_id, d.status, d.attempts, d.last_status, d.last_error, d.next_attempt_at, \
     d.created_at, d.delivered_at";

/// A document row as stored, read by either driver and converted in one place.
pub(super) struct RawDocument {
    pub(super) id: String,
    pub(super) tenant_id: String,
    pub(super) filename: String,
    pub(super) status: String,
    pub(super) failure: Option<String>,
    pub(super) content_type: String,
    pub(super) size_bytes: i64,
    pub(super) sha256: String,
    pub(super) extracted: Option<String>,
    pub(super) warnings: String,
    pub(super) created_at: i64,
    pub(super) updated_at: i64,
    pub(super) classification: Option<String>,
    pub(super) thumbnail_key: Option<String>,
    pub(super) thumbnail_failure: Option<String>,
    pub(super) failure_code: Option<String>,
}

impl RawDocument {
    pub(super) fn into_document(self) -> Result<Document> {
        Ok(Document {
            id: parse_uuid(&self.id)?,
            tenant_id: TenantId(parse_uuid(&self.tenant_id)?),
            filename: self.filename,
            status: DocumentStatus::parse(&self.status)
                .ok_or_else(|| Error::Corrupt(format!("status {:?}", self.status)))?,
            failure: self.failure,
            failure_code: self.failure_code,
            content_type: ContentType::parse(&self.content_type)
                .ok_or_else(|| Error::Corrupt(format!("content type {:?}", self.content_type)))?,
            size_bytes: self.size_bytes as u64,
            sha256: self.sha256,
            extracted: self
                .extracted
                .map(|s| serde_json::from_str(&s))
                .transpose()
                .map_err(|e| Error::Corrupt(format!("extracted: {e}")))?,
            warnings: serde_json::from_str(&self.warnings)
                .map_err(|e| Error::Corrupt(format!("warnings: {e}")))?,
            created_at: from_millis(self.created_at)?,
            updated_at: from_millis(self.updated_at)?,
            classification: self
                .classification
                .map(|s| serde_json::from_str(&s))
                .transpose()
                .map_err(|e| Error::Corrupt(format!("classification: {e}")))?,
            thumbnail_key: self.thumbnail_key,
            thumbnail_failure: self.thumbnail_failure,
        })
    }
}

/// `SELECT` of one page of a tenant's documents, newest first, in either dialect: the
/// filter's conditions, the keyset `after`, the window's `floor` (see [`window_floor`]),
/// and one row more than `limit` (see [`page`]).
pub(super) fn list_query<'a, DB>(
    tenant: TenantId,
    filter: &'a ListFilter,
    after: Option<DocumentId>,
    floor: Option<String>,
    limit: u32,
) -> QueryBuilder<'a, DB>
where
    DB: sqlx::Database,
    String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    &'a str: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    let mut q = tenant_documents(DOC_COLUMNS, tenant, filter, after);
    if let Some(t) = filter.created_after {
        q.push(" AND created_at >= ").push_bind(millis(t));
    }
    if let Some(t) = filter.created_before {
        q.push(" AND created_at < ").push_bind(millis(t));
    }
    if let Some(floor) = floor {
        q.push(" AND id >= ").push_bind(floor);
    }
    // One extra row tells whether another page follows.
    q.push(" ORDER BY id DESC LIMIT ")
        .push_bind(i64::from(limit) + 1);
    q
}

/// The id of the last of the [`CREATED_WINDOW`] documents a page that bounds `created_at`
/// looks at (after `after`, of the filter's status), if there are that many: the page's
/// rows are then those from it on. An index walk of at most that many entries.
pub(super) fn window_floor<'a, DB>(
    tenant: TenantId,
    filter: &'a ListFilter,
    after: Option<DocumentId>,
) -> QueryBuilder<'a, DB>
where
    DB: sqlx::Database,
    String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    &'a str: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    let mut q = tenant_documents("id", tenant, filter, after);
    q.push(" ORDER BY id DESC LIMIT 1 OFFSET ")
        .push_bind(i64::from(CREATED_WINDOW) - 1);
    q
}

/// `SELECT columns` of a tenant's documents, of the filter's status and after `after`: the
/// conditions an index bounds.
fn tenant_documents<'a, DB>(
    columns: &str,
    tenant: TenantId,
    filter: &'a ListFilter,
    after: Option<DocumentId>,
) -> QueryBuilder<'a, DB>
where
    DB: sqlx::Database,
    String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    &'a str: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    let mut q = QueryBuilder::<DB>::new(format!(
        "SELECT {columns} FROM documents WHERE tenant_id = "
    ));
    q.push_bind(tenant.0.to_string());
    if let Some(status) = filter.status {
        q.push(" AND status = ").push_bind(status.as_str());
    }
    if let Some(after) = after {
        q.push(" AND id < ").push_bind(after.to_string());
    }
    q
}

/// The page of [`list_query`]'s rows in a window from `floor` (see [`window_floor`]):
/// when they do not fill it, the next page starts after the window.
pub(super) fn page_within(items: Vec<Document>, limit: u32, floor: Option<String>) -> Result<Page> {
    match floor {
        Some(floor) if items.len() <= limit as usize => Ok(Page {
            items,
            next_after: Some(parse_uuid(&floor)?),
        }),
        _ => Ok(page(items, limit)),
    }
}

/// The page of [`list_query`]'s rows: at most `limit`, and where the next one starts.
pub(super) fn page(mut items: Vec<Document>, limit: u32) -> Page {
    let more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let next_after = if more {
        items.last().map(|d| d.id)
    } else {
        None
    };
    Page { items, next_after }
}

/// Row mappers for one driver's row type (the same code for SQLite and Postgres rows).
macro_rules! row_mappers {
    ($row:ty) => {
        fn raw_document(row: &$row) -> Result<RawDocument> {
            Ok(RawDocument {
                id: row.try_get("id")?,
                tenant_id: row.try_get("tenant_id")?,
                filename: row.try_get("filename")?,
                status: row.try_get("status")?,
                failure: row.try_get("failure")?,
                content_type: row.try_get("content_type")?,
                size_bytes: row.try_get("size_bytes")?,
                sha256: row.try_get("sha256")?,
                extracted: row.try_get("extracted")?,
                warnings: row.try_get("warnings")?,
                created_at: row.try_get("created_at")?,
                updated_at: row.try_get("updated_at")?,
                classification: row.try_get("classification")?,
                thumbnail_key: row.try_get("thumbnail_key")?,
                thumbnail_failure: row.try_get("thumbnail_failure")?,
                failure_code: row.try_get("failure_code")?,
            })
        }

        fn document_from_row(row: &$row) -> Result<Document> {
            raw_document(row)?.into_document()
        }

        fn tenant_from_row(row: &$row) -> Result<Tenant> {
            Ok(Tenant {
                id: TenantId(parse_uuid(row.try_get("id")?)?),
                name: row.try_get("name")?,
            })
        }

        fn webhook_from_row(row: &$row) -> Result<Webhook> {
            let event_types: String = row.try_get("event_types")?;
            Ok(Webhook {
                id: parse_uuid(&row.try_get::<String, _>("id")?)?,
                tenant_id: TenantId(parse_uuid(&row.try_get::<String, _>("tenant_id")?)?),
                url: row.try_get("url")?,
                description: row.try_get("description")?,
                event_types: serde_json::from_str(&event_types)
                    .map_err(|e| Error::Corrupt(format!("webhook event types: {e}")))?,
                status: if row.try_get::<String, _>("status")? == "disabled" {
                    WebhookStatus::Disabled
                } else {
                    WebhookStatus::Active
                },
                disabled_reason: row.try_get("disabled_reason")?,
                consecutive_failures: row.try_get::<i64, _>("consecutive_failures")? as u32,
                created_at: from_millis(row.try_get("created_at")?)?,
            })
        }

        fn delivery_from_row(row: &$row) -> Result<Delivery> {
            let status: String = row.try_get("status")?;
            Ok(Delivery {
                id: row.try_get("id")?,
                webhook_id: parse_uuid(&row.try_get::<String, _>("webhook_id")?)?,
                event_id: row.try_get("event_id")?,
                event_type: row.try_get("event_type")?,
                document_id: parse_uuid(&row.try_get::<String, _>("document_id")?)?,
                status: DeliveryStatus::parse(&status)
                    .ok_or_else(|| Error::Corrupt(format!("delivery status {status:?}")))?,
                attempts: row.try_get::<i64, _>("attempts")? as u32,
                last_status: row
                    .try_get::<Option<i64>, _>("last_status")?
                    .map(|s| s as u16),
                last_error: row.try_get("last_error")?,
                next_attempt_at: row
                    .try_get::<Option<i64>, _>("next_attempt_at")?
                    .map(from_millis)
                    .transpose()?,
                created_at: from_millis(row.try_get("created_at")?)?,
                delivered_at: row
                    .try_get::<Option<i64>, _>("delivered_at")?
                    .map(from_millis)
                    .transpose()?,
            })
        }
    };
}
pub(super) use row_mappers;
