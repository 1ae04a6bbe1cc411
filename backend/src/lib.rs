//! docintel's processing backend: tenants and keys, documents and their blobs, the
//! durable job queue and the pipeline that extracts text and metadata.
//!
//! It knows nothing of HTTP; the façade (`docintel-api`) renders its types as API views.

pub mod blobs;
pub mod classify;
pub mod error;
pub mod events;
pub mod jobs;
pub mod keys;
pub mod model;
pub mod pipeline;
pub mod registry;
pub mod schemas;
pub mod store;
pub mod webhooks;

use std::path::PathBuf;
use std::sync::Arc;

use rand::RngCore;
use time::OffsetDateTime;
use tokio::sync::{Notify, broadcast};
use tokio::task::JoinSet;
use tracing::info;
use uuid::Uuid;

use blobs::{LocalBlobs, PendingBlob};
pub use error::{Error, IngestError, Result};
pub use jobs::WorkerConfig;
use model::{ContentType, Document, DocumentId, ListFilter, Page, Tenant, TenantId};
use store::{NewDocument, SqliteStore, Store};

/// Largest accepted upload unless configured otherwise: 50 MiB.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 50 * 1024 * 1024;
pub const DEFAULT_TENANT: &str = "default";
/// The failure of a job that was running when the process died, with parsing in-process.
pub const INTERRUPTED_IN_PROCESS: &str = "processing was interrupted when the server stopped; it is not retried in the server's \
     own process (parse documents in a child process to retry such jobs safely)";
/// How long a response is kept for its `Idempotency-Key`.
pub const IDEMPOTENCY_TTL: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

#[derive(Debug, Clone)]
pub struct Config {
    /// Holds `docintel.db` and `blobs/`.
    pub data_dir: PathBuf,
    pub max_upload_bytes: u64,
    pub workers: WorkerConfig,
    /// Classifier model file; `None` uses the shipped model.
    pub model_path: Option<PathBuf>,
    /// Longest a single document may take to process (OCR included).
    pub job_timeout: std::time::Duration,
    /// External tools (Tesseract, pdftoppm); `None` detects what is installed.
    pub tools: Option<pipeline::Tools>,
    /// Where untrusted documents are parsed: by default in child processes of this
    /// executable, which must therefore be the `docintel` binary (workers refuse to start
    /// otherwise).
    pub isolation: pipeline::Isolation,
    /// What parsing one document may consume.
    pub limits: pipeline::Limits,
    pub webhooks: webhooks::WebhookConfig,
}

impl Config {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            max_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES,
            workers: WorkerConfig::default(),
            model_path: None,
            job_timeout: std::time::Duration::from_secs(120),
            tools: None,
            isolation: pipeline::Isolation::this_program().unwrap_or(
                pipeline::Isolation::Process {
                    program: PathBuf::from("docintel"),
                },
            ),
            limits: pipeline::Limits::default(),
            webhooks: webhooks::WebhookConfig::default(),
        }
    }
}

/// The backend: one `Arc`, cheap to clone, shared by every request handler.
#[derive(Clone)]
pub struct Backend(Arc<Inner>);

struct Inner {
    store: Arc<dyn Store>,
    blobs: LocalBlobs,
    config: Config,
    wake: Arc<Notify>,
    /// Woken after a transaction wrote to the outbox.
    events_wake: Arc<Notify>,
    subscribers: broadcast::Sender<Arc<events::Published>>,
    registry: registry::Registry,
    pipeline: Arc<pipeline::Context>,
    workers_alive: Arc<std::sync::atomic::AtomicUsize>,
    relay_alive: Arc<std::sync::atomic::AtomicUsize>,
}

/// Counts a running background task while it lives (a panic unwinds and drops it too).
pub struct Alive(Arc<std::sync::atomic::AtomicUsize>);

impl Alive {
    pub fn new(counter: &Arc<std::sync::atomic::AtomicUsize>) -> Self {
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Self(counter.clone())
    }
}

