//! Recording the answers the server gives, one JSON line per response, so a gate can
//! prove the OpenAPI documents describe every one of them (`docintel-governance check
//! --traffic`).
//!
//! A line says what was asked and what was answered, never what was sent in it:
//!
//! ```json
//! {"method":"GET","path":"/v2/documents/0192…","status":404,
//!  "content_type":"application/problem+json","headers":["content-type","x-request-id"]}
//! ```
//!
//! `path` is the raw request path (no query: it may hold secrets such as page tokens);
//! `headers` are the response's header names, lowercased and sorted. The recorder sits
//! where [`crate::serve`] builds each request's service, so it sees the refusals made
//! there outside the app too (408, 429 and 503). It cannot see what hyper answers on its
//! own before any service runs: a request head too large (431) or unparsable (400).
//!
//! Serving never waits for the file: lines go through a bounded channel to a writer
//! thread, and a line that finds the channel full is dropped and counted.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};

use axum::http::{Method, Request, Response, header};
use serde::{Deserialize, Serialize};

/// Lines waiting for the writer; beyond it lines are dropped rather than held in memory.
const QUEUE: usize = 8192;

/// One recorded response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub method: String,
    /// The raw request path, without the query.
    pub path: String,
    pub status: u16,
    /// The `Content-Type` header as sent, if any.
    pub content_type: Option<String>,
    /// Response header names, lowercased and sorted.
    pub headers: Vec<String>,
}

impl Record {
    pub fn of<B>(method: &Method, path: &str, response: &Response<B>) -> Self {
        let mut headers: Vec<String> = response
            .headers()
            .keys()
            .map(|name| name.as_str().to_owned())
            .collect();
        headers.sort();
        headers.dedup();
        Self {
            method: method.as_str().to_owned(),
            path: path.to_owned(),
            status: response.status().as_u16(),
            content_type: response
                .headers()
                .get(header::CONTENT_TYPE)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()),
            headers,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("opening the traffic recording {path}")]
pub struct OpenError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// Appends [`Record`]s to a file. Clones share the file; the writer ends when the last
/// clone is dropped.
#[derive(Clone)]
pub struct Recorder {
    inner: Arc<Shared>,
}

struct Shared {
    /// `None` once dropping.
    queue: Option<SyncSender<Vec<u8>>>,
    writer: Option<std::thread::JoinHandle<()>>,
    path: PathBuf,
    dropped: AtomicU64,
}

impl Drop for Shared {
    /// Waits for the writer to write what is queued, so a server stopped in order leaves
    /// a whole recording (at most [`QUEUE`] short lines: a moment).
    fn drop(&mut self) {
        drop(self.queue.take());
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
        let dropped = self.dropped.load(Ordering::Relaxed);
        if dropped > 0 {
            tracing::warn!(path = %self.path.display(), dropped, "traffic recording incomplete: lines were dropped under load");
        }
    }
}

/// Files opened in a folder by this process (see [`Recorder::open`]).
static OPENED: AtomicUsize = AtomicUsize::new(0);

impl Recorder {
    /// Appends to `path`; when `path` is a folder, to a new file in it,
    /// `<pid>-<n>.jsonl`, so several servers (processes, or servers in one test process)
    /// can record into one folder.
    pub fn open(path: &Path) -> Result<Self, OpenError> {
        let path = if path.is_dir() {
            let n = OPENED.fetch_add(1, Ordering::Relaxed);
            path.join(format!("{}-{n}.jsonl", std::process::id()))
        } else {
            path.to_owned()
        };
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|source| OpenError {
                path: path.clone(),
                source,
            })?;
        let (queue, lines) = std::sync::mpsc::sync_channel(QUEUE);
        let writer_path = path.clone();
        let writer = std::thread::Builder::new()
            .name("traffic-recorder".to_owned())
            .spawn(move || write_lines(file, lines, &writer_path))
            .map_err(|source| OpenError {
                path: path.clone(),
                source,
            })?;
        Ok(Self {
            inner: Arc::new(Shared {
                queue: Some(queue),
                writer: Some(writer),
                path,
                dropped: AtomicU64::new(0),
            }),
        })
    }

    /// Where the lines go.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Lines dropped because the writer fell behind (or failed).
    pub fn dropped(&self) -> u64 {
        self.inner.dropped.load(Ordering::Relaxed)
    }

