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

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request, header};
use axum::response::{IntoResponse, Response};
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;

use crate::error::{ApiError, PendingProblem, write_problem};

/// What the operator probes (see [`crate::ops_app`]): served with places of their own.
const PROBE_PATHS: [&str; 3] = ["/healthz", "/readyz", "/metrics"];

/// Places for probes. They are cheap and few; the bound only stops a flood of them from
/// being a way around [`ServeLimits::max_in_flight`].
const PROBE_SLOTS: usize = 32;

#[derive(Debug, Clone, Copy)]
pub struct ServeLimits {
    /// Longest a client may take to send a request's head, counted from when the server
    /// starts waiting for it (so also how long an idle connection is kept).
    pub header_read_timeout: Duration,
    /// Longest pause between two pieces of a request body.
    pub body_read_timeout: Duration,
    /// Longest a whole request body may take, from when the app starts reading it.
    pub body_deadline: Duration,
    /// Bytes per second a body must average once [`Self::min_body_rate_grace`] has
    /// passed (0: no minimum).
    pub min_body_rate: u64,
    /// How long a body may take before the minimum rate applies (a small body is
    /// whole long before).
    pub min_body_rate_grace: Duration,
    /// Requests served at once; more are answered `503 overloaded` with `Retry-After`
    /// at once instead of queueing without bound.
    pub max_in_flight: usize,
    /// Of those, how many one client address may have (0: no cap); more are answered
    /// `429 too_many_in_flight`. An IPv6 client is its /64.
    pub max_in_flight_per_address: usize,
    /// When a connection is closed with request body still unread (an upload refused
    /// before or while it is read), at most this many more bytes of it are read and
    /// discarded first, so the client finishes sending and reads the answer instead of
    /// a reset.
    pub linger_bytes: u64,
    /// And for at most this long after the answer.
    pub linger_time: Duration,
}

impl Default for ServeLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(30),
            body_read_timeout: Duration::from_secs(30),
            body_deadline: Duration::from_secs(120),
            min_body_rate: 1024,
            min_body_rate_grace: Duration::from_secs(10),
            max_in_flight: 512,
            max_in_flight_per_address: 64,
            linger_bytes: 64 * 1024 * 1024,
            linger_time: Duration::from_secs(10),
        }
    }
}

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

/// Why a request body was cut off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TooSlow {
    #[error("no part of the request body came for {0:?}")]
    Pause(Duration),
    #[error("the request body was not whole within {0:?}")]
    Deadline(Duration),
    #[error("the request body came slower than {0} bytes/s")]
    Rate(u64),
}

/// The limits a request body is read under (see [`ServeLimits`]).
#[derive(Debug, Clone, Copy)]
struct Pace {
    pause: Duration,
    deadline: Duration,
    min_rate: u64,
    grace: Duration,
}

impl Pace {
    fn of(limits: &ServeLimits) -> Self {
        Self {
            pause: limits.body_read_timeout,
            deadline: limits.body_deadline,
            min_rate: limits.min_body_rate,
            grace: limits.min_body_rate_grace,
        }
    }

    /// The first limit the body misses if nothing more comes, and when. `None`: none can
    /// (the durations are too large to add).
    fn next_due(
        &self,
        started: Instant,
        last: Instant,
        received: u64,
    ) -> Option<(Instant, TooSlow)> {
        let rate = (self.min_rate > 0).then(|| {
            // The time by which `received` bytes are what the rate asks for.
            let earned = Duration::from_millis(received.saturating_mul(1000) / self.min_rate);
            (
                started
                    .checked_add(self.grace)
                    .and_then(|t| t.checked_add(earned)),
                TooSlow::Rate(self.min_rate),
            )
        });
        [
            (last.checked_add(self.pause), TooSlow::Pause(self.pause)),
            (
                started.checked_add(self.deadline),
                TooSlow::Deadline(self.deadline),
            ),
        ]
        .into_iter()
        .chain(rate)
        .filter_map(|(due, why)| due.map(|d| (d, why)))
        .min_by_key(|(due, _)| *due)
    }
}

