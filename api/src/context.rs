//! Per-request context: the `X-Request-Id` (the client's when it sent a sane one, else a
//! fresh one) on every response, rendering of pending problems into RFC 9457 bodies, a
//! tracing span per request (request id, route, tenant, status, latency), the request
//! metrics, the rate-limit headers decided during authentication, and (through
//! `deprecation::deprecated_routes`) the deprecation headers and 410s of retired routes.

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{ConnectInfo, FromRef, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::IntoResponse;
use axum::response::Response;
use tracing::Instrument;

use crate::auth::AuthState;
use crate::error::{PendingProblem, write_problem};
use crate::metrics::{RequestLabels, RouteLabels};
use crate::ratelimit::VerdictSlot;
use crate::state::AppState;

pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The request id, available to handlers as a request extension.
#[derive(Debug, Clone)]
pub struct RequestId(pub HeaderValue);

fn acceptable(v: &HeaderValue) -> bool {
    let b = v.as_bytes();
    (1..=128).contains(&b.len())
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b':'))
}

pub async fn request_context(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let id = match req.headers().get(&X_REQUEST_ID) {
        Some(v) if acceptable(v) => v.clone(),
        _ => {
            let fresh = uuid::Uuid::now_v7().to_string();
            let v = HeaderValue::from_str(&fresh).unwrap_or(HeaderValue::from_static("invalid"));
            req.headers_mut().insert(X_REQUEST_ID.clone(), v.clone());
            v
        }
    };
    req.extensions_mut().insert(RequestId(id.clone()));
    let slot = VerdictSlot::default();
    req.extensions_mut().insert(slot.clone());
    let path = req.uri().path().to_owned();
    let method = crate::metrics::method_label(req.method());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |m| m.as_str())
        .to_owned();
    let span = tracing::info_span!(
        "request",
        request_id = id.to_str().unwrap_or_default(),
        method = %method,
        route = %route,
        tenant = tracing::field::Empty,
        key = tracing::field::Empty,
        status = tracing::field::Empty,
        latency_ms = tracing::field::Empty,
    );

    let address = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    let writes = !matches!(
        *req.method(),
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    );
    // What the request changes is recorded in the audit trail with its key (known once
    // authenticated), address and request id.
    let request_id = id.to_str().ok().map(str::to_owned);
    let mut response = docintel_backend::audit::within(address, request_id, async {
        let limited = crate::auth::spend_address(
            &AuthState::from_ref(&state),
            &state.ip_limits,
            state.broker_path.as_deref(),
            &mut req,
        )
        .await;
        crate::deprecation::deprecated_routes(&state.clock, req, next, limited).await
    })
    .instrument(span.clone())
    .await;
    // What a write's success acknowledges must survive power loss (one shared flush for
    // the writes answered meanwhile: the store's group commit).
    if writes && response.status().is_success() {
        let durable = state.backend.make_durable().instrument(span.clone()).await;
        if let Err(e) = durable {
            span.in_scope(|| tracing::error!(error = %e, "could not flush an acknowledged write"));
            response = crate::error::ApiError::from(e).into_response();
        }
    }
    if let Some(pending) = response.extensions_mut().remove::<PendingProblem>() {
        let problem = pending.render(&path, id.to_str().unwrap_or_default());
        write_problem(&mut response, &problem);
    }
    response.headers_mut().insert(X_REQUEST_ID.clone(), id);
    if let Some(verdict) = slot.0.lock().ok().and_then(|v| *v) {
        verdict.write_headers(response.headers_mut());
    }

    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    span.record("status", status);
    span.record("latency_ms", elapsed.as_secs_f64() * 1000.0);
    span.in_scope(|| tracing::info!(target: "docintel::access", "answered"));
    state
        .metrics
        .requests
        .get_or_create(&RequestLabels {
            method: method.to_owned(),
            route: route.clone(),
            status,
        })
        .inc();
    state
        .metrics
        .latency
        .get_or_create(&RouteLabels { route })
        .observe(elapsed.as_secs_f64());
    response
}
