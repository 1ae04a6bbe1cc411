//! What the generated client runs around every request: retries with backoff, jitter and
//! `Retry-After`, and deprecation warnings. Implemented once here through progenitor's
//! `ClientHooks`, so every generated operation gets it.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use progenitor_client::{ClientHooks, OperationInfo};
use rand::Rng;
use reqwest::{Method, Request, Response, StatusCode};

use crate::error::retry_after;
use crate::generated::Client as RawClient;

/// How requests are retried, for every call of [`Client`](crate::Client) and of its
/// [`raw`](crate::Client::raw) client alike.
///
/// **What is retried.** Requests that are safe to send twice: `GET`, `HEAD`, `PUT`,
/// `DELETE` and `OPTIONS`, and any request carrying an `Idempotency-Key` — every upload
/// of [`Client`](crate::Client) sends one, so uploads are retried; a `POST` without a key
/// (e.g. a raw `upload_document()` without `.idempotency_key(…)`) is sent once, whatever
/// happens, transport errors included.
///
/// **When.** On a `429`, `502`, `503` or `504` answer, and when the request got no answer
/// (connection refused or reset, timeout). Any other answer is returned at once.
///
/// **How long to wait.** The server's `Retry-After` when it sends one (seconds or an
/// HTTP date); a `Retry-After` longer than [`max_retry_after`](Self::max_retry_after) is
/// not waited for and the error is returned at once, carrying it
/// ([`Error::retry_after`](crate::Error::retry_after)). Otherwise exponential backoff
/// with full jitter: a random wait between zero and
/// `initial_backoff × 2^(retry − 1)`, capped at [`max_backoff`](Self::max_backoff).
///
/// **Defaults:** 4 attempts in all, 100 ms initial backoff, 5 s longest backoff, 60 s
/// longest `Retry-After`. Once the attempts are spent, the last answer is returned:
/// [`Error::RateLimited`](crate::Error::RateLimited) for 429 and
/// [`Error::Unavailable`](crate::Error::Unavailable) for 503, with its `Retry-After`.
///
/// ```
/// use std::time::Duration;
/// let policy = docintel_sdk::RetryPolicy { max_attempts: 5, ..Default::default() };
/// assert_eq!(policy.initial_backoff, Duration::from_millis(100));
/// let client = docintel_sdk::Client::builder("http://127.0.0.1:8080")
///     .retry_policy(docintel_sdk::RetryPolicy {
///         max_retry_after: Duration::from_secs(5), // fail fast rather than wait long
///         ..policy
///     })
///     .build()
///     .unwrap();
/// # let _ = client;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included; 1 disables retries (default 4).
    pub max_attempts: u32,
    /// Backoff before the first retry; doubled for each further one, with full jitter
    /// (default 100 ms).
    pub initial_backoff: Duration,
    /// Longest backoff between two attempts (default 5 s).
    pub max_backoff: Duration,
    /// A `Retry-After` longer than this is not waited for: the error is returned
    /// (default 60 s).
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

/// A deprecation announced by the server for an operation this client called.
///
/// ```
/// # let client = docintel_sdk::Client::builder("http://127.0.0.1:8080").api_key("k").build().unwrap();
/// for notice in client.deprecation_notices() {
///     eprintln!("{} is deprecated; {:?} days left", notice.operation, notice.days_left());
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeprecationNotice {
    /// The operation id, e.g. `get_document`.
    pub operation: String,
    /// From the `Deprecation` header (RFC 9745).
    pub deprecated_since: Option<DateTime<Utc>>,
    /// From the `Sunset` header (RFC 8594): when the operation stops working.
    pub sunset: Option<DateTime<Utc>>,
    /// The `Link` header, naming the calendar and the successor.
    pub link: Option<String>,
}

impl DeprecationNotice {
    /// Whole days until the sunset (negative once past it).
    pub fn days_left(&self) -> Option<i64> {
        self.sunset.map(|s| (s - Utc::now()).num_days())
    }
}

/// State the generated client carries for the hooks (shared by its clones).
#[derive(Debug, Default, Clone)]
pub struct Inner(pub(crate) std::sync::Arc<HookState>);