impl Drop for Alive {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// The running relay; dropping it stops it (unsent events stay in the outbox).
pub struct RelayHandle {
    task: tokio::task::JoinHandle<()>,
}

impl Drop for RelayHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The running workers; dropping it stops them (a job in flight is left to its lease).
pub struct WorkerPool {
    _tasks: JoinSet<()>,
}

impl Backend {
    /// Opens the embedded backend under `config.data_dir`, creating it on first use.
    pub async fn open(config: Config) -> Result<Self> {
        std::fs::create_dir_all(&config.data_dir)?;
        let store = SqliteStore::open(&config.data_dir.join("docintel.db")).await?;
        let blobs = LocalBlobs::open(config.data_dir.join("blobs"))?;
        let model = match &config.model_path {
            Some(p) => classify::Model::load(p),
            None => classify::Model::default_model(),
        }
        .map_err(|e| Error::Config(format!("classifier model: {e}")))?;
        let tools = config.tools.clone().unwrap_or_else(pipeline::Tools::detect);
        info!(
            model = %model.version,
            ocr = tools.tesseract.is_some(),
            pdf_rendering = tools.pdftoppm.is_some(),
            "pipeline ready"
        );
        let pipeline = Arc::new(pipeline::Context {
            tools,
            model: Some(Arc::new(model)),
            timeout: config.job_timeout,
            limits: config.limits,
            spares: Arc::new(match &config.isolation {
                pipeline::Isolation::Process { program } => {
                    pipeline::sandbox::Spares::new(program, config.workers.workers)
                }
                pipeline::Isolation::InProcess => pipeline::sandbox::Spares::none(),
            }),
            isolation: config.isolation.clone(),
        });
        let store: Arc<dyn Store> = Arc::new(store);
        Ok(Self(Arc::new(Inner {
            registry: registry::Registry::new(store.clone()),
            store,
            blobs,
            config,
            wake: Arc::new(Notify::new()),
            events_wake: Arc::new(Notify::new()),
            // Subscribers that fall this far behind miss events (they can read Kafka).
            subscribers: broadcast::channel(4096).0,
            pipeline,
            workers_alive: Default::default(),
            relay_alive: Default::default(),
        })))
    }

    pub fn config(&self) -> &Config {
        &self.0.config
    }

    /// Starts the in-process worker pool. In the embedded mode one process owns the data
    /// folder, so any job still marked running belongs to a process that died: it is
    /// released at once instead of waiting for its lease to expire.
    ///
    /// When documents are parsed in this process ([`pipeline::Isolation::InProcess`]),
    /// such a job may be what killed it: it is failed instead, so that one document
    /// cannot crash the server at every start. Parsed in a child process, it is simply
    /// run again there.
    pub async fn start_workers(&self) -> Result<WorkerPool> {
        let in_process = self.0.pipeline.isolation == pipeline::Isolation::InProcess;
        let interrupted = if in_process {
            let owner = format!("start-{}", Uuid::new_v4().simple());
            let jobs = self.0.store.take_running_jobs(&owner).await?;
            let failed = store::JobResult::Failed {
                reason: INTERRUPTED_IN_PROCESS.to_owned(),
            };
            for job in &jobs {
                self.0.store.complete_job(job, &owner, &failed).await?;
            }
            jobs.len() as u64
        } else {
            self.0.store.release_all_leases().await?
        };
        if interrupted > 0 {
            self.0.events_wake.notify_one();
            if in_process {
                tracing::warn!(interrupted, "failed jobs interrupted by an earlier stop");
            } else {
                info!(interrupted, "resuming jobs interrupted by an earlier stop");
            }
        }
        self.start_workers_keeping_leases().await
    }

    /// Starts workers without releasing leases: jobs held by another worker resume only
    /// when their lease expires (the multi-process rule). Checks first that documents can
    /// be parsed where the configuration says.
    pub async fn start_workers_keeping_leases(&self) -> Result<WorkerPool> {
        if let pipeline::Isolation::Process { program } = &self.0.pipeline.isolation {
            pipeline::sandbox::probe(program, &self.0.pipeline)
                .await
                .map_err(Error::Config)?;
            self.0.pipeline.spares.refill();
        }
        let workers = Arc::new(jobs::Workers {
            store: self.0.store.clone(),
            blobs: self.0.blobs.clone(),
            config: self.0.config.workers.clone(),
            wake: self.0.wake.clone(),
            events_wake: self.0.events_wake.clone(),
            alive: self.0.workers_alive.clone(),
            pipeline: self.0.pipeline.clone(),
        });
        let mut tasks = JoinSet::new();
        workers.spawn(&mut tasks);
        Ok(WorkerPool { _tasks: tasks })
    }

    // --- tenants and keys

