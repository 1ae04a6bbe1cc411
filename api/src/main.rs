//! The `docintel` binary: run the service, manage keys, write the OpenAPI documents.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use docintel_api::events::{EventsConfig, RegistryChoice};
use docintel_api::{AppState, app, openapi};
use docintel_backend::pipeline::sandbox;
use docintel_backend::registry::client::Auth;
use docintel_backend::{Backend, Config, WorkerConfig};
use tracing::info;

// glibc's malloc/free were ~9% of a document GET's samples (many small, short-lived
// allocations on two worker threads): mimalloc raised GET throughput by ~20% (measured
// with api/benches/get_throughput.sh). `no_thp`: with transparent huge pages its arenas
// took 41 MB at idle instead of 25 MB.
// Watched: the parser processes this binary also runs report refused allocations (see
// WatchedAllocator); the check is one branch on the failure path.
#[global_allocator]
static ALLOCATOR: sandbox::WatchedAllocator<mimalloc::MiMalloc> =
    sandbox::WatchedAllocator(mimalloc::MiMalloc);

#[derive(Parser)]
#[command(
    name = "docintel",
    version,
    about = "Document intelligence API: upload, extract, classify."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log format on stderr.
    #[arg(
        long,
        global = true,
        env = "DOCINTEL_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    log_format: docintel_api::telemetry::LogFormat,
    /// Export traces over OTLP/HTTP to this collector (e.g. http://127.0.0.1:4318).
    #[arg(long, global = true, env = "OTEL_EXPORTER_OTLP_ENDPOINT")]
    otlp_endpoint: Option<String>,
}

#[derive(clap::Args)]
struct DataDir {
    /// Folder holding the database and blobs; created if missing.
    #[arg(long, env = "DOCINTEL_DATA_DIR", default_value = "./docintel-data")]
    data_dir: PathBuf,
}

// Parsed once per process: the size of the `serve` variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Run the HTTP service with the embedded backend.
    Serve {
        #[command(flatten)]
        data: DataDir,
        /// Address to listen on.
        #[arg(long, env = "DOCINTEL_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Largest accepted upload, in bytes.
        #[arg(long, env = "DOCINTEL_MAX_UPLOAD_BYTES", default_value_t = docintel_backend::DEFAULT_MAX_UPLOAD_BYTES)]
        max_upload_bytes: u64,
        /// Processing workers (default: number of cores).
        #[arg(long, env = "DOCINTEL_WORKERS")]
        workers: Option<usize>,
        /// Classifier model file (default: the shipped model).
        #[arg(long, env = "DOCINTEL_MODEL")]
        model: Option<PathBuf>,
        /// Longest one document may take to process, OCR included, in seconds; its parser
        /// process is killed past it.
        #[arg(long, env = "DOCINTEL_JOB_TIMEOUT_SECS", default_value_t = 120)]
        job_timeout_secs: u64,
        #[command(flatten)]
        parsing: ParsingArgs,
        #[command(flatten)]
        events: EventsArgs,
        #[command(flatten)]
        ops: OpsArgs,
    },
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

/// What parsing one untrusted document may consume (each document is parsed in a child
/// process the kernel holds to these).
#[derive(clap::Args)]
struct ParsingArgs {
    /// Address space of a parser process, in MiB (RLIMIT_AS): past it, the document fails.
    #[arg(long, env = "DOCINTEL_PARSER_MEMORY_MIB", default_value_t = docintel_backend::pipeline::Limits::default().memory_bytes >> 20)]
    parser_memory_mib: u64,
    /// Total bytes a document's compressed parts (PDF streams, image pixels) may inflate
    /// to, in MiB.
    #[arg(long, env = "DOCINTEL_MAX_INFLATED_MIB", default_value_t = docintel_backend::pipeline::Limits::default().max_inflated_bytes >> 20)]
    max_inflated_mib: u64,
    /// Longest text a document may yield, in MiB.
    #[arg(long, env = "DOCINTEL_MAX_TEXT_MIB", default_value_t = docintel_backend::pipeline::Limits::default().max_text_bytes >> 20)]
    max_text_mib: u64,
}

