//! The embedded Pact Broker (`docintel-broker`) as this API serves it: its key check and
//! request budget are the API's, its links start at the configured public URL, and its
//! webhooks go out under the rules of the API's own (target checks, timeouts, backoff,
//! retry window, disabling), sent by a task beside the API's webhook sender.

use async_trait::async_trait;
use axum::extract::FromRef;
use axum::http::request::Parts;
use std::net::SocketAddr;
use std::time::Duration;

use docintel_backend::webhooks::{self, WebhookConfig};
use docintel_broker::Caller;
use docintel_broker::WebhookSink;
use docintel_broker::http::{Authenticate, Authenticated, BrokerState, Denied};
use docintel_broker::webhooks::{DeliveryPolicy, MAX_LOGGED_RESPONSE_BYTES, OutgoingRequest, Sent};

use crate::auth::{AuthState, Schemes};
use crate::error::ApiError;
use crate::state::AppState;
use docintel_backend::keys::Scope;

/// The broker's state over this API's.
pub fn state(state: &AppState) -> BrokerState {
    BrokerState {
        broker: state.backend.broker().clone(),
        auth: std::sync::Arc::new(Auth(state.clone())),
        prefix: state.broker_path.clone().unwrap_or_default(),
        webhooks: Some(std::sync::Arc::new(Sink::of(state))),
    }
}

/// The broker's webhooks sent as the API sends its own: its rules, and its client.
struct Sink(WebhookConfig, crate::deliveries::Outbound);

impl Sink {
    fn of(state: &AppState) -> Self {
        Self(
            state.backend.config().webhooks.clone(),
            state.outbound.clone(),
        )
    }
}

#[async_trait]
impl WebhookSink for Sink {
    async fn check_target(&self, url: &str) -> Result<(), String> {
        let url = webhooks::validate_url(url).map_err(|e| e.to_string())?;
        webhooks::check_target(&url, self.0.allow_private_targets)
            .await
            .map(drop)
            .map_err(|e| e.to_string())
    }

    async fn send(&self, request: &OutgoingRequest) -> Sent {
        let failed = |error: String| Sent {
            error: Some(error),
            ..Sent::default()
        };
        let (url, client) = match self.1.checked(&request.url).await {
            Ok(c) => c,
            Err(e) => return failed(e),
        };
        let Ok(method) = reqwest::Method::from_bytes(request.method.as_bytes()) else {
            return failed(format!("bad method {}", request.method));
        };
        let mut call = client.request(method, url);
        for (name, value) in &request.headers {
            call = call.header(name.as_str(), value.as_str());
        }
        if let Some(user) = request.username.as_deref().filter(|u| !u.is_empty()) {
            call = call.basic_auth(user, request.password.as_deref());
        }
        if let Some(body) = &request.body {
            call = call.body(body.clone());
        }
        let mut response = match call.send().await {
            Ok(r) => r,
            Err(e) => return failed(crate::deliveries::describe(e)),
        };
        let status = response.status().as_u16();
        // Only the start of the answer is kept: an endpoint cannot make the log large.
        let mut body = Vec::new();
        while body.len() < MAX_LOGGED_RESPONSE_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                _ => break,
            }
        }
        body.truncate(MAX_LOGGED_RESPONSE_BYTES);
        Sent {
            status: Some(status),
            body: (!body.is_empty()).then(|| String::from_utf8_lossy(&body).into_owned()),
            error: None,
        }
    }

    fn backoff(&self, attempts: u32) -> Duration {
        webhooks::backoff(&self.0, attempts)
    }

    fn policy(&self) -> DeliveryPolicy {
        DeliveryPolicy {
            retry_window: self.0.retry_window,
            disable_after: self.0.disable_after,
            disable_after_failing_for: self.0.disable_after_failing_for,
        }
    }
}

const IDLE_POLL: Duration = Duration::from_millis(500);
const BATCH: usize = 16;

/// The running sender of the broker's webhooks; dropping it stops it (deliveries stay
/// due in the store).
pub struct BrokerWebhookSender(tokio::task::JoinHandle<()>);

impl Drop for BrokerWebhookSender {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts sending the broker's due webhook deliveries. `listening`: the address served,
/// for the broker's links in webhook bodies when no public URL is set.
pub fn start_sender(state: &AppState, listening: SocketAddr) -> Option<BrokerWebhookSender> {
    let prefix = state.broker_path.clone()?;
    let origin = state
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{listening}"));
    let base = format!("{origin}{prefix}");
    let broker = state.backend.broker().clone();
    let sink = Sink::of(state);
    // Held while an attempt is in flight: longer than any attempt can take.
    let lease = sink.0.request_timeout * 3;
    Some(BrokerWebhookSender(tokio::spawn(async move {
        loop {
            let due = match broker.claim_webhook_deliveries(lease, BATCH).await {
                Ok(due) => due,
                Err(e) => {
                    tracing::warn!(error = %e, "could not read due broker webhook deliveries");
                    tokio::time::sleep(IDLE_POLL * 10).await;
                    continue;
                }
            };
            if due.is_empty() {
                tokio::time::sleep(IDLE_POLL).await;
                continue;
            }
            // Attempts of one batch run concurrently; a slow endpoint delays only its own.
            let attempts = due.into_iter().map(|d| {
                let (broker, sink, base) = (&broker, &sink, &base);
                async move {
                    if let Err(e) = broker.attempt_webhook_delivery(sink, base, d).await {
                        tracing::warn!(error = %e, "could not record a broker webhook attempt; it will be retried");
                    }
                }
            });
            futures_util::future::join_all(attempts).await;
        }
    })))
}

struct Auth(AppState);

#[async_trait]
impl Authenticate for Auth {
    async fn authenticate(&self, parts: &Parts) -> Result<Authenticated, Denied> {
        let state = &self.0;
        // The API's one key check: the key cache, and the key's request budget.
        let found = crate::auth::authenticate(
            &AuthState::from_ref(state),
            &parts.headers,
            &parts.extensions,
            Schemes::BearerOrBasic,
        )
        .await
        .map_err(|e| match e {
            ApiError::Unauthorized(_) => Denied::Unauthorized,
            ApiError::RateLimited(retry_after_secs) => Denied::TooManyRequests { retry_after_secs },
            other => {
                tracing::error!(error = %other, "pact broker: checking a key");
                Denied::KeyCheck
            }
        })?;
        // Reads (and the question for-verification asks, a POST) need `broker:read`;
        // everything else writes.
        let reads = parts.method.is_safe() || parts.uri.path().ends_with("/for-verification");
        let scope = if reads {
            Scope::BrokerRead
        } else {
            Scope::BrokerWrite
        };
        if !found.scopes.contains(scope) {
            return Err(Denied::Forbidden(format!(
                "this API key does not hold the scope `{scope}` this request needs"
            )));
        }
        Ok(Authenticated {
            caller: Caller {
                tenant: found.tenant.id.0,
                admin: found.admin,
            },
            tenant_name: found.tenant.name,
        })
    }

    fn origin(&self, parts: &Parts) -> String {
        match (
            &self.0.public_url,
            parts.extensions.get::<crate::serve::LocalAddr>(),
        ) {
            (Some(url), _) => url.clone(),
            (None, Some(local)) => format!("http://{}", local.0),
            (None, None) => String::new(),
        }
    }
}
