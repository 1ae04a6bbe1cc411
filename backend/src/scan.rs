//! Malware scanning with ClamAV: a client of `clamd`'s INSTREAM command over its unix or
//! TCP socket, and what the workers do with its verdict (see `jobs.rs`).
//!
//! The protocol is small enough to speak here rather than through a crate: `zINSTREAM\0`,
//! then chunks each prefixed by its 4-byte big-endian length, a zero length to end, and
//! one reply ending in `\0` (`stream: OK`, `stream: NAME FOUND`, `... ERROR`). Speaking it
//! directly keeps every step under a timeout and the memory to one chunk buffer.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tracing::warn;

/// Where `clamd` listens, as `--clamd` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClamdAddr {
    /// `unix:/path/to/clamd.sock`
    Unix(PathBuf),
    /// `tcp:host:port`
    Tcp(String),
}

impl std::str::FromStr for ClamdAddr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let usage = "expected unix:/PATH or tcp:HOST:PORT";
        if let Some(path) = s.strip_prefix("unix:") {
            if !path.starts_with('/') {
                return Err(format!(
                    "{s}: a unix socket needs an absolute path; {usage}"
                ));
            }
            return Ok(Self::Unix(path.into()));
        }
        if let Some(addr) = s.strip_prefix("tcp:") {
            if addr
                .rsplit_once(':')
                .is_none_or(|(host, port)| host.is_empty() || port.parse::<u16>().is_err())
            {
                return Err(format!("{s}: {usage}"));
            }
            return Ok(Self::Tcp(addr.to_owned()));
        }
        Err(format!("{s}: {usage}"))
    }
}

impl std::fmt::Display for ClamdAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unix(p) => write!(f, "unix:{}", p.display()),
            Self::Tcp(a) => write!(f, "tcp:{a}"),
        }
    }
}

/// What happens to documents when the scanner cannot answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScanMode {
    /// No scanning (the default without `--clamd`).
    #[default]
    Off,
    /// Fail closed: a document waits, and is retried, until clamd answers.
    Required,
    /// A document is processed unscanned (with the warning `not_scanned`) when clamd
    /// cannot be reached.
    Optional,
}

impl std::str::FromStr for ScanMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "off" => Ok(Self::Off),
            "required" => Ok(Self::Required),
            "optional" => Ok(Self::Optional),
            _ => Err(format!("{s}: expected required, optional or off")),
        }
    }
}

impl ScanMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Required => "required",
            Self::Optional => "optional",
        }
    }
}

/// The warning a document processed without a scan carries.
pub const NOT_SCANNED: &str = "not_scanned";

#[derive(Debug, Clone)]
pub struct ScanConfig {
    pub clamd: Option<ClamdAddr>,
    pub mode: ScanMode,
    /// Longest wait for any one step: connecting, sending a chunk, the reply.
    pub io_timeout: Duration,
    /// Bytes read from the blob and sent per chunk: the memory a scan holds.
    pub chunk_bytes: usize,
    /// Backoff before a document whose scan could not be done is tried again: doubles
    /// from `retry_min` to `retry_max` while clamd keeps failing.
    pub retry_min: Duration,
    pub retry_max: Duration,
}

impl Default for ScanConfig {
    fn default() -> Self {
        Self {
            clamd: None,
            mode: ScanMode::Off,
            io_timeout: Duration::from_secs(30),
            chunk_bytes: 64 * 1024,
            retry_min: Duration::from_secs(1),
            retry_max: Duration::from_secs(60),
        }
    }
}

/// What clamd said of a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Clean,
    /// The signature's name.
    Infected(String),
}

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// clamd cannot be reached, or the connection broke: try again later.
    #[error("clamd is unreachable at {addr}: {source}")]
    Unreachable {
        addr: String,
        source: std::io::Error,
    },
    #[error("clamd did not answer within {0:?}")]
    Timeout(Duration),
    /// The stream is longer than clamd's `StreamMaxLength`: it was not scanned, and
    /// never will be with this clamd.
    #[error("the document is larger than clamd scans (StreamMaxLength)")]
    TooLarge,
    /// clamd answered with an error, or something that is not its protocol.
    #[error("clamd answered {0:?}")]
    Answer(String),
    /// The document's bytes could not be read.
    #[error("the stored bytes are unreadable: {0}")]
    Source(std::io::Error),
}

impl ScanError {
    /// Whether scanning again later may succeed (clamd down, slow or broken), as
    /// opposed to a verdict on this document.
    pub fn is_transient(&self) -> bool {
        !matches!(self, Self::TooLarge)
    }
}

/// A connection to clamd, over either kind of socket.
trait Connection: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Connection for T {}

/// The longest reply read from clamd: a signature name is short.
const MAX_REPLY: usize = 4096;

/// A clamd client, shared by the workers.
#[derive(Debug)]
pub struct Scanner {
    pub config: ScanConfig,
    addr: ClamdAddr,
    /// Scans in a row that could not be done (drives the backoff).
    failures: AtomicU32,
}

impl Scanner {
    /// `None` when scanning is off.
    pub fn new(config: &ScanConfig) -> Option<Self> {
        let addr = config.clamd.clone()?;
        (config.mode != ScanMode::Off).then(|| Self {
            config: config.clone(),
            addr,
            failures: AtomicU32::new(0),
        })
    }

    pub fn addr(&self) -> &ClamdAddr {
        &self.addr
    }