    /// Queues `record`'s line; never waits.
    pub fn record(&self, record: &Record) {
        let Ok(mut line) = serde_json::to_vec(record) else {
            return;
        };
        line.push(b'\n');
        let Some(queue) = &self.inner.queue else {
            return;
        };
        match queue.try_send(line) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                let before = self.inner.dropped.fetch_add(1, Ordering::Relaxed);
                if before == 0 {
                    tracing::warn!(path = %self.inner.path.display(), "traffic recorder behind; dropping lines");
                }
            }
        }
    }
}

/// The writer thread: writes what comes, flushing whenever the queue is empty, so a line
/// is on disk moments after its response.
fn write_lines(file: File, lines: Receiver<Vec<u8>>, path: &Path) {
    let mut out = BufWriter::new(file);
    while let Ok(line) = lines.recv() {
        let mut written = out.write_all(&line);
        while written.is_ok()
            && let Ok(line) = lines.try_recv()
        {
            written = out.write_all(&line);
        }
        if let Err(e) = written.and_then(|()| out.flush()) {
            // The senders count what they cannot queue from now on.
            tracing::warn!(path = %path.display(), error = %e, "cannot write the traffic recording; recording stops");
            return;
        }
    }
}

/// A hyper service whose answers are recorded (or not, without a recorder).
#[derive(Clone)]
pub struct Recorded<S> {
    inner: S,
    recorder: Option<Recorder>,
}

impl<S> Recorded<S> {
    pub fn new(inner: S, recorder: Option<Recorder>) -> Self {
        Self { inner, recorder }
    }
}

type BoxFuture<T> = Pin<Box<dyn std::future::Future<Output = T> + Send>>;

impl<S, B, RB> hyper::service::Service<Request<B>> for Recorded<S>
where
    S: hyper::service::Service<Request<B>, Response = Response<RB>>,
    S::Future: Send + 'static,
    S::Error: 'static,
    RB: 'static,
{
    type Response = Response<RB>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response<RB>, S::Error>>;

    fn call(&self, req: Request<B>) -> Self::Future {
        let Some(recorder) = self.recorder.clone() else {
            return Box::pin(self.inner.call(req));
        };
        let method = req.method().clone();
        let path = req.uri().path().to_owned();
        let answer = self.inner.call(req);
        Box::pin(async move {
            let response = answer.await?;
            recorder.record(&Record::of(&method, &path, &response));
            Ok(response)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderValue, StatusCode};

    #[test]
    fn a_record_names_the_headers_lowercased_and_sorted_and_keeps_no_query() {
        let mut response = Response::new(());
        *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
        let headers = response.headers_mut();
        headers.insert("X-Request-Id", HeaderValue::from_static("r"));
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        headers.append("RateLimit", HeaderValue::from_static("a"));
        headers.append("ratelimit", HeaderValue::from_static("b"));
        let record = Record::of(&Method::GET, "/v2/documents", &response);
        assert_eq!(
            record,
            Record {
                method: "GET".into(),
                path: "/v2/documents".into(),
                status: 429,
                content_type: Some("application/problem+json".into()),
                headers: vec![
                    "content-type".into(),
                    "ratelimit".into(),
                    "x-request-id".into()
                ],
            }
        );
    }

    #[tokio::test]
    async fn every_answer_is_a_line_in_a_new_file_of_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let service = Recorded::new(
            hyper::service::service_fn(|req: Request<axum::body::Body>| async move {
                let mut response = Response::new(axum::body::Body::empty());
                if req.uri().path() == "/missing" {
                    *response.status_mut() = StatusCode::NOT_FOUND;
                }
                Ok::<_, std::convert::Infallible>(response)
            }),
            Some(Recorder::open(dir.path()).unwrap()),
        );
        for uri in ["/v2/documents?page_token=secret", "/missing"] {
            let req = Request::builder()
                .uri(uri)
                .body(axum::body::Body::empty())
                .unwrap();
            hyper::service::Service::call(&service, req).await.unwrap();
        }
        // Dropping the last recorder waits for its lines to be written.
        drop(service);
        let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(files.len(), 1);
        let text = std::fs::read_to_string(files[0].path()).unwrap();
        let records: Vec<Record> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(
            records
                .iter()
                .map(|r| (r.path.as_str(), r.status))
                .collect::<Vec<_>>(),
            [("/v2/documents", 200), ("/missing", 404)]
        );
        assert!(!text.contains("secret"));
    }
}
