//! Persistence behind one trait per domain, implemented by the embedded SQLite store and
//! the shared PostgreSQL store, which run the same SQL (`sql/`) where the databases agree.

mod doc_cache;
mod postgres;
mod rows;
mod sql;
mod sqlite;

pub use postgres::{DOCUMENT_LISTENER_NAME, PgStore, default_pool_size, pool_sizes, redact_url};
pub use sqlite::{Durability, SqliteStore};

use std::time::Duration;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::error::Result;
use crate::events::Event;
use crate::model::{
    Classification, ContentType, Document, DocumentId, DocumentStatus, Extracted, ListFilter, Page,
    Quota, QuotaSetting, StoredUsage, Tenant, TenantId,
};
use crate::webhooks::{Delivery, DueDelivery, NewWebhook, Outcome, Webhook};

/// A pooled connection unused this long is checked before it is handed out (every
/// store: sqlx's check of every connection costs a round trip, or on SQLite a hand-off to
/// the connection's thread, per statement or transaction).
const CHECK_IF_IDLE_FOR: Duration = Duration::from_secs(1);

/// A document about to be stored, with the job that will process it.
#[derive(Debug, Clone)]
pub struct NewDocument {
    pub id: DocumentId,
    pub tenant_id: TenantId,
    pub filename: String,
    pub content_type: ContentType,
    pub size_bytes: u64,
    pub sha256: String,
    pub blob_key: String,
    pub created_at: OffsetDateTime,
    /// The document's bytes, when they are kept in the database (written with the row).
    pub inline_bytes: Option<InlineBytes>,
}

/// A small document's bytes, kept in the database rather than in a blob of their own
/// (see `crate::blobs`).
#[derive(Clone, PartialEq, Eq)]
pub struct InlineBytes(pub Vec<u8>);

impl std::fmt::Debug for InlineBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "InlineBytes({} bytes)", self.0.len())
    }
}

impl NewDocument {
    /// The document as stored and read back: queued, nothing extracted yet, its times
    /// to the millisecond (what every store keeps).
    pub fn queued(&self) -> Document {
        let at = self.created_at;
        let at = at
            .replace_nanosecond(at.nanosecond() / 1_000_000 * 1_000_000)
            .unwrap_or(at);
        Document {
            id: self.id,
            tenant_id: self.tenant_id,
            filename: self.filename.clone(),
            status: DocumentStatus::Queued,
            failure: None,
            failure_code: None,
            content_type: self.content_type,
            size_bytes: self.size_bytes,
            sha256: self.sha256.clone(),
            extracted: None,
            warnings: Vec::new(),
            classification: None,
            thumbnail_key: None,
            thumbnail_failure: None,
            created_at: at,
            updated_at: at,
        }
    }
}

/// The response to keep under an `Idempotency-Key`, written in the transaction that
/// creates what it answers, so that a key can never stand for two creations.
#[derive(Debug, Clone, Copy)]
pub struct KeptResponse<'a> {
    pub key: &'a str,
    pub response: &'a StoredResponse,
    /// Responses kept before this are expired (and forgotten in the same transaction).
    pub forget_before: OffsetDateTime,
}

/// One of the uploads [`DocumentStore::insert_documents`] inserts together.
#[derive(Debug, Clone, Copy)]
pub struct Upload<'a> {
    pub doc: &'a NewDocument,
    /// Written to the outbox with the document.
    pub events: &'a [Event],
    pub kept: Option<KeptResponse<'a>>,
    /// Who uploaded it, for the audit trail (none: no entry).
    pub caller: Option<&'a crate::audit::Caller>,
}

/// A response kept for an `Idempotency-Key`, to replay when the key comes again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// Identifies the request the response answered (method, route, body digest…).
    pub request_hash: String,
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

/// A job claimed by a worker under a lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedJob {
    pub job_id: i64,
    pub document_id: DocumentId,
    pub tenant_id: TenantId,
    pub content_type: ContentType,
    pub blob_key: String,
    /// 1 on the first claim; higher when an earlier worker died holding it.
    pub attempts: u32,
    /// The document's bytes when they are kept with its row, read by the claim (no read
    /// of their own); `None`: read them through the blobs.
    pub inline_bytes: Option<InlineBytes>,
}

