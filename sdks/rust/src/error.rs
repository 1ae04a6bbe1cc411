//! The SDK's one error type. API errors expose the server's RFC 9457 problem document.

use std::time::Duration;

use serde::Deserialize;

use crate::types::DocumentView;

/// An RFC 9457 problem document returned by the API: the generated
/// [`types::Problem`](crate::types::Problem), one type whether a call went through
/// [`Client`](crate::Client) or [`Client::raw`](crate::Client::raw).
///
/// ```
/// # fn show(e: docintel_sdk::Error) {
/// if let docintel_sdk::Error::Api(p) = &e {
///     eprintln!("{} {} ({}), request {}", p.status, p.title, p.code, p.request_id);
/// }
/// # }
/// ```
pub type ApiProblem = crate::types::Problem;

/// What is read from an error body that did not come as the API describes (a proxy's
/// page, an older server): every field optional.
#[derive(Deserialize)]
struct LenientProblem {
    status: Option<u16>,
    title: Option<String>,
    detail: Option<String>,
    #[serde(default)]
    code: String,
    #[serde(default)]
    request_id: String,
    #[serde(default)]
    instance: String,
    #[serde(rename = "type", default)]
    type_: String,
    /// With `quota_exceeded`: the tenant's usage and quotas.
    #[serde(default)]
    usage: Option<crate::types::UsageView>,
}

/// Everything an SDK call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The API answered with an error status (other than 429 and 503, below).
    #[error("docintel API error {}: {} ({})", .0.status, .0.detail, .0.code)]
    Api(Box<ApiProblem>),
    /// 429: the key (or client address) spent its request budget, and still did once
    /// the retries were spent. `retry_after` is the server's `Retry-After`: how long
    /// to wait before the next request.
    ///
    /// ```no_run
    /// # async fn run(client: docintel_sdk::Client) {
    /// match client.document(docintel_sdk::uuid::Uuid::nil()).await {
    ///     Err(docintel_sdk::Error::RateLimited { retry_after, .. }) => {
    ///         tokio::time::sleep(retry_after.unwrap_or(std::time::Duration::from_secs(1))).await;
    ///     }
    ///     other => println!("{other:?}"),
    /// }
    /// # }
    /// ```
    #[error("docintel API error 429: {} ({}){}", .problem.detail, .problem.code, after(.retry_after))]
    RateLimited {
        /// The server's problem document (`rate_limited`, `too_many_in_flight`).
        problem: Box<ApiProblem>,
        /// From the `Retry-After` header, when the server sent one.
        retry_after: Option<Duration>,
    },
    /// 503: the service is unavailable for now (e.g. overloaded or shutting down), and
    /// still was once the retries were spent. `retry_after` as for
    /// [`Error::RateLimited`].
    #[error("docintel API error 503: {} ({}){}", .problem.detail, .problem.code, after(.retry_after))]
    Unavailable {
        /// The server's problem document.
        problem: Box<ApiProblem>,
        /// From the `Retry-After` header, when the server sent one.
        retry_after: Option<Duration>,
    },
    /// The request never got an answer (connection refused, timeout…), after retries.
    #[error("could not reach docintel: {0}")]
    Transport(#[source] reqwest::Error),
    /// The document was processed and failed; `reason` says why.
    #[error("document {} failed: {reason}", .document.id)]
    ProcessingFailed {
        /// The document as the server last showed it.
        document: Box<DocumentView>,
        /// The server's `failure`, e.g. "not a readable PDF".
        reason: String,
    },
    /// `upload_and_wait` gave up before the document was done.
    #[error("document {id} was still {status} after {waited:?}")]
    Timeout {
        /// The document waited for.
        id: uuid::Uuid,
        /// Where the document was when the wait ended (`queued` or `processing`).
        status: crate::types::DocumentStatus,
        /// How long the wait lasted.
        waited: Duration,
    },
    /// Refused before anything was sent, with the `code` the server would have answered
    /// (`invalid_filename`, `invalid_parameter`, `invalid_webhook`…), or
    /// `invalid_base_url` for a client that could not be built.
    ///
    /// ```
    /// let err = docintel_sdk::Client::builder("localhost:8080").build().unwrap_err();
    /// assert_eq!(err.code(), Some("invalid_base_url"));
    /// ```
    #[error("invalid request ({code}): {detail}")]
    Invalid {
        /// The machine-readable code, as in [`ApiProblem::code`].
        code: String,
        /// What was wrong.
        detail: String,
    },
    /// The request could not be built (e.g. a bad argument).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The response did not match the API description.
    #[error("unexpected response: {0}")]
    UnexpectedResponse(String),
}