    /// Creates the default tenant and its first key when the store has no tenant yet;
    /// returns the key, which is never shown again.
    pub async fn ensure_default_tenant(&self) -> Result<Option<String>> {
        if self.0.store.tenant_count().await? > 0 {
            return Ok(None);
        }
        self.create_key(DEFAULT_TENANT).await.map(Some)
    }

    /// Issues a new API key for `tenant`, creating the tenant if it does not exist.
    pub async fn create_key(&self, tenant: &str) -> Result<String> {
        self.create_key_with(tenant, false).await
    }

    /// Issues a key that may also administer the platform (schema registry writes).
    pub async fn create_admin_key(&self, tenant: &str) -> Result<String> {
        self.create_key_with(tenant, true).await
    }

    /// The tenant called `name`, created if it does not exist yet.
    async fn tenant_named(&self, name: &str) -> Result<Tenant> {
        match self.0.store.tenant_by_name(name).await? {
            Some(t) => Ok(t),
            None => self.0.store.create_tenant(name).await,
        }
    }

    async fn create_key_with(&self, tenant: &str, admin: bool) -> Result<String> {
        let tenant = self.tenant_named(tenant).await?;
        let key = keys::generate();
        self.0
            .store
            .add_api_key(
                tenant.id,
                &keys::hash(&key),
                keys::display_prefix(&key),
                admin,
            )
            .await?;
        Ok(key)
    }

    pub async fn authenticate(&self, key: &str) -> Result<Option<Tenant>> {
        self.authenticate_hash(&keys::hash(key)).await
    }

    /// [`Self::authenticate`] for a caller that already has the key's [`keys::hash`].
    pub async fn authenticate_hash(&self, key_hash: &str) -> Result<Option<Tenant>> {
        self.0.store.tenant_for_key(key_hash).await
    }

    pub async fn key_is_admin(&self, key: &str) -> Result<bool> {
        self.0.store.key_is_admin(&keys::hash(key)).await
    }

    /// A random secret persisted under `name`, the same across restarts.
    pub async fn secret(&self, name: &str) -> Result<Vec<u8>> {
        let mut fresh = [0u8; 32];
        rand::rng().fill_bytes(&mut fresh);
        let stored = self
            .0
            .store
            .setting_or_init(&format!("secret.{name}"), &hex::encode(fresh))
            .await?;
        hex::decode(stored).map_err(|e| Error::Corrupt(format!("secret {name}: {e}")))
    }

    // --- documents

    /// Starts receiving an upload; feed it with [`PendingBlob::write`], then [`Self::submit`].
    pub async fn begin_upload(&self) -> Result<PendingBlob> {
        self.0.blobs.begin(self.0.config.max_upload_bytes).await
    }

    /// Checks the bytes' type (against `declared`, when the client named a supported type),
    /// stores them, and enqueues processing. On any error nothing is stored.
    pub async fn submit(
        &self,
        tenant: TenantId,
        filename: &str,
        declared: Option<ContentType>,
        upload: PendingBlob,
    ) -> Result<Document> {
        self.submit_with_id(tenant, Uuid::now_v7(), filename, declared, upload)
            .await
    }

    /// [`Self::submit`] with a chosen id (imports that keep ids; contract tests whose
    /// provider states name a document).
    pub async fn submit_with_id(
        &self,
        tenant: TenantId,
        id: DocumentId,
        filename: &str,
        declared: Option<ContentType>,
        upload: PendingBlob,
    ) -> Result<Document> {
        validate_filename(filename)?;
        let facts = upload.facts();
        if facts.size == 0 {
            return Err(IngestError::Empty.into());
        }
        let content_type = pipeline::sniff::sniff(&facts.head, facts.is_text)
            .map_err(|detected| IngestError::Unsupported { detected })?;
        if let Some(declared) = declared.filter(|d| *d != content_type) {
            return Err(IngestError::Mismatch {
                declared: declared.mime(),
                detected: content_type.mime(),
            }
            .into());
        }
        let blob_key = blob_key(tenant, id);
        upload.commit(&self.0.blobs, &blob_key).await?;
        let new = NewDocument {
            id,
            tenant_id: tenant,
            filename: filename.to_owned(),
            content_type,
            size_bytes: facts.size,
            sha256: facts.sha256,
            blob_key: blob_key.clone(),
            created_at: OffsetDateTime::now_utc(),
        };
        match self.0.store.insert_document(&new).await {
            Ok(doc) => {
                self.0.wake.notify_one();
                self.0.events_wake.notify_one();
                Ok(doc)
            }
            Err(e) => {
                // Without its row the blob is unreachable: remove it.
                let _ = self.0.blobs.delete(&blob_key).await;
                Err(e)
            }
        }
    }