/// A job's result as a worker records it: what [`JobStore::complete_jobs`] writes.
#[derive(Debug, Clone, Copy)]
pub struct Completion<'a> {
    pub job: &'a ClaimedJob,
    /// Who holds the job's lease: the result is dropped unless it is still `owner`.
    pub owner: &'a str,
    pub result: &'a JobResult,
    /// Written to the outbox with the result.
    pub events: &'a [Event],
    pub now: OffsetDateTime,
}

/// What a worker records when it is done with a job.
#[derive(Debug, Clone)]
// One per job, moved a few times: boxing the large variant would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum JobResult {
    Processed {
        text: String,
        extracted: Extracted,
        warnings: Vec<String>,
        classification: Option<Classification>,
        thumbnail_key: Option<String>,
        /// Each page's layout as JSON, by page number.
        pages: Vec<(u32, String)>,
    },
    Failed {
        reason: String,
        code: Option<crate::model::FailureCode>,
    },
}

/// Everything docintel persists: one trait per domain, each implemented by every store
/// (`sqlite/`, `postgres/`, one file per domain, most of them expanding `sql/`). Methods
/// on `dyn Store` need no import.
pub trait Store:
    TenantStore
    + IdempotencyStore
    + DocumentStore
    + JobStore
    + OutboxStore
    + WebhookStore
    + RegistryStore
    + BrokerStore
    + AuditStore
    + CoordinationStore
    + 'static
{
}

impl<T> Store for T where
    T: TenantStore
        + IdempotencyStore
        + DocumentStore
        + JobStore
        + OutboxStore
        + WebhookStore
        + RegistryStore
        + BrokerStore
        + AuditStore
        + CoordinationStore
        + 'static
{
}

/// A key to store: its digest and what it grants.
#[derive(Debug, Clone)]
pub struct NewKey<'a> {
    pub key_hash: &'a str,
    pub prefix: &'a str,
    pub admin: bool,
    pub scopes: crate::keys::Scopes,
    pub expires_at: Option<OffsetDateTime>,
    pub now: OffsetDateTime,
}

/// Tenants, their API keys, request limits and server settings.
#[async_trait]
pub trait TenantStore: Send + Sync {
    async fn create_tenant(&self, name: &str, now: OffsetDateTime) -> Result<Tenant>;
    async fn tenant_by_name(&self, name: &str) -> Result<Option<Tenant>>;
    async fn tenant_count(&self) -> Result<u64>;
    async fn add_api_key(&self, tenant: TenantId, key: NewKey<'_>) -> Result<()>;
    /// What an unrevoked key grants (expired or not: the caller says which answer).
    async fn key_grant(&self, key_hash: &str) -> Result<Option<crate::keys::KeyGrant>>;
    /// The tenant's keys, revoked ones included, oldest first.
    async fn api_keys(&self, tenant: TenantId) -> Result<Vec<crate::keys::ApiKey>>;
    /// Revokes the tenant's key `id`; false when it has no such unrevoked key.
    async fn revoke_api_key(&self, tenant: TenantId, id: &str, now: OffsetDateTime)
    -> Result<bool>;
    /// Notes that the key was used at `now`.
    async fn touch_api_key(&self, key_hash: &str, now: OffsetDateTime) -> Result<()>;
    /// A number every change of what any key grants moves (by any process).
    async fn key_generation(&self) -> Result<i64>;

    /// Returns the stored value for `key`, storing `value` first if there was none.
    async fn setting_or_init(&self, key: &str, value: &str) -> Result<String>;

    /// The tenants with their own limit: (tenant, quota, window seconds).
    async fn rate_limits(&self) -> Result<Vec<(TenantId, u32, u32)>>;
    async fn set_rate_limit(&self, tenant: TenantId, limit: Option<(u32, u32)>) -> Result<()>;

    /// Hands out up to `want` more requests of `key_hash`'s window starting at
    /// `window_start` (unix ms), never more than `quota` in all across every caller;
    /// returns how many this call got (0: the window is spent) and how many the window
    /// has handed out in all.
    async fn lease_quota(
        &self,
        key_hash: &str,
        window_start: i64,
        want: u32,
        quota: u32,
    ) -> Result<QuotaLease>;
    /// Forgets quota windows that started before `before` (unix ms).
    async fn forget_quota_windows(&self, before: i64) -> Result<u64>;

    /// What the tenant stores, and its own storage quotas.
    async fn tenant_usage(&self, tenant: TenantId) -> Result<StoredUsage>;
    /// Changes the tenant's own storage quotas.
    async fn set_storage_quota(
        &self,
        tenant: TenantId,
        max_bytes: QuotaSetting,
        max_documents: QuotaSetting,
    ) -> Result<()>;
}

/// Responses kept per `Idempotency-Key`.
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// The response stored for `key`, if it was stored at or after `not_before`.
    async fn idempotent_response(
        &self,
        tenant: TenantId,
        key: &str,
        not_before: OffsetDateTime,
    ) -> Result<Option<StoredResponse>>;
}

