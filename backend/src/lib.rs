//! docintel's processing backend: tenants and keys, documents and their blobs, the
//! durable job queue and the pipeline that extracts text and metadata.
//!
//! It knows nothing of HTTP; the façade (`docintel-api`) renders its types as API views.

pub mod audit;
pub mod blobs;
pub mod classify;
mod config;
pub mod error;
pub mod events;
mod filenames;
mod group_flush;
pub mod jobs;
pub mod keys;
pub mod layout;
pub mod model;
pub mod pipeline;
pub mod registry;
pub mod scan;
pub mod schemas;
mod service;
pub mod store;
pub mod webhooks;

use std::sync::Arc;

use tokio::sync::broadcast;
use tokio::task::JoinSet;
use tracing::info;

use blobs::{BlobLocation, Blobs};
pub use config::{BlobSweep, Config};
pub use error::{Error, IngestError, Result};
pub use filenames::validate_filename;
pub use jobs::WorkerConfig;
pub use service::{KeySpec, Submitted, Thumbnail};
use store::{SqliteStore, Store};

/// Largest accepted upload unless configured otherwise: 50 MiB.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 50 * 1024 * 1024;
pub const DEFAULT_TENANT: &str = "default";
/// The failure of a job that was running when the process died, with parsing in-process.
pub const INTERRUPTED_IN_PROCESS: &str = "processing was interrupted when the server stopped; it is not retried in the server's \
     own process (parse documents in a child process to retry such jobs safely)";
/// How long a response is kept for its `Idempotency-Key`.
pub const IDEMPOTENCY_TTL: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// The backend: one `Arc`, cheap to clone, shared by every request handler.
#[derive(Clone)]
pub struct Backend(Arc<Inner>);

struct Inner {
    store: Arc<dyn Store>,
    blobs: Blobs,
    config: Config,
    /// Woken when work is queued: by this process directly, by others through the store.
    wakes: store::Wakes,
    subscribers: broadcast::Sender<Arc<events::Published>>,
    registry: registry::Registry,
    broker: docintel_broker::Broker,
    pipeline: Arc<pipeline::Context>,
    /// The malware scanner; `None` when scanning is off.
    scanner: Option<Arc<scan::Scanner>>,
    thumbnails: service::Renders,
    /// Uploads waiting to be inserted, together.
    uploads: service::Uploads,
    workers_alive: Arc<std::sync::atomic::AtomicUsize>,
    /// Claims this process's workers made (see [`Backend::job_claims`]).
    job_claims: Arc<std::sync::atomic::AtomicU64>,
    relay_alive: Arc<std::sync::atomic::AtomicUsize>,
    /// Whether this process leads the event relay now.
    relay_leading: Arc<std::sync::atomic::AtomicBool>,
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

/// The cores this process may run on.
pub(crate) fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// The running workers; dropping it stops them (a job in flight is left to its lease;
/// [`WorkerPool::stop`] hands it back at once).
pub struct WorkerPool {
    tasks: JoinSet<()>,
    store: Arc<dyn Store>,
    /// Every lease this pool takes is owned by a name starting with this.
    owner_prefix: String,
}

impl WorkerPool {
    /// Stops the workers and queues their jobs in flight again without counting the
    /// attempt, so that a restart (or another process) resumes them at once.
    pub async fn stop(mut self) -> Result<u64> {
        self.tasks.shutdown().await;
        let released = self.store.release_leases_of(&self.owner_prefix).await?;
        if released > 0 {
            info!(released, "handed back the jobs in flight");
        }
        Ok(released)
    }
}

/// The running blob sweep; dropping it stops it.
pub struct Sweeper(tokio::task::JoinHandle<()>);

impl Drop for Sweeper {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Forwards other processes' wake-ups while it lives.
pub struct Listener(Option<tokio::task::JoinHandle<()>>);

impl Drop for Listener {
    fn drop(&mut self) {
        if let Some(t) = &self.0 {
            t.abort();
        }
    }
}

/// The store `config` names: PostgreSQL at `database_url`, else the embedded SQLite file
/// under `data_dir`. Either is migrated to this build's schema.
pub async fn open_store(config: &Config) -> Result<Arc<dyn Store>> {
    Ok(match &config.database_url {
        Some(url) => Arc::new(store::PgStore::connect_with(url, config.database_pool_size).await?),
        None => Arc::new(
            SqliteStore::open_with(&config.data_dir.join("docintel.db"), config.durability).await?,
        ),
    })
}

impl Backend {
    /// Opens the backend under `config.data_dir` (and `config.database_url`), creating
    /// it on first use.
    pub async fn open(config: Config) -> Result<Self> {
        std::fs::create_dir_all(&config.data_dir)?;
        let store = open_store(&config).await?;
        let blobs = Blobs::open(
            config
                .blob_store
                .as_ref()
                .unwrap_or(&BlobLocation::Folder(config.data_dir.join("blobs"))),
        )?
        .with_inline(
            store.clone(),
            config.inline_max_bytes.min(blobs::MAX_INLINE_MAX_BYTES),
        );
        let model = match &config.model_path {
            Some(p) => classify::Model::load(p),
            None => classify::Model::default_model(),
        }
        .map_err(|e| Error::Config(format!("classifier model: {e}")))?;
        let tools = config.tools.clone().unwrap_or_else(pipeline::Tools::detect);
        info!(
            model = %model.version,
            ocr = tools.tesseract.is_some(),
            // PDFs are drawn in process; pdftoppm is the fallback (and renders scans for OCR).
            pdftoppm = tools.pdftoppm.is_some(),
            "pipeline ready"
        );
        let pipeline = Arc::new(pipeline::Context {
            tools,
            model: Some(Arc::new(model)),
            timeout: config.job_timeout,
            limits: config.limits,
            zygote: Arc::new(match &config.isolation {
                pipeline::Isolation::Process { program } => pipeline::sandbox::Zygote::new(program),
                pipeline::Isolation::InProcess => pipeline::sandbox::Zygote::none(),
            }),
            isolation: config.isolation.clone(),
        });
        // Thumbnail renders run beside the workers' parsers: one per two cores at most.
        let scanner = scan::Scanner::new(&config.scan).map(Arc::new);
        let thumbnails = service::Renders::new(cores().div_ceil(2).min(config.workers.workers));
        let uploads = service::Uploads::start(store.clone(), config.quota);
        Ok(Self(Arc::new(Inner {
            registry: registry::Registry::new(store.clone()),
            broker: docintel_broker::Broker::new(
                store.clone(),
                config.broker_allow_pact_modification,
            )
            .with_tenants(config.broker_tenants.clone())
            .with_quota(config.broker_quota)
            .with_public_badges(config.broker_public_badges)
            .with_read_cache(config.broker_read_cache),
            store,
            blobs,
            config,
            wakes: store::Wakes::default(),
            // Subscribers that fall this far behind miss events (they can read Kafka).
            subscribers: broadcast::channel(4096).0,
            pipeline,
            scanner,
            thumbnails,
            uploads,
            workers_alive: Default::default(),
            job_claims: Default::default(),
            relay_alive: Default::default(),
            relay_leading: Default::default(),
        })))
    }

