//! The Pact Broker's error dialect and HAL responses.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::BrokerError;

pub const CONTENT_TYPE: &str = "application/hal+json;charset=utf-8";

#[derive(Debug)]
pub struct Failure {
    status: StatusCode,
    body: Value,
}

impl Failure {
    pub(crate) fn new(status: StatusCode, body: Value) -> Self {
        Self { status, body }
    }

    pub(crate) fn not_found(message: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, json!({ "error": message }))
    }

    pub(crate) fn invalid(field: &str, message: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            json!({ "errors": { field: [message] } }),
        )
    }
}

impl From<BrokerError> for Failure {
    fn from(e: BrokerError) -> Self {
        match e {
            BrokerError::NotFound(m) => Self::not_found(&m),
            BrokerError::Invalid(errors) => {
                Self::new(StatusCode::BAD_REQUEST, json!({ "errors": errors }))
            }
            BrokerError::Conflict(messages) => Self::new(
                StatusCode::CONFLICT,
                json!({
                    "notices": messages.iter().map(|m| json!({"type": "error", "text": m})).collect::<Vec<_>>(),
                    "errors": { "contracts": messages },
                }),
            ),
            BrokerError::Forbidden(m) => Self::new(StatusCode::FORBIDDEN, json!({ "error": m })),
            BrokerError::TooLarge(m) => {
                Self::new(StatusCode::PAYLOAD_TOO_LARGE, json!({ "error": m }))
            }
            BrokerError::QuotaExceeded(m) => {
                Self::new(StatusCode::INSUFFICIENT_STORAGE, json!({ "error": m }))
            }
            BrokerError::Busy => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                json!({ "error": BrokerError::Busy.to_string() }),
            ),
            BrokerError::Store(inner) => {
                tracing::error!(error = %inner, "pact broker store error");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({ "error": "An error has occurred in the broker's store; it has been logged" }),
                )
            }
        }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let mut response = hal(self.status, self.body);
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"docintel-broker\""),
            );
        }
        response
    }
}

pub(crate) fn hal(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))],
        body.to_string(),
    )
        .into_response()
}

/// A HAL answer already rendered.
pub(crate) fn hal_bytes(status: StatusCode, body: axum::body::Bytes) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))],
        body,
    )
        .into_response()
}

pub type Answer = Result<Response, Failure>;

pub(crate) fn ok(body: Value) -> Answer {
    Ok(hal(StatusCode::OK, body))
}