impl Error {
    /// The problem document, for API errors.
    pub fn problem(&self) -> Option<&ApiProblem> {
        match self {
            Error::Api(p)
            | Error::RateLimited { problem: p, .. }
            | Error::Unavailable { problem: p, .. } => Some(p.as_ref()),
            _ => None,
        }
    }

    /// How long the server asked to wait before trying again (its `Retry-After`), for
    /// [`Error::RateLimited`] and [`Error::Unavailable`].
    ///
    /// ```
    /// let e = docintel_sdk::Error::InvalidRequest("x".into());
    /// assert_eq!(e.retry_after(), None);
    /// ```
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after, .. } | Error::Unavailable { retry_after, .. } => {
                *retry_after
            }
            _ => None,
        }
    }

    /// The typed error for an API answer: 429 and 503 with their `Retry-After`.
    pub(crate) fn api(problem: ApiProblem, headers: &reqwest::header::HeaderMap) -> Self {
        let problem = Box::new(problem);
        match problem.status {
            429 => Error::RateLimited {
                problem,
                retry_after: retry_after(headers),
            },
            503 => Error::Unavailable {
                problem,
                retry_after: retry_after(headers),
            },
            _ => Error::Api(problem),
        }
    }

    /// The machine-readable code: the server's for API errors, the one it would have
    /// sent for requests refused before sending.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Api(_) | Error::RateLimited { .. } | Error::Unavailable { .. } => {
                self.problem().map(|p| p.code.as_str())
            }
            Error::Invalid { code, .. } => Some(code.as_str()),
            _ => None,
        }
    }

    /// The HTTP status, for API errors.
    pub fn status(&self) -> Option<u16> {
        self.problem().map(|p| p.status)
    }

    /// Converts a generated-client error, reading the body of an undescribed error
    /// response (which the `From` conversion cannot, being synchronous).
    pub(crate) async fn from_raw(e: progenitor_client::Error<ApiProblem>) -> Self {
        match e {
            progenitor_client::Error::UnexpectedResponse(resp) => {
                let status = resp.status().as_u16();
                let headers = resp.headers().clone();
                match resp.bytes().await {
                    Ok(body) => {
                        Error::api(problem_from(status, &request_id(&headers), &body), &headers)
                    }
                    Err(e) => Error::Transport(e),
                }
            }
            other => other.into(),
        }
    }
}

/// Awaits a generated call: its value, or its error read into [`Error`] (the body of an
/// undescribed error response included). Every call of the hand-written client goes
/// through here.
pub(crate) async fn answer<T>(
    call: impl std::future::Future<
        Output = std::result::Result<
            progenitor_client::ResponseValue<T>,
            progenitor_client::Error<ApiProblem>,
        >,
    >,
) -> Result<T> {
    match call.await {
        Ok(v) => Ok(v.into_inner()),
        Err(e) => Err(Error::from_raw(e).await),
    }
}

pub(crate) fn request_id(headers: &reqwest::header::HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// How an error's message tells the `Retry-After`.
fn after(retry_after: &Option<Duration>) -> String {
    retry_after.map_or_else(String::new, |d| format!("; retry after {} s", d.as_secs()))
}

/// `Retry-After` as delay-seconds or an HTTP-date (RFC 9110), the time left until it.
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let v = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    Some(
        (at.with_timezone(&chrono::Utc) - chrono::Utc::now())
            .to_std()
            .unwrap_or_default(),
    )
}

