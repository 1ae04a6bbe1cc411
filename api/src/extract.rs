//! axum extractors whose rejections are [`ApiError`]s, so a bad query string or path
//! gets the same problem document as every other error.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::error::{ApiError, ErrorCode};

/// Query string, deserialized strictly (unknown parameters are refused where the target
/// type says `deny_unknown_fields`).
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query(q.0))
            .map_err(|e| ApiError::new(ErrorCode::InvalidParameter, e.body_text()))
    }
}

/// A `{id}` path segment that must be a document id.
pub struct IdPath(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for IdPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|e| ApiError::new(ErrorCode::InvalidId, e.body_text()))?;
        Uuid::parse_str(&raw).map(IdPath).map_err(|_| {
            ApiError::new(
                ErrorCode::InvalidId,
                format!(
                    "{raw:?} is not an id (a UUID such as 0192f0c4-5d7e-7c1a-9f57-1d6f0e6a8b11)"
                ),
            )
        })
    }
}

/// Refuses a body whose declared `Content-Length` is over `max` before a byte of it is
/// read (`limit` is what the problem reports); the streaming check catches the rest.
pub fn refuse_declared_oversize(headers: &HeaderMap, max: u64, limit: u64) -> Result<(), ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max) {
        return Err(ApiError::PayloadTooLarge(limit));
    }
    Ok(())
}

/// The most a JSON request body may hold (set on the routes that take one): the largest
/// real one, a subscription, is under 3 KiB.
pub const JSON_BODY_LIMIT: usize = 64 * 1024;

/// A JSON request body; a wrong content type, malformed JSON or a body of the wrong
/// shape is a problem document (415, 400, 422) like every other error.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> axum::extract::FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        use axum::extract::rejection::JsonRejection;
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::UnsupportedMediaType(
                "send the body as application/json".to_owned(),
            )),
            Err(JsonRejection::JsonDataError(e)) => {
                Err(ApiError::new(ErrorCode::InvalidBody, e.body_text()))
            }
            Err(JsonRejection::JsonSyntaxError(e)) => {
                Err(ApiError::new(ErrorCode::MalformedJson, e.body_text()))
            }
            Err(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::PayloadTooLarge(JSON_BODY_LIMIT as u64))
            }
            // What is left is the body itself failing to arrive.
            Err(e) => Err(ApiError::new(ErrorCode::BodyReadFailed, e.body_text())),
        }
    }
}
