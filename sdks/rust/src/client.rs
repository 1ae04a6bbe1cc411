//! The hand-written client: a builder, and the calls external developers use most.

use std::time::{Duration, Instant};

use futures::stream::{self, BoxStream};
use futures::{StreamExt, TryStreamExt};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};

use crate::error::{Error, Result, answer};
use crate::generated::Client as RawClient;
use crate::hooks::{DeprecationNotice, HookState, Inner, REPLAY_BODY, Replay, RetryPolicy};
use crate::types::{DocumentPage, DocumentStatus, DocumentView};

/// The largest upload the server takes by default (its `DOCINTEL_MAX_UPLOAD_BYTES`,
/// 50 MiB); larger ones are answered 413 `payload_too_large`, so the client refuses them
/// before sending. [`ClientBuilder::max_upload_bytes`] matches a server configured
/// otherwise.
///
/// ```
/// assert_eq!(docintel_sdk::MAX_UPLOAD_BYTES, 50 * 1024 * 1024);
/// ```
pub const MAX_UPLOAD_BYTES: u64 = 50 * 1024 * 1024;

/// The `User-Agent` every request carries.
///
/// ```
/// assert!(docintel_sdk::USER_AGENT.starts_with("docintel-sdk/"));
/// ```
pub const USER_AGENT: &str = concat!("docintel-sdk/", env!("CARGO_PKG_VERSION"));

/// A docintel API client. Clones share one connection pool and retry state.
///
/// ```no_run
/// # async fn run() -> Result<(), docintel_sdk::Error> {
/// use std::time::Duration;
/// let client = docintel_sdk::Client::builder("http://127.0.0.1:8080")
///     .api_key(std::env::var("DOCINTEL_API_KEY").unwrap_or_default())
///     .build()?;
/// let doc = client
///     .upload_and_wait(std::fs::read("invoice.pdf").unwrap(), "invoice.pdf", Duration::from_secs(30))
///     .await?;
/// println!("{} pages", doc.metadata.page_count.unwrap_or(0));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    raw: RawClient,
    max_upload_bytes: u64,
}

/// Shows the base URL, never the API key.
///
/// ```
/// let client = docintel_sdk::Client::builder("http://127.0.0.1:8080").api_key("dik_secret").build().unwrap();
/// let shown = format!("{client:?}");
/// assert!(shown.contains("127.0.0.1:8080") && !shown.contains("dik_secret"));
/// ```
impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use progenitor_client::ClientInfo;
        f.debug_struct("Client")
            .field("base_url", &self.raw.baseurl())
            .finish_non_exhaustive()
    }
}

/// Configures a [`Client`].
///
/// ```
/// use std::time::Duration;
/// let client = docintel_sdk::Client::builder("http://127.0.0.1:8080")
///     .api_key("dik_…")
///     .timeout(Duration::from_secs(10))
///     .max_attempts(5)
///     .build()
///     .unwrap();
/// # let _ = client;
/// ```
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    base_url: String,
    api_key: Option<String>,
    timeout: Duration,
    connect_timeout: Duration,
    user_agent: String,
    retry: RetryPolicy,
    max_upload_bytes: u64,
}

