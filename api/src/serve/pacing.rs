//! Body pacing: a request body read under a longest pause, a deadline and a minimum
//! rate; the first limit missed cuts it and says why (answered `408 body_too_slow`).

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Bytes;
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

use super::limits::ServeLimits;

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
pub(super) struct Pace {
    pause: Duration,
    deadline: Duration,
    min_rate: u64,
    grace: Duration,
}

impl Pace {
    pub(super) fn of(limits: &ServeLimits) -> Self {
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
pub(super) struct PacedBody<B> {
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
    pub(super) fn new(inner: B, pace: Pace, verdict: Arc<OnceLock<TooSlow>>) -> Self {
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

    pub(super) fn clearing(mut self, unread: Arc<AtomicBool>) -> Self {
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
}