/// Documents and their texts, always within one tenant.
#[async_trait]
pub trait DocumentStore: Send + Sync {
    /// Stores a document, enqueues its processing job, writes `events` to the outbox,
    /// keeps `kept` (when given) and adds the document to its tenant's usage, in one
    /// transaction. `None`, and nothing written, when `kept`'s key already holds an
    /// unexpired response of the tenant; [`crate::Error`]'s `QuotaExceeded` (and nothing
    /// written) when the document would take the tenant past its quotas (its own, else
    /// `defaults`). Its audit entry names the request's caller
    /// ([`crate::audit::current`]).
    async fn insert_document(
        &self,
        doc: &NewDocument,
        events: &[Event],
        kept: Option<KeptResponse<'_>>,
        defaults: Quota,
    ) -> Result<Option<Document>> {
        let caller = crate::audit::current();
        let upload = Upload {
            doc,
            events,
            kept,
            caller: caller.as_ref(),
        };
        self.insert_upload(upload, defaults).await
    }
    /// Inserts one upload, under the caller it names: [`Self::insert_documents`] of one.
    async fn insert_upload(&self, upload: Upload<'_>, defaults: Quota) -> Result<Option<Document>> {
        self.insert_documents(&[upload], defaults)
            .await?
            .pop()
            .unwrap_or_else(|| Err(crate::Error::Corrupt("an insert without an outcome".into())))
    }
    /// Inserts several uploads as [`Self::insert_document`] inserts one, in one
    /// transaction: each its own outcome, in order (its key held by another response, or
    /// refused by its tenant's quotas counting the uploads before it). `Err` when the
    /// transaction failed: then nothing is written.
    async fn insert_documents(
        &self,
        uploads: &[Upload<'_>],
        defaults: Quota,
    ) -> Result<Vec<Result<Option<Document>>>>;
    async fn get_document(&self, tenant: TenantId, id: DocumentId) -> Result<Option<Document>>;
    async fn list_documents(
        &self,
        tenant: TenantId,
        filter: &ListFilter,
        after: Option<DocumentId>,
        limit: u32,
    ) -> Result<Page>;
    /// Offset pagination (the legacy v1 listing), newest first, with the total count.
    async fn list_documents_offset(
        &self,
        tenant: TenantId,
        offset: u64,
        limit: u32,
    ) -> Result<(Vec<Document>, u64)>;
    /// `Ok(None)` when the document exists but has no text yet.
    async fn get_text(&self, tenant: TenantId, id: DocumentId) -> Result<Option<String>>;
    /// Pages `first..=last` of a processed document's layout (each as JSON), in order;
    /// empty when it has none there (or is not `tenant`'s).
    async fn get_pages(
        &self,
        tenant: TenantId,
        id: DocumentId,
        first: u32,
        last: u32,
    ) -> Result<Vec<(u32, String)>>;
    /// For each of `ids` (of `tenant`) that has a text: its first `max_chars` characters,
    /// and whether there is more. One query for a whole page of documents.
    async fn get_text_prefixes(
        &self,
        tenant: TenantId,
        ids: &[DocumentId],
        max_chars: u32,
    ) -> Result<std::collections::HashMap<DocumentId, (String, bool)>>;
    /// Deletes the document (and its text and job), takes it off its tenant's usage and
    /// writes `events` to the outbox, in one transaction; returns its blob keys (the
    /// document's bytes, and its thumbnail if it has one), or `None` (and nothing
    /// written) when there was no such document.
    async fn delete_document(
        &self,
        tenant: TenantId,
        id: DocumentId,
        events: &[Event],
        now: OffsetDateTime,
    ) -> Result<Option<Vec<String>>>;

    /// Records a thumbnail made after processing; false when the document is gone.
    async fn set_thumbnail(&self, tenant: TenantId, id: DocumentId, key: &str) -> Result<bool>;
    /// Records that the document's thumbnail could not be rendered and why, and adds the
    /// `thumbnail_unavailable` warning; false when the document is gone or has a
    /// thumbnail.
    async fn set_thumbnail_failure(
        &self,
        tenant: TenantId,
        id: DocumentId,
        reason: &str,
    ) -> Result<bool>;
    /// Which of `blob_keys` a document (of any tenant) is stored under: for the blob
    /// sweep, which removes the others.
    async fn existing_blob_keys(&self, blob_keys: &[String]) -> Result<Vec<String>>;
    /// The bytes kept in the database for the document stored under `blob_key`.
    async fn inline_blob(&self, blob_key: &str) -> Result<Option<Vec<u8>>>;
    /// Whether bytes are kept in the database for `blob_key` (without reading them).
    async fn has_inline_blob(&self, blob_key: &str) -> Result<bool>;
    /// Deletes the bytes kept for `blob_key` while its document stays; whether there
    /// were any.
    async fn delete_inline_blob(&self, blob_key: &str) -> Result<bool>;
}

/// The durable job queue: claims under leases, results.
#[async_trait]
pub trait JobStore: Send + Sync {
    /// Claims the oldest job that is queued or whose lease has expired, for `lease` from
    /// now. "Now" is the store's clock (the database server's, for a shared database), so
    /// processes whose clocks differ still agree on when a lease ends.
    async fn claim_job(&self, owner: &str, lease: Duration) -> Result<Option<ClaimedJob>> {
        Ok(self.claim_jobs(owner, lease, 1).await?.pop())
    }
    /// Claims up to `max` jobs at once, oldest first, as [`Self::claim_job`] claims one:
    /// one transaction for several idle workers.
    async fn claim_jobs(&self, owner: &str, lease: Duration, max: u32) -> Result<Vec<ClaimedJob>>;
    /// Extends a lease to `lease` from now (the store's clock); false when the job is no
    /// longer held by `owner`.
    async fn renew_lease(&self, job_id: i64, owner: &str, lease: Duration) -> Result<bool>;
    /// Records the result, removes the job and writes `events` to the outbox in one
    /// transaction; false (and nothing written) when `owner` lost the lease or the
    /// document was deleted meanwhile.
    async fn complete_job(
        &self,
        job: &ClaimedJob,
        owner: &str,
        result: &JobResult,
        events: &[Event],
        now: OffsetDateTime,
    ) -> Result<bool> {
        let done = [Completion {
            job,
            owner,
            result,
            events,
            now,
        }];
        Ok(self.complete_jobs(&done).await? == [true])
    }
    /// Records several results in one transaction (group commit: one commit, and on
    /// PostgreSQL one flush, for all), each as [`Self::complete_job`] records one:
    /// whether each was recorded, in order. An error writes none of them.
    async fn complete_jobs(&self, done: &[Completion<'_>]) -> Result<Vec<bool>>;
    /// Puts a job `owner` holds aside for `delay` (the store's clock) without counting
    /// the attempt: it is claimed again once the delay has passed. What a worker does
    /// with a document it may not process yet (the malware scanner does not answer).
    /// False when `owner` no longer holds the job.
    async fn defer_job(&self, job_id: i64, owner: &str, delay: Duration) -> Result<bool>;
    /// Releases every lease (used at start of the embedded, single-process mode, where
    /// any running job belongs to a process that is gone).
    async fn release_all_leases(&self) -> Result<u64>;
    /// Takes every running job over for `owner` (at start of the embedded mode, like
    /// [`Self::release_all_leases`]), so that it can be completed without running it.
    async fn take_running_jobs(&self, owner: &str) -> Result<Vec<ClaimedJob>>;
    /// Queues again the jobs held by owners whose name starts with `owner_prefix` (one
    /// process's workers, at a graceful stop), without counting the interrupted attempt:
    /// a rolling restart must not bring a job closer to being given up.
    async fn release_leases_of(&self, owner_prefix: &str) -> Result<u64>;
    async fn queue_depth(&self) -> Result<u64>;
}

/// Events written with the changes they describe, until the relay sends them.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// The oldest unsent events, in outbox order.
    async fn pending_events(&self, limit: u32) -> Result<Vec<OutboxRow>>;
    /// Marks exactly these events sent. By their ids, not "up to a sequence number": with
    /// several writers a lower number can commit after a higher one was read, and must
    /// not be marked before it is published.
    async fn mark_sent(&self, seqs: &[i64], now: OffsetDateTime) -> Result<()>;
    /// Forgets events sent before `before`; returns how many.
    async fn purge_sent(&self, before: OffsetDateTime) -> Result<u64>;
    /// Unsent events, and the creation time of the oldest (unix ms).
    async fn outbox_lag(&self) -> Result<(u64, Option<i64>)>;
}

/// Webhook subscriptions and their deliveries.
#[async_trait]
pub trait WebhookStore: Send + Sync {
    async fn create_webhook(
        &self,
        tenant: TenantId,
        new: &NewWebhook,
        secret: &str,
        now: OffsetDateTime,
    ) -> Result<Webhook>;
    async fn list_webhooks(&self, tenant: TenantId) -> Result<Vec<Webhook>>;
    async fn get_webhook(&self, tenant: TenantId, id: uuid::Uuid) -> Result<Option<Webhook>>;
    async fn delete_webhook(&self, tenant: TenantId, id: uuid::Uuid) -> Result<bool>;
    /// Replaces the secret; the old one keeps signing until `previous_until`.
    async fn rotate_webhook_secret(
        &self,
        tenant: TenantId,
        id: uuid::Uuid,
        secret: &str,
        previous_until: OffsetDateTime,
    ) -> Result<bool>;
    /// Re-enables a disabled subscription (its pending deliveries resume).
    async fn enable_webhook(&self, tenant: TenantId, id: uuid::Uuid) -> Result<bool>;
    /// The newest deliveries of a subscription, newest first.
    async fn webhook_deliveries(
        &self,
        tenant: TenantId,
        id: uuid::Uuid,
        limit: u32,
    ) -> Result<Vec<Delivery>>;
    /// Claims deliveries due at `now` (of active subscriptions), holding them until
    /// `lease_until` so no other attempt starts meanwhile.
    async fn claim_deliveries(
        &self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<DueDelivery>>;
    /// Keeps the body rendered at the first attempt.
    async fn set_delivery_body(&self, id: i64, body: &str) -> Result<()>;
    /// Deliveries not yet delivered nor given up (the sender's backlog).
    async fn deliveries_pending(&self) -> Result<u64>;
    /// Records an attempt. `retry_at` is when to try again after a failure (`None`: give
    /// up). The subscription is disabled once `disable_after` attempts failed in a row and
    /// it has been failing (since its last success) for `failing_for`.
    async fn record_delivery(
        &self,
        id: i64,
        outcome: &Outcome,
        retry_at: Option<OffsetDateTime>,
        disable_after: u32,
        failing_for: Duration,
        now: OffsetDateTime,
    ) -> Result<()>;
}

/// The audit trail's reads and retention; entries are written by the audited writes
/// themselves (see [`crate::audit`]).
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Newest first: `tenant`'s entries (every tenant's with `None`) matching `filter`,
    /// older than the entry `before`, at most `limit`.
    async fn audit_events(
        &self,
        tenant: Option<TenantId>,
        filter: &crate::audit::AuditFilter,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<crate::audit::AuditEvent>>;
    /// Deletes up to `limit` of the entries recorded before `before`; how many.
    async fn purge_audit_events(&self, before: OffsetDateTime, limit: u32) -> Result<u64>;
}

/// The embedded schema registry (which serializes its own writes).
#[async_trait]
pub trait RegistryStore: Send + Sync {
    /// The id of the schema with `identity` (its normalized text and references).
    async fn registry_schema_id(&self, identity: &str) -> Result<Option<i64>>;
    /// Stores a schema under `identity` unless one is stored already, and returns the id
    /// of the one stored. With `id` (an import) a new schema takes that id: `None` when
    /// another schema holds it.
    async fn registry_add_schema(
        &self,
        identity: &str,
        schema: &RegistrySchema,
        id: Option<i64>,
    ) -> Result<Option<i64>>;
    async fn registry_schema(&self, id: i64) -> Result<Option<RegistrySchema>>;
    /// Subjects with at least one live version (or any version, with `deleted`).
    async fn registry_subjects(&self, deleted: bool) -> Result<Vec<String>>;
    /// A subject's versions, oldest first (soft-deleted ones too).
    async fn registry_versions(&self, subject: &str) -> Result<Vec<RegistryVersion>>;
    /// Adds `schema_id` as the subject's next version, only if the subject's highest
    /// version (deleted ones included; 0 for none) is still `after`: the caller checked
    /// compatibility against that history, and another process may have added to it
    /// meanwhile. `None` means it did; read again and retry.
    async fn registry_add_version(
        &self,
        subject: &str,
        schema_id: i64,
        after: i64,
    ) -> Result<Option<i64>>;
    /// Adds `version` of `subject` as given (an import); false when it exists already.
    async fn registry_import_version(
        &self,
        subject: &str,
        version: i64,
        schema_id: i64,
    ) -> Result<bool>;
    /// The versions that use schema `id`, by subject then version (soft-deleted too).
    async fn registry_uses(&self, id: i64) -> Result<Vec<RegistryUse>>;
    /// The schemas whose references name `version` of `subject` and that some version
    /// uses, by id, each with whether a live (not soft-deleted) version uses it.
    async fn registry_referenced_by(&self, subject: &str, version: i64)
    -> Result<Vec<(i64, bool)>>;
    /// Soft-deletes (or, with `permanent`, removes) one version or, with `None`, all.
    async fn registry_delete(
        &self,
        subject: &str,
        version: Option<i64>,
        permanent: bool,
    ) -> Result<()>;
    /// The compatibility level of `subject` ("" is the global level).
    async fn registry_config(&self, subject: &str) -> Result<Option<String>>;
    async fn registry_set_config(&self, subject: &str, level: Option<&str>) -> Result<()>;
    /// Another setting of `subject` ("" is global): `mode`, `refuseBytesAsString`.
    async fn registry_setting(&self, subject: &str, key: &str) -> Result<Option<String>>;
    async fn registry_set_setting(
        &self,
        subject: &str,
        key: &str,
        value: Option<&str>,
    ) -> Result<()>;
}

/// The embedded Pact Broker's records, as `docintel-broker` asks for them; both stores
/// implement them (`{sqlite,postgres}/broker.rs`) in one SQL text (`sql/broker.rs`).
pub use docintel_broker::{Record as BrokerRecord, RecordStore as BrokerStore};

/// An event waiting in (or sent from) the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    pub seq: i64,
    pub topic: String,
    pub payload: String,
}

/// One version of a registry subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryVersion {
    pub version: i64,
    pub schema_id: i64,
    /// The schema's text as submitted.
    pub schema: String,
    /// What makes two schemas the same (see [`RegistryStore::registry_schema_id`]).
    pub identity: String,
    pub references: Vec<RegistryReference>,
    pub deleted: bool,
}