impl ClientBuilder {
    /// The API key sent as `Authorization: Bearer <key>`.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Limit for each attempt of a request, from connect to the last byte (default 30 s).
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }

    /// Limit for establishing a connection (default 5 s).
    pub fn connect_timeout(mut self, t: Duration) -> Self {
        self.connect_timeout = t;
        self
    }

    /// Appended to the `docintel-sdk/<version>` user agent, e.g. your app's name.
    pub fn user_agent_suffix(mut self, suffix: &str) -> Self {
        self.user_agent = format!("{USER_AGENT} {suffix}");
        self
    }

    /// Attempts per request, the first included (default 4; 1 disables retries). What
    /// is retried, when and after how long: see [`RetryPolicy`].
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.retry.max_attempts = n.max(1);
        self
    }

    /// The largest upload sent (default [`MAX_UPLOAD_BYTES`], the server's default
    /// limit): a larger one fails with [`Error::Invalid`] `payload_too_large` before a
    /// byte is sent. Set it to your server's `DOCINTEL_MAX_UPLOAD_BYTES` if that differs.
    pub fn max_upload_bytes(mut self, n: u64) -> Self {
        self.max_upload_bytes = n;
        self
    }

    /// The whole retry policy (defaults and what is retried: see [`RetryPolicy`]):
    /// uploads are retried like every other call, because each carries an
    /// `Idempotency-Key`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let client = docintel_sdk::Client::builder("http://127.0.0.1:8080")
    ///     .retry_policy(docintel_sdk::RetryPolicy {
    ///         max_attempts: 6,
    ///         max_backoff: Duration::from_secs(2),
    ///         ..Default::default()
    ///     })
    ///     .build()
    ///     .unwrap();
    /// # let _ = client;
    /// ```
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Checks the settings and makes the client. A base URL that is not an absolute
    /// `http` or `https` URL is refused here, not at the first call.
    ///
    /// ```
    /// let err = docintel_sdk::Client::builder("127.0.0.1:8080").build().unwrap_err();
    /// assert!(err.to_string().contains("http://"), "{err}");
    /// ```
    pub fn build(self) -> Result<Client> {
        let invalid = |detail: String| Error::Invalid {
            code: "invalid_base_url".into(),
            detail,
        };
        let url = reqwest::Url::parse(&self.base_url).map_err(|e| {
            invalid(format!(
                "base URL {:?}: {e} (expected e.g. http://127.0.0.1:8080)",
                self.base_url
            ))
        })?;
        if !matches!(url.scheme(), "http" | "https") || !url.has_host() {
            return Err(invalid(format!(
                "base URL {:?} must start with http:// or https:// and name a host",
                self.base_url
            )));
        }
        let mut headers = HeaderMap::new();
        if let Some(key) = &self.api_key {
            let mut v = HeaderValue::from_str(&format!("Bearer {key}")).map_err(|_| {
                Error::InvalidRequest("the API key is not a valid header value".into())
            })?;
            v.set_sensitive(true);
            headers.insert(AUTHORIZATION, v);
        }
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(self.user_agent)
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .build()
            .map_err(Error::Transport)?;
        let inner = Inner(std::sync::Arc::new(HookState {
            retry: self.retry,
            ..HookState::default()
        }));
        Ok(Client {
            raw: RawClient::new_with_client(self.base_url.trim_end_matches('/'), http, inner),
            max_upload_bytes: self.max_upload_bytes,
        })
    }
}

/// What an upload answered: the document, and whether the server replayed the answer to
/// an earlier upload with the same idempotency key (`Idempotent-Replayed: true`) instead
/// of storing a new one. Reads as the document itself (`uploaded.id`).
///
/// ```no_run
/// # async fn run(client: docintel_sdk::Client) -> Result<(), docintel_sdk::Error> {
/// let uploaded = client.upload_with_key(b"hello".to_vec(), "hello.txt", "import-0001").await?;
/// println!("{} {}", uploaded.id, if uploaded.replayed { "(uploaded before)" } else { "" });
/// let doc: docintel_sdk::types::DocumentView = uploaded.document;
/// # let _ = doc;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Uploaded {
    /// The document as stored (`queued`, or further along for a replayed answer's
    /// document when read again).
    pub document: DocumentView,
    /// `true` when this is the answer to an earlier upload with the same key.
    pub replayed: bool,
}

impl std::ops::Deref for Uploaded {
    type Target = DocumentView;

    fn deref(&self) -> &DocumentView {
        &self.document
    }
}

/// Filters for [`Client::list_documents`]. All optional.
///
/// ```
/// let failed_today = docintel_sdk::ListFilter {
///     status: Some(docintel_sdk::types::DocumentStatus::Failed),
///     created_after: Some(docintel_sdk::chrono::Utc::now() - docintel_sdk::chrono::Duration::days(1)),
///     ..Default::default()
/// };
/// assert!(failed_today.created_before.is_none());
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListFilter {
    /// Only documents in this state.
    pub status: Option<DocumentStatus>,
    /// Only documents created at or after this time.
    pub created_after: Option<chrono::DateTime<chrono::Utc>>,
    /// Only documents created before this time.
    pub created_before: Option<chrono::DateTime<chrono::Utc>>,
    /// Page size used under the hood (1–100; default 100).
    pub page_size: Option<u32>,
}

