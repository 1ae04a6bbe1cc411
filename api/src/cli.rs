//! The `docintel` command line: every command and option, and their conversion into the
//! library's configuration. What each command does is in `commands/`.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use docintel_api::publishing::{EventsConfig, RegistryChoice};
use docintel_backend::registry::client::Credentials;
use docintel_backend::{Config, WorkerConfig};

#[derive(Parser)]
#[command(
    name = "docintel",
    version,
    about = "Document intelligence API: upload, extract, classify."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Log format on stderr.
    #[arg(
        long,
        global = true,
        env = "DOCINTEL_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    pub log_format: docintel_api::telemetry::LogFormat,
    /// Export traces over OTLP/HTTP to this collector (e.g. http://127.0.0.1:4318).
    #[arg(long, global = true, env = "OTEL_EXPORTER_OTLP_ENDPOINT")]
    pub otlp_endpoint: Option<String>,
}

/// Where docintel keeps its state.
#[derive(clap::Args)]
pub struct DataDir {
    /// Folder holding the blobs and the embedded database; created if missing.
    #[arg(long, env = "DOCINTEL_DATA_DIR", default_value = "./docintel-data")]
    pub data_dir: PathBuf,
    /// Keep the state in this PostgreSQL database instead of the embedded SQLite file:
    /// postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE.
    #[arg(long, env = "DOCINTEL_DATABASE_URL")]
    pub database_url: Option<String>,
    /// At most this many connections to that PostgreSQL database for the API's reads of
    /// documents, and one fewer (at least 1) for everything else, besides two that listen
    /// [default: one more than this machine's cores, at least 3]. About the database's
    /// cores is enough: more connections only take turns.
    #[arg(long, env = "DOCINTEL_DATABASE_POOL_SIZE",
          default_value_t = docintel_backend::store::default_pool_size(), hide_default_value = true,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub database_pool_size: u32,
    /// When the embedded store acknowledges a write: `full` (on disk before the answer,
    /// one flush shared by the writes answered meanwhile: an accepted upload survives power
    /// loss) or `normal` (survives the process crashing, not the OS). PostgreSQL has its
    /// own setting (synchronous_commit).
    #[arg(long, env = "DOCINTEL_SQLITE_DURABILITY", default_value = "full")]
    pub sqlite_durability: docintel_backend::store::Durability,
    /// Keep blobs elsewhere than <data-dir>/blobs: file:///PATH, s3://BUCKET[/PREFIX]
    /// (configured by AWS_ENDPOINT, AWS_REGION, AWS_ALLOW_HTTP, AWS_ACCESS_KEY_ID,
    /// AWS_SECRET_ACCESS_KEY), or memory:// (lost at exit).
    #[arg(long, env = "DOCINTEL_BLOB_STORE")]
    pub blob_store: Option<docintel_backend::blobs::BlobLocation>,
}

impl DataDir {
    /// The backend's configuration for this state, every other setting at its default.
    pub fn config(&self) -> anyhow::Result<Config> {
        let mut config = Config::new(&self.data_dir);
        if let Some(url) = &self.database_url {
            anyhow::ensure!(
                url.starts_with("postgres://") || url.starts_with("postgresql://"),
                "--database-url must be a postgres:// URL (without one, docintel uses its \
                 embedded SQLite database under --data-dir)"
            );
            config.database_url = Some(url.clone());
        }
        config.database_pool_size = self.database_pool_size;
        config.blob_store = self.blob_store.clone();
        config.durability = self.sqlite_durability;
        Ok(config)
    }
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the HTTP service with the embedded backend.
    Serve(Box<ServeArgs>),
    /// Manage API keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Tenant settings.
    Tenants {
        #[command(subcommand)]
        command: TenantsCommand,
    },
    /// The audit trail of every tenant.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Train or evaluate the document classifier.
    Model {
        #[command(subcommand)]
        command: ModelCommand,
    },
    /// Check Avro event schemas against their compatibility modes.
    Schemas {
        #[command(subcommand)]
        command: SchemasCommand,
    },
    /// Bring the database to this build's schema and exit (`serve` also does it at start;
    /// this is for deployments where the server's role may not change the schema).
    Migrate {
        #[command(flatten)]
        data: DataDir,
    },
    /// The embedded Pact Broker's upkeep.
    Broker {
        #[command(subcommand)]
        command: BrokerCommand,
    },
    /// Write (or check) the OpenAPI documents in openapi/.
    Openapi {
        /// Folder to write into.
        #[arg(long, default_value = "openapi")]
        out: PathBuf,
        /// Do not write; exit 1 if a file differs from what the code generates.
        #[arg(long)]
        check: bool,
    },
}