    pub async fn document(&self, tenant: TenantId, id: DocumentId) -> Result<Option<Document>> {
        self.0.store.get_document(tenant, id).await
    }

    pub async fn list(
        &self,
        tenant: TenantId,
        filter: &ListFilter,
        after: Option<DocumentId>,
        limit: u32,
    ) -> Result<Page> {
        self.0
            .store
            .list_documents(tenant, filter, after, limit)
            .await
    }

    /// Offset pagination for the legacy API: a page and the tenant's total.
    pub async fn list_offset(
        &self,
        tenant: TenantId,
        offset: u64,
        limit: u32,
    ) -> Result<(Vec<Document>, u64)> {
        self.0
            .store
            .list_documents_offset(tenant, offset, limit)
            .await
    }

    pub async fn text(&self, tenant: TenantId, id: DocumentId) -> Result<Option<String>> {
        self.0.store.get_text(tenant, id).await
    }

    /// The first `max_chars` characters of a document's text, and whether it goes on.
    pub async fn text_prefix(
        &self,
        tenant: TenantId,
        id: DocumentId,
        max_chars: u32,
    ) -> Result<Option<(String, bool)>> {
        self.0.store.get_text_prefix(tenant, id, max_chars).await
    }

    /// Deletes a document and its blob; false when there was no such document.
    pub async fn delete(&self, tenant: TenantId, id: DocumentId) -> Result<bool> {
        match self.0.store.delete_document(tenant, id).await? {
            Some(keys) => {
                self.0.events_wake.notify_one();
                for key in keys {
                    self.0.blobs.delete(&key).await?;
                }
                Ok(true)
            }
            None => Ok(false),
        }
    }

    // --- webhooks

    /// Subscribes `tenant` to events at a checked public URL (or a private one, when the
    /// configuration allows); returns the subscription and its secret, shown only now.
    pub async fn create_webhook(
        &self,
        tenant: TenantId,
        new: webhooks::NewWebhook,
    ) -> Result<(webhooks::Webhook, String)> {
        let url = webhooks::validate(&new)?;
        webhooks::check_target(&url, self.0.config.webhooks.allow_private_targets).await?;
        let mut new = new;
        new.event_types.sort();
        new.event_types.dedup();
        let secret = webhooks::new_secret();
        let hook = self.0.store.create_webhook(tenant, &new, &secret).await?;
        Ok((hook, secret))
    }

    pub async fn webhooks(&self, tenant: TenantId) -> Result<Vec<webhooks::Webhook>> {
        self.0.store.list_webhooks(tenant).await
    }

    pub async fn webhook(&self, tenant: TenantId, id: Uuid) -> Result<Option<webhooks::Webhook>> {
        self.0.store.get_webhook(tenant, id).await
    }

    pub async fn delete_webhook(&self, tenant: TenantId, id: Uuid) -> Result<bool> {
        self.0.store.delete_webhook(tenant, id).await
    }

    /// A new secret (shown only now); the old one keeps signing for the grace period.
    pub async fn rotate_webhook_secret(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<Option<String>> {
        let secret = webhooks::new_secret();
        let until = OffsetDateTime::now_utc() + self.0.config.webhooks.previous_secret_grace;
        Ok(self
            .0
            .store
            .rotate_webhook_secret(tenant, id, &secret, until)
            .await?
            .then_some(secret))
    }

    pub async fn enable_webhook(&self, tenant: TenantId, id: Uuid) -> Result<bool> {
        self.0.store.enable_webhook(tenant, id).await
    }

    pub async fn webhook_deliveries(
        &self,
        tenant: TenantId,
        id: Uuid,
        limit: u32,
    ) -> Result<Vec<webhooks::Delivery>> {
        self.0.store.webhook_deliveries(tenant, id, limit).await
    }

    // --- rate limits

    /// Tenants with their own request limit: (tenant, quota, window seconds).
    pub async fn rate_limits(&self) -> Result<Vec<(TenantId, u32, u32)>> {
        self.0.store.rate_limits().await
    }

    /// Sets (or with `None` removes) a tenant's own limit; creates the tenant if new.
    pub async fn set_rate_limit(&self, tenant: &str, limit: Option<(u32, u32)>) -> Result<()> {
        let tenant = self.tenant_named(tenant).await?;
        self.0.store.set_rate_limit(tenant.id, limit).await
    }

    // --- events and the schema registry

    /// The embedded schema registry.
    pub fn registry(&self) -> &registry::Registry {
        &self.0.registry
    }

    /// Events as the relay publishes them (from now on).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<events::Published>> {
        self.0.subscribers.subscribe()
    }