impl Client {
    /// Starts configuring a client for the API at `base_url`, e.g. `http://127.0.0.1:8080`.
    pub fn builder(base_url: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            base_url: base_url.into(),
            api_key: None,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            user_agent: USER_AGENT.to_owned(),
            retry: RetryPolicy::default(),
            max_upload_bytes: MAX_UPLOAD_BYTES,
        }
    }

    /// The API version this SDK was generated for (`info.version` of the OpenAPI
    /// document), sent with every request as the `api-version` header.
    ///
    /// ```
    /// assert!(docintel_sdk::Client::api_version().starts_with("2."));
    /// ```
    pub fn api_version() -> &'static str {
        <RawClient as progenitor_client::ClientInfo<Inner>>::api_version()
    }

    /// The generated client, for every operation with its full builder.
    ///
    /// ```no_run
    /// # async fn run(client: docintel_sdk::Client) -> Result<(), docintel_sdk::Error> {
    /// let page = client.raw().list_documents().limit(std::num::NonZeroU32::new(5).unwrap()).send().await;
    /// println!("{:?}", page.map(|p| p.into_inner().items.len()));
    /// # Ok(()) }
    /// ```
    pub fn raw(&self) -> &RawClient {
        &self.raw
    }

    /// Uploads a document; it is processed in the background. Retried like every call
    /// ([`RetryPolicy`]) and safe to retry: each call sends its own `Idempotency-Key`,
    /// so a retried upload never creates two. Larger than the server's limit
    /// ([`ClientBuilder::max_upload_bytes`]), it fails before sending with
    /// [`Error::Invalid`] `payload_too_large`.
    ///
    /// ```no_run
    /// # async fn run(client: docintel_sdk::Client) -> Result<(), docintel_sdk::Error> {
    /// let doc = client.upload(std::fs::read("scan.png").unwrap(), "scan.png").await?;
    /// assert_eq!(doc.status, docintel_sdk::types::DocumentStatus::Queued);
    /// # Ok(()) }
    /// ```
    pub async fn upload(&self, bytes: impl Into<Vec<u8>>, filename: &str) -> Result<Uploaded> {
        self.upload_with_key(bytes, filename, &new_key()).await
    }

    /// Like [`Self::upload`] with your own idempotency key (e.g. to make an upload safe
    /// to repeat across restarts of your program: the repeat answers the first
    /// document, with [`Uploaded::replayed`] set).
    ///
    /// ```no_run
    /// # async fn run(client: docintel_sdk::Client) -> Result<(), docintel_sdk::Error> {
    /// let doc = client.upload_with_key(b"hello".to_vec(), "hello.txt", "import-2026-11-21-0001").await?;
    /// println!("{} replayed: {}", doc.id, doc.replayed);
    /// # Ok(()) }
    /// ```
    pub async fn upload_with_key(
        &self,
        bytes: impl Into<Vec<u8>>,
        filename: &str,
        idempotency_key: &str,
    ) -> Result<Uploaded> {
        let bytes: Vec<u8> = bytes.into();
        let len = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        self.send_upload(
            reqwest::Body::from(bytes),
            len,
            filename,
            idempotency_key,
            None,
        )
        .await
    }

    /// Uploads the file at `path`, named by its file name, streamed from disk (never
    /// read whole into memory). Retried like [`Self::upload`], with a generated
    /// `Idempotency-Key`: each attempt reads the file again from its start.
    ///
    /// ```no_run
    /// # async fn run(client: docintel_sdk::Client) -> Result<(), docintel_sdk::Error> {
    /// let doc = client.upload_file("scans/invoice-42.pdf").await?;
    /// println!("{} is {}", doc.filename, doc.status);
    /// # Ok(()) }
    /// ```
    pub async fn upload_file(&self, path: impl AsRef<std::path::Path>) -> Result<Uploaded> {
        self.upload_file_with_key(path, &new_key()).await
    }

    /// Like [`Self::upload_file`] with your own idempotency key.
    ///
    /// ```no_run
    /// # async fn run(client: docintel_sdk::Client) -> Result<(), docintel_sdk::Error> {
    /// let doc = client.upload_file_with_key("scans/invoice-42.pdf", "invoice-42").await?;
    /// println!("{} replayed: {}", doc.id, doc.replayed);
    /// # Ok(()) }
    /// ```
    pub async fn upload_file_with_key(
        &self,
        path: impl AsRef<std::path::Path>,
        idempotency_key: &str,
    ) -> Result<Uploaded> {
        let path = path.as_ref();
        let filename = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| Error::Invalid {
                code: "invalid_filename".into(),
                detail: format!("{} has no UTF-8 file name", path.display()),
            })?
            .to_owned();
        let meta = tokio::fs::metadata(path)
            .await
            .map_err(|e| Error::InvalidRequest(format!("{}: {e}", path.display())))?;
        if !meta.is_file() {
            return Err(Error::InvalidRequest(format!(
                "{} is not a file",
                path.display()
            )));
        }
        let path: std::sync::Arc<std::path::Path> = path.into();
        let replay: Replay = std::sync::Arc::new(move || file_body(path.clone()));
        self.send_upload(
            replay(),
            meta.len(),
            &filename,
            idempotency_key,
            Some(replay),
        )
        .await
    }

    /// Sends an upload of `len` bytes; `replay` makes the body anew for a retry when it
    /// is a stream.
    async fn send_upload(
        &self,
        body: reqwest::Body,
        len: u64,
        filename: &str,
        idempotency_key: &str,
        replay: Option<Replay>,
    ) -> Result<Uploaded> {
        // Refused here with the server's code, rather than as progenitor's
        // "conversion to UploadDocumentFilename failed".
        let name = crate::types::UploadDocumentFilename::try_from(filename).map_err(|e| {
            Error::Invalid {
                code: "invalid_filename".into(),
                detail: format!("filename {filename:?}: {e}"),
            }
        })?;
        // Refused here rather than after sending it all for a 413.
        if len > self.max_upload_bytes {
            return Err(Error::Invalid {
                code: "payload_too_large".into(),
                detail: format!(
                    "{filename} is {len} bytes; the server takes at most {} bytes",
                    self.max_upload_bytes
                ),
            });
        }
        let call = self
            .raw
            .upload_document()
            .filename(name)
            .idempotency_key(idempotency_key)
            .body(body)
            .send();
        let answer = match replay {
            Some(replay) => REPLAY_BODY.scope(replay, call).await,
            None => call.await,
        };
        match answer {
            Ok(rv) => {
                let replayed = rv
                    .headers()
                    .get("idempotent-replayed")
                    .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"));
                Ok(Uploaded {
                    document: rv.into_inner(),
                    replayed,
                })
            }
            Err(e) => Err(Error::from_raw(e).await),
        }
    }

    /// Uploads a document and waits until it is processed. Fails with
    /// [`Error::ProcessingFailed`] when processing fails, and [`Error::Timeout`] when it
    /// is not done within `timeout`.
    pub async fn upload_and_wait(
        &self,
        bytes: impl Into<Vec<u8>>,
        filename: &str,
        timeout: Duration,
    ) -> Result<DocumentView> {
        let doc = self.upload(bytes, filename).await?;
        self.wait(doc.id, timeout).await
    }

    /// Polls a document until it is processed or failed.
    ///
    /// ```no_run
    /// # async fn run(client: docintel_sdk::Client) -> Result<(), docintel_sdk::Error> {
    /// let doc = client.upload(b"hello".to_vec(), "hello.txt").await?;
    /// let done = client.wait(doc.id, std::time::Duration::from_secs(30)).await?;
    /// println!("{}", done.status);
    /// # Ok(()) }
    /// ```
    pub async fn wait(&self, id: uuid::Uuid, timeout: Duration) -> Result<DocumentView> {
        let start = Instant::now();
        let mut delay = Duration::from_millis(25);
        loop {
            let doc = self.document(id).await?;
            match doc.status {
                DocumentStatus::Processed => return Ok(doc),
                DocumentStatus::Failed => {
                    let reason = doc.failure.clone().unwrap_or_default();
                    return Err(Error::ProcessingFailed {
                        document: Box::new(doc),
                        reason,
                    });
                }
                DocumentStatus::Queued | DocumentStatus::Processing => {}
            }
            let waited = start.elapsed();
            if waited >= timeout {
                return Err(Error::Timeout {
                    id,
                    status: doc.status,
                    waited,
                });
            }
            tokio::time::sleep(delay.min(timeout - waited)).await;
            delay = (delay * 2).min(Duration::from_secs(1));
        }
    }

    /// One document.
    ///
    /// ```no_run
    /// # async fn run(client: docintel_sdk::Client) -> Result<(), docintel_sdk::Error> {
    /// let id: docintel_sdk::uuid::Uuid = "0192f0c4-5d7e-7c1a-9f57-1d6f0e6a8b11".parse().unwrap();
    /// let doc = client.document(id).await?;
    /// println!("{} {:?}", doc.filename, doc.classification.map(|c| c.label));
    /// # Ok(()) }
    /// ```
    pub async fn document(&self, id: uuid::Uuid) -> Result<DocumentView> {
        answer(self.raw.get_document().id(id).send()).await
    }

    /// A processed document's extracted text.
    ///
    /// ```no_run
    /// # async fn run(client: docintel_sdk::Client) -> Result<(), docintel_sdk::Error> {
    /// let id: docintel_sdk::uuid::Uuid = "0192f0c4-5d7e-7c1a-9f57-1d6f0e6a8b11".parse().unwrap();
    /// println!("{}", client.text(id).await?);
    /// # Ok(()) }
    /// ```
    pub async fn text(&self, id: uuid::Uuid) -> Result<String> {
        let body = answer(self.raw.get_document_text().id(id).send()).await?;
        String::from_utf8(body_bytes(body).await?.to_vec())
            .map_err(|e| Error::UnexpectedResponse(e.to_string()))
    }

    /// A processed document's thumbnail: PNG bytes, at most 256 pixels on a side (PDFs
    /// and images only; a text document answers 404 `not_found`).
    ///
    /// ```no_run
    /// # async fn run(client: docintel_sdk::Client) -> Result<(), docintel_sdk::Error> {
    /// let id: docintel_sdk::uuid::Uuid = "0192f0c4-5d7e-7c1a-9f57-1d6f0e6a8b11".parse().unwrap();
    /// let png: docintel_sdk::bytes::Bytes = client.thumbnail(id).await?;
    /// std::fs::write("thumb.png", &png).unwrap();
    /// # Ok(()) }
    /// ```
    pub async fn thumbnail(&self, id: uuid::Uuid) -> Result<bytes::Bytes> {
        body_bytes(answer(self.raw.get_document_thumbnail().id(id).send()).await?).await
    }

    /// Deletes a document and its stored bytes.
    ///
    /// ```no_run
    /// # async fn run(client: docintel_sdk::Client) -> Result<(), docintel_sdk::Error> {
    /// let id: docintel_sdk::uuid::Uuid = "0192f0c4-5d7e-7c1a-9f57-1d6f0e6a8b11".parse().unwrap();
    /// client.delete(id).await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete(&self, id: uuid::Uuid) -> Result<()> {
        answer(self.raw.delete_document().id(id).send()).await
    }

    /// One page of the documents matching `filter`, newest first: pass `None` for the
    /// first page, then each page's `next_page` until it is `None`. For a listing you
    /// resume later (the token stays valid), or show a page at a time. A `page_size`
    /// outside 1–100 fails with [`Error::Invalid`] `invalid_parameter` before sending.
    ///
    /// ```no_run
    /// # async fn run(client: docintel_sdk::Client) -> Result<(), docintel_sdk::Error> {
    /// let filter = docintel_sdk::ListFilter { page_size: Some(20), ..Default::default() };
    /// let mut token = None;
    /// loop {
    ///     let page = client.list_documents_page(&filter, token.as_deref()).await?;
    ///     println!("{} documents", page.items.len());
    ///     token = page.next_page;
    ///     if token.is_none() {
    ///         break;
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn list_documents_page(
        &self,
        filter: &ListFilter,
        page_token: Option<&str>,
    ) -> Result<DocumentPage> {
        let size = filter.page_size.unwrap_or(100);
        let Some(limit) = std::num::NonZeroU32::new(size).filter(|n| n.get() <= 100) else {
            return Err(Error::Invalid {
                code: "invalid_parameter".into(),
                detail: format!("page_size {size}: must be between 1 and 100"),
            });
        };
        let mut req = self.raw.list_documents().limit(limit);
        if let Some(s) = filter.status {
            req = req.status(s);
        }
        if let Some(t) = filter.created_after {
            req = req.created_after(t);
        }
        if let Some(t) = filter.created_before {
            req = req.created_before(t);
        }
        if let Some(token) = page_token {
            req = req.page_token(token);
        }
        answer(req.send()).await
    }

    /// The pages of documents matching `filter`, fetched as the stream is read (each
    /// with its `items` and the `next_page` token).
    ///
    /// ```no_run
    /// # async fn run(client: docintel_sdk::Client) -> Result<(), docintel_sdk::Error> {
    /// use docintel_sdk::TryStreamExt;
    /// let mut pages = client.document_pages(Default::default());
    /// while let Some(page) = pages.try_next().await? {
    ///     println!("a page of {}", page.items.len());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn document_pages(&self, filter: ListFilter) -> BoxStream<'_, Result<DocumentPage>> {
        pages(
            move |token| {
                let filter = filter.clone();
                async move { self.list_documents_page(&filter, token.as_deref()).await }
            },
            |page| page.next_page.clone(),
        )
    }

    /// Every document matching `filter`, newest first, fetching pages as the stream is
    /// read. The stream is `Unpin`: loop over it with `try_next`, or collect it. A
    /// `page_size` outside 1–100 makes its first item an error.
    ///
    /// ```no_run
    /// # async fn run(client: docintel_sdk::Client) -> Result<(), docintel_sdk::Error> {
    /// use docintel_sdk::TryStreamExt;
    /// let filter = docintel_sdk::ListFilter {
    ///     status: Some(docintel_sdk::types::DocumentStatus::Processed),
    ///     ..Default::default()
    /// };
    /// let mut docs = client.list_documents(filter);
    /// while let Some(doc) = docs.try_next().await? {
    ///     println!("{} {}", doc.id, doc.filename);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn list_documents(&self, filter: ListFilter) -> BoxStream<'_, Result<DocumentView>> {
        self.document_pages(filter)
            .map_ok(|page| stream::iter(page.items.into_iter().map(Ok)))
            .try_flatten()
            .boxed()
    }

    /// Deprecations the server announced for operations this client called (each also
    /// logged once with `tracing::warn!`).
    pub fn deprecation_notices(&self) -> Vec<DeprecationNotice> {
        let inner = progenitor_client::ClientInfo::inner(&self.raw);
        inner
            .0
            .deprecations
            .lock()
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }
}