#[derive(clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub data: DataDir,
    /// What this process does: `all`, or with a shared --database-url, `api` (HTTP only)
    /// or `worker` (jobs, event relay, webhook deliveries; serves health and metrics).
    #[arg(long, env = "DOCINTEL_ROLE", value_enum, default_value = "all")]
    pub role: docintel_api::Role,
    /// Address to listen on.
    #[arg(long, env = "DOCINTEL_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Largest accepted upload, in bytes.
    #[arg(long, env = "DOCINTEL_MAX_UPLOAD_BYTES", default_value_t = docintel_backend::DEFAULT_MAX_UPLOAD_BYTES)]
    pub max_upload_bytes: u64,
    /// Documents up to this size, in bytes, are kept in the database with their row
    /// rather than in a blob of their own (0: none are; those kept are still read). At most
    /// 1 MiB: an upload is held in memory until it outgrows it.
    #[arg(long, env = "DOCINTEL_INLINE_MAX_BYTES", default_value_t = docintel_backend::blobs::DEFAULT_INLINE_MAX_BYTES,
          value_parser = clap::value_parser!(u64).range(0..=docintel_backend::blobs::MAX_INLINE_MAX_BYTES))]
    pub inline_max_bytes: u64,
    /// Most bytes a tenant may store (the sum of its uploads) unless it has its own quota
    /// (`docintel tenants limit --max-bytes`): a size (`10GB`, `512MiB`) or `unlimited`.
    /// Every API process of a deployment should be given the same.
    #[arg(long, env = "DOCINTEL_QUOTA_BYTES", default_value = "unlimited", value_parser = QuotaArg::bytes)]
    pub quota_bytes: QuotaArg,
    /// Most documents a tenant may store unless it has its own quota, or `unlimited`.
    #[arg(long, env = "DOCINTEL_QUOTA_DOCUMENTS", default_value = "unlimited", value_parser = QuotaArg::count)]
    pub quota_documents: QuotaArg,
    /// Jobs held at once (default: 8 per core; documents in processing at once stay 2 per
    /// core whatever this is).
    #[arg(long, env = "DOCINTEL_WORKERS")]
    pub workers: Option<usize>,
    /// How long a worker's claim on a job lasts without a heartbeat, in seconds: after a
    /// worker dies, its jobs wait this long before another process takes them.
    #[arg(long, env = "DOCINTEL_JOB_LEASE_SECS", default_value_t = 60)]
    pub job_lease_secs: u64,
    /// Classifier model file (default: the shipped model).
    #[arg(long, env = "DOCINTEL_MODEL")]
    pub model: Option<PathBuf>,
    /// Longest one document may take to process, OCR included, in seconds; its parser
    /// process is killed past it.
    #[arg(long, env = "DOCINTEL_JOB_TIMEOUT_SECS", default_value_t = 120)]
    pub job_timeout_secs: u64,
    #[command(flatten)]
    pub parsing: ParsingArgs,
    #[command(flatten)]
    pub scan: ScanArgs,
    #[command(flatten)]
    pub events: EventsArgs,
    /// Path prefix under which the embedded Pact Broker is served (`off`: not at all).
    #[arg(long, env = "DOCINTEL_BROKER_PATH", default_value = docintel_api::publishing::DEFAULT_BROKER_PATH)]
    pub broker_path: String,
    /// Let consumers republish a consumer version's pact with other content (the Pact
    /// Broker's `allow_dangerous_contract_modification`); refused with 409 otherwise.
    #[arg(long, env = "DOCINTEL_BROKER_ALLOW_PACT_MODIFICATION")]
    pub broker_allow_pact_modification: bool,
    /// The URL clients reach this server at (e.g. `https://docintel.example.com` behind a
    /// TLS proxy), for the absolute links the Pact Broker API answers with. Default: the
    /// address each client connected to; the `Host` and `X-Forwarded-*` headers are never
    /// used.
    #[arg(long, env = "DOCINTEL_PUBLIC_URL", value_parser = public_url)]
    pub public_url: Option<String>,
    /// Only these tenants' keys (comma-separated names) may use the embedded Pact Broker;
    /// admin keys always may. Default: every tenant's.
    #[arg(long, env = "DOCINTEL_BROKER_TENANTS", value_delimiter = ',')]
    pub broker_tenants: Vec<String>,
    /// What each tenant may keep in the embedded Pact Broker:
    /// `pacticipants=N,versions=N,pacts=N,bytes=N` (bytes may end in KiB, MiB or GiB);
    /// keys left out keep their defaults (100, 10000, 10000, 256MiB).
    #[arg(long, env = "DOCINTEL_BROKER_QUOTA")]
    pub broker_quota: Option<docintel_broker::Quota>,
    /// Serve the embedded Pact Broker's verification badges without a key (for READMEs,
    /// where none can be sent): anyone may then learn whether a pair's latest pact is
    /// verified, by its names. Default: a badge needs a key like every other read.
    #[arg(long, env = "DOCINTEL_BROKER_PUBLIC_BADGES")]
    pub broker_public_badges: bool,
    /// How much the embedded Pact Broker keeps of its answers (pacts for verification,
    /// the matrix) while its records are unchanged, counted in rows, pacts and versions
    /// (a few hundred bytes each); 0 computes every answer from the records.
    #[arg(long, env = "DOCINTEL_BROKER_READ_CACHE", default_value_t = docintel_broker::READ_CACHE)]
    pub broker_read_cache: usize,
    /// Append one JSON line per response (method, path, status, content type, header
    /// names) to FILE, or to a new `<pid>-<n>.jsonl` when FILE is a folder; checked
    /// against the OpenAPI documents by `docintel-governance check --traffic`.
    #[arg(long, env = "DOCINTEL_RECORD_TRAFFIC", value_name = "FILE")]
    pub record_traffic: Option<PathBuf>,
    #[command(flatten)]
    pub ops: OpsArgs,
}