    /// Registers the schema each topic is written with (and the subject's declared
    /// compatibility level) in `target`. An error means the registry refuses one of them:
    /// docintel must not start writing events it could not register.
    pub async fn register_schemas(
        &self,
        target: &registry::client::Target,
    ) -> std::result::Result<Vec<(String, i64)>, registry::client::RegisterError> {
        let (default, modes) = schemas::parse_modes(events::COMPATIBILITY_JSON).map_err(|e| {
            registry::client::RegisterError::Invalid {
                subject: "compatibility.json".to_owned(),
                message: e,
            }
        })?;
        let mut ids = Vec::new();
        for topic in events::TOPICS {
            let subject = topic.subject();
            let mode = modes.get(topic.name).copied().unwrap_or(default);
            target.set_level(&subject, mode).await?;
            ids.push((
                subject.clone(),
                target.register(&subject, topic.schema).await?,
            ));
        }
        Ok(ids)
    }

    /// Starts the outbox relay.
    pub fn start_relay(
        &self,
        config: events::relay::RelayConfig,
    ) -> std::result::Result<RelayHandle, events::relay::EncodeError> {
        let relay = events::relay::Relay {
            store: self.0.store.clone(),
            encoder: events::relay::Encoder::new(
                &config.registry_url,
                config.registry_auth.as_ref(),
            )?,
            kafka: (!config.kafka_brokers.is_empty())
                .then(|| events::sink::KafkaSink::new(config.kafka_brokers.clone())),
            subscribers: self.0.subscribers.clone(),
            wake: self.0.events_wake.clone(),
        };
        let alive = Alive::new(&self.0.relay_alive);
        Ok(RelayHandle {
            task: tokio::spawn(async move {
                let _alive = alive;
                relay.run().await
            }),
        })
    }

    /// Running worker tasks and relay tasks.
    pub fn liveness(&self) -> (usize, usize) {
        use std::sync::atomic::Ordering::SeqCst;
        (
            self.0.workers_alive.load(SeqCst),
            self.0.relay_alive.load(SeqCst),
        )
    }

    /// Unsent events, and the creation time (unix ms) of the oldest.
    pub async fn outbox_lag(&self) -> Result<(u64, Option<i64>)> {
        self.0.store.outbox_lag().await
    }

    /// The response kept for an idempotency key (kept [`IDEMPOTENCY_TTL`]).
    pub async fn idempotent_response(
        &self,
        tenant: TenantId,
        key: &str,
    ) -> Result<Option<store::StoredResponse>> {
        let now = OffsetDateTime::now_utc();
        self.0
            .store
            .idempotent_response(tenant, key, now - IDEMPOTENCY_TTL)
            .await
    }

    pub async fn remember_response(
        &self,
        tenant: TenantId,
        key: &str,
        response: &store::StoredResponse,
    ) -> Result<()> {
        let now = OffsetDateTime::now_utc();
        self.0
            .store
            .store_idempotent_response(tenant, key, response, now, now - IDEMPOTENCY_TTL)
            .await
    }

    pub async fn queue_depth(&self) -> Result<u64> {
        self.0.store.queue_depth().await
    }

    /// For tests and tools that need the raw store (e.g. to simulate a dead worker).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.0.store
    }

    /// The tools and model processing uses.
    pub fn pipeline(&self) -> &pipeline::Context {
        &self.0.pipeline
    }

    /// A processed document's thumbnail (PNG), if it has or can have one. A PDF's is
    /// rendered on first request and kept.
    pub async fn thumbnail(&self, doc: &Document) -> Result<Option<Vec<u8>>> {
        if let Some(key) = &doc.thumbnail_key {
            return Ok(Some(self.0.blobs.read(key).await?));
        }
        if doc.content_type != ContentType::Pdf || self.0.pipeline.tools.pdftoppm.is_none() {
            return Ok(None);
        }
        let key = blob_key(doc.tenant_id, doc.id);
        let bytes = self.0.blobs.read(&key).await?;
        let png = match pipeline::render_thumbnail(self.0.pipeline.clone(), bytes).await {
            Some(Ok(png)) => png,
            Some(Err(e)) => {
                tracing::warn!(doc = %doc.id, error = %e, "could not render a thumbnail");
                return Ok(None);
            }
            None => return Ok(None),
        };
        let thumb_key = blobs::thumbnail_key(&key);
        self.0.blobs.put(&thumb_key, &png).await?;
        if !self
            .0
            .store
            .set_thumbnail(doc.tenant_id, doc.id, &thumb_key)
            .await?
        {
            // Deleted meanwhile: do not leave an orphan.
            self.0.blobs.delete(&thumb_key).await?;
        }
        Ok(Some(png))
    }

