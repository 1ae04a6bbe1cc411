//! Logs and traces of the binary: human or JSON logs on stderr, and with an OTLP endpoint
//! every span (one per request, with request id, tenant, route, status and latency)
//! exported over OTLP/HTTP.

use std::io::IsTerminal;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Flushes exported spans and queued log lines when dropped.
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
    _logs: WorkerGuard,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(p) = self.provider.take() {
            let _ = p.shutdown();
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("OTLP exporter: {0}")]
pub struct TelemetryError(String);

/// Installs the global subscriber. `otlp_endpoint` is the collector's base URL (e.g.
/// `http://127.0.0.1:4318`); spans go to `<endpoint>/v1/traces`.
pub fn init(format: LogFormat, otlp_endpoint: Option<&str>) -> Result<Telemetry, TelemetryError> {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sqlx=warn,rskafka=warn".into());
    // One access line per request: written on the request path (stderr's lock and a
    // write(2) each), it held GET /v2/documents/{id} at 33.5k req/s; through this writer
    // thread, which writes in batches, 37k (api/benches/get_throughput.sh). The thread
    // blocks callers only when 128k lines are queued (never drops them), and the guard
    // flushes what is left at exit.
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("docintel-logs")
        .finish(std::io::BufWriter::new(std::io::stderr()));
    let logs = match format {
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_writer(writer)
            .with_ansi(std::io::stderr().is_terminal())
            .boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(writer)
            .boxed(),
    };
    let provider = match otlp_endpoint {
        None => None,
        Some(endpoint) => {
            let exporter = opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .with_endpoint(format!("{}/v1/traces", endpoint.trim_end_matches('/')))
                .build()
                .map_err(|e| TelemetryError(e.to_string()))?;
            Some(
                SdkTracerProvider::builder()
                    .with_batch_exporter(exporter)
                    .with_resource(Resource::builder().with_service_name("docintel").build())
                    .build(),
            )
        }
    };
    let traces = provider
        .as_ref()
        .map(|p| tracing_opentelemetry::layer().with_tracer(p.tracer("docintel")));
    tracing_subscriber::registry()
        .with(filter)
        .with(logs)
        .with(traces)
        .init();
    Ok(Telemetry {
        provider,
        _logs: guard,
    })
}