impl ServeArgs {
    /// What `serve` starts: the backend's config, the events' destination, the limits.
    pub fn launch(&self) -> anyhow::Result<docintel_api::Launch> {
        let mut config = self.data.config()?;
        config.max_upload_bytes = self.max_upload_bytes;
        config.inline_max_bytes = self.inline_max_bytes;
        config.quota = docintel_backend::model::Quota {
            max_bytes: self
                .quota_bytes
                .server_default()
                .map_err(|e| anyhow::anyhow!("--quota-bytes: {e}"))?,
            max_documents: self
                .quota_documents
                .server_default()
                .map_err(|e| anyhow::anyhow!("--quota-documents: {e}"))?,
        };
        config.workers = WorkerConfig {
            workers: self.workers.unwrap_or(config.workers.workers).max(1),
            lease: std::time::Duration::from_secs(self.job_lease_secs.max(1)),
            ..config.workers
        };
        config.model_path = self.model.clone();
        config.job_timeout = std::time::Duration::from_secs(self.job_timeout_secs.max(1));
        config.limits = self.parsing.limits();
        config.scan = self.scan.config()?;
        config.isolation = docintel_backend::pipeline::Isolation::this_program()
            .context("finding this executable, to run document parsers with it")?;
        self.ops.apply(&mut config);
        let mut launch = docintel_api::Launch::new(config);
        launch.role = self.role;
        launch.events = self.events.config()?;
        config_broker(
            &mut launch,
            &self.broker_path,
            self.broker_allow_pact_modification,
            &self.broker_tenants,
        )?;
        if let Some(quota) = self.broker_quota {
            launch.config.broker_quota = quota;
        }
        launch.config.broker_public_badges = self.broker_public_badges;
        launch.config.broker_read_cache = self.broker_read_cache;
        launch.public_url = self.public_url.clone();
        launch.record_traffic = self.record_traffic.clone();
        launch.listen = self.listen;
        launch.serve_limits = docintel_api::serve::ServeLimits {
            header_read_timeout: std::time::Duration::from_secs(
                self.ops.header_read_timeout_secs.max(1),
            ),
            body_read_timeout: std::time::Duration::from_secs(
                self.ops.body_read_timeout_secs.max(1),
            ),
            body_deadline: std::time::Duration::from_secs(self.ops.body_deadline_secs.max(1)),
            min_body_rate: self.ops.min_body_rate,
            min_body_rate_grace: std::time::Duration::from_secs(self.ops.min_body_rate_grace_secs),
            max_in_flight: self.ops.max_in_flight.max(1),
            max_in_flight_per_address: usize::try_from(self.ops.max_in_flight_per_address)
                .unwrap_or(usize::MAX),
            linger_bytes: self.ops.linger_bytes,
            linger_time: std::time::Duration::from_secs(self.ops.linger_secs),
        };
        launch.rate_limit = self.ops.rate_limit;
        launch.ip_rate_limit = self.ops.ip_rate_limit;
        launch.default_tenant = true;
        Ok(launch)
    }
}