impl ParsingArgs {
    fn limits(&self) -> docintel_backend::pipeline::Limits {
        docintel_backend::pipeline::Limits {
            memory_bytes: self.parser_memory_mib.max(64) << 20,
            max_inflated_bytes: self.max_inflated_mib.max(1) << 20,
            max_text_bytes: self.max_text_mib.max(1) << 20,
        }
    }
}

#[derive(clap::Args)]
struct OpsArgs {
    /// Requests per API key: QUOTA/WINDOW_SECONDS (token bucket), or `off`. Tenants can
    /// have their own (`docintel tenants limit`).
    #[arg(long, env = "DOCINTEL_RATE_LIMIT", default_value = "1000/10")]
    rate_limit: docintel_api::ratelimit::Limit,
    /// Requests per client address that present no valid API key (health, metrics, docs,
    /// the registry, failed authentication): QUOTA/WINDOW_SECONDS, or `off` (e.g. behind
    /// a proxy that limits them, since every client then shares the proxy's address).
    #[arg(long, env = "DOCINTEL_IP_RATE_LIMIT", default_value = "300/10")]
    ip_rate_limit: docintel_api::ratelimit::Limit,
    /// Allow webhooks to loopback and private-range addresses (refused by default).
    #[arg(long, env = "DOCINTEL_WEBHOOKS_ALLOW_PRIVATE")]
    webhooks_allow_private: bool,
    /// How long a webhook delivery is retried, in seconds.
    #[arg(long, env = "DOCINTEL_WEBHOOK_RETRY_WINDOW_SECS", default_value_t = 3 * 24 * 3600)]
    webhook_retry_window_secs: u64,
    /// First retry delay of a failed delivery, in milliseconds (doubles per attempt).
    #[arg(
        long,
        env = "DOCINTEL_WEBHOOK_INITIAL_BACKOFF_MS",
        default_value_t = 5000
    )]
    webhook_initial_backoff_ms: u64,
    /// Disable an endpoint after this many failed attempts in a row.
    #[arg(long, env = "DOCINTEL_WEBHOOK_DISABLE_AFTER", default_value_t = 50)]
    webhook_disable_after: u32,
    /// Seconds a client has to send a request's head; also how long an idle connection
    /// is kept open.
    #[arg(long, env = "DOCINTEL_HEADER_READ_TIMEOUT_SECS", default_value_t = 30)]
    header_read_timeout_secs: u64,
    /// Longest pause, in seconds, between two pieces of a request body.
    #[arg(long, env = "DOCINTEL_BODY_READ_TIMEOUT_SECS", default_value_t = 30)]
    body_read_timeout_secs: u64,
}

impl OpsArgs {
    fn apply(&self, config: &mut Config) {
        let w = &mut config.webhooks;
        w.allow_private_targets = self.webhooks_allow_private;
        w.retry_window = std::time::Duration::from_secs(self.webhook_retry_window_secs.max(1));
        w.initial_backoff =
            std::time::Duration::from_millis(self.webhook_initial_backoff_ms.max(1));
        w.disable_after = self.webhook_disable_after.max(1);
    }
}

#[derive(clap::Args)]
struct EventsArgs {
    /// Path prefix under which the embedded schema registry is served.
    #[arg(long, env = "DOCINTEL_REGISTRY_PATH", default_value = docintel_api::events::DEFAULT_REGISTRY_PATH)]
    registry_path: String,
    #[command(flatten)]
    registry: RegistryArgs,
    /// Kafka bootstrap brokers (host:port, comma-separated); events then go to Kafka too.
    #[arg(long, env = "DOCINTEL_KAFKA_BROKERS", value_delimiter = ',')]
    kafka_brokers: Vec<String>,
}

#[derive(clap::Args)]
struct RegistryArgs {
    /// An external Confluent-compatible schema registry to use instead of the embedded one.
    #[arg(long = "registry", env = "DOCINTEL_REGISTRY_URL")]
    registry_url: Option<String>,
    /// Bearer token for the registry.
    #[arg(
        long,
        env = "DOCINTEL_REGISTRY_TOKEN",
        conflicts_with = "registry_basic"
    )]
    registry_token: Option<String>,
    /// Basic credentials for the registry, as USER:PASSWORD.
    #[arg(long, env = "DOCINTEL_REGISTRY_BASIC")]
    registry_basic: Option<String>,
}

