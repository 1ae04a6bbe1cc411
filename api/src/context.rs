//! Per-request context: the `X-Request-Id` (the client's when it sent a sane one, else a
//! fresh one) on every response, and rendering of pending problems into RFC 9457 bodies.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

use crate::error::{PendingProblem, write_problem};

pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The request id, available to handlers as a request extension.
#[derive(Debug, Clone)]
pub struct RequestId(pub HeaderValue);

fn acceptable(v: &HeaderValue) -> bool {
    let b = v.as_bytes();
    (1..=128).contains(&b.len())
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b':'))
}

pub async fn request_context(mut req: Request, next: Next) -> Response {
    let id = match req.headers().get(&X_REQUEST_ID) {
        Some(v) if acceptable(v) => v.clone(),
        _ => {
            let fresh = uuid::Uuid::now_v7().to_string();
            let v = HeaderValue::from_str(&fresh).unwrap_or(HeaderValue::from_static("invalid"));
            req.headers_mut().insert(X_REQUEST_ID.clone(), v.clone());
            v
        }
    };
    req.extensions_mut().insert(RequestId(id.clone()));
    let path = req.uri().path().to_owned();

    let mut response = next.run(req).await;
    if let Some(pending) = response.extensions_mut().remove::<PendingProblem>() {
        let problem = pending.render(&path, id.to_str().unwrap_or_default());
        write_problem(&mut response, &problem);
    }
    response.headers_mut().insert(X_REQUEST_ID.clone(), id);
    response
}