/// An `http(s)://host[:port][/path]` URL without query or fragment, kept without its
/// trailing `/`.
fn public_url(value: &str) -> Result<String, String> {
    let url = reqwest::Url::parse(value).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err("must be an http:// or https:// URL with a host".to_owned());
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err("must not carry credentials, a query or a fragment".to_owned());
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

fn config_broker(
    launch: &mut docintel_api::Launch,
    path: &str,
    allow_modification: bool,
    tenants: &[String],
) -> anyhow::Result<()> {
    launch.broker_path = if path == "off" {
        None
    } else {
        anyhow::ensure!(
            path.starts_with('/') && path.len() > 1,
            "--broker-path must start with / and name a path, e.g. /broker (or be off)"
        );
        Some(path.trim_end_matches('/').to_owned())
    };
    launch.config.broker_allow_pact_modification = allow_modification;
    let tenants: Vec<String> = tenants
        .iter()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect();
    launch.config.broker_tenants = (!tenants.is_empty()).then_some(tenants);
    Ok(())
}

/// Malware scanning with ClamAV: every document goes through clamd before it is processed.
#[derive(clap::Args)]
pub struct ScanArgs {
    /// Where clamd listens: `unix:/path/to/clamd.sock` or `tcp:host:port`. Without it,
    /// documents are not scanned.
    #[arg(long, env = "DOCINTEL_CLAMD", value_parser = |s: &str| s.parse::<docintel_backend::scan::ClamdAddr>())]
    pub clamd: Option<docintel_backend::scan::ClamdAddr>,
    /// When clamd does not answer: `required` (the default with --clamd: documents wait
    /// and are retried, never processed unscanned), `optional` (processed unscanned, with
    /// the warning `not_scanned`), or `off` (no scanning, the default without --clamd).
    #[arg(long, env = "DOCINTEL_SCAN", value_parser = |s: &str| s.parse::<docintel_backend::scan::ScanMode>())]
    pub scan: Option<docintel_backend::scan::ScanMode>,
    /// Longest wait for clamd at each step of a scan (connecting, each chunk sent, the
    /// verdict), in seconds; past it the scan counts as not done.
    #[arg(long, env = "DOCINTEL_SCAN_TIMEOUT_SECS", default_value_t = 30)]
    pub scan_timeout_secs: u64,
    /// Longest wait before a document that could not be scanned is tried again, in
    /// seconds (the wait doubles from 1 s up to it while clamd does not answer).
    #[arg(long, env = "DOCINTEL_SCAN_RETRY_MAX_SECS", default_value_t = 60)]
    pub scan_retry_max_secs: u64,
}

impl ScanArgs {
    pub fn config(&self) -> anyhow::Result<docintel_backend::scan::ScanConfig> {
        use docintel_backend::scan::{ScanConfig, ScanMode};
        let mode = match (&self.clamd, self.scan) {
            (Some(_), None) => ScanMode::Required,
            (None, None | Some(ScanMode::Off)) => ScanMode::Off,
            (None, Some(mode)) => anyhow::bail!(
                "--scan {} needs --clamd unix:/PATH or tcp:HOST:PORT",
                if mode == ScanMode::Required {
                    "required"
                } else {
                    "optional"
                }
            ),
            (Some(_), Some(mode)) => mode,
        };
        Ok(ScanConfig {
            clamd: self.clamd.clone(),
            mode,
            io_timeout: std::time::Duration::from_secs(self.scan_timeout_secs.max(1)),
            retry_max: std::time::Duration::from_secs(self.scan_retry_max_secs.max(1)),
            ..ScanConfig::default()
        })
    }
}

/// What parsing one untrusted document may consume (each document is parsed in a child
/// process the kernel holds to these).
#[derive(clap::Args)]
pub struct ParsingArgs {
    /// Address space of a parser process, in MiB (RLIMIT_AS): past it, the document fails.
    #[arg(long, env = "DOCINTEL_PARSER_MEMORY_MIB", default_value_t = docintel_backend::pipeline::Limits::default().memory_bytes >> 20)]
    pub parser_memory_mib: u64,
    /// Total bytes a document's compressed parts (PDF streams, image pixels) may inflate
    /// to, in MiB.
    #[arg(long, env = "DOCINTEL_MAX_INFLATED_MIB", default_value_t = docintel_backend::pipeline::Limits::default().max_inflated_bytes >> 20)]
    pub max_inflated_mib: u64,
    /// Longest text a document may yield, in MiB.
    #[arg(long, env = "DOCINTEL_MAX_TEXT_MIB", default_value_t = docintel_backend::pipeline::Limits::default().max_text_bytes >> 20)]
    pub max_text_mib: u64,
}

impl ParsingArgs {
    pub fn limits(&self) -> docintel_backend::pipeline::Limits {
        docintel_backend::pipeline::Limits {
            memory_bytes: self.parser_memory_mib.max(64) << 20,
            max_inflated_bytes: self.max_inflated_mib.max(1) << 20,
            max_text_bytes: self.max_text_mib.max(1) << 20,
            ..Default::default()
        }
    }
}

#[derive(clap::Args)]
pub struct OpsArgs {
    /// Requests per API key: QUOTA/WINDOW_SECONDS (token bucket), or `off`. Tenants can
    /// have their own (`docintel tenants limit`).
    #[arg(long, env = "DOCINTEL_RATE_LIMIT", default_value = "1000/10")]
    pub rate_limit: docintel_api::ratelimit::Limit,
    /// Requests per client address that present no valid API key (health, metrics, docs,
    /// the registry, failed authentication): QUOTA/WINDOW_SECONDS, or `off` (e.g. behind
    /// a proxy that limits them, since every client then shares the proxy's address).
    #[arg(long, env = "DOCINTEL_IP_RATE_LIMIT", default_value = "300/10")]
    pub ip_rate_limit: docintel_api::ratelimit::Limit,
    /// Allow webhooks to loopback and private-range addresses (refused by default).
    #[arg(long, env = "DOCINTEL_WEBHOOKS_ALLOW_PRIVATE")]
    pub webhooks_allow_private: bool,
    /// How long a webhook delivery is retried, in seconds.
    #[arg(long, env = "DOCINTEL_WEBHOOK_RETRY_WINDOW_SECS", default_value_t = 3 * 24 * 3600)]
    pub webhook_retry_window_secs: u64,
    /// First retry delay of a failed delivery, in milliseconds (doubles per attempt).
    #[arg(
        long,
        env = "DOCINTEL_WEBHOOK_INITIAL_BACKOFF_MS",
        default_value_t = 5000
    )]
    pub webhook_initial_backoff_ms: u64,
    /// Disable an endpoint after this many failed attempts in a row.
    #[arg(long, env = "DOCINTEL_WEBHOOK_DISABLE_AFTER", default_value_t = 50)]
    pub webhook_disable_after: u32,
    /// ... and only once it has been failing for this long, in seconds (3 days).
    #[arg(
        long,
        env = "DOCINTEL_WEBHOOK_DISABLE_AFTER_FAILING_SECS",
        default_value_t = 3 * 24 * 3600
    )]
    pub webhook_disable_after_failing_secs: u64,
    /// How often blobs that no document owns are looked for, in seconds.
    #[arg(long, env = "DOCINTEL_BLOB_SWEEP_EVERY_SECS", default_value_t = 900)]
    pub blob_sweep_every_secs: u64,
    /// How old such a blob must be to be removed, in seconds (longer than any upload
    /// takes from its last byte to its document).
    #[arg(long, env = "DOCINTEL_BLOB_SWEEP_GRACE_SECS", default_value_t = 3600)]
    pub blob_sweep_grace_secs: u64,
    /// How many days audit entries are kept (removed by the blob sweep's leader, on its
    /// schedule).
    #[arg(long, env = "DOCINTEL_AUDIT_RETENTION_DAYS",
        default_value_t = docintel_backend::audit::DEFAULT_RETENTION_DAYS,
        value_parser = clap::value_parser!(u32).range(1..=36_500))]
    pub audit_retention_days: u32,
    /// Seconds a client has to send a request's head; also how long an idle connection
    /// is kept open.
    #[arg(long, env = "DOCINTEL_HEADER_READ_TIMEOUT_SECS", default_value_t = 30)]
    pub header_read_timeout_secs: u64,
    /// Requests served at once; beyond it a request is answered `503 overloaded` with
    /// `Retry-After: 1` at once rather than queued.
    #[arg(long, env = "DOCINTEL_MAX_IN_FLIGHT", default_value_t = 512)]
    pub max_in_flight: usize,
    /// Of those, how many one client address may have (an IPv6 client is its /64);
    /// beyond it `429 too_many_in_flight`. `0` or `off`: no cap (behind a reverse proxy,
    /// where every client has the proxy's address).
    #[arg(long, env = "DOCINTEL_MAX_IN_FLIGHT_PER_ADDRESS", default_value = "64", value_parser = parse_or_off)]
    pub max_in_flight_per_address: u64,
    /// Longest pause, in seconds, between two pieces of a request body.
    #[arg(long, env = "DOCINTEL_BODY_READ_TIMEOUT_SECS", default_value_t = 30)]
    pub body_read_timeout_secs: u64,
    /// Longest a whole request body may take, in seconds, from when the server starts
    /// reading it.
    #[arg(long, env = "DOCINTEL_BODY_DEADLINE_SECS", default_value_t = 120)]
    pub body_deadline_secs: u64,
    /// Bytes per second a request body must average once --min-body-rate-grace-secs
    /// have passed. `0` or `off`: no minimum.
    #[arg(long, env = "DOCINTEL_MIN_BODY_RATE", default_value = "1024", value_parser = parse_or_off)]
    pub min_body_rate: u64,
    /// Seconds a request body may take before --min-body-rate applies.
    #[arg(long, env = "DOCINTEL_MIN_BODY_RATE_GRACE_SECS", default_value_t = 10)]
    pub min_body_rate_grace_secs: u64,
    /// Bytes of a refused request's unread body read and discarded before its connection
    /// is closed, so the client reads the answer rather than a reset. `0`: none.
    #[arg(long, env = "DOCINTEL_LINGER_BYTES", default_value_t = 64 * 1024 * 1024)]
    pub linger_bytes: u64,
    /// Seconds that reading may last after the answer.
    #[arg(long, env = "DOCINTEL_LINGER_SECS", default_value_t = 10)]
    pub linger_secs: u64,
}

