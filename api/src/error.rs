//! One error type for the façade, mapped once to an RFC 9457 problem document.
//!
//! Handlers return [`ApiError`]; its response carries the [`Problem`] as an extension and
//! the request-context middleware renders it, adding the request id and the instance
//! (the request path), which handlers do not know.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use docintel_backend::webhooks::WebhookError;
use docintel_backend::{Error as BackendError, IngestError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use crate::problems::ErrorCode;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// What a 503 tells a client to wait when the database is unreachable: long enough for
/// a restart or a failover to finish, short enough not to lose a retrying client.
pub const UNAVAILABLE_RETRY_SECS: u64 = 5;

/// An RFC 9457 problem document. `code` is the stable, machine-readable name of the
/// error; `type` is a URI built from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "type": "/problems/not_found", "title": "Not Found", "status": 404,
    "detail": "no document with id 0192f0c4-5d7e-7c1a-9f57-1d6f0e6a8b11",
    "instance": "/v2/documents/0192f0c4-5d7e-7c1a-9f57-1d6f0e6a8b11",
    "code": "not_found", "request_id": "0192f0c4-6a10-7c3e-8a45-0f4d5b6c7d8e"
}))]
pub struct Problem {
    /// A URI reference naming the problem type: `/problems/{code}`.
    #[serde(rename = "type")]
    #[schema(max_length = 64, example = "/problems/not_found")]
    pub type_uri: String,
    /// Short summary of the problem type (the HTTP reason phrase).
    #[schema(max_length = 64, example = "Not Found")]
    pub title: String,
    /// The HTTP status code.
    #[schema(minimum = 400, maximum = 599, example = 404)]
    pub status: u16,
    /// What went wrong with this request, for a human.
    #[schema(
        max_length = 2048,
        example = "no document with id 0192f0c4-5d7e-7c1a-9f57-1d6f0e6a8b11"
    )]
    pub detail: String,
    /// The request path this problem occurred on.
    #[schema(
        max_length = 2048,
        example = "/v2/documents/0192f0c4-5d7e-7c1a-9f57-1d6f0e6a8b11"
    )]
    pub instance: String,
    /// Stable machine-readable error code; `/problems/{code}` explains it.
    #[schema(example = "not_found")]
    pub code: ErrorCode,
    /// The request's `X-Request-Id`; quote it when reporting a problem.
    #[schema(max_length = 128, example = "0192f0c4-6a10-7c3e-8a45-0f4d5b6c7d8e")]
    pub request_id: String,
    /// With `quota_exceeded` only: the tenant's usage and quotas before the refused upload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub usage: Option<crate::v2::usage::UsageView>,
}

