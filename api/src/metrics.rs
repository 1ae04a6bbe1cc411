//! `/metrics` in the Prometheus text format: requests by route and status, request
//! latency, job queue depth, outbox backlog and lag, and webhook delivery outcomes. One
//! registry per application state (no global recorder), so each server counts its own.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    /// The matched route template (`/v2/documents/{id}`), never the raw path.
    pub route: String,
    pub status: u16,
}

/// A request method as a label: one of the standard methods, else `other`. Anyone can
/// send any token as a method, and every distinct label value is kept for ever.
pub fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    const KNOWN: [(Method, &str); 9] = [
        (Method::GET, "GET"),
        (Method::HEAD, "HEAD"),
        (Method::POST, "POST"),
        (Method::PUT, "PUT"),
        (Method::DELETE, "DELETE"),
        (Method::PATCH, "PATCH"),
        (Method::OPTIONS, "OPTIONS"),
        (Method::CONNECT, "CONNECT"),
        (Method::TRACE, "TRACE"),
    ];
    KNOWN
        .iter()
        .find(|(m, _)| m == method)
        .map_or("other", |(_, label)| label)
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: String,
}

fn latency_histogram() -> Histogram {
    // 0.1 ms to ~3 s.
    Histogram::new(exponential_buckets(0.0001, 2.0, 16))
}

pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    pub webhook_deliveries: Family<OutcomeLabels, Counter>,
    pub rate_limited: Counter,
    job_queue_depth: Gauge,
    /// The backend's count, brought up to it at each render.
    job_claims: Counter,
    outbox_pending: Gauge,
    outbox_lag_seconds: Gauge<f64, AtomicU64>,
    deliveries_pending: Gauge,
    relay_leader: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("docintel");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register("http_requests", "HTTP requests answered", requests.clone());
        let latency: Family<RouteLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(latency_histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request",
            latency.clone(),
        );
        let webhook_deliveries = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "webhook_delivery_attempts",
            "Webhook delivery attempts by outcome (delivered, failed, gave_up)",
            webhook_deliveries.clone(),
        );
        // Every outcome from the start, at zero, so alerts see the series before a failure.
        for outcome in ["delivered", "failed", "gave_up"] {
            let _ = webhook_deliveries.get_or_create(&OutcomeLabels {
                outcome: outcome.to_owned(),
            });
        }
        let rate_limited = Counter::default();
        registry.register(
            "rate_limited_requests",
            "Requests refused with 429",
            rate_limited.clone(),
        );
        let job_queue_depth = Gauge::default();
        registry.register(
            "job_queue_depth",
            "Documents waiting for or in processing",
            job_queue_depth.clone(),
        );
        let job_claims = Counter::default();
        registry.register(
            "job_claims",
            "Claims of jobs by this process's workers, found jobs or not (idle: one a poll)",
            job_claims.clone(),
        );
        let outbox_pending = Gauge::default();
        registry.register(
            "outbox_pending_events",
            "Events not yet published",
            outbox_pending.clone(),
        );
        let outbox_lag_seconds = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "outbox_lag_seconds",
            "Age of the oldest unpublished event",
            outbox_lag_seconds.clone(),
        );
        let deliveries_pending = Gauge::default();
        registry.register(
            "webhook_deliveries_pending",
            "Webhook deliveries not yet delivered nor given up",
            deliveries_pending.clone(),
        );
        let relay_leader = Gauge::default();
        registry.register(
            "event_relay_leader",
            "1 in the one process that relays events now, else 0",
            relay_leader.clone(),
        );
        Self {
            registry,
            deliveries_pending,
            relay_leader,
            requests,
            latency,
            webhook_deliveries,
            rate_limited,
            job_queue_depth,
            job_claims,
            outbox_pending,
            outbox_lag_seconds,
        }
    }
}

impl Metrics {
    /// The text exposition, after reading the gauges that live in the database.
    pub async fn render(&self, backend: &docintel_backend::Backend) -> String {
        if let Ok(depth) = backend.queue_depth().await {
            self.job_queue_depth.set(depth as i64);
        }
        // The largest of the two: renders at once never add a growth twice.
        self.job_claims
            .inner()
            .fetch_max(backend.job_claims(), std::sync::atomic::Ordering::Relaxed);
        if let Ok((pending, oldest)) = backend.outbox_lag().await {
            self.outbox_pending.set(pending as i64);
            let now_ms = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
            let lag = oldest.map_or(0.0, |o| ((now_ms as i64 - o).max(0)) as f64 / 1000.0);
            self.outbox_lag_seconds.set(lag);
        }
        if let Ok(n) = backend.deliveries_pending().await {
            self.deliveries_pending.set(n as i64);
        }
        self.relay_leader.set(i64::from(backend.leads_relay()));
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    pub fn webhook_outcome(&self, outcome: &str) {
        self.webhook_deliveries
            .get_or_create(&OutcomeLabels {
                outcome: outcome.to_owned(),
            })
            .inc();
    }
}