impl OpsArgs {
    pub fn apply(&self, config: &mut Config) {
        let w = &mut config.webhooks;
        w.allow_private_targets = self.webhooks_allow_private;
        w.retry_window = std::time::Duration::from_secs(self.webhook_retry_window_secs.max(1));
        w.initial_backoff =
            std::time::Duration::from_millis(self.webhook_initial_backoff_ms.max(1));
        w.disable_after = self.webhook_disable_after.max(1);
        w.disable_after_failing_for =
            std::time::Duration::from_secs(self.webhook_disable_after_failing_secs);
        config.blob_sweep = docintel_backend::BlobSweep {
            every: std::time::Duration::from_secs(self.blob_sweep_every_secs.max(1)),
            grace: std::time::Duration::from_secs(self.blob_sweep_grace_secs),
        };
        config.audit_retention =
            std::time::Duration::from_secs(u64::from(self.audit_retention_days) * 24 * 3600);
    }
}

#[derive(clap::Args)]
pub struct EventsArgs {
    /// Path prefix under which the embedded schema registry is served.
    #[arg(long, env = "DOCINTEL_REGISTRY_PATH", default_value = docintel_api::publishing::DEFAULT_REGISTRY_PATH)]
    pub registry_path: String,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Kafka bootstrap brokers (host:port, comma-separated); events then go to Kafka too.
    #[arg(long, env = "DOCINTEL_KAFKA_BROKERS", value_delimiter = ',')]
    pub kafka_brokers: Vec<String>,
}

#[derive(clap::Args)]
pub struct RegistryArgs {
    /// An external Confluent-compatible schema registry to use instead of the embedded one.
    #[arg(long = "registry", env = "DOCINTEL_REGISTRY_URL")]
    pub registry_url: Option<String>,
    /// Bearer token for the registry.
    #[arg(
        long,
        env = "DOCINTEL_REGISTRY_TOKEN",
        conflicts_with = "registry_basic"
    )]
    pub registry_token: Option<String>,
    /// Basic credentials for the registry, as USER:PASSWORD.
    #[arg(long, env = "DOCINTEL_REGISTRY_BASIC")]
    pub registry_basic: Option<String>,
}

impl RegistryArgs {
    pub fn auth(&self) -> anyhow::Result<Option<Credentials>> {
        Ok(match (&self.registry_token, &self.registry_basic) {
            (Some(token), _) => Some(Credentials::Bearer(token.clone())),
            (None, Some(basic)) => {
                let (user, password) = basic
                    .split_once(':')
                    .context("--registry-basic must be USER:PASSWORD")?;
                Some(Credentials::Basic {
                    user: user.to_owned(),
                    password: password.to_owned(),
                })
            }
            (None, None) => None,
        })
    }
}

impl EventsArgs {
    pub fn config(&self) -> anyhow::Result<EventsConfig> {
        let registry = match &self.registry.registry_url {
            Some(url) => RegistryChoice::External {
                url: url.clone(),
                auth: self.registry.auth()?,
            },
            None => {
                anyhow::ensure!(
                    self.registry_path.starts_with('/') && self.registry_path.len() > 1,
                    "--registry-path must start with / and name a path, e.g. /registry"
                );
                RegistryChoice::Embedded {
                    path: self.registry_path.trim_end_matches('/').to_owned(),
                }
            }
        };
        Ok(EventsConfig {
            registry,
            kafka_brokers: self
                .kafka_brokers
                .iter()
                .map(|b| b.trim().to_owned())
                .filter(|b| !b.is_empty())
                .collect(),
        })
    }
}