#[derive(Debug, Default)]
pub struct HookState {
    pub(crate) retry: RetryPolicy,
    pub(crate) deprecations: Mutex<BTreeMap<String, DeprecationNotice>>,
}

fn retry_safe(req: &Request) -> bool {
    matches!(
        *req.method(),
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
    ) || req.headers().contains_key("idempotency-key")
}

fn retryable_status(s: StatusCode) -> bool {
    matches!(s.as_u16(), 429 | 502 | 503 | 504)
}

/// Makes the body of the request being sent again, for a body that cannot be cloned
/// (a file streamed from disk: a stream is spent once sent).
pub(crate) type Replay = std::sync::Arc<dyn Fn() -> reqwest::Body + Send + Sync>;

tokio::task_local! {
    /// Set around a call whose body is a stream, so that a retry can send it again:
    /// task-local because the generated builders take only the body itself.
    pub(crate) static REPLAY_BODY: Replay;
}

/// A copy of `req` to send again, if its body can be: cloned, or made anew.
fn again(req: &Request) -> Option<Request> {
    req.try_clone().or_else(|| {
        let body = REPLAY_BODY.try_with(|make| make()).ok()?;
        let mut copy = Request::new(req.method().clone(), req.url().clone());
        *copy.headers_mut() = req.headers().clone();
        *copy.timeout_mut() = req.timeout().copied();
        *copy.version_mut() = req.version();
        *copy.body_mut() = Some(body);
        Some(copy)
    })
}

impl RetryPolicy {
    /// Full-jitter exponential backoff before retry number `retry` (1-based).
    pub fn backoff(&self, retry: u32) -> Duration {
        let exp = self
            .initial_backoff
            .saturating_mul(1u32 << retry.saturating_sub(1).min(16));
        let cap = exp.min(self.max_backoff);
        let millis = u64::try_from(cap.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rand::rng().random_range(0..=millis))
    }
}

fn parse_deprecation(v: &str) -> Option<DateTime<Utc>> {
    let secs: i64 = v.trim().strip_prefix('@')?.parse().ok()?;
    DateTime::from_timestamp(secs, 0)
}

/// The most of a non-problem error body kept in the problem made from it.
const FOREIGN_BODY_LIMIT: usize = 64 * 1024;

/// An error answer whose body is not a problem document (a proxy's page, a gateway's
/// 429) as one made from its status, so that it reaches the caller as
/// [`Error::Api`](crate::Error::Api) with its status instead of failing to parse.
async fn as_problem(resp: Response) -> reqwest::Result<Response> {
    let status = resp.status();
    let json = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.contains("json"));
    if !(status.is_client_error() || status.is_server_error()) || json {
        return Ok(resp);
    }
    let mut headers = resp.headers().clone();
    let request_id = crate::error::request_id(&headers);
    let body = resp.bytes().await?;
    let body = &body[..body.len().min(FOREIGN_BODY_LIMIT)];
    let problem = crate::error::problem_from(status.as_u16(), &request_id, body);
    headers.insert(
        reqwest::header::CONTENT_TYPE,
        reqwest::header::HeaderValue::from_static("application/problem+json"),
    );
    headers.remove(reqwest::header::CONTENT_LENGTH);
    let mut rebuilt = http::Response::new(serde_json::to_vec(&problem).unwrap_or_default());
    *rebuilt.status_mut() = status;
    *rebuilt.headers_mut() = headers;
    Ok(Response::from(rebuilt))
}

impl RawClient {
    /// Sends `request`, retrying what is safe to retry as the policy says.
    async fn exec_with_retries(&self, request: Request) -> reqwest::Result<Response> {
        let inner = progenitor_client::ClientInfo::inner(self);
        let policy = &inner.0.retry;
        let safe = retry_safe(&request);
        let mut attempt = 1;
        let mut current = request;
        loop {
            let next = if safe && attempt < policy.max_attempts {
                again(&current)
            } else {
                None
            };
            let result = progenitor_client::ClientInfo::client(self)
                .execute(current)
                .await;
            let Some(next) = next else {
                return result;
            };
            let wait = match &result {
                Ok(resp) if retryable_status(resp.status()) => match retry_after(resp.headers()) {
                    Some(d) if d > policy.max_retry_after => return result,
                    Some(d) => d,
                    None => policy.backoff(attempt),
                },
                Ok(_) => return result,
                Err(e) if e.is_connect() || e.is_timeout() || e.is_request() => {
                    policy.backoff(attempt)
                }
                Err(_) => return result,
            };
            tracing::debug!(attempt, ?wait, "retrying a docintel request");
            tokio::time::sleep(wait).await;
            attempt += 1;
            current = next;
        }
    }
}

