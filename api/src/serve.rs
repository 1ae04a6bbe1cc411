//! Serving the app on a TCP listener with the limits a public server needs against slow
//! or idle clients: a deadline for a request's head (counted from the moment the server
//! waits for one, so it also closes connections that send nothing or sit idle between
//! requests), and one between two pieces of a body. `axum::serve` sets no timer, so
//! hyper's own header timeout never fires there, and its HTTP/1-or-2 detection waits for
//! a first byte for ever. docintel speaks HTTP/1.1 (HTTP/2 comes from a TLS-terminating
//! proxy in front, if any; no client of this API sends cleartext HTTP/2).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::sync::Semaphore;
use tower::{ServiceBuilder, ServiceExt};
use tower_http::timeout::RequestBodyTimeoutLayer;

use crate::error::{ApiError, PendingProblem, write_problem};

/// The answer to a request beyond [`ServeLimits::max_in_flight`]: built here, outside
/// the app, so it costs nothing the app would spend.
fn overloaded(path: &str) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut response = ApiError::Overloaded(1).into_response();
    let request_id = uuid::Uuid::now_v7().to_string();
    if let Some(pending) = response.extensions_mut().remove::<PendingProblem>() {
        let problem = pending.render(path, &request_id);
        write_problem(&mut response, &problem);
    }
    if let Ok(v) = axum::http::HeaderValue::from_str(&request_id) {
        response
            .headers_mut()
            .insert(crate::context::X_REQUEST_ID.clone(), v);
    }
    response
}

#[derive(Debug, Clone, Copy)]
pub struct ServeLimits {
    /// Longest a client may take to send a request's head, counted from when the server
    /// starts waiting for it (so also how long an idle connection is kept).
    pub header_read_timeout: Duration,
    /// Longest pause between two pieces of a request body.
    pub body_read_timeout: Duration,
    /// Requests served at once; more are answered `503 overloaded` with `Retry-After`
    /// at once instead of queueing without bound.
    pub max_in_flight: usize,
}

impl Default for ServeLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(30),
            body_read_timeout: Duration::from_secs(30),
            max_in_flight: 512,
        }
    }
}

/// Serves `app` until `shutdown` resolves, then stops accepting and lets the requests in
/// flight finish. Handlers see the peer's address as `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: ServeLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let graceful = GracefulShutdown::new();
    let in_flight = Arc::new(Semaphore::new(limits.max_in_flight.max(1)));
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of descriptors, mostly: wait a little rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let in_flight = in_flight.clone();
        let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            let app = app.clone();
            let permit = in_flight.clone().try_acquire_owned();
            async move {
                let Ok(_permit) = permit else {
                    return Ok(overloaded(req.uri().path()));
                };
                ServiceBuilder::new()
                    .layer(RequestBodyTimeoutLayer::new(limits.body_read_timeout))
                    .service(app)
                    .oneshot(req)
                    .await
            }
        });
        let conn = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