#[derive(Subcommand)]
pub enum ModelCommand {
    /// Train on DIR/<label>/*.txt, fit the confidence on the calibration set, and write a
    /// model file. The defaults reproduce the shipped model.
    Train {
        #[arg(long, default_value = "models/corpus")]
        data: PathBuf,
        /// Documents kept out of training that the confidence is calibrated on
        /// (DIR/<label>/*.txt; labels the corpus lacks count as `other`).
        #[arg(long, default_value = "models/calibration")]
        calibration: PathBuf,
        #[arg(long, value_enum, default_value_t = AlgorithmArg::Logistic)]
        algorithm: AlgorithmArg,
        #[arg(long, default_value = "models/default.json")]
        out: PathBuf,
    },
    /// Print accuracy, macro-F1, calibration (ECE), the confusion matrix and the confident
    /// mistakes on DIR/<label>/*.txt (labels the model lacks count as `other`).
    Eval {
        #[arg(long, default_value = "models/heldout")]
        data: PathBuf,
        /// Model file (default: the shipped model).
        #[arg(long)]
        model: Option<PathBuf>,
        /// Also write a reliability diagram (PNG) to this path.
        #[arg(long)]
        diagram: Option<PathBuf>,
        /// List the wrong answers given with more confidence than this.
        #[arg(long, default_value_t = 0.9)]
        mistakes_above: f64,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum AlgorithmArg {
    /// Multinomial logistic regression (the shipped model).
    Logistic,
    /// Multinomial naive Bayes (the first model, for comparison).
    NaiveBayes,
}

#[derive(Subcommand)]
pub enum SchemasCommand {
    /// Every subject's history in DIR (schemas/avro) against its declared mode.
    Check {
        #[arg(long, default_value = "schemas/avro")]
        dir: PathBuf,
    },
    /// Whether the newest of a chain of schema files may follow the others under MODE:
    /// exit 0 if so, 1 if not (with the reasons), 2 on unusable input.
    Compat {
        #[arg(long)]
        mode: String,
        /// Also refuse a writer's `bytes` read as a reader's `string` (allowed by Avro and
        /// Confluent; bytes need not be UTF-8): the registry's `refuseBytesAsString`.
        #[arg(long)]
        refuse_bytes_as_string: bool,
        /// Schema files, oldest first, newest last.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Register every version of every subject in DIR, oldest first, as `<subject>-value`
    /// with its declared mode, in a Confluent-compatible registry.
    Register {
        #[arg(long, default_value = "schemas/avro")]
        dir: PathBuf,
        #[command(flatten)]
        registry: RegistryArgs,
    },
}

#[derive(Subcommand)]
pub enum TenantsCommand {
    /// Give a tenant its own request limit (QUOTA/WINDOW_SECONDS, or `off`), or with
    /// `--default` go back to the server's; and its own storage quotas. A running server
    /// applies a request limit within 30 s, a storage quota at the next upload.
    #[command(group(
        clap::ArgGroup::new("change")
            .required(true)
            .multiple(true)
            .args(["limit", "default", "max_bytes", "max_documents"])
    ))]
    Limit {
        #[arg(long)]
        tenant: String,
        #[arg(long, conflicts_with = "default")]
        limit: Option<docintel_api::ratelimit::Limit>,
        /// The request limit goes back to the server's (`--rate-limit`).
        #[arg(long)]
        default: bool,
        /// Most bytes the tenant may store (the sum of its uploads): a size (`10GB`,
        /// `512MiB`, `1000000`), `unlimited`, or `default` (the server's `--quota-bytes`).
        #[arg(long, value_name = "SIZE|unlimited|default", value_parser = QuotaArg::bytes)]
        max_bytes: Option<QuotaArg>,
        /// Most documents the tenant may store: a number, `unlimited`, or `default` (the
        /// server's `--quota-documents`).
        #[arg(long, value_name = "N|unlimited|default", value_parser = QuotaArg::count)]
        max_documents: Option<QuotaArg>,
        #[command(flatten)]
        data: DataDir,
    },
    /// A tenant's storage usage and quotas.
    Show {
        #[arg(long)]
        tenant: String,
        #[command(flatten)]
        data: DataDir,
    },
}

/// A storage quota on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaArg(pub docintel_backend::model::QuotaSetting);

/// The largest quota taken: above it a limit means nothing (and the store keeps
/// `i64::MAX` for unlimited).
const MAX_QUOTA: u64 = i64::MAX as u64 - 1;

impl QuotaArg {
    fn parse(s: &str, number: impl Fn(&str) -> Result<u64, String>) -> Result<Self, String> {
        use docintel_backend::model::QuotaSetting;
        let s = s.trim();
        Ok(QuotaArg(match s.to_ascii_lowercase().as_str() {
            "default" => QuotaSetting::Default,
            "unlimited" => QuotaSetting::Set(None),
            _ => {
                let n = number(s)?;
                if n > MAX_QUOTA {
                    return Err(format!("{s} is above the largest quota ({MAX_QUOTA})"));
                }
                QuotaSetting::Set(Some(n))
            }
        }))
    }

    /// A number of bytes, `unlimited` or `default`.
    pub fn bytes(s: &str) -> Result<Self, String> {
        Self::parse(s, parse_size)
    }

    /// A number of documents, `unlimited` or `default`.
    pub fn count(s: &str) -> Result<Self, String> {
        Self::parse(s, |s| {
            s.parse()
                .map_err(|e| format!("{s:?}: {e}: expected a number, `unlimited` or `default`"))
        })
    }

    /// A server default: `default` means nothing there.
    fn server_default(self) -> Result<Option<u64>, String> {
        match self.0 {
            docintel_backend::model::QuotaSetting::Set(limit) => Ok(limit),
            _ => Err("a server default is a number or `unlimited`".to_owned()),
        }
    }
}

/// A size in bytes: a whole number with an optional unit, decimal (`kB`, `MB`, `GB`,
/// `TB`) or binary (`KiB`, `MiB`, `GiB`, `TiB`), `B` for bytes.
fn parse_size(s: &str) -> Result<u64, String> {
    let digits = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (number, unit) = s.split_at(digits);
    let unit = unit.trim();
    let scale: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        "tib" => 1 << 40,
        _ => {
            return Err(format!(
                "{s:?}: expected a size such as 10GB, 512MiB or 1000000 (bytes), `unlimited` or `default`"
            ));
        }
    };
    let n: u64 = number.parse().map_err(|e| {
        format!("{s:?}: {e}: expected a size such as 10GB, `unlimited` or `default`")
    })?;
    n.checked_mul(scale)
        .ok_or_else(|| format!("{s} is above the largest quota ({MAX_QUOTA} bytes)"))
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Print the audit trail, newest first, one JSON object per line: every tenant's, or
    /// one's with `--tenant`.
    Export {
        /// Only this tenant's entries (by name).
        #[arg(long)]
        tenant: Option<String>,
        /// Only this action (`document.delete`), or, ending in `.`, every action it starts.
        #[arg(long)]
        action: Option<String>,
        /// Only entries recorded at or after this instant (RFC 3339).
        #[arg(long)]
        since: Option<String>,
        /// Only entries recorded before this instant (RFC 3339).
        #[arg(long)]
        until: Option<String>,
        #[command(flatten)]
        data: DataDir,
    },
}