fn new_key() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The file at `path` as a body, opened when first read: made once per attempt.
fn file_body(path: std::sync::Arc<std::path::Path>) -> reqwest::Body {
    let chunks = stream::try_unfold(None, move |file: Option<tokio::fs::File>| {
        let path = path.clone();
        async move {
            use tokio::io::AsyncReadExt;
            let mut file = match file {
                Some(file) => file,
                None => tokio::fs::File::open(&*path).await?,
            };
            let mut buf = vec![0u8; 64 * 1024];
            let n = file.read(&mut buf).await?;
            if n == 0 {
                return Ok::<_, std::io::Error>(None);
            }
            buf.truncate(n);
            Ok(Some((bytes::Bytes::from(buf), Some(file))))
        }
    });
    reqwest::Body::wrap_stream(chunks)
}

/// The pages of a list, fetched as the stream is read: `fetch` gets the token of the
/// page to fetch (`None` for the first), `next` reads the one of the page after it.
pub(crate) fn pages<'a, P, F, Fut>(
    fetch: F,
    next: fn(&P) -> Option<String>,
) -> BoxStream<'a, Result<P>>
where
    P: Send + 'a,
    F: Fn(Option<String>) -> Fut + Send + 'a,
    Fut: std::future::Future<Output = Result<P>> + Send + 'a,
{
    // The state is the token of the page to fetch; `None` once the last was.
    stream::try_unfold(Some(None::<String>), move |token| {
        let page = token.map(&fetch);
        async move {
            let Some(page) = page else { return Ok(None) };
            let page = page.await?;
            let after = next(&page).map(Some);
            Ok(Some((page, after)))
        }
    })
    .boxed()
}

/// A whole streamed response body.
pub(crate) async fn body_bytes(stream: progenitor_client::ByteStream) -> Result<bytes::Bytes> {
    let parts: Vec<bytes::Bytes> = stream
        .into_inner()
        .try_collect()
        .await
        .map_err(Error::Transport)?;
    Ok(parts.concat().into())
}