impl RegistryArgs {
    fn auth(&self) -> anyhow::Result<Option<Auth>> {
        Ok(match (&self.registry_token, &self.registry_basic) {
            (Some(token), _) => Some(Auth::Bearer(token.clone())),
            (None, Some(basic)) => {
                let (user, password) = basic
                    .split_once(':')
                    .context("--registry-basic must be USER:PASSWORD")?;
                Some(Auth::Basic {
                    user: user.to_owned(),
                    password: password.to_owned(),
                })
            }
            (None, None) => None,
        })
    }
}

impl EventsArgs {
    fn config(&self) -> anyhow::Result<EventsConfig> {
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
enum ModelCommand {
    /// Train on DIR/<label>/*.txt (its training split) and write a model file.
    Train {
        #[arg(long)]
        data: PathBuf,
        #[arg(long, default_value = "models/default.json")]
        out: PathBuf,
    },
    /// Print accuracy and the confusion matrix on DIR/<label>/*.txt.
    Eval {
        #[arg(long)]
        data: PathBuf,
        /// Model file (default: the shipped model).
        #[arg(long)]
        model: Option<PathBuf>,
        /// Evaluate on every document, not only the held-out split.
        #[arg(long)]
        all: bool,
    },
}

#[derive(Subcommand)]
enum SchemasCommand {
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
enum TenantsCommand {
    /// Give a tenant its own request limit (QUOTA/WINDOW_SECONDS, or `off`), or with
    /// `--default` go back to the server's. A running server applies it within 30 s.
    Limit {
        #[arg(long)]
        tenant: String,
        #[arg(long, required_unless_present = "default", conflicts_with = "default")]
        limit: Option<docintel_api::ratelimit::Limit>,
        #[arg(long)]
        default: bool,
        #[command(flatten)]
        data: DataDir,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Create a key for a tenant (created if new); prints only the key.
    Create {
        #[arg(long)]
        tenant: String,
        /// The key may also administer the platform (schema registry writes).
        #[arg(long)]
        admin: bool,
        #[command(flatten)]
        data: DataDir,
    },
}

fn main() -> anyhow::Result<()> {
    // A parser process for one untrusted document (see docintel_backend::pipeline::sandbox):
    // before the runtime, the argument parser or logging start, so it stays small and fast.
    if std::env::args_os()
        .nth(1)
        .is_some_and(|a| a == sandbox::ARG)
    {
        sandbox::child_main();
    }
    run()
}

#[tokio::main]
async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let telemetry = docintel_api::telemetry::init(cli.log_format, cli.otlp_endpoint.as_deref())?;
    match cli.command {
        Command::Serve {
            data,
            listen,
            max_upload_bytes,
            workers,
            model,
            job_timeout_secs,
            parsing,
            events,
            ops,
        } => {
            let mut config = Config::new(&data.data_dir);
            config.max_upload_bytes = max_upload_bytes;
            config.workers = WorkerConfig {
                workers: workers.unwrap_or(config.workers.workers).max(1),
                ..config.workers
            };
            config.model_path = model;
            config.job_timeout = std::time::Duration::from_secs(job_timeout_secs.max(1));
            config.limits = parsing.limits();
            config.isolation = docintel_backend::pipeline::Isolation::this_program()
                .context("finding this executable, to run document parsers with it")?;
            ops.apply(&mut config);
            let limits = docintel_api::serve::ServeLimits {
                header_read_timeout: std::time::Duration::from_secs(
                    ops.header_read_timeout_secs.max(1),
                ),
                body_read_timeout: std::time::Duration::from_secs(
                    ops.body_read_timeout_secs.max(1),
                ),
            };
            serve(config, listen, events.config()?, &ops, limits).await
        }
        Command::Keys {
            command:
                KeysCommand::Create {
                    tenant,
                    admin,
                    data,
                },
        } => {
            let tenant = tenant.trim();
            anyhow::ensure!(!tenant.is_empty(), "--tenant must not be empty");
            let backend = Backend::open(Config::new(data.data_dir)).await?;
            let key = if admin {
                backend.create_admin_key(tenant).await?
            } else {
                backend.create_key(tenant).await?
            };
            println!("{key}");
            Ok(())
        }
        Command::Tenants {
            command:
                TenantsCommand::Limit {
                    tenant,
                    limit,
                    default,
                    data,
                },
        } => {
            let backend = Backend::open(Config::new(data.data_dir)).await?;
            let limit = if default { None } else { limit };
            backend
                .set_rate_limit(
                    tenant.trim(),
                    limit.map(|l| (l.quota, l.window.as_secs() as u32)),
                )
                .await?;
            eprintln!(
                "limit of {} set; a running docintel applies it within 30 s",
                tenant.trim()
            );
            Ok(())
        }
        Command::Openapi { out, check } => write_specs(&out, check),
        Command::Model { command } => model_command(command),
        Command::Schemas { command } => {
            let code = schemas_command(command).await;
            drop(telemetry); // exit() skips destructors: flush queued log lines first
            std::process::exit(code)
        }
    }
}

async fn serve(
    config: Config,
    listen: SocketAddr,
    events: EventsConfig,
    ops: &OpsArgs,
    limits: docintel_api::serve::ServeLimits,
) -> anyhow::Result<()> {
    raise_descriptor_limit();
    let data_dir = config.data_dir.clone();
    let backend = Backend::open(config)
        .await
        .with_context(|| format!("opening the data folder {}", data_dir.display()))?;
    if let Some(key) = backend.ensure_default_tenant().await? {
        // Shown once: only its hash is stored.
        eprintln!(
            "\nCreated tenant \"{}\". Its API key (shown only now):\n\n    {key}\n",
            docintel_backend::DEFAULT_TENANT
        );
    }
    let state = AppState::new(backend.clone())
        .await?
        .with_registry_path(events.embedded_path().map(str::to_owned))
        .with_default_rate_limit(ops.rate_limit)
        .with_ip_rate_limit(ops.ip_rate_limit);
    // Before anything is written: events must never be produced with a schema the
    // registry refuses.
    let registered = docintel_api::events::register_schemas(&state, &events)
        .await
        .context("registering the event schemas; docintel will not start")?;
    info!(subjects = registered.len(), "event schemas registered");
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    let address = listener.local_addr()?;
    let _background = docintel_api::background::start(&state, &events, address).await?;
    state.spawn_rate_limit_reloader(std::time::Duration::from_secs(30));
    info!(%address, data_dir = %data_dir.display(), kafka = !events.kafka_brokers.is_empty(), "docintel listening");
    docintel_api::serve::serve(listener, app(state), limits, shutdown_signal()).await?;
    info!("stopped");
    Ok(())
}

/// Every connection is a descriptor: take the hard limit the system allows rather than
/// the conservative soft default (often 1024).
fn raise_descriptor_limit() {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    if let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE)
        && soft < hard
    {
        match setrlimit(Resource::RLIMIT_NOFILE, hard, hard) {
            Ok(()) => info!(from = soft, to = hard, "raised the open-descriptor limit"),
            Err(e) => tracing::warn!(error = %e, "could not raise the open-descriptor limit"),
        }
    }
}

/// Ctrl-C, or SIGTERM (what systemd, Docker and Kubernetes send): stop accepting, finish
/// the requests in flight, then return so queued log lines and spans are flushed. Jobs
/// cut short are taken again at the next start.
async fn shutdown_signal() {
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; only Ctrl-C stops gracefully");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
    info!("shutting down: finishing the requests in flight");
}

fn write_specs(out: &std::path::Path, check: bool) -> anyhow::Result<()> {
    let mut stale = Vec::new();
    for version in openapi::VERSIONS {
        let path = out.join(format!("{}.json", version.name));
        let json = openapi::to_json(&openapi::document(version));
        if check {
            if std::fs::read_to_string(&path).ok().as_deref() != Some(json.as_str()) {
                stale.push(path.display().to_string());
            }
        } else {
            std::fs::create_dir_all(out)?;
            std::fs::write(&path, json)?;
            eprintln!("wrote {}", path.display());
        }
    }
    anyhow::ensure!(
        stale.is_empty(),
        "out of date (run `cargo run -p docintel-api -- openapi`): {}",
        stale.join(", ")
    );
    Ok(())
}

fn model_command(command: ModelCommand) -> anyhow::Result<()> {
    use docintel_backend::classify;
    match command {
        ModelCommand::Train { data, out } => {
            let corpus = classify::read_corpus(&data)?;
            let file = classify::train(&corpus)?;
            let mut json = serde_json::to_string(&file)?;
            json.push('\n');
            std::fs::write(&out, json).with_context(|| format!("writing {}", out.display()))?;
            eprintln!(
                "trained {} on {} documents ({} labels); held-out accuracy {:.4}; wrote {}",
                file.version,
                corpus.len(),
                file.labels.len(),
                file.held_out_accuracy,
                out.display()
            );
        }
        ModelCommand::Eval { data, model, all } => {
            let model = match model {
                Some(p) => classify::Model::load(&p)?,
                None => classify::Model::default_model()?,
            };
            let corpus = classify::read_corpus(&data)?;
            let eval = classify::evaluate(
                &model,
                corpus
                    .iter()
                    .filter(|e| all || classify::is_held_out(&e.name)),
            );
            println!("model {}\n{}", model.version, eval.render());
        }
    }
    Ok(())
}

/// Exit codes: 0 all registered, 1 a schema was refused, 2 unusable input or registry.
async fn register_command(dir: &std::path::Path, registry: &RegistryArgs) -> i32 {
    use docintel_backend::registry::client::{RegisterError, Target};
    let Some(url) = &registry.registry_url else {
        eprintln!("error: give --registry URL");
        return 2;
    };
    let auth = match registry.auth() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let subjects = match docintel_backend::schemas::load(dir) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let target = Target::remote(url, auth);
    for s in &subjects {
        let subject = format!("{}-value", s.name);
        let mut result = target.set_level(&subject, s.mode).await;
        for (n, path, _) in &s.versions {
            if result.is_err() {
                break;
            }
            let text = match std::fs::read_to_string(path) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("error: {}: {e}", path.display());
                    return 2;
                }
            };
            result = target.register(&subject, &text).await.map(|id| {
                println!("{subject} v{n}: id {id}");
            });
        }
        match result {
            Ok(()) => {}
            Err(e @ RegisterError::Refused { .. }) => {
                eprintln!("refused: {e}");
                return 1;
            }
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        }
    }
    0
}