/// Errors of [`Client::raw`](crate::Client::raw) calls convert with `?`, the API's problem
/// document included.
///
/// ```no_run
/// # async fn run(client: docintel_sdk::Client) -> Result<(), docintel_sdk::Error> {
/// let webhooks = client.raw().list_webhooks().send().await?.into_inner();
/// println!("{} subscriptions", webhooks.items.len());
/// # Ok(()) }
/// ```
impl From<progenitor_client::Error<ApiProblem>> for Error {
    fn from(e: progenitor_client::Error<ApiProblem>) -> Self {
        use progenitor_client::Error as E;
        match e {
            E::ErrorResponse(rv) => {
                let headers = rv.headers().clone();
                let mut problem = rv.into_inner();
                if problem.request_id.is_empty() {
                    problem.request_id = request_id(&headers);
                }
                Error::api(problem, &headers)
            }
            E::UnexpectedResponse(resp) => {
                let status = resp.status().as_u16();
                let problem = problem_from(status, &request_id(resp.headers()), b"");
                Error::api(problem, resp.headers())
            }
            E::CommunicationError(e) | E::ResponseBodyError(e) | E::InvalidUpgrade(e) => {
                Error::Transport(e)
            }
            E::InvalidRequest(s) | E::Custom(s) => Error::InvalidRequest(s),
            E::InvalidResponsePayload(body, e) => Error::UnexpectedResponse(format!(
                "{e}: {}",
                String::from_utf8_lossy(&body)
                    .chars()
                    .take(200)
                    .collect::<String>()
            )),
        }
    }
}

/// The body's problem document, or one made from the status when the body is not one
/// (e.g. a proxy's error page).
pub(crate) fn problem_from(status: u16, request_id: &str, body: &[u8]) -> ApiProblem {
    let reason = || {
        reqwest::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Error")
            .to_owned()
    };
    match serde_json::from_slice::<LenientProblem>(body) {
        Ok(p) => ApiProblem {
            status: p.status.unwrap_or(status),
            title: p.title.unwrap_or_else(reason),
            detail: p.detail.unwrap_or_default(),
            code: p.code,
            request_id: if p.request_id.is_empty() {
                request_id.to_owned()
            } else {
                p.request_id
            },
            instance: p.instance,
            type_: p.type_,
            usage: p.usage,
        },
        Err(_) => ApiProblem {
            status,
            title: reason(),
            detail: String::from_utf8_lossy(body).chars().take(500).collect(),
            code: String::new(),
            request_id: request_id.to_owned(),
            instance: String::new(),
            type_: String::new(),
            usage: None,
        },
    }
}

/// What every SDK call returns.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_parse_and_non_problems_degrade() {
        let p = problem_from(
            404,
            "r1",
            br#"{"type":"/problems/not_found","title":"Not Found","status":404,"detail":"no document","instance":"/v2/documents/x","code":"not_found","request_id":"r2"}"#,
        );
        assert_eq!(p.code, "not_found");
        assert_eq!(p.request_id, "r2");
        let p = problem_from(502, "r1", b"<html>bad gateway</html>");
        assert_eq!(p.status, 502);
        assert_eq!(p.title, "Bad Gateway");
        assert_eq!(p.request_id, "r1");
        assert!(p.detail.contains("bad gateway"));
    }

    fn headers(retry_after: &str) -> reqwest::header::HeaderMap {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("retry-after", retry_after.parse().unwrap());
        h
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(retry_after(&headers("7")), Some(Duration::from_secs(7)));
        let past = retry_after(&headers("Sun, 06 Nov 1994 08:49:37 GMT"));
        assert_eq!(past, Some(Duration::ZERO));
        let soon = (chrono::Utc::now() + chrono::Duration::seconds(120)).to_rfc2822();
        let soon = retry_after(&headers(&soon)).unwrap();
        assert!(
            soon > Duration::from_secs(100) && soon <= Duration::from_secs(120),
            "{soon:?}"
        );
        assert_eq!(retry_after(&headers("soon")), None);
        assert_eq!(retry_after(&reqwest::header::HeaderMap::new()), None);
    }

    #[test]
    fn busy_answers_are_typed_with_their_retry_after() {
        let p = |status| problem_from(status, "r", b"");
        let e = Error::api(p(429), &headers("3"));
        assert!(matches!(e, Error::RateLimited { .. }), "{e:?}");
        assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));
        assert_eq!(e.status(), Some(429));
        assert!(e.to_string().ends_with("; retry after 3 s"), "{e}");
        let e = Error::api(p(503), &reqwest::header::HeaderMap::new());
        assert!(
            matches!(
                e,
                Error::Unavailable {
                    retry_after: None,
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(e.status(), Some(503));
        let e = Error::api(p(404), &headers("3"));
        assert!(matches!(e, Error::Api(_)), "{e:?}");
        assert_eq!(e.retry_after(), None);
    }
}
