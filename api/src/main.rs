//! The `docintel` binary: run the service, manage keys, write the OpenAPI documents.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use docintel_api::{AppState, app, openapi};
use docintel_backend::{Backend, Config, WorkerConfig};
use tracing::info;

#[derive(Parser)]
#[command(
    name = "docintel",
    version,
    about = "Document intelligence API: upload, extract, classify."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct DataDir {
    /// Folder holding the database and blobs; created if missing.
    #[arg(long, env = "DOCINTEL_DATA_DIR", default_value = "./docintel-data")]
    data_dir: PathBuf,
}

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
    },
    /// Manage API keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
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

#[derive(Subcommand)]
enum KeysCommand {
    /// Create a key for a tenant (created if new); prints only the key.
    Create {
        #[arg(long)]
        tenant: String,
        #[command(flatten)]
        data: DataDir,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    match Cli::parse().command {
        Command::Serve {
            data,
            listen,
            max_upload_bytes,
            workers,
        } => serve(data.data_dir, listen, max_upload_bytes, workers).await,
        Command::Keys {
            command: KeysCommand::Create { tenant, data },
        } => {
            let tenant = tenant.trim();
            anyhow::ensure!(!tenant.is_empty(), "--tenant must not be empty");
            let backend = Backend::open(Config::new(data.data_dir)).await?;
            println!("{}", backend.create_key(tenant).await?);
            Ok(())
        }
        Command::Openapi { out, check } => write_specs(&out, check),
    }
}

async fn serve(
    data_dir: PathBuf,
    listen: SocketAddr,
    max_upload_bytes: u64,
    workers: Option<usize>,
) -> anyhow::Result<()> {
    let mut config = Config::new(&data_dir);
    config.max_upload_bytes = max_upload_bytes;
    config.workers = WorkerConfig {
        workers: workers.unwrap_or(config.workers.workers).max(1),
        ..config.workers
    };
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
    let _workers = backend.start_workers().await?;
    let state = AppState::new(backend).await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    info!(address = %listener.local_addr()?, data_dir = %data_dir.display(), "docintel listening");
    axum::serve(listener, app(state))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
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