/// A request body read under a [`Pace`]. The first limit missed ends it with an error
/// and is recorded in `verdict`, which the server turns into the answer: the app's
/// extractors would make a 400 or a 413 of the error.
struct PacedBody<B> {
    inner: B,
    pace: Pace,
    /// When the app first asked for a piece, and when the last one came.
    started: Option<(Instant, Instant)>,
    received: u64,
    timer: Option<Pin<Box<Sleep>>>,
    verdict: Arc<OnceLock<TooSlow>>,
    /// The connection's [`Lingering::unread`], cleared once the body has ended (or was
    /// cut: a client too slow for the body's limits gets no more time to linger).
    unread: Option<Arc<AtomicBool>>,
}

impl<B> PacedBody<B> {
    fn new(inner: B, pace: Pace, verdict: Arc<OnceLock<TooSlow>>) -> Self {
        Self {
            inner,
            pace,
            started: None,
            received: 0,
            timer: None,
            verdict,
            unread: None,
        }
    }

    fn clearing(mut self, unread: Arc<AtomicBool>) -> Self {
        self.unread = Some(unread);
        self
    }

    fn read_all(&self) {
        if let Some(unread) = &self.unread {
            unread.store(false, Ordering::Relaxed);
        }
    }

    fn cut(&self, why: TooSlow) -> Poll<Option<Result<Frame<Bytes>, axum::BoxError>>> {
        self.read_all();
        if self.verdict.set(why).is_ok() {
            tracing::info!(reason = %why, received = self.received, "request body too slow; answering 408");
        }
        Poll::Ready(Some(Err(Box::new(why))))
    }
}

impl<B> HttpBody for PacedBody<B>
where
    B: HttpBody<Data = Bytes> + Unpin,
    B::Error: Into<axum::BoxError>,
{
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        if let Some(why) = this.verdict.get() {
            return Poll::Ready(Some(Err(Box::new(*why))));
        }
        let now = Instant::now();
        let (started, last) = *this.started.get_or_insert((now, now));
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.received = this.received.saturating_add(data.len() as u64);
                }
                this.started = Some((started, now));
                if this.inner.is_end_stream() {
                    this.read_all();
                }
                return Poll::Ready(Some(Ok(frame)));
            }
            Poll::Ready(other) => {
                // The end, or the connection failed: nothing more is coming either way.
                this.read_all();
                return Poll::Ready(other.map(|r| r.map_err(Into::into)));
            }
            Poll::Pending => {}
        }
        let Some((due, why)) = this.pace.next_due(started, last, this.received) else {
            return Poll::Pending;
        };
        if now >= due {
            return this.cut(why);
        }
        let timer = this
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(due)));
        if timer.deadline() != due {
            timer.as_mut().reset(due);
        }
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => this.cut(why),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A connection's socket that closes as nginx's lingering close does: when the last
/// request's body was left unread, shutting it down sends the end of the answer, then
/// reads and discards what the client still sends, until it closes its side, the bytes
/// or the time are used up, or reading fails. Only then is the socket closed.
struct Lingering<S> {
    io: S,
    /// Set while a request's body may still have bytes on their way that nothing reads;
    /// [`PacedBody`] clears it when the body ends.
    unread: Arc<AtomicBool>,
    bytes: u64,
    time: Duration,
    state: LingerState,
}

enum LingerState {
    Open,
    Draining { left: u64, until: Pin<Box<Sleep>> },
    Closed,
}

