use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, ReadBuf};

use super::*;

fn scanner(chunk_bytes: usize) -> Scanner {
    Scanner::new(&ScanConfig {
        clamd: Some(ClamdAddr::Tcp("127.0.0.1:1".into())),
        mode: ScanMode::Required,
        io_timeout: Duration::from_secs(2),
        chunk_bytes,
        ..ScanConfig::default()
    })
    .expect("scanning is on")
}

/// A document of `left` bytes that records the largest buffer it was asked to fill:
/// the most of it the scanner holds at once.
struct Counting {
    left: usize,
    largest: Arc<AtomicUsize>,
}

impl AsyncRead for Counting {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        self.largest.fetch_max(buf.remaining(), Ordering::Relaxed);
        let n = buf.remaining().min(self.left);
        buf.put_slice(&vec![b'x'; n]);
        self.left -= n;
        Poll::Ready(Ok(()))
    }
}

/// Reads one INSTREAM request as clamd does; returns the chunk sizes and the total.
async fn read_instream(conn: &mut (impl AsyncRead + Unpin)) -> (Vec<usize>, usize) {
    let mut command = [0u8; 10];
    conn.read_exact(&mut command).await.unwrap();
    assert_eq!(&command, b"zINSTREAM\0");
    let mut sizes = Vec::new();
    let mut total = 0;
    loop {
        let len = conn.read_u32().await.unwrap() as usize;
        if len == 0 {
            return (sizes, total);
        }
        let mut chunk = vec![0u8; len];
        conn.read_exact(&mut chunk).await.unwrap();
        sizes.push(len);
        total += len;
    }
}

#[tokio::test]
async fn a_large_document_is_sent_in_chunks_and_never_held_whole() {
    let (client, mut clamd) = tokio::io::duplex(64 * 1024);
    let largest = Arc::new(AtomicUsize::new(0));
    let size = 50 * 1024 * 1024;
    let source = Counting {
        left: size,
        largest: largest.clone(),
    };
    let fake = tokio::spawn(async move {
        let (sizes, total) = read_instream(&mut clamd).await;
        clamd.write_all(b"stream: OK\0").await.unwrap();
        (sizes, total)
    });
    let s = scanner(16 * 1024);
    assert_eq!(s.scan_on(client, source).await.unwrap(), Verdict::Clean);
    let (sizes, total) = fake.await.unwrap();
    assert_eq!(total, size);
    assert!(
        sizes.iter().all(|&n| n <= 16 * 1024),
        "{:?}",
        sizes.iter().max()
    );
    assert_eq!(largest.load(Ordering::Relaxed), 16 * 1024);
}

#[tokio::test]
async fn a_signature_found_is_named() {
    let (client, mut clamd) = tokio::io::duplex(4096);
    tokio::spawn(async move {
        read_instream(&mut clamd).await;
        clamd
            .write_all(b"stream: Eicar-Test-Signature FOUND\0")
            .await
            .unwrap();
    });
    let v = scanner(1024).scan_on(client, &b"X5O!"[..]).await.unwrap();
    assert_eq!(v, Verdict::Infected("Eicar-Test-Signature".into()));
}

#[tokio::test]
async fn a_stream_over_clamds_limit_is_too_large_not_clean() {
    let (client, mut clamd) = tokio::io::duplex(1024);
    tokio::spawn(async move {
        let mut command = [0u8; 10];
        clamd.read_exact(&mut command).await.unwrap();
        let mut some = [0u8; 2000];
        clamd.read_exact(&mut some).await.unwrap();
        clamd
            .write_all(b"INSTREAM size limit exceeded. ERROR\0")
            .await
            .unwrap();
        // clamd closes the connection here; the client is still sending.
    });
    let big = vec![b'x'; 1 << 20];
    let err = scanner(512).scan_on(client, &big[..]).await.unwrap_err();
    assert!(matches!(err, ScanError::TooLarge), "{err:?}");
    assert!(!err.is_transient());
}

#[tokio::test]
async fn a_clamd_that_never_answers_times_out() {
    let (client, mut clamd) = tokio::io::duplex(1 << 20);
    let stall = tokio::spawn(async move {
        read_instream(&mut clamd).await;
        tokio::time::sleep(Duration::from_secs(3600)).await;
        drop(clamd);
    });
    let mut s = scanner(1024);
    s.config.io_timeout = Duration::from_millis(200);
    let started = std::time::Instant::now();
    let err = s.scan_on(client, &b"hello"[..]).await.unwrap_err();
    assert!(matches!(err, ScanError::Timeout(_)), "{err:?}");
    assert!(err.is_transient());
    assert!(started.elapsed() < Duration::from_secs(2));
    stall.abort();
}

#[tokio::test]
async fn an_unreachable_clamd_backs_off_up_to_the_maximum() {
    let mut s = scanner(1024);
    s.config.retry_min = Duration::from_millis(100);
    s.config.retry_max = Duration::from_millis(350);
    for expected in [100, 200, 350, 350] {
        let err = s.scan(&b"x"[..]).await.unwrap_err();
        assert!(matches!(err, ScanError::Unreachable { .. }), "{err:?}");
        assert_eq!(s.backoff(), Duration::from_millis(expected));
    }
    assert!(!s.ping().await);
}

#[test]
fn addresses_and_modes_parse() {
    assert_eq!(
        "unix:/run/clamd.sock".parse::<ClamdAddr>(),
        Ok(ClamdAddr::Unix("/run/clamd.sock".into()))
    );
    assert_eq!(
        "tcp:localhost:3310".parse::<ClamdAddr>(),
        Ok(ClamdAddr::Tcp("localhost:3310".into()))
    );
    for bad in [
        "unix:relative",
        "tcp:host",
        "tcp::3310",
        "tcp:h:99999",
        "/run/x",
    ] {
        assert!(bad.parse::<ClamdAddr>().is_err(), "{bad}");
    }
    assert_eq!("optional".parse::<ScanMode>(), Ok(ScanMode::Optional));
    assert!("maybe".parse::<ScanMode>().is_err());
    let off = ScanConfig {
        clamd: Some(ClamdAddr::Tcp("h:1".into())),
        mode: ScanMode::Off,
        ..ScanConfig::default()
    };
    assert!(Scanner::new(&off).is_none());
}

#[test]
fn replies_are_read_as_clamd_writes_them() {
    assert_eq!(verdict("stream: OK").unwrap(), Verdict::Clean);
    assert!(matches!(
        verdict("stream: lstat() failed ERROR"),
        Err(ScanError::Answer(_))
    ));
    assert!(matches!(verdict("garbage"), Err(ScanError::Answer(_))));
}

#[tokio::test]
async fn a_clamd_that_stops_reading_times_out_while_sending() {
    // Its socket buffer fills up and stays full.
    let (client, clamd) = tokio::io::duplex(4096);
    let mut s = scanner(1024);
    s.config.io_timeout = Duration::from_millis(200);
    let big = vec![b'x'; 1 << 20];
    let started = std::time::Instant::now();
    let err = s.scan_on(client, &big[..]).await.unwrap_err();
    assert!(matches!(err, ScanError::Timeout(_)), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(1), "waited twice");
    drop(clamd);
}
