//! Serving the app on a TCP listener with the limits a public server needs against slow
//! or idle clients:
//!
//! - a deadline for a request's head (counted from the moment the server waits for one,
//!   so it also closes connections that send nothing or sit idle between requests);
//! - for a request's body: a longest pause between two pieces, a total deadline and a
//!   minimum rate after a grace period, all counted from when the app starts reading it.
//!   A pause alone is no defence: one byte every few seconds never trips it and would
//!   hold a place for ever. A body that misses one is answered `408 body_too_slow` and
//!   its connection closed;
//! - a lingering close, as nginx's `lingering_close`: a connection closed while its
//!   request's body is still coming (an upload refused from its `Content-Length`, or
//!   while it streamed) first sends the answer and its end, then reads and discards at
//!   most [`ServeLimits::linger_bytes`] for at most [`ServeLimits::linger_time`]. Closing
//!   a socket with unread data sends a reset, and a client still sending would lose the
//!   answer to it. A client that sent `Expect: 100-continue` is answered before it sends
//!   the body: hyper sends `100 Continue` only when the app first reads the body, and a
//!   refusal never does;
//! - a number of requests served at once, and of those per client address, so slow
//!   clients cannot hold every place; health, readiness and metrics have places of their
//!   own, so a full house cannot make the probes fail.
//!
//! `axum::serve` sets no timer, so hyper's own header timeout never fires there, and its
//! HTTP/1-or-2 detection waits for a first byte for ever. docintel speaks HTTP/1.1
//! (HTTP/2 comes from a TLS-terminating proxy in front, if any; no client of this API
//! sends cleartext HTTP/2).

mod gate;
mod limits;
mod linger;
pub(crate) mod pacing;

use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request, header};
use axum::response::{IntoResponse, Response};
use hyper::body::{Body as HttpBody, Incoming};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tower::ServiceExt;

use crate::error::{ApiError, PendingProblem, write_problem};
use gate::Gate;
use linger::Lingering;
use pacing::{Pace, PacedBody};

pub use limits::ServeLimits;
pub use pacing::TooSlow;

/// A refusal built here, outside the app (which would add the request id and render the
/// problem), so it costs nothing the app would spend.
fn refusal(error: ApiError, path: &str, request_id: Option<HeaderValue>) -> Response {
    let mut response = error.into_response();
    let request_id = request_id
        .or_else(|| HeaderValue::from_str(&uuid::Uuid::now_v7().to_string()).ok())
        .unwrap_or(HeaderValue::from_static("invalid"));
    if let Some(pending) = response.extensions_mut().remove::<PendingProblem>() {
        let problem = pending.render(path, request_id.to_str().unwrap_or_default());
        write_problem(&mut response, &problem);
    }
    response
        .headers_mut()
        .insert(crate::context::X_REQUEST_ID.clone(), request_id);
    response
}

/// The address a client connected to (this server's side of the connection): where
/// links may point when no public URL is configured, since the `Host` header is the
/// client's to choose.
#[derive(Debug, Clone, Copy)]
pub struct LocalAddr(pub std::net::SocketAddr);

/// Serves `app` until `shutdown` resolves, then stops accepting and lets the requests in
/// flight finish. Handlers see the peer's address as `ConnectInfo<SocketAddr>`. With a
/// `recorder`, every answer (refusals made here included) is recorded.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: ServeLimits,
    recorder: Option<crate::traffic::Recorder>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let graceful = GracefulShutdown::new();
    let gate = Arc::new(Gate::new(&limits));
    let pace = Pace::of(&limits);
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
        let local = stream.local_addr().ok().map(LocalAddr);
        let stream = Lingering::new(stream, &limits);
        let unread = stream.unread.clone();
        let app = app.clone();
        let gate = gate.clone();
        let service = hyper::service::service_fn(move |req: Request<Incoming>| {
            unread.store(!req.body().is_end_stream(), Ordering::Relaxed);
            let unread = unread.clone();
            let app = app.clone();
            let admitted = gate.admit(req.uri().path(), peer.ip());
            async move {
                let _admitted = match admitted {
                    Ok(admitted) => admitted,
                    Err(refused) => return Ok(refusal(refused, req.uri().path(), None)),
                };
                let verdict = Arc::new(OnceLock::new());
                let (mut parts, body) = req.into_parts();
                parts.extensions.insert(ConnectInfo(peer));
                if let Some(local) = local {
                    parts.extensions.insert(local);
                }
                let path = parts.uri.path().to_owned();
                let body = axum::body::Body::new(
                    PacedBody::new(body, pace, verdict.clone()).clearing(unread),
                );
                let Ok(response) = app.oneshot(Request::from_parts(parts, body)).await;
                match verdict.get() {
                    None => Ok::<_, std::convert::Infallible>(response),
                    Some(why) => {
                        let request_id = response
                            .headers()
                            .get(&crate::context::X_REQUEST_ID)
                            .cloned();
                        let mut response = refusal(ApiError::BodyTooSlow(*why), &path, request_id);
                        // The rest of the body may still be coming: nothing after it on
                        // this connection can be read.
                        response
                            .headers_mut()
                            .insert(header::CONNECTION, HeaderValue::from_static("close"));
                        Ok(response)
                    }
                }
            }
        });
        let service = crate::traffic::Recorded::new(service, recorder.clone());
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