impl<S> Lingering<S> {
    fn new(io: S, limits: &ServeLimits) -> Self {
        Self {
            io,
            unread: Arc::new(AtomicBool::new(false)),
            bytes: limits.linger_bytes,
            time: limits.linger_time,
            state: LingerState::Open,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Lingering<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Lingering<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        loop {
            match &mut this.state {
                LingerState::Open => {
                    std::task::ready!(Pin::new(&mut this.io).poll_shutdown(cx))?;
                    if !this.unread.load(Ordering::Relaxed) || this.bytes == 0 {
                        this.state = LingerState::Closed;
                        return Poll::Ready(Ok(()));
                    }
                    this.state = LingerState::Draining {
                        left: this.bytes,
                        until: Box::pin(tokio::time::sleep(this.time)),
                    };
                }
                LingerState::Draining { left, until } => {
                    if until.as_mut().poll(cx).is_ready() {
                        tracing::debug!(
                            drained = this.bytes - *left,
                            "lingering close: out of time"
                        );
                        this.state = LingerState::Closed;
                        return Poll::Ready(Ok(()));
                    }
                    let mut scratch = [0u8; 16 * 1024];
                    let room = usize::try_from(*left)
                        .unwrap_or(usize::MAX)
                        .min(scratch.len());
                    let mut buf = ReadBuf::new(&mut scratch[..room]);
                    match Pin::new(&mut this.io).poll_read(cx, &mut buf) {
                        Poll::Pending => return Poll::Pending,
                        // The client closed its side, or the connection is gone.
                        Poll::Ready(Ok(())) if buf.filled().is_empty() => {
                            this.state = LingerState::Closed;
                        }
                        Poll::Ready(Err(_)) => this.state = LingerState::Closed,
                        Poll::Ready(Ok(())) => {
                            *left -= buf.filled().len() as u64;
                            if *left == 0 {
                                tracing::debug!(
                                    bytes = this.bytes,
                                    "lingering close: read as much as it may"
                                );
                                this.state = LingerState::Closed;
                            }
                        }
                    }
                }
                LingerState::Closed => return Poll::Ready(Ok(())),
            }
        }
    }
}

/// Requests in flight per client address.
struct PerAddress {
    cap: usize,
    counts: Mutex<HashMap<IpAddr, usize>>,
}

/// One request's place in its address's count, given back on drop.
struct AddressSlot {
    owner: Arc<PerAddress>,
    key: IpAddr,
}

impl PerAddress {
    fn enter(self: &Arc<Self>, ip: IpAddr) -> Option<AddressSlot> {
        let key = crate::ratelimit::address_key(ip);
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let n = counts.entry(key).or_insert(0);
        if *n >= self.cap {
            return None;
        }
        *n += 1;
        Some(AddressSlot {
            owner: self.clone(),
            key,
        })
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut counts = self
            .owner
            .counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = counts.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.remove(&self.key);
            }
        }
    }
}

/// Who may be served now: places overall, per address, and for probes.
struct Gate {
    in_flight: Arc<Semaphore>,
    probes: Arc<Semaphore>,
    per_address: Option<Arc<PerAddress>>,
}

/// What an admitted request holds until its answer is ready.
struct Admitted {
    _address: Option<AddressSlot>,
    _permit: OwnedSemaphorePermit,
}

impl Gate {
    fn new(limits: &ServeLimits) -> Self {
        Self {
            in_flight: Arc::new(Semaphore::new(limits.max_in_flight.max(1))),
            probes: Arc::new(Semaphore::new(PROBE_SLOTS)),
            per_address: (limits.max_in_flight_per_address > 0).then(|| {
                Arc::new(PerAddress {
                    cap: limits.max_in_flight_per_address,
                    counts: Mutex::new(HashMap::new()),
                })
            }),
        }
    }

    fn admit(&self, path: &str, peer: IpAddr) -> Result<Admitted, ApiError> {
        if PROBE_PATHS.contains(&path) {
            let permit = self
                .probes
                .clone()
                .try_acquire_owned()
                .map_err(|_| ApiError::Overloaded(1))?;
            return Ok(Admitted {
                _address: None,
                _permit: permit,
            });
        }
        // The address's own cap first: a refused request takes no place overall.
        let address = match &self.per_address {
            Some(per_address) => {
                Some(per_address.enter(peer).ok_or(ApiError::TooManyInFlight {
                    limit: per_address.cap,
                })?)
            }
            None => None,
        };
        let permit = self
            .in_flight
            .clone()
            .try_acquire_owned()
            .map_err(|_| ApiError::Overloaded(1))?;
        Ok(Admitted {
            _address: address,
            _permit: permit,
        })
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::mpsc;

    /// A body whose pieces the test sends.
    struct Pieces(mpsc::UnboundedReceiver<Bytes>);

    impl HttpBody for Pieces {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            self.0.poll_recv(cx).map(|p| p.map(|b| Ok(Frame::data(b))))
        }
    }