    /// Scans what `source` yields.
    pub async fn scan(&self, source: impl AsyncRead + Unpin) -> Result<Verdict, ScanError> {
        let result = match self.connect().await {
            Ok(conn) => self.scan_on(conn, source).await,
            Err(e) => Err(e),
        };
        match &result {
            Err(e) if e.is_transient() => {
                self.failures.fetch_add(1, Ordering::Relaxed);
            }
            _ => self.failures.store(0, Ordering::Relaxed),
        }
        result
    }

    /// How long to wait before trying a document again, after the scans that failed.
    pub fn backoff(&self) -> Duration {
        let n = self
            .failures
            .load(Ordering::Relaxed)
            .saturating_sub(1)
            .min(16);
        self.config
            .retry_min
            .saturating_mul(1 << n)
            .min(self.config.retry_max)
    }

    /// Whether clamd answers `PING`.
    pub async fn ping(&self) -> bool {
        let reply = match self.connect().await {
            Ok(conn) => self.command(conn, b"zPING\0").await,
            Err(e) => Err(e),
        };
        matches!(reply.as_deref(), Ok("PONG"))
    }

    async fn connect(&self) -> Result<Box<dyn Connection>, ScanError> {
        Ok(match &self.addr {
            ClamdAddr::Unix(path) => {
                Box::new(self.timed(tokio::net::UnixStream::connect(path)).await?)
            }
            ClamdAddr::Tcp(addr) => {
                Box::new(self.timed(tokio::net::TcpStream::connect(addr)).await?)
            }
        })
    }

    async fn command(
        &self,
        mut conn: impl AsyncRead + AsyncWrite + Unpin,
        command: &[u8],
    ) -> Result<String, ScanError> {
        self.timed(conn.write_all(command)).await?;
        self.read_reply(&mut conn).await
    }

    /// One step under the I/O timeout; an I/O error means clamd is unreachable.
    async fn timed<T>(
        &self,
        step: impl Future<Output = std::io::Result<T>>,
    ) -> Result<T, ScanError> {
        match tokio::time::timeout(self.config.io_timeout, step).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(source)) => Err(ScanError::Unreachable {
                addr: self.addr.to_string(),
                source,
            }),
            Err(_) => Err(ScanError::Timeout(self.config.io_timeout)),
        }
    }

    /// INSTREAM on an open connection: `source` is read into one buffer of
    /// `chunk_bytes`, each read sent as a chunk, so memory stays at one chunk whatever
    /// the document's size.
    pub async fn scan_on(
        &self,
        mut conn: impl AsyncRead + AsyncWrite + Unpin,
        mut source: impl AsyncRead + Unpin,
    ) -> Result<Verdict, ScanError> {
        self.timed(conn.write_all(b"zINSTREAM\0")).await?;
        let mut buf = vec![0u8; self.config.chunk_bytes.max(1)];
        loop {
            let n = source.read(&mut buf).await.map_err(ScanError::Source)?;
            if n == 0 {
                break;
            }
            let len = (n as u32).to_be_bytes();
            let sent = async {
                conn.write_all(&len).await?;
                conn.write_all(&buf[..n]).await
            };
            match self.timed(sent).await {
                Ok(()) => {}
                // Past StreamMaxLength clamd answers and closes the connection: its
                // reply, when there is one, says why the write failed.
                Err(e @ ScanError::Unreachable { .. }) => {
                    return match self.read_reply(&mut conn).await {
                        Ok(reply) => verdict(&reply),
                        Err(_) => Err(e),
                    };
                }
                Err(e) => return Err(e),
            }
        }
        self.timed(conn.write_all(&0u32.to_be_bytes())).await?;
        let reply = self.read_reply(&mut conn).await?;
        verdict(&reply)
    }

    /// Reads one `\0`-terminated reply (or up to end of stream), at most [`MAX_REPLY`].
    async fn read_reply(&self, conn: &mut (impl AsyncRead + Unpin)) -> Result<String, ScanError> {
        let read = async {
            let mut reply = Vec::new();
            let mut byte = [0u8; 256];
            loop {
                let n = conn.read(&mut byte).await?;
                if n == 0 {
                    break;
                }
                reply.extend_from_slice(&byte[..n]);
                if reply.contains(&0) || reply.len() >= MAX_REPLY {
                    break;
                }
            }
            Ok(reply)
        };
        let reply = self.timed(read).await?;
        if reply.is_empty() {
            return Err(ScanError::Unreachable {
                addr: self.addr.to_string(),
                source: std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "connection closed without a reply",
                ),
            });
        }
        let end = reply.iter().position(|&b| b == 0).unwrap_or(reply.len());
        Ok(String::from_utf8_lossy(&reply[..end]).trim().to_owned())
    }
}

/// Reads clamd's reply to INSTREAM.
fn verdict(reply: &str) -> Result<Verdict, ScanError> {
    let body = reply
        .strip_prefix("stream:")
        .map(str::trim)
        .unwrap_or(reply);
    if body == "OK" {
        return Ok(Verdict::Clean);
    }
    if let Some(name) = body.strip_suffix(" FOUND") {
        return Ok(Verdict::Infected(name.trim().to_owned()));
    }
    if body.contains("size limit exceeded") {
        return Err(ScanError::TooLarge);
    }
    warn!(reply = %reply, "unexpected clamd reply");
    Err(ScanError::Answer(reply.chars().take(200).collect()))
}

#[cfg(test)]
mod tests;