/// Exit codes: 0 compatible, 1 incompatible, 2 unusable input.
async fn schemas_command(command: SchemasCommand) -> i32 {
    use docintel_backend::schemas;
    match command {
        SchemasCommand::Register { dir, registry } => register_command(&dir, &registry).await,
        SchemasCommand::Check { dir } => match schemas::load(&dir) {
            Err(e) => {
                eprintln!("error: {e}");
                2
            }
            Ok(subjects) => {
                let findings = schemas::check_history(&subjects);
                for s in &subjects {
                    println!("{}: {} version(s), {:?}", s.name, s.versions.len(), s.mode);
                }
                for f in &findings {
                    println!("INCOMPATIBLE {} v{}: {}", f.subject, f.version, f.message);
                }
                i32::from(!findings.is_empty())
            }
        },
        SchemasCommand::Compat { mode, files } => {
            let mode: schemas::Mode = match mode.parse() {
                Ok(m) => m,
                Err(e) => {
                    eprintln!("error: {e}");
                    return 2;
                }
            };
            let mut parsed = Vec::new();
            for f in &files {
                match schemas::parse_file(f) {
                    Ok(s) => parsed.push(s),
                    Err(e) => {
                        eprintln!("error: {e}");
                        return 2;
                    }
                }
            }
            let Some((newest, earlier)) = parsed.split_last() else {
                eprintln!("error: give at least one schema file");
                return 2;
            };
            match schemas::check(mode, earlier, newest) {
                Ok(()) => {
                    println!("compatible: the newest schema may follow the others under {mode:?}");
                    0
                }
                Err(problems) => {
                    for p in problems {
                        println!("incompatible: {p}");
                    }
                    1
                }
            }
        }
    }
}