    pub fn blobs(&self) -> &LocalBlobs {
        &self.0.blobs
    }
}

/// Where a document's bytes are stored.
fn blob_key(tenant: TenantId, id: DocumentId) -> String {
    format!("{}/{}", tenant.0.simple(), id.simple())
}

/// A file name is kept for display and download only, never used as a path; still,
/// anything that could be one, or that is not printable, is refused.
pub fn validate_filename(name: &str) -> Result<(), IngestError> {
    if name.trim().is_empty() {
        return Err(IngestError::BadFilename("it is empty"));
    }
    if name.chars().count() > 255 {
        return Err(IngestError::BadFilename("it is longer than 255 characters"));
    }
    if name.contains(['/', '\\']) {
        return Err(IngestError::BadFilename("it contains a path separator"));
    }
    if name == "." || name == ".." {
        return Err(IngestError::BadFilename("it is a relative path"));
    }
    if name.chars().any(char::is_control) {
        return Err(IngestError::BadFilename("it contains control characters"));
    }
    if name.chars().any(is_bidi_control) {
        // `invoice\u{202E}fdp.exe` displays as `invoiceexe.pdf`.
        return Err(IngestError::BadFilename(
            "it contains bidirectional text controls, which can disguise a name",
        ));
    }
    if name.contains('\u{FFFD}') {
        return Err(IngestError::BadFilename(
            "it is not valid UTF-8 (or contains U+FFFD, the mark of a lost character)",
        ));
    }
    if name.chars().all(|c| c.is_whitespace() || is_invisible(c)) {
        return Err(IngestError::BadFilename("it has no visible character"));
    }
    Ok(())
}

/// Characters that reorder how the text around them is displayed.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters that take no space: zero-width space and joiners, word joiner, byte-order
/// mark, soft hyphen. Legitimate inside a name (joiners shape Indic and Persian text,
/// emoji), never a name on their own.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}' | '\u{180E}' | '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filenames() {
        assert!(validate_filename("invoice 2026-01.pdf").is_ok());
        assert!(validate_filename("résumé.txt").is_ok());
        for bad in [
            "",
            "  ",
            "../etc/passwd",
            "a/b",
            "a\\b",
            "..",
            "a\nb",
            "a\0b",
        ] {
            assert!(validate_filename(bad).is_err(), "{bad:?}");
        }
        assert!(validate_filename(&"x".repeat(256)).is_err());
        // Names that disguise themselves or show nothing.
        for bad in [
            "invoice\u{202E}fdp.exe",
            "a\u{2067}b.pdf",
            "\u{200B}\u{200C}\u{200D}",
            "\u{FEFF}",
            " \u{2060} ",
            "bad\u{FFFD}name.pdf",
        ] {
            assert!(validate_filename(bad).is_err(), "{bad:?}");
        }
        // Joiners inside a real name stay allowed (Persian, emoji sequences).
        assert!(validate_filename("می\u{200C}خواهم.txt").is_ok());
        assert!(validate_filename("👩\u{200D}💻 notes.txt").is_ok());
        // The limit is in characters (as the OpenAPI maxLength says), not bytes.
        assert!(validate_filename(&"é".repeat(255)).is_ok());
        assert!(validate_filename(&"é".repeat(256)).is_err());
    }
}

#[cfg(test)]
mod job_tests {
    use std::time::Duration;

    use super::*;
    use crate::model::DocumentStatus;

    async fn backend(dir: &std::path::Path, lease: Duration) -> Backend {
        let mut config = Config::new(dir);
        // These tests are about the queue; the parser process is tested through the
        // binary (tests/hostile.rs).
        config.isolation = pipeline::Isolation::InProcess;
        config.workers = WorkerConfig {
            workers: 1,
            lease,
            poll: Duration::from_millis(20),
            max_attempts: 5,
        };
        Backend::open(config).await.unwrap()
    }