#[derive(Subcommand)]
pub enum BrokerCommand {
    /// Delete the history the Pact Broker's `clean` task deletes: every version but the
    /// latest per branch and per tag, the deployed and released, the recent and the last
    /// `--keep-latest` of each pacticipant (and what keeps kept pacts' selection and
    /// can-i-deploy answers unchanged), with their pacts, contents and verifications.
    Clean(CleanArgs),
}

#[derive(clap::Args)]
pub struct CleanArgs {
    /// Versions of each pacticipant kept as its latest, whatever else holds (the Pact
    /// Broker keeps its latest).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub keep_latest: u32,
    /// Versions created within this many days are kept (the Pact Broker's 90); 0: age
    /// keeps none.
    #[arg(long, default_value_t = 90)]
    pub max_age_days: u32,
    /// Versions deleted per batch; each record goes in its own statement, so publishes
    /// proceed meanwhile.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub batch: u32,
    /// Print what would be deleted; delete nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub data: DataDir,
}

impl CleanArgs {
    pub fn retention(&self) -> docintel_broker::Retention {
        docintel_broker::Retention {
            keep_latest: self.keep_latest as usize,
            max_age_days: (self.max_age_days > 0).then_some(self.max_age_days),
            batch: self.batch as usize,
            dry_run: self.dry_run,
        }
    }
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Create a key for a tenant (created if new); prints only the key.
    Create {
        #[arg(long)]
        tenant: String,
        /// The key may also administer the platform (schema registry writes).
        #[arg(long)]
        admin: bool,
        /// What the key may do (repeat for more): documents:read, documents:write,
        /// webhooks:manage, keys:manage, broker:read, broker:write, registry:write,
        /// audit:read.
        /// Default: every scope.
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<docintel_backend::keys::Scope>,
        /// The key stops working after this many days; default: never.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=36_500))]
        expires_in_days: Option<u32>,
        #[command(flatten)]
        data: DataDir,
    },
    /// List a tenant's keys (revoked ones too): id, prefix, scopes, created, last used,
    /// expiry; never the secret.
    List {
        #[arg(long)]
        tenant: String,
        #[command(flatten)]
        data: DataDir,
    },
    /// Revoke a tenant's key by its id (as `keys list` shows it); it stops working at once.
    Revoke {
        #[arg(long)]
        tenant: String,
        /// The key's id, `key_…`.
        id: String,
        #[command(flatten)]
        data: DataDir,
    },
}