/// Everything a handler can fail with. Each variant has one code, hence one status
/// (see [`ErrorCode`]).
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("this API key does not hold the scope `{0}` this operation needs")]
    InsufficientScope(docintel_backend::keys::Scope),
    #[error("{0}")]
    NotFound(String),
    /// A problem of the operation's own: a code of [`crate::problems::Scope::Operation`].
    #[error("{detail}")]
    Refused { code: ErrorCode, detail: String },
    #[error("the request body is larger than the limit of {0} bytes")]
    PayloadTooLarge(u64),
    /// An upload that would pass the tenant's storage quota: the detail and the usage.
    #[error("{0}")]
    QuotaExceeded(String, crate::v2::usage::UsageView),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("this route does not support that method")]
    MethodNotAllowed,
    #[error("too many requests for this API key; retry after {0} s (see the RateLimit headers)")]
    RateLimited(u64),
    #[error("the service cannot reach its {service} right now; retry after {retry_after} s")]
    Unavailable {
        /// What cannot be reached: "database", "object storage".
        service: &'static str,
        retry_after: u64,
    },
    #[error("the server has no room left to store this; retry after {0} s")]
    InsufficientStorage(u64),
    #[error("the server is at capacity; retry after {0} s")]
    Overloaded(u64),
    #[error(
        "this client address already has {limit} requests in flight, the most it may; retry after 1 s"
    )]
    TooManyInFlight { limit: usize },
    #[error("{0}; the connection is closed")]
    BodyTooSlow(crate::serve::pacing::TooSlow),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    /// A refusal with `code` (its status is the code's).
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        ApiError::Refused {
            code,
            detail: detail.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        self.code().status()
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::Unauthorized(_) => ErrorCode::Unauthorized,
            ApiError::InsufficientScope(_) => ErrorCode::InsufficientScope,
            ApiError::NotFound(_) => ErrorCode::NotFound,
            ApiError::Refused { code, .. } => *code,
            ApiError::PayloadTooLarge(_) => ErrorCode::PayloadTooLarge,
            ApiError::QuotaExceeded(..) => ErrorCode::QuotaExceeded,
            ApiError::UnsupportedMediaType(_) => ErrorCode::UnsupportedMediaType,
            ApiError::MethodNotAllowed => ErrorCode::MethodNotAllowed,
            ApiError::RateLimited(_) => ErrorCode::RateLimited,
            ApiError::Unavailable { .. } => ErrorCode::Unavailable,
            ApiError::InsufficientStorage(_) => ErrorCode::InsufficientStorage,
            ApiError::Overloaded(_) => ErrorCode::Overloaded,
            ApiError::TooManyInFlight { .. } => ErrorCode::TooManyInFlight,
            ApiError::BodyTooSlow(_) => ErrorCode::BodyTooSlow,
            ApiError::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl From<BackendError> for ApiError {
    fn from(e: BackendError) -> Self {
        match e {
            BackendError::Ingest(e) => e.into(),
            BackendError::Webhook(e @ WebhookError::TooMany) => {
                ApiError::new(ErrorCode::TooManyWebhooks, e.to_string())
            }
            BackendError::Webhook(e) => ApiError::new(ErrorCode::InvalidWebhook, e.to_string()),
            other if other.is_storage_full() => {
                tracing::error!(error = %other, "out of storage space");
                ApiError::InsufficientStorage(UNAVAILABLE_RETRY_SECS)
            }
            other => match other.unavailable_service() {
                Some(service) => {
                    tracing::warn!(error = %other, service, "a shared service is unavailable");
                    ApiError::Unavailable {
                        service,
                        retry_after: UNAVAILABLE_RETRY_SECS,
                    }
                }
                None => ApiError::Internal(other.into()),
            },
        }
    }
}

impl From<IngestError> for ApiError {
    fn from(e: IngestError) -> Self {
        let detail = e.to_string();
        match e {
            IngestError::Empty => ApiError::new(ErrorCode::EmptyBody, detail),
            IngestError::TooLarge { limit } => ApiError::PayloadTooLarge(limit),
            IngestError::Unsupported { .. } | IngestError::Mismatch { .. } => {
                ApiError::UnsupportedMediaType(detail)
            }
            IngestError::BadFilename(_) => ApiError::new(ErrorCode::InvalidFilename, detail),
            IngestError::QuotaExceeded(usage) => ApiError::QuotaExceeded(detail, usage.into()),
        }
    }
}

/// The most characters of a problem's `detail` (and `instance`) sent: details quote
/// what they refuse, and a refused input may be large.
pub const MAX_DETAIL_CHARS: usize = 2048;

/// `s`, cut to at most `max` characters (the last one `…` when cut).
pub fn bounded(s: &str, max: usize) -> String {
    match s.char_indices().nth(max.saturating_sub(1)) {
        Some((end, _)) if s[end..].chars().nth(1).is_some() => format!("{}…", &s[..end]),
        _ => s.to_owned(),
    }
}

/// The problem a response is to be rendered with (see the module docs).
#[derive(Debug, Clone)]
pub struct PendingProblem {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub detail: String,
    pub usage: Option<crate::v2::usage::UsageView>,
}

impl PendingProblem {
    pub fn render(&self, instance: &str, request_id: &str) -> Problem {
        Problem {
            type_uri: self.code.type_uri(),
            title: self.code.title().to_owned(),
            status: self.status.as_u16(),
            detail: bounded(&self.detail, MAX_DETAIL_CHARS),
            instance: bounded(instance, MAX_DETAIL_CHARS),
            code: self.code,
            request_id: request_id.to_owned(),
            usage: self.usage,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(e) = &self {
            tracing::error!(error = ?e, "internal error");
        }
        let status = self.status();
        let usage = match &self {
            ApiError::QuotaExceeded(_, usage) => Some(*usage),
            _ => None,
        };
        let pending = PendingProblem {
            status,
            code: self.code(),
            detail: self.to_string(),
            usage,
        };
        let mut response = status.into_response();
        if let ApiError::Unavailable { retry_after, .. }
        | ApiError::InsufficientStorage(retry_after)
        | ApiError::Overloaded(retry_after) = self
        {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        }
        if let ApiError::TooManyInFlight { .. } = self {
            // A place is free as soon as one of the address's requests is answered.
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(r#"Bearer realm="docintel""#),
            );
        }
        response.extensions_mut().insert(pending);
        response
    }
}

/// Serializes a problem as the body of `response`.
pub fn write_problem(response: &mut Response, problem: &Problem) {
    let body = serde_json::to_vec(problem).unwrap_or_default();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    response.headers_mut().remove(header::CONTENT_LENGTH);
    *response.body_mut() = axum::body::Body::from(body);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_cuts_at_a_character_boundary() {
        assert_eq!(bounded("abc", 3), "abc");
        assert_eq!(bounded("abcd", 3), "ab…");
        assert_eq!(bounded("ééééé", 4), "ééé…");
        assert_eq!(bounded("ééééé", 4).chars().count(), 4);
        assert_eq!(bounded("", 3), "");
    }
}
