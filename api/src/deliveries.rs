//! The notification sender: takes webhook deliveries that are due (written with each
//! event, in the transaction of the state change), renders the body once (the event and
//! the v2 document), signs it, POSTs it, and records the outcome; failures are retried
//! with exponential backoff and jitter until the retry window closes, and an endpoint
//! that keeps failing is disabled.

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;

use axum::extract::FromRef;
use docintel_backend::Backend;

use docintel_backend::webhooks::{self, DueDelivery, Outcome};
use time::OffsetDateTime;
use tracing::{debug, warn};

use crate::metrics::Metrics;
use crate::state::AppState;
use crate::views::DocumentView;
use crate::views::{WebhookEvent, WebhookEventType};

const IDLE_POLL: Duration = Duration::from_millis(500);
const BATCH: u32 = 16;

/// The running sender; dropping it stops it (deliveries stay due in the database).
pub struct WebhookSender {
    task: tokio::task::JoinHandle<()>,
}

impl Drop for WebhookSender {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What the sender needs of the application: the backend, and the metrics it counts
/// outcomes in.
#[derive(Clone)]
pub struct SenderState {
    pub backend: Backend,
    pub metrics: Arc<Metrics>,
    /// Running senders, which readiness checks.
    pub alive: Arc<AtomicUsize>,
    pub outbound: Outbound,
}

impl FromRef<AppState> for SenderState {
    fn from_ref(state: &AppState) -> Self {
        Self {
            backend: state.backend.clone(),
            metrics: state.metrics.clone(),
            alive: state.webhook_sender_alive.clone(),
            outbound: state.outbound.clone(),
        }
    }
}

pub fn start(state: SenderState) -> WebhookSender {
    let alive = docintel_backend::Alive::new(&state.alive);
    let task = tokio::spawn(async move {
        let _alive = alive;
        run(state).await
    });
    WebhookSender { task }
}

async fn run(state: SenderState) {
    let config = state.backend.config().webhooks.clone();
    // Held while an attempt is in flight: longer than any attempt can take.
    let lease = config.request_timeout * 3;
    loop {
        let now = OffsetDateTime::now_utc();
        let due = match state
            .backend
            .claim_deliveries(now, now + lease, BATCH)
            .await
        {
            Ok(due) => due,
            Err(e) => {
                warn!(error = %e, "could not read due webhook deliveries");
                tokio::time::sleep(IDLE_POLL * 10).await;
                continue;
            }
        };
        if due.is_empty() {
            // Woken when any process writes a delivery; the poll finds retries that
            // became due and wake-ups that were lost.
            tokio::select! {
                _ = state.backend.wakes().deliveries.notified() => {}
                _ = tokio::time::sleep(IDLE_POLL) => {}
            }
            continue;
        }
        // Attempts of one batch run concurrently; a slow endpoint delays only its own.
        let attempts = due.into_iter().map(|d| attempt(&state, &config, d));
        futures_util::future::join_all(attempts).await;
    }
}

async fn attempt(state: &SenderState, config: &webhooks::WebhookConfig, due: DueDelivery) {
    let id = due.delivery.id;
    let body = match &due.body {
        Some(b) => b.clone(),
        None => {
            let b = render(state, &due).await;
            if let Err(e) = state.backend.set_delivery_body(id, &b).await {
                warn!(error = %e, delivery = id, "could not keep the rendered body");
            }
            b
        }
    };
    let outcome = send(&state.outbound, &due, &body).await;
    let attempts = due.delivery.attempts + 1;
    let retry_at = match &outcome {
        Outcome::Delivered { .. } => None,
        Outcome::Failed { .. } => {
            let next = OffsetDateTime::now_utc() + webhooks::backoff(config, attempts);
            (next <= due.delivery.created_at + config.retry_window).then_some(next)
        }
    };
    state.metrics.webhook_outcome(match (&outcome, retry_at) {
        (Outcome::Delivered { .. }, _) => "delivered",
        (Outcome::Failed { .. }, Some(_)) => "failed",
        (Outcome::Failed { .. }, None) => "gave_up",
    });
    match &outcome {
        Outcome::Delivered { status } => debug!(delivery = id, status, "webhook delivered"),
        Outcome::Failed { status, error } => {
            warn!(delivery = id, attempts, ?status, %error, give_up = retry_at.is_none(), "webhook delivery failed")
        }
    }
    if let Err(e) = state
        .backend
        .record_delivery(
            id,
            &outcome,
            retry_at,
            config.disable_after,
            config.disable_after_failing_for,
            OffsetDateTime::now_utc(),
        )
        .await
    {
        warn!(error = %e, delivery = id, "could not record a webhook attempt; it will be retried");
    }
}

/// The body: the event with the document as v2 shows it now (null once deleted).
async fn render(state: &SenderState, due: &DueDelivery) -> String {
    let event: serde_json::Value = serde_json::from_str(&due.event).unwrap_or_default();
    let created = event["occurred_at"]
        .as_i64()
        .and_then(|ms| OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000).ok())
        .unwrap_or(due.delivery.created_at);
    let data = state
        .backend
        .document(due.tenant_id, due.delivery.document_id)
        .await
        .ok()
        .flatten()
        .map(DocumentView::from);
    let Some(event_type) = WebhookEventType::parse(&due.delivery.event_type) else {
        return String::new();
    };
    // The documented type, so the OpenAPI description cannot drift from the bytes sent.
    let body = WebhookEvent {
        id: due.delivery.event_id.clone(),
        event_type,
        created,
        data,
    };
    serde_json::to_string(&body).unwrap_or_default()
}