impl ClientHooks<Inner> for RawClient {
    async fn exec(&self, request: Request, _info: &OperationInfo) -> reqwest::Result<Response> {
        as_problem(self.exec_with_retries(request).await?).await
    }

    async fn post<E>(
        &self,
        result: &reqwest::Result<Response>,
        info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        let Ok(resp) = result else { return Ok(()) };
        let headers = resp.headers();
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        if header("deprecation").is_none() && header("sunset").is_none() {
            return Ok(());
        }
        let notice = DeprecationNotice {
            operation: info.operation_id.to_owned(),
            deprecated_since: header("deprecation").and_then(parse_deprecation),
            sunset: header("sunset")
                .and_then(|s| DateTime::parse_from_rfc2822(s).ok())
                .map(|d| d.with_timezone(&Utc)),
            link: header("link").map(str::to_owned),
        };
        let inner = progenitor_client::ClientInfo::inner(self);
        if let Ok(mut seen) = inner.0.deprecations.lock() {
            if !seen.contains_key(info.operation_id) {
                tracing::warn!(
                    operation = info.operation_id,
                    sunset = ?notice.sunset,
                    days_left = ?notice.days_left(),
                    "docintel API operation is deprecated; migrate before its sunset"
                );
            }
            seen.insert(info.operation_id.to_owned(), notice);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(300),
            ..Default::default()
        };
        for _ in 0..100 {
            assert!(p.backoff(1) <= Duration::from_millis(100));
            assert!(p.backoff(2) <= Duration::from_millis(200));
            assert!(p.backoff(10) <= Duration::from_millis(300));
        }
        // Jitter: not always the same.
        let samples: std::collections::HashSet<_> = (0..50).map(|_| p.backoff(3)).collect();
        assert!(samples.len() > 1);
    }

    fn request(method: Method, key: Option<&str>) -> Request {
        let mut r = Request::new(method, "http://127.0.0.1:9/v2/documents".parse().unwrap());
        if let Some(k) = key {
            r.headers_mut()
                .insert("idempotency-key", k.parse().unwrap());
        }
        r
    }

    #[test]
    fn only_requests_safe_to_repeat_are_retried() {
        assert!(retry_safe(&request(Method::GET, None)));
        assert!(retry_safe(&request(Method::DELETE, None)));
        assert!(retry_safe(&request(Method::POST, Some("k1"))));
        assert!(!retry_safe(&request(Method::POST, None)));
        assert!(!retry_safe(&request(Method::PATCH, None)));
        for s in [429, 502, 503, 504] {
            assert!(retryable_status(StatusCode::from_u16(s).unwrap()), "{s}");
        }
        for s in [400, 401, 404, 408, 413, 500] {
            assert!(!retryable_status(StatusCode::from_u16(s).unwrap()), "{s}");
        }
    }

    #[tokio::test]
    async fn a_stream_body_is_sent_again_only_when_it_can_be_made_anew() {
        let stream = || {
            let chunks =
                futures::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from("abc"))]);
            reqwest::Body::wrap_stream(chunks)
        };
        let mut r = request(Method::POST, Some("k1"));
        *r.body_mut() = Some(stream());
        assert!(again(&r).is_none(), "a stream cannot be cloned");
        let make: Replay = std::sync::Arc::new(|| reqwest::Body::from("abc"));
        let copy = REPLAY_BODY.scope(make, async { again(&r) }).await.unwrap();
        assert_eq!(copy.headers()["idempotency-key"], "k1");
        assert_eq!(copy.body().and_then(|b| b.as_bytes()), Some(&b"abc"[..]));
    }

    #[test]
    fn deprecation_dates_parse() {
        let d = parse_deprecation("@1780272000").unwrap();
        assert_eq!(d.to_rfc3339(), "2026-06-01T00:00:00+00:00");
        assert!(parse_deprecation("2026-06-01").is_none());
    }
}