    const S: fn(u64) -> Duration = Duration::from_secs;
    const MS: fn(u64) -> Duration = Duration::from_millis;

    fn pace(pause: Duration, deadline: Duration, min_rate: u64, grace: Duration) -> Pace {
        Pace {
            pause,
            deadline,
            min_rate,
            grace,
        }
    }

    #[test]
    fn the_first_limit_due_is_the_one_a_body_misses() {
        let t0 = Instant::now();
        let p = pace(S(30), S(120), 1024, S(10));
        // A trickle: pieces keep coming, too few bytes. The rate is due once the grace
        // and the time its 100 bytes buy (97 ms) are over.
        assert_eq!(
            p.next_due(t0, t0 + S(9), 100),
            Some((t0 + S(10) + MS(97), TooSlow::Rate(1024)))
        );
        // Enough bytes for the rate, but the whole body takes too long.
        assert_eq!(
            p.next_due(t0, t0 + S(100), 1024 * 200),
            Some((t0 + S(120), TooSlow::Deadline(S(120))))
        );
        // Enough bytes, then nothing.
        assert_eq!(
            p.next_due(t0, t0 + S(1), 1024 * 200),
            Some((t0 + S(31), TooSlow::Pause(S(30))))
        );
        // No minimum rate: a trickle only meets the deadline.
        let p = pace(S(30), S(120), 0, S(10));
        assert_eq!(
            p.next_due(t0, t0 + S(100), 1),
            Some((t0 + S(120), TooSlow::Deadline(S(120))))
        );
        // Durations past what an instant can hold are never due.
        let p = pace(Duration::MAX, Duration::MAX, 0, S(10));
        assert_eq!(p.next_due(t0, t0, 0), None);
    }

    /// Reads `body` to its end or first error; the bytes read and the error.
    async fn read(mut body: PacedBody<Pieces>) -> (Vec<u8>, Option<TooSlow>) {
        let mut got = Vec::new();
        while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await
        {
            match frame {
                Ok(frame) => got.extend_from_slice(frame.data_ref().map_or(&[][..], |d| d)),
                Err(e) => return (got, e.downcast_ref::<TooSlow>().copied()),
            }
        }
        (got, None)
    }