/// A schema as stored: its text as submitted and its references, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrySchema {
    pub text: String,
    pub references: Vec<RegistryReference>,
}

/// A named type a schema takes from a version of another subject.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegistryReference {
    pub name: String,
    pub subject: String,
    pub version: i64,
}

/// A version that uses a schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryUse {
    pub subject: String,
    pub version: i64,
    pub deleted: bool,
}

/// What [`TenantStore::lease_quota`] handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaLease {
    /// Requests this call may serve.
    pub got: u32,
    /// Requests the window has handed out to every caller, these included.
    pub granted: u32,
}

/// A task that exactly one process may run at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaderTask {
    /// The outbox relay: one reader keeps the events in order.
    Relay,
    /// Removing blobs that no document row names.
    BlobSweep,
}

/// Being the one process running a [`LeaderTask`]. Dropping it steps down.
pub struct Leadership(Box<dyn Held>);

impl Leadership {
    pub fn new(held: impl Held + 'static) -> Self {
        Self(Box::new(held))
    }

    /// Whether this process still leads: false once the hold is lost (e.g. its database
    /// connection broke, which lets another process take over).
    pub async fn still_held(&mut self) -> bool {
        self.0.still_held().await
    }
}

#[async_trait]
pub trait Held: Send {
    async fn still_held(&mut self) -> bool;
}

