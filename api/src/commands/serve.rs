//! `docintel serve`: the service, until Ctrl-C or SIGTERM.

use tracing::info;

use crate::cli::ServeArgs;

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    raise_descriptor_limit();
    let launch = args.launch()?;
    let kafka = !launch.events.kafka_brokers.is_empty();
    let running = launch.start().await?;
    if let Some(key) = &running.first_key {
        // Shown once: only its hash is stored.
        eprintln!(
            "\nCreated tenant \"{}\". Its API key (shown only now):\n\n    {key}\n",
            docintel_backend::DEFAULT_TENANT
        );
    }
    info!(address = %running.addr, data_dir = %args.data.data_dir.display(), kafka, "docintel listening");
    shutdown_signal().await;
    running.stop().await?;
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
