//! The embedded Pact Broker's HTTP API: the Pact Broker's paths, HAL bodies
//! (`application/hal+json`, absolute links), `{"errors": {…}}` validation errors and
//! `{"error": …}` not-found errors, so the Pact Foundation's clients (the `pact-broker`
//! CLI, pact_verifier's broker source) work against it unchanged. Every call needs a key,
//! which the host checks ([`Authenticate`]); what a key may write is decided by the rules.
//!
//! One file per resource, each ending in its `router()`.

mod badges;
mod environments;
mod failure;
mod index;
mod matrix;
mod pacticipants;
mod pacts;
mod pages;
mod provider_contracts;
pub(crate) mod urls;
mod verifications;
mod webhooks;

use std::sync::Arc;

use async_trait::async_trait;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::routing::MethodRouter;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::{Broker, BrokerError, Caller};

pub use failure::{Answer, CONTENT_TYPE, Failure};

/// A request body: a pact of `MAX_PACT_BYTES`, base64-encoded, with room to spare.
const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// A key the host has checked: who calls, and the tenant's name (what
/// [`Broker::admits`] is decided by).
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub caller: Caller,
    pub tenant_name: String,
}

/// Why the host turned a request away.
#[derive(Debug)]
pub enum Denied {
    /// No key, or one the host does not know.
    Unauthorized,
    /// The key is over its request limit.
    TooManyRequests { retry_after_secs: u64 },
    /// Looking the key up failed (the host has logged why).
    KeyCheck,
    /// Reading whether the key is an admin's failed.
    Store(crate::StoreError),
    /// The key is valid but may not make this request; why.
    Forbidden(String),
}

/// What the host provides: it checks keys and spends their requests, and knows the
/// origin the broker's absolute links start with.
#[async_trait]
pub trait Authenticate: Send + Sync {
    async fn authenticate(&self, parts: &Parts) -> Result<Authenticated, Denied>;
    /// The scheme and authority of the broker's links (never from the request's `Host`
    /// or `X-Forwarded-*`: those are the client's to write).
    fn origin(&self, parts: &Parts) -> String;
}

/// What every handler reads.
#[derive(Clone)]
pub struct BrokerState {
    pub broker: Broker,
    pub auth: Arc<dyn Authenticate>,
    /// The path the router is nested under, for links.
    pub prefix: String,
    /// How webhooks are checked and sent; `None`: the host sends none, and the webhook
    /// resources answer 404.
    pub webhooks: Option<Arc<dyn crate::WebhookSink>>,
}

/// The broker's routes, to be nested under [`BrokerState::prefix`].
pub fn router<S: Clone + Send + Sync + 'static>(state: BrokerState) -> Router<S> {
    Router::new()
        .merge(index::router())
        .merge(pacticipants::router())
        .merge(pacts::router())
        .merge(verifications::router())
        .merge(environments::router())
        .merge(matrix::router())
        .merge(pages::router())
        .merge(badges::router())
        .merge(provider_contracts::router())
        .merge(webhooks::router())
        .fallback(|| async { Failure::not_found("No such resource in the Pact Broker API") })
        .method_not_allowed_fallback(|| async {
            Failure::new(
                StatusCode::METHOD_NOT_ALLOWED,
                json!({ "error": "Method not allowed" }),
            )
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::map_response(vary_accept))
        .with_state(state)
}

/// The resources the `pact-broker` CLI's `get-pacts` and `provider-states` ask for at
/// the origin's root rather than under the broker's path (it drops the base URL's path
/// for them): for the host to serve at its root beside [`router`] when the broker is
/// nested. Their links point under the broker's path.
pub fn root_router<S: Clone + Send + Sync + 'static>(state: BrokerState) -> Router<S> {
    pacts::branch_router()
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::map_response(vary_accept))
        .with_state(state)
}

/// The index alone, for the prefix with a trailing slash (clients given `…/broker/` as
/// the base URL ask for it so).
pub fn index_route<S: Clone + Send + Sync + 'static>(state: BrokerState) -> MethodRouter<S> {
    axum::routing::get(index::index).with_state(state)
}

/// A caller with a valid key, and the broker's absolute base URL for links (the Pact
/// Broker links absolutely).
pub struct Access {
    caller: Caller,
    base: String,
}

impl FromRequestParts<BrokerState> for Access {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &BrokerState) -> Result<Self, Failure> {
        let who = state.auth.authenticate(parts).await.map_err(denied)?;
        if !state.broker.admits(&who.tenant_name, who.caller.admin) {
            return Err(Failure::from(BrokerError::Forbidden(format!(
                "tenant '{}' may not use this broker (see docintel serve --broker-tenants)",
                who.tenant_name
            ))));
        }
        Ok(Self {
            caller: who.caller,
            base: format!("{}{}", state.auth.origin(parts), state.prefix),
        })
    }
}

fn denied(d: Denied) -> Failure {
    match d {
        Denied::Unauthorized => Failure::new(
            StatusCode::UNAUTHORIZED,
            json!({ "error": "Unauthorized: a docintel key is needed (Authorization: Bearer <key>, the CLI's --broker-token)" }),
        ),
        Denied::TooManyRequests { retry_after_secs } => Failure::new(
            StatusCode::TOO_MANY_REQUESTS,
            json!({ "error": format!("Too many requests for this key: retry after {retry_after_secs} s") }),
        ),
        Denied::KeyCheck => Failure::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({ "error": "An error has occurred checking the key; it has been logged" }),
        ),
        Denied::Store(e) => Failure::from(BrokerError::Store(e)),
        Denied::Forbidden(why) => Failure::new(StatusCode::FORBIDDEN, json!({ "error": why })),
    }
}

/// A JSON body, size-limited, with the Pact Broker's errors.
pub struct Body<T>(T);

impl<T: DeserializeOwned> FromRequest<BrokerState> for Body<T> {
    type Rejection = Failure;

    async fn from_request(req: Request, state: &BrokerState) -> Result<Self, Failure> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().contains("json"));
        if !json {
            return Err(Failure::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                json!({ "error": "the request body must be JSON (Content-Type: application/json)" }),
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|_| {
            Failure::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                json!({ "error": format!("the request body is larger than the limit of {MAX_BODY_BYTES} bytes") }),
            )
        })?;
        serde_json::from_slice(&bytes)
            .map(Body)
            .map_err(|e| Failure::new(StatusCode::BAD_REQUEST, json!({ "error": format!("{e}") })))
    }
}

/// The same URLs answer a browser with a page and the CLI with HAL, so every answer says
/// it depends on `Accept`: a cache never hands one to the other.
async fn vary_accept(mut response: axum::response::Response) -> axum::response::Response {
    let headers = response.headers_mut();
    if !headers.contains_key(axum::http::header::VARY) {
        headers.insert(
            axum::http::header::VARY,
            axum::http::HeaderValue::from_static("Accept"),
        );
    }
    response
}