/// The process-local waiters that work queued by any process should wake.
#[derive(Clone, Default)]
pub struct Wakes {
    pub jobs: std::sync::Arc<tokio::sync::Notify>,
    pub events: std::sync::Arc<tokio::sync::Notify>,
    pub deliveries: std::sync::Arc<tokio::sync::Notify>,
}

impl Wakes {
    /// This process wrote events to `store`, with the webhook deliveries they fan out to:
    /// wakes the relay, and the webhook sender unless the store wakes every process's
    /// senders itself when deliveries were written (a shared store does, and only then:
    /// most events write none).
    pub fn events_written(&self, store: &dyn Store) {
        self.events.notify_one();
        if !store.is_shared() {
            self.deliveries.notify_one();
        }
    }
}

/// What several processes on one store need from each other.
#[async_trait]
pub trait CoordinationStore: Send + Sync {
    /// Whether other processes may use this store at the same time (PostgreSQL). Then no
    /// process may act on what it alone remembers: leases expire rather than being
    /// released at start, and one process leads each [`LeaderTask`].
    fn is_shared(&self) -> bool;
    /// Becomes the one process running `task`; `None` while another process holds it.
    async fn try_lead(&self, task: LeaderTask) -> Result<Option<Leadership>>;
    /// Forwards other processes' wake-ups to `wakes` until the returned task is aborted;
    /// `None` when no other process can write.
    async fn listen(&self, wakes: Wakes) -> Result<Option<tokio::task::JoinHandle<()>>>;
    /// Keeps this handle's cache of documents current with every process's changes until
    /// the returned task is aborted (until then, and whenever it loses the database, the
    /// cache is bypassed); `None` where this process sees every change itself.
    async fn watch_documents(&self) -> Result<Option<tokio::task::JoinHandle<()>>>;
    /// Returns once every commit this handle made so far is on disk, so that what was
    /// just written may be acknowledged: a power cut after this keeps it. Concurrent
    /// callers share one flush (group commit). A no-op where each commit is durable by
    /// itself.
    async fn make_durable(&self) -> Result<()>;
    /// [`Self::make_durable`] for every process's commits (on a shared database): what
    /// is published from the database (the event relay) must not outlive a power cut.
    async fn make_all_durable(&self) -> Result<()> {
        self.make_durable().await
    }
}
