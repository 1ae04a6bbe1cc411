//! The SDK's one error type. API errors expose the server's RFC 9457 problem document.

use std::time::Duration;

use futures::TryStreamExt;
use progenitor_client::ByteStream;
use serde::Deserialize;

use crate::types::DocumentView;

/// An RFC 9457 problem document returned by the API.
///
/// ```
/// # fn show(e: docintel_sdk::Error) {
/// if let docintel_sdk::Error::Api(p) = &e {
///     eprintln!("{} {} ({}), request {}", p.status, p.title, p.code, p.request_id);
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ApiProblem {
    /// HTTP status.
    pub status: u16,
    /// Short summary of the problem type.
    pub title: String,
    /// What went wrong with this request.
    pub detail: String,
    /// Stable machine-readable code, e.g. `payload_too_large`.
    #[serde(default)]
    pub code: String,
    /// The request id, to quote when reporting a problem.
    #[serde(default)]
    pub request_id: String,
    /// The problem type URI.
    #[serde(rename = "type", default)]
    pub type_uri: String,
}

/// Everything an SDK call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The API answered with an error status.
    #[error("docintel API error {}: {} ({})", .0.status, .0.detail, .0.code)]
    Api(Box<ApiProblem>),
    /// The request never got an answer (connection refused, timeout…), after retries.
    #[error("could not reach docintel: {0}")]
    Transport(#[source] reqwest::Error),
    /// The document was processed and failed; `reason` says why.
    #[error("document {} failed: {reason}", .document.id)]
    ProcessingFailed {
        document: Box<DocumentView>,
        reason: String,
    },
    /// `upload_and_wait` gave up before the document was done.
    #[error("document {id} was still {status} after {waited:?}")]
    Timeout {
        id: uuid::Uuid,
        /// Where the document was when the wait ended (`queued` or `processing`).
        status: crate::types::DocumentStatus,
        waited: Duration,
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
            Error::Api(p) => Some(p.as_ref()),
            _ => None,
        }
    }

    /// The HTTP status, for API errors.
    pub fn status(&self) -> Option<u16> {
        self.problem().map(|p| p.status)
    }

    /// Converts a generated-client error, reading the problem document from the body.
    pub(crate) async fn from_raw(e: progenitor_client::Error<ByteStream>) -> Self {
        use progenitor_client::Error as E;
        match e {
            E::ErrorResponse(rv) => {
                let status = rv.status().as_u16();
                let request_id = rv
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let body: Vec<u8> = match rv
                    .into_inner()
                    .into_inner()
                    .map_ok(|b| b.to_vec())
                    .try_concat()
                    .await
                {
                    Ok(b) => b,
                    Err(e) => return Error::Transport(e),
                };
                Error::Api(Box::new(problem_from(status, &request_id, &body)))
            }
            E::UnexpectedResponse(resp) => {
                let status = resp.status().as_u16();
                let request_id = resp
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                match resp.bytes().await {
                    Ok(body) => Error::Api(Box::new(problem_from(status, &request_id, &body))),
                    Err(e) => Error::Transport(e),
                }
            }
            E::CommunicationError(e) | E::ResponseBodyError(e) | E::InvalidUpgrade(e) => {
                Error::Transport(e)
            }
            E::InvalidRequest(s) | E::Custom(s) => Error::InvalidRequest(s),
            E::InvalidResponsePayload(_, e) => Error::UnexpectedResponse(e.to_string()),
        }
    }
}

/// The body's problem document, or one made from the status when the body is not one
/// (e.g. a proxy's error page).
fn problem_from(status: u16, request_id: &str, body: &[u8]) -> ApiProblem {
    serde_json::from_slice(body).unwrap_or_else(|_| ApiProblem {
        status,
        title: reqwest::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Error")
            .to_owned(),
        detail: String::from_utf8_lossy(body).chars().take(500).collect(),
        code: String::new(),
        request_id: request_id.to_owned(),
        type_uri: String::new(),
    })
}

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
}