    /// Sends one byte every `every`, `count` times, then ends the body.
    fn trickle(every: Duration, count: usize) -> Pieces {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            for _ in 0..count {
                if tx.send(Bytes::from_static(b"x")).is_err() {
                    return;
                }
                tokio::time::sleep(every).await;
            }
        });
        Pieces(rx)
    }

    #[tokio::test]
    async fn a_trickle_is_cut_at_the_minimum_rate_and_says_so() {
        let verdict = Arc::new(OnceLock::new());
        // One byte per 20 ms never pauses 10 s, and would take 200 s in all.
        let body = PacedBody::new(
            trickle(MS(20), 10_000),
            pace(S(10), S(200), 1000, MS(100)),
            verdict.clone(),
        );
        let (got, error) = read(body).await;
        assert_eq!(error, Some(TooSlow::Rate(1000)));
        assert_eq!(verdict.get(), Some(&TooSlow::Rate(1000)));
        assert!(!got.is_empty() && got.len() < 10_000, "{} bytes", got.len());
    }

    #[tokio::test]
    async fn without_a_minimum_rate_a_trickle_is_cut_at_the_deadline() {
        let verdict = Arc::new(OnceLock::new());
        let body = PacedBody::new(
            trickle(MS(20), 10_000),
            pace(S(10), MS(300), 0, MS(100)),
            verdict.clone(),
        );
        let (_, error) = read(body).await;
        assert_eq!(error, Some(TooSlow::Deadline(MS(300))));
        assert_eq!(verdict.get(), Some(&TooSlow::Deadline(MS(300))));
    }

    #[tokio::test]
    async fn a_body_that_stops_is_cut_at_the_pause() {
        let verdict = Arc::new(OnceLock::new());
        let (tx, rx) = mpsc::unbounded_channel();
        tx.send(Bytes::from_static(b"the start")).unwrap();
        let body = PacedBody::new(Pieces(rx), pace(MS(100), S(200), 0, S(10)), verdict);
        let (got, error) = read(body).await;
        assert_eq!(got, b"the start");
        assert_eq!(error, Some(TooSlow::Pause(MS(100))));
        drop(tx);
    }

    #[tokio::test]
    async fn a_body_within_its_limits_is_read_whole() {
        let verdict = Arc::new(OnceLock::new());
        let body = PacedBody::new(
            trickle(MS(1), 50),
            pace(S(10), S(200), 1000, S(10)),
            verdict.clone(),
        );
        let (got, error) = read(body).await;
        assert_eq!((got.len(), error), (50, None));
        assert_eq!(verdict.get(), None);
    }

    #[tokio::test]
    async fn a_body_read_to_its_end_or_cut_leaves_nothing_to_linger_for() {
        let unread = Arc::new(AtomicBool::new(true));
        let body = PacedBody::new(
            trickle(MS(1), 5),
            pace(S(10), S(200), 0, S(10)),
            Arc::default(),
        )
        .clearing(unread.clone());
        assert_eq!(read(body).await.1, None);
        assert!(!unread.load(Ordering::Relaxed));

        // Cut for being slow: that client gets no more time.
        unread.store(true, Ordering::Relaxed);
        let body = PacedBody::new(
            trickle(MS(20), 10_000),
            pace(S(10), MS(100), 0, S(10)),
            Arc::default(),
        )
        .clearing(unread.clone());
        assert_eq!(read(body).await.1, Some(TooSlow::Deadline(MS(100))));
        assert!(!unread.load(Ordering::Relaxed));

        // Dropped unread (refused before it was read): still unread.
        unread.store(true, Ordering::Relaxed);
        let (tx, rx) = mpsc::unbounded_channel();
        tx.send(Bytes::from_static(b"the start")).unwrap();
        let mut body = PacedBody::new(Pieces(rx), pace(S(10), S(200), 0, S(10)), Arc::default())
            .clearing(unread.clone());
        let first = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await;
        assert!(first.is_some_and(|f| f.is_ok()));
        drop(body);
        assert!(unread.load(Ordering::Relaxed));
    }

    fn linger_limits(bytes: u64, time: Duration) -> ServeLimits {
        ServeLimits {
            linger_bytes: bytes,
            linger_time: time,
            ..ServeLimits::default()
        }
    }

    /// Writes `total` bytes to `client` in pieces until done or the other side is gone,
    /// then closes; how many it wrote.
    fn send(
        mut client: tokio::io::WriteHalf<tokio::io::DuplexStream>,
        total: usize,
    ) -> tokio::task::JoinHandle<usize> {
        use tokio::io::AsyncWriteExt;
        tokio::spawn(async move {
            let piece = [b'a'; 4096];
            let mut sent = 0;
            while sent < total && client.write_all(&piece).await.is_ok() {
                sent += piece.len();
            }
            // Done: the client closes its side.
            let _ = client.shutdown().await;
            sent
        })
    }

    #[tokio::test]
    async fn an_unread_body_is_drained_up_to_the_byte_bound_after_the_answer_ends() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (client, server) = tokio::io::duplex(16 * 1024);
        let (mut client_read, client_write) = tokio::io::split(client);
        let sending = send(client_write, 1024 * 1024);
        let mut server = Lingering::new(server, &linger_limits(256 * 1024, S(3600)));
        server.unread.store(true, Ordering::Relaxed);
        server
            .write_all(b"HTTP/1.1 413 Payload Too Large\r\n\r\n")
            .await
            .unwrap();
        server.shutdown().await.unwrap();
        // The answer and its end reached the client before the draining stopped.
        let mut answer = String::new();
        client_read.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        // The server read its 256 KiB, then stopped: the sender is stuck on a full pipe
        // until the server side goes away.
        drop(server);
        let sent = sending.await.unwrap();
        assert!(
            (256 * 1024..=(256 + 16 + 4) * 1024).contains(&sent),
            "{sent} bytes sent"
        );
    }

    #[tokio::test]
    async fn a_connection_with_nothing_unread_closes_without_reading() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut client, server) = tokio::io::duplex(16 * 1024);
        client.write_all(b"next request").await.unwrap();
        let mut server = Lingering::new(server, &linger_limits(256 * 1024, S(3600)));
        server.shutdown().await.unwrap();
        // Nothing was drained: the bytes are still there.
        let mut left = [0u8; 12];
        server.read_exact(&mut left).await.unwrap();
        assert_eq!(&left, b"next request");
    }

    #[tokio::test]
    async fn the_draining_stops_at_the_time_bound() {
        use tokio::io::AsyncWriteExt;
        // A client that neither sends nor closes: only the time bound ends the wait.
        let (_client, server) = tokio::io::duplex(16 * 1024);
        let mut server = Lingering::new(server, &linger_limits(1 << 30, MS(300)));
        server.unread.store(true, Ordering::Relaxed);
        let started = Instant::now();
        server.shutdown().await.unwrap();
        assert!(started.elapsed() >= MS(300), "{:?}", started.elapsed());
    }

    #[tokio::test]
    async fn the_draining_stops_when_the_client_closes() {
        use tokio::io::AsyncWriteExt;
        let (client, server) = tokio::io::duplex(16 * 1024);
        let (_client_read, client_write) = tokio::io::split(client);
        let sending = send(client_write, 64 * 1024);
        let mut server = Lingering::new(server, &linger_limits(1 << 30, S(3600)));
        server.unread.store(true, Ordering::Relaxed);
        server.shutdown().await.unwrap();
        assert_eq!(sending.await.unwrap(), 64 * 1024, "all of it was read");
    }

    fn limits(max_in_flight: usize, per_address: usize) -> ServeLimits {
        ServeLimits {
            max_in_flight,
            max_in_flight_per_address: per_address,
            ..ServeLimits::default()
        }
    }

    #[test]
    fn one_address_cannot_take_every_place() {
        let gate = Gate::new(&limits(4, 2));
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let first = gate.admit("/registry/subjects/x/versions", a).unwrap();
        let _second = gate.admit("/registry/subjects/x/versions", a).unwrap();
        let refused = gate.admit("/registry/subjects/x/versions", a).err();
        assert!(
            matches!(refused, Some(ApiError::TooManyInFlight { limit: 2 })),
            "{refused:?}"
        );
        // Another address still gets in, and the first gets its place back.
        let _other = gate.admit("/v2/documents", b).unwrap();
        drop(first);
        assert!(gate.admit("/v2/documents", a).is_ok());
        // One /64 is one client.
        let v6 = |s: &str| s.parse::<IpAddr>().unwrap();
        let _x = gate.admit("/", v6("2001:db8::1")).unwrap();
        let _y = gate.admit("/", v6("2001:db8::2")).unwrap();
        assert!(gate.admit("/", v6("2001:db8::3")).is_err());
    }

    #[test]
    fn probes_are_answered_when_every_place_is_taken() {
        let gate = Gate::new(&limits(2, 0));
        let held: Vec<_> = ["10.0.0.1", "10.0.0.2"]
            .iter()
            .map(|ip| gate.admit("/v2/documents", ip.parse().unwrap()).unwrap())
            .collect();
        let ip: IpAddr = "10.0.0.3".parse().unwrap();
        assert!(matches!(
            gate.admit("/v2/documents", ip),
            Err(ApiError::Overloaded(1))
        ));
        for probe in PROBE_PATHS {
            assert!(gate.admit(probe, ip).is_ok(), "{probe}");
        }
        drop(held);
        assert!(gate.admit("/v2/documents", ip).is_ok());
    }

    #[test]
    fn no_cap_per_address_when_it_is_off() {
        let gate = Gate::new(&limits(3, 0));
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let held: Vec<_> = (0..3).map(|_| gate.admit("/", a).unwrap()).collect();
        assert_eq!(held.len(), 3);
        assert!(matches!(gate.admit("/", a), Err(ApiError::Overloaded(1))));
    }
}