    async fn upload_text(b: &Backend, tenant: TenantId, text: &str) -> Document {
        let mut up = b.begin_upload().await.unwrap();
        up.write(text.as_bytes()).await.unwrap();
        b.submit(tenant, "note.txt", None, up).await.unwrap()
    }

    async fn wait_for(b: &Backend, tenant: TenantId, id: DocumentId) -> Document {
        for _ in 0..500 {
            let d = b.document(tenant, id).await.unwrap().unwrap();
            if matches!(d.status, DocumentStatus::Processed | DocumentStatus::Failed) {
                return d;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("document {id} never finished");
    }

    async fn tenant(b: &Backend) -> TenantId {
        tenant_named(b, "t").await
    }

    async fn tenant_named(b: &Backend, name: &str) -> TenantId {
        let key = b.create_key(name).await.unwrap();
        b.authenticate(&key).await.unwrap().unwrap().id
    }

    #[tokio::test]
    async fn the_outbox_holds_each_change_until_sent_and_forgets_old_sent_events() {
        let dir = tempfile::tempdir().unwrap();
        let b = backend(dir.path(), Duration::from_secs(30)).await;
        let t = tenant(&b).await;
        // No relay runs here: the events stay in the outbox.
        let doc = upload_text(&b, t, "hello world").await;
        let _workers = b.start_workers().await.unwrap();
        wait_for(&b, t, doc.id).await;
        assert!(b.delete(t, doc.id).await.unwrap());
        let pending = b.store().pending_events(100).await.unwrap();
        let topics: Vec<&str> = pending.iter().map(|r| r.topic.as_str()).collect();
        assert_eq!(topics.first(), Some(&"doc.uploaded"));
        assert_eq!(topics.last(), Some(&"doc.deleted"));
        assert!(topics.contains(&"doc.processed"));
        assert_eq!(b.outbox_lag().await.unwrap().0, pending.len() as u64);

        // Marking through the second leaves the rest pending, in order.
        b.store()
            .mark_sent(pending[1].seq, OffsetDateTime::now_utc())
            .await
            .unwrap();
        let rest = b.store().pending_events(100).await.unwrap();
        assert_eq!(rest, pending[2..].to_vec());

        // Sent events are purged only once older than the cut-off; unsent ones never.
        let store = b.store();
        assert_eq!(
            store
                .purge_sent(OffsetDateTime::now_utc() - Duration::from_secs(60))
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            store
                .purge_sent(OffsetDateTime::now_utc() + Duration::from_secs(60))
                .await
                .unwrap(),
            2
        );
        assert_eq!(b.store().pending_events(100).await.unwrap(), rest);
    }

    /// Reads are served from the store's document cache once seen; every kind of write
    /// must show in the next read (claim, completion, thumbnail, deletion), and another
    /// tenant never gets a cached document.
    #[tokio::test]
    async fn every_write_shows_in_the_next_read_of_a_cached_document() {
        let dir = tempfile::tempdir().unwrap();
        let b = backend(dir.path(), Duration::from_secs(30)).await;
        let t = tenant(&b).await;
        let other = tenant_named(&b, "other").await;
        let doc = upload_text(&b, t, "hello world").await;
        let read = || async { b.document(t, doc.id).await.unwrap() };
        for _ in 0..2 {
            assert_eq!(read().await.unwrap().status, DocumentStatus::Queued);
            assert!(b.document(other, doc.id).await.unwrap().is_none());
        }

        let now = OffsetDateTime::now_utc();
        let job = b
            .store()
            .claim_job("w", now, now + Duration::from_secs(30))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(read().await.unwrap().status, DocumentStatus::Processing);

        let failed = store::JobResult::Failed {
            reason: "broken".into(),
        };
        assert!(b.store().complete_job(&job, "w", &failed).await.unwrap());
        let d = read().await.unwrap();
        assert_eq!(d.status, DocumentStatus::Failed);
        assert_eq!(d.failure.as_deref(), Some("broken"));

        assert!(
            b.store()
                .set_thumbnail(t, doc.id, "thumbs/x.png")
                .await
                .unwrap()
        );
        assert_eq!(
            read().await.unwrap().thumbnail_key.as_deref(),
            Some("thumbs/x.png")
        );
        assert!(b.document(other, doc.id).await.unwrap().is_none());

        assert!(b.delete(t, doc.id).await.unwrap());
        assert!(read().await.is_none());
    }

    #[tokio::test]
    async fn a_job_whose_worker_died_is_resumed_after_its_lease_expires() {
        let dir = tempfile::tempdir().unwrap();
        let b = backend(dir.path(), Duration::from_millis(300)).await;
        let t = tenant(&b).await;
        let doc = upload_text(&b, t, "hello world").await;

        // A worker claims the job and dies without finishing or renewing its lease.
        let now = OffsetDateTime::now_utc();
        let claimed = b
            .store()
            .claim_job("dead-worker", now, now + Duration::from_millis(300))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(claimed.document_id, doc.id);
        assert_eq!(
            b.document(t, doc.id).await.unwrap().unwrap().status,
            DocumentStatus::Processing
        );

        let _pool = b.start_workers_keeping_leases().await.unwrap();
        let done = wait_for(&b, t, doc.id).await;
        assert_eq!(done.status, DocumentStatus::Processed);
        assert_eq!(
            b.text(t, doc.id).await.unwrap().as_deref(),
            Some("hello world")
        );
        // The dead worker's late result is refused: it no longer holds the lease.
        let late = store::JobResult::Failed {
            reason: "late".into(),
        };
        assert!(
            !b.store()
                .complete_job(&claimed, "dead-worker", &late)
                .await
                .unwrap()
        );
        assert_eq!(b.queue_depth().await.unwrap(), 0);
    }

    /// Parsed in-process, a job that was running when the process died may be what
    /// killed it: the next start fails it instead of running it again. (Parsed in a child
    /// process, such a job resumes: tests/cli.rs kills the real binary mid-job.)
    #[tokio::test]
    async fn in_process_a_job_interrupted_by_a_stop_is_failed_at_the_next_start() {
        let dir = tempfile::tempdir().unwrap();
        let id;
        let t;
        {
            let b = backend(dir.path(), Duration::from_secs(3600)).await;
            t = tenant(&b).await;
            id = upload_text(&b, t, "survives a crash").await.id;
            let now = OffsetDateTime::now_utc();
            b.store()
                .claim_job("killed-process", now, now + Duration::from_secs(3600))
                .await
                .unwrap()
                .unwrap();
        }
        // A new process on the same data folder; the lease would hold for an hour.
        let b = backend(dir.path(), Duration::from_secs(3600)).await;
        let _pool = b.start_workers().await.unwrap();
        let done = wait_for(&b, t, id).await;
        assert_eq!(done.status, DocumentStatus::Failed);
        assert_eq!(done.failure.as_deref(), Some(INTERRUPTED_IN_PROCESS));
        assert_eq!(b.queue_depth().await.unwrap(), 0);
        // Its owner hears of it like of any failure.
        let events = b.store().pending_events(100).await.unwrap();
        assert!(events.iter().any(|e| e.topic == "doc.failed"), "{events:?}");
    }

    #[tokio::test]
    async fn a_job_that_keeps_dying_is_failed_not_retried_forever() {
        let dir = tempfile::tempdir().unwrap();
        let b = backend(dir.path(), Duration::from_secs(3600)).await;
        let t = tenant(&b).await;
        let id = upload_text(&b, t, "poison").await.id;
        for _ in 0..5 {
            let now = OffsetDateTime::now_utc();
            b.store()
                .claim_job("crashing", now, now + Duration::from_secs(3600))
                .await
                .unwrap()
                .unwrap();
            b.store().release_all_leases().await.unwrap();
        }
        let _pool = b.start_workers().await.unwrap();
        let done = wait_for(&b, t, id).await;
        assert_eq!(done.status, DocumentStatus::Failed);
        assert!(done.failure.unwrap().contains("interrupted 5 times"));
    }

    #[tokio::test]
    async fn tenants_are_isolated_in_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let b = backend(dir.path(), Duration::from_secs(60)).await;
        let a = tenant(&b).await;
        let key = b.create_key("other").await.unwrap();
        let other = b.authenticate(&key).await.unwrap().unwrap().id;
        let doc = upload_text(&b, a, "mine").await;
        assert!(b.document(other, doc.id).await.unwrap().is_none());
        assert!(!b.delete(other, doc.id).await.unwrap());
        let page = b
            .list(other, &ListFilter::default(), None, 10)
            .await
            .unwrap();
        assert!(page.items.is_empty());
        assert!(b.document(a, doc.id).await.unwrap().is_some());
    }
}
