//! What the backend is opened with.

use std::path::PathBuf;
use std::time::Duration;

use crate::blobs::BlobLocation;

use crate::{DEFAULT_MAX_UPLOAD_BYTES, WorkerConfig, pipeline, webhooks};

#[derive(Debug, Clone)]
pub struct Config {
    /// Holds `blobs/`, and `docintel.db` unless `database_url` names a server.
    pub data_dir: PathBuf,
    /// `postgres://…`: keep the state in that PostgreSQL database instead of the embedded
    /// SQLite file.
    pub database_url: Option<String>,
    /// At most this many connections to that database for the API's reads of documents,
    /// and one fewer (at least 1) for everything else (`store::pool_sizes`); its two
    /// listeners have connections of their own.
    pub database_pool_size: u32,
    pub max_upload_bytes: u64,
    /// Documents up to this size keep their bytes in the database, written with their
    /// row (see `blobs`); 0: every document gets a blob of its own.
    pub inline_max_bytes: u64,
    /// Each tenant's storage quotas unless it has its own (`docintel tenants limit`).
    pub quota: crate::model::Quota,
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
    /// When the embedded store acknowledges a commit (PostgreSQL has its own setting,
    /// `synchronous_commit`).
    pub durability: crate::store::Durability,
    /// Where blobs go; `None` is the folder `<data_dir>/blobs`.
    pub blob_store: Option<BlobLocation>,
    /// How often orphaned blobs are looked for, and how old one must be to be removed.
    pub blob_sweep: BlobSweep,
    /// Lets the embedded Pact Broker take other content for a consumer version's pact
    /// (the Pact Broker's `allow_dangerous_contract_modification`).
    pub broker_allow_pact_modification: bool,
    /// The tenants whose keys may use the embedded Pact Broker (admin keys always may);
    /// `None`: every tenant's.
    pub broker_tenants: Option<Vec<String>>,
    /// What each tenant may keep in the embedded Pact Broker.
    pub broker_quota: docintel_broker::Quota,
    /// Malware scanning of every document before it is processed (off by default).
    pub scan: crate::scan::ScanConfig,
    /// The embedded Pact Broker's badges answer without a key.
    pub broker_public_badges: bool,
    /// How much the embedded Pact Broker keeps of its answers (0: nothing).
    pub broker_read_cache: usize,
    /// How long audit entries are kept.
    pub audit_retention: std::time::Duration,
}

#[derive(Debug, Clone, Copy)]
pub struct BlobSweep {
    pub every: Duration,
    /// Longer than any upload takes from its last byte to its document row.
    pub grace: Duration,
}

impl Default for BlobSweep {
    fn default() -> Self {
        Self {
            every: Duration::from_secs(15 * 60),
            grace: Duration::from_secs(3600),
        }
    }
}

impl Config {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            database_url: None,
            database_pool_size: crate::store::default_pool_size(),
            max_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES,
            inline_max_bytes: crate::blobs::DEFAULT_INLINE_MAX_BYTES,
            quota: crate::model::Quota::UNLIMITED,
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
            durability: crate::store::Durability::Full,
            blob_store: None,
            blob_sweep: BlobSweep::default(),
            broker_allow_pact_modification: false,
            broker_tenants: None,
            broker_quota: docintel_broker::TENANT_QUOTA,
            scan: crate::scan::ScanConfig::default(),
            broker_public_badges: false,
            broker_read_cache: docintel_broker::READ_CACHE,
            audit_retention: std::time::Duration::from_secs(
                u64::from(crate::audit::DEFAULT_RETENTION_DAYS) * 24 * 3600,
            ),
        }
    }
}