async fn send(outbound: &Outbound, due: &DueDelivery, body: &str) -> Outcome {
    let failed = |status: Option<u16>, error: String| Outcome::Failed { status, error };
    let (url, client) = match outbound.checked(&due.url).await {
        Ok(c) => c,
        Err(e) => return failed(None, e),
    };
    let timestamp = OffsetDateTime::now_utc().unix_timestamp();
    let signature = webhooks::signature_header(&due.secrets, timestamp, body.as_bytes());
    let result = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("Docintel-Signature", signature)
        .header("Docintel-Event-Id", &due.delivery.event_id)
        .body(body.to_owned())
        .send()
        .await;
    match result {
        Ok(r) if r.status().is_success() => Outcome::Delivered {
            status: r.status().as_u16(),
        },
        Ok(r) => failed(
            Some(r.status().as_u16()),
            format!("the endpoint answered {}", r.status()),
        ),
        Err(e) => failed(None, describe(e)),
    }
}

/// The HTTP client webhooks (the API's and the broker's) go out through, built once: the
/// TLS roots are loaded once, and connections to an endpoint are kept and reused. Its
/// resolver checks every address it hands out, so a connection goes only to an address
/// that was checked when it was made (no DNS rebinding in between); a literal address,
/// which needs no resolver, is checked before each request. It follows no redirect and
/// uses no proxy.
#[derive(Clone)]
pub struct Outbound {
    client: reqwest::Client,
    allow_private: bool,
}

/// Idle connections kept per endpoint, and for how long: enough for a batch of attempts
/// to reuse them, few enough that many endpoints hold few descriptors.
const IDLE_PER_ENDPOINT: usize = 4;
const IDLE_FOR: Duration = Duration::from_secs(30);

impl Outbound {
    pub fn new(config: &webhooks::WebhookConfig) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            // Through a proxy the connection would go where the proxy resolves to,
            // unchecked: deliveries connect directly, whatever HTTP(S)_PROXY says.
            .no_proxy()
            .dns_resolver(Arc::new(CheckedResolver {
                allow_private: config.allow_private_targets,
            }))
            .pool_max_idle_per_host(IDLE_PER_ENDPOINT)
            .pool_idle_timeout(IDLE_FOR)
            .user_agent(concat!("docintel-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("http client: {e}"))?;
        Ok(Self {
            client,
            allow_private: config.allow_private_targets,
        })
    }

    /// The URL parsed and checked, and the client to send it with.
    pub(crate) async fn checked(
        &self,
        url: &str,
    ) -> Result<(reqwest::Url, &reqwest::Client), String> {
        let url = webhooks::validate_url(url).map_err(|e| e.to_string())?;
        let host = url.host_str().unwrap_or_default();
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        if literal.parse::<std::net::IpAddr>().is_ok() {
            webhooks::check_target(&url, self.allow_private)
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok((url, &self.client))
    }
}

/// Resolves names for [`Outbound`], refusing those with an address that is not public.
struct CheckedResolver {
    allow_private: bool,
}

impl reqwest::dns::Resolve for CheckedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let (host, allow_private) = (name.as_str().to_owned(), self.allow_private);
        Box::pin(async move {
            // The connector sets the URL's port on each address.
            let addrs = webhooks::resolve_checked(&host, 0, allow_private).await?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// A failed request's reason, with its causes, but not its URL: a webhook URL may carry a
/// secret in its query, and this text goes to the log and the delivery log.
pub(crate) fn describe(e: reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut text = what.to_owned();
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    webhooks::redact_urls(&text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;
    use std::sync::atomic::Ordering;

    fn outbound(allow_private: bool) -> Outbound {
        Outbound::new(&webhooks::WebhookConfig {
            allow_private_targets: allow_private,
            ..Default::default()
        })
        .unwrap()
    }

    /// A loopback HTTP server that answers 204 and counts the connections it accepted.
    async fn receiver() -> (SocketAddr, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = connections.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(|| async { axum::http::StatusCode::NO_CONTENT }),
        );
        let make = tower::service_fn(move |_: axum::serve::IncomingStream<'_, _>| {
            counted.fetch_add(1, Ordering::SeqCst);
            std::future::ready(Ok::<_, std::convert::Infallible>(app.clone()))
        });
        tokio::spawn(async move { axum::serve(listener, make).await });
        (addr, connections)
    }

    #[tokio::test]
    async fn a_name_that_resolves_to_loopback_is_never_connected_to() {
        let (addr, connections) = receiver().await;
        let out = outbound(false);
        // A name passes the first check; its addresses are checked as it is resolved.
        let (url, client) = out
            .checked(&format!("http://localhost:{}/hook", addr.port()))
            .await
            .unwrap();
        let e = client.post(url).send().await.unwrap_err();
        let reason = describe(e);
        assert!(reason.contains("public endpoints only"), "{reason}");
        assert!(
            !reason.contains("127.0.0.1"),
            "what the name resolves to is not said: {reason}"
        );
        assert_eq!(connections.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn a_literal_private_address_is_refused_before_any_request() {
        let (addr, connections) = receiver().await;
        let out = outbound(false);
        for url in [format!("http://{addr}/hook"), "http://[::1]:9/hook".into()] {
            let Err(reason) = out.checked(&url).await else {
                panic!("{url} was let through");
            };
            assert!(reason.contains("public endpoints only"), "{reason}");
        }
        assert_eq!(connections.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn attempts_to_one_endpoint_reuse_its_connection() {
        let (addr, connections) = receiver().await;
        let out = outbound(true);
        for _ in 0..5 {
            let (url, client) = out
                .checked(&format!("http://localhost:{}/hook", addr.port()))
                .await
                .unwrap();
            let r = client.post(url).body("{}").send().await.unwrap();
            assert_eq!(r.status(), 204);
        }
        assert_eq!(connections.load(Ordering::SeqCst), 1);
    }
}
