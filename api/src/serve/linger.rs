//! The lingering close: a connection closed with request body still unread first sends
//! the answer, then reads and discards what the client still sends, within bounds.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

use super::limits::ServeLimits;

/// A connection's socket that closes as nginx's lingering close does: when the last
/// request's body was left unread, shutting it down sends the end of the answer, then
/// reads and discards what the client still sends, until it closes its side, the bytes
/// or the time are used up, or reading fails. Only then is the socket closed.
pub(super) struct Lingering<S> {
    io: S,
    /// Set while a request's body may still have bytes on their way that nothing reads;
    /// [`PacedBody`] clears it when the body ends.
    pub(super) unread: Arc<AtomicBool>,
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
    pub(super) fn new(io: S, limits: &ServeLimits) -> Self {
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

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::time::Instant;

    const S: fn(u64) -> Duration = Duration::from_secs;
    const MS: fn(u64) -> Duration = Duration::from_millis;

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
}