/// A number where `off` stands for 0 (no limit).
fn parse_or_off(s: &str) -> Result<u64, String> {
    if s.eq_ignore_ascii_case("off") {
        return Ok(0);
    }
    s.parse()
        .map_err(|e| format!("{e}: expected a number or `off`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn broker(path: &str, tenants: &[&str]) -> anyhow::Result<docintel_api::Launch> {
        let mut launch = docintel_api::Launch::new(Config::new(std::path::Path::new("unused")));
        let tenants: Vec<String> = tenants.iter().map(|t| t.to_string()).collect();
        config_broker(&mut launch, path, false, &tenants)?;
        Ok(launch)
    }

    #[test]
    fn broker_options_are_read_as_documented() {
        let launch = broker("/pacts/", &[]).unwrap();
        assert_eq!(launch.broker_path.as_deref(), Some("/pacts"));
        assert_eq!(
            launch.config.broker_tenants, None,
            "every tenant by default"
        );
        assert_eq!(broker("off", &[]).unwrap().broker_path, None);
        for bad in ["broker", "/", ""] {
            assert!(broker(bad, &[]).is_err(), "{bad:?} accepted");
        }
        let launch = broker("/broker", &[" sdk-team", "", "portal "]).unwrap();
        assert_eq!(
            launch.config.broker_tenants,
            Some(vec!["sdk-team".to_owned(), "portal".to_owned()])
        );
    }

    #[test]
    fn quotas_are_read_and_the_worst_input_refused() {
        use docintel_backend::model::QuotaSetting::{Default, Set};
        let bytes = |s| QuotaArg::bytes(s).map(|q| q.0);
        assert_eq!(bytes("10GB"), Ok(Set(Some(10_000_000_000))));
        assert_eq!(bytes("512 MiB"), Ok(Set(Some(512 << 20))));
        assert_eq!(bytes("1000000"), Ok(Set(Some(1_000_000))));
        assert_eq!(bytes("0"), Ok(Set(Some(0))), "0 refuses every upload");
        assert_eq!(bytes("Unlimited"), Ok(Set(None)));
        assert_eq!(bytes("default"), Ok(Default));
        for bad in [
            "-1",
            "",
            "1.5GB",
            "10XB",
            "GB",
            "99999999999999999999",
            "9999999999TiB",
            "9223372036854775807",
        ] {
            assert!(bytes(bad).is_err(), "{bad:?} accepted");
        }
        let count = |s| QuotaArg::count(s).map(|q| q.0);
        assert_eq!(count("100000"), Ok(Set(Some(100_000))));
        assert_eq!(count("9223372036854775806"), Ok(Set(Some(MAX_QUOTA))));
        for bad in [
            "-5",
            "1e9",
            "10GB",
            "18446744073709551616",
            "9223372036854775807",
        ] {
            assert!(count(bad).is_err(), "{bad:?} accepted");
        }

        let serve = serve_args(&["--quota-bytes", "1GiB"]).unwrap();
        let launch = serve.launch().unwrap();
        assert_eq!(launch.config.quota.max_bytes, Some(1 << 30));
        assert_eq!(
            launch.config.quota.max_documents, None,
            "unlimited by default"
        );
        let serve = serve_args(&["--quota-documents", "default"]).unwrap();
        assert!(serve.launch().is_err(), "`default` is no server default");
        assert!(serve_args(&["--quota-documents", "-1"]).is_err());

        let limit = |args: &[&str]| {
            Cli::try_parse_from(
                ["docintel", "tenants", "limit", "--tenant", "t"]
                    .iter()
                    .chain(args),
            )
        };
        assert!(limit(&[]).is_err(), "nothing to change");
        assert!(limit(&["--limit", "5/1"]).is_ok());
        assert!(limit(&["--default"]).is_ok());
        assert!(limit(&["--limit", "5/1", "--default"]).is_err());
        assert!(limit(&["--max-bytes", "10GB"]).is_ok());
        assert!(limit(&["--max-documents", "default", "--limit", "5/1"]).is_ok());
        assert!(limit(&["--max-documents", "-3"]).is_err());
    }

    #[test]
    fn small_documents_are_kept_inline_up_to_a_bounded_size() {
        let inline =
            |args: &[&str]| serve_args(args).map(|s| s.launch().unwrap().config.inline_max_bytes);
        assert_eq!(inline(&[]).unwrap(), 64 * 1024);
        assert_eq!(inline(&["--inline-max-bytes", "0"]).unwrap(), 0);
        assert_eq!(inline(&["--inline-max-bytes", "1048576"]).unwrap(), 1 << 20);
        assert!(
            inline(&["--inline-max-bytes", "1048577"]).is_err(),
            "held in memory: bounded"
        );
    }

    fn serve_args(args: &[&str]) -> Result<Box<ServeArgs>, clap::Error> {
        use clap::Parser;
        let cli = Cli::try_parse_from(["docintel", "serve"].iter().chain(args))?;
        match cli.command {
            Command::Serve(serve) => Ok(serve),
            _ => unreachable!("parsed as serve"),
        }
    }

    fn clean_args(args: &[&str]) -> Result<CleanArgs, clap::Error> {
        use clap::Parser;
        let cli = Cli::try_parse_from(["docintel", "broker", "clean"].iter().chain(args))?;
        match cli.command {
            Command::Broker {
                command: BrokerCommand::Clean(args),
            } => Ok(args),
            _ => unreachable!("parsed as broker clean"),
        }
    }

    #[test]
    fn scanning_is_off_without_clamd_and_required_with_it() {
        use docintel_backend::scan::{ClamdAddr, ScanMode};
        let scan = |args: &[&str]| serve_args(args).map(|s| s.scan.config());
        let off = scan(&[]).unwrap().unwrap();
        assert_eq!((off.clamd, off.mode), (None, ScanMode::Off));
        let on = scan(&["--clamd", "unix:/run/clamd.sock"]).unwrap().unwrap();
        assert_eq!(
            (on.clamd, on.mode),
            (
                Some(ClamdAddr::Unix("/run/clamd.sock".into())),
                ScanMode::Required
            )
        );
        let optional = scan(&["--clamd", "tcp:clamd:3310", "--scan", "optional"])
            .unwrap()
            .unwrap();
        assert_eq!(optional.mode, ScanMode::Optional);
        assert_eq!(
            scan(&["--clamd", "tcp:clamd:3310", "--scan", "off"])
                .unwrap()
                .unwrap()
                .mode,
            ScanMode::Off
        );
        assert!(
            scan(&["--scan", "required"]).unwrap().is_err(),
            "no clamd to scan with"
        );
        assert!(scan(&["--clamd", "clamd:3310"]).is_err());
        assert!(scan(&["--clamd", "tcp:clamd:3310", "--scan", "maybe"]).is_err());
    }

    #[test]
    fn broker_clean_options_are_read_as_documented() {
        let defaults = clean_args(&[]).unwrap().retention();
        assert_eq!(
            (
                defaults.keep_latest,
                defaults.max_age_days,
                defaults.batch,
                defaults.dry_run
            ),
            (1, Some(90), 500, false),
            "the Pact Broker's keep selectors, batches of 500"
        );
        let set = clean_args(&[
            "--keep-latest",
            "5",
            "--max-age-days",
            "0",
            "--batch",
            "20",
            "--dry-run",
        ])
        .unwrap()
        .retention();
        assert_eq!(
            (set.keep_latest, set.max_age_days, set.batch, set.dry_run),
            (5, None, 20, true)
        );
        for bad in [
            ["--keep-latest", "0"],
            ["--batch", "0"],
            ["--batch", "-3"],
            ["--max-age-days", "soon"],
        ] {
            assert!(clean_args(&bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn the_broker_quota_and_the_public_url_are_read_as_documented() {
        let quota = serve_args(&["--broker-quota", "versions=5,bytes=1MiB"])
            .unwrap()
            .broker_quota
            .unwrap();
        assert_eq!((quota.versions, quota.bytes), (5, 1 << 20));
        assert_eq!(quota.pacts, docintel_broker::TENANT_QUOTA.pacts);
        assert!(serve_args(&["--broker-quota", "tags=3"]).is_err());
        let url = serve_args(&["--public-url", "https://pacts.example.org/"])
            .unwrap()
            .public_url;
        assert_eq!(url.as_deref(), Some("https://pacts.example.org"));
        for bad in [
            "pacts.example.org",
            "ftp://x",
            "https://u:p@x",
            "https://x/?q=1",
        ] {
            assert!(serve_args(&["--public-url", bad]).is_err(), "{bad}");
        }
    }
}
