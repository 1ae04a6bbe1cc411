//! The `docintel` binary: run the service, manage keys, write the OpenAPI documents.
//! Options are in `cli.rs`, what each command does in `commands/`.

mod cli;
mod commands;

use clap::Parser;
use docintel_backend::pipeline::sandbox;

use cli::{BrokerCommand, Cli, Command};

// glibc's malloc/free were ~9% of a document GET's samples (many small, short-lived
// allocations on two worker threads): mimalloc raised GET throughput by ~20% (measured
// with api/benches/get_throughput.sh). `no_thp`: with transparent huge pages its arenas
// took 41 MB at idle instead of 25 MB.
// Watched: the parser processes this binary also runs report refused allocations (see
// WatchedAllocator); the check is one branch on the failure path.
#[global_allocator]
static ALLOCATOR: sandbox::WatchedAllocator<mimalloc::MiMalloc> =
    sandbox::WatchedAllocator(mimalloc::MiMalloc);

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
        Command::Serve(args) => commands::serve::run(*args).await,
        Command::Keys { command } => commands::store::keys(command).await,
        Command::Tenants { command } => commands::store::tenants(command).await,
        Command::Audit { command } => commands::store::audit_export(command).await,
        Command::Migrate { data } => commands::store::migrate(data).await,
        Command::Broker {
            command: BrokerCommand::Clean(args),
        } => commands::broker::clean(args).await,
        Command::Openapi { out, check } => commands::openapi::run(&out, check),
        Command::Model { command } => commands::model::run(command),
        Command::Schemas { command } => {
            let code = commands::schemas::run(command).await;
            drop(telemetry); // exit() skips destructors: flush queued log lines first
            std::process::exit(code)
        }
    }
}