    pub fn config(&self) -> &Config {
        &self.0.config
    }

    /// Running worker tasks and relay tasks.
    pub fn liveness(&self) -> (usize, usize) {
        use std::sync::atomic::Ordering::SeqCst;
        (
            self.0.workers_alive.load(SeqCst),
            self.0.relay_alive.load(SeqCst),
        )
    }

    /// Claims of jobs this process's workers have made, each a statement on the store,
    /// found jobs or not: with nothing to do, one idle worker claims once a poll.
    pub fn job_claims(&self) -> u64 {
        self.0.job_claims.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether this process is the one relaying events (on a shared database, one
    /// process at a time is).
    pub fn leads_relay(&self) -> bool {
        self.0
            .relay_leading
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// For tests and tools that need the raw store (e.g. to simulate a dead worker).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.0.store
    }

    /// The tools and model processing uses.
    pub fn pipeline(&self) -> &pipeline::Context {
        &self.0.pipeline
    }

    /// What this process waits on for queued work (the webhook sender waits on
    /// `deliveries`).
    pub fn wakes(&self) -> &store::Wakes {
        &self.0.wakes
    }

    /// Events a webhook may want were written (with their deliveries): wake whoever sends
    /// them.
    fn events_written(&self) {
        self.0.wakes.events_written(&*self.0.store);
    }

    /// Starts forwarding the wake-ups of other processes on the same store (none on the
    /// embedded store).
    pub async fn listen(&self) -> Result<Listener> {
        Ok(Listener(self.0.store.listen(self.0.wakes.clone()).await?))
    }

    /// The walls every parser child holds, once the workers' start-up probe has run (none
    /// when parsing runs in this process).
    pub fn parser_walls(&self) -> Option<pipeline::sandbox::Walls> {
        self.0.pipeline.zygote.walls()
    }

    /// Keeps the store's cache of documents current with other processes' changes, as
    /// long as the returned value lives (none needed on the embedded store).
    pub async fn watch_documents(&self) -> Result<Listener> {
        Ok(Listener(self.0.store.watch_documents().await?))
    }

    /// The malware scanner, when scanning is on.
    pub fn scanner(&self) -> Option<&scan::Scanner> {
        self.0.scanner.as_deref()
    }

    pub fn blobs(&self) -> &Blobs {
        &self.0.blobs
    }
}
