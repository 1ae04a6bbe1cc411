//! `Idempotency-Key` on POST: the first response to a key is stored and replayed for a
//! retry with the same request; the same key with another request is refused (422).
//! The response is kept in the transaction that creates the resource, so one key stands
//! for one resource even when requests race.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use docintel_backend::model::TenantId;
use docintel_backend::store::StoredResponse;

use crate::error::{ApiError, ErrorCode};

pub static IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
pub static IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// The request's key, if it sent one: 1–255 visible ASCII characters.
pub fn key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get(&IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let ok = (1..=255).contains(&v.len()) && v.as_bytes().iter().all(|b| b.is_ascii_graphic());
    match v.to_str() {
        Ok(s) if ok => Ok(Some(s.to_owned())),
        _ => Err(ApiError::new(
            ErrorCode::InvalidIdempotencyKey,
            "Idempotency-Key must be 1 to 255 visible ASCII characters (a UUID is a good choice)",
        )),
    }
}

/// One async lock per (tenant, key) in flight: concurrent requests with one key in this
/// process wait for the first and replay its response instead of storing the bytes again.
/// That one key stands for one document is the store's guarantee (the response is kept in
/// the document's transaction), across processes too; this only saves the work.
#[derive(Default)]
pub struct KeyLocks {
    held: Mutex<HashMap<(TenantId, String), KeyLock>>,
}

type KeyLock = Arc<tokio::sync::Mutex<()>>;

pub struct KeyGuard<'a> {
    locks: &'a KeyLocks,
    id: (TenantId, String),
    lock: KeyLock,
    _guard: tokio::sync::OwnedMutexGuard<()>,
}

impl KeyLocks {
    pub async fn lock(&self, tenant: TenantId, key: &str) -> KeyGuard<'_> {
        let id = (tenant, key.to_owned());
        let lock = match self.held.lock() {
            Ok(mut held) => held.entry(id.clone()).or_default().clone(),
            // A poisoned map only loses sharing, never correctness of one request.
            Err(_) => Arc::default(),
        };
        let guard = lock.clone().lock_owned().await;
        KeyGuard {
            locks: self,
            id,
            lock,
            _guard: guard,
        }
    }
}

impl Drop for KeyGuard<'_> {
    fn drop(&mut self) {
        if let Ok(mut held) = self.locks.held.lock() {
            // The map and this guard: nobody else waits for the key.
            if Arc::strong_count(&self.lock) <= 2 {
                held.remove(&self.id);
            }
        }
    }
}

/// Renders a stored response again, marked as a replay.
pub fn replay(stored: StoredResponse) -> Response {
    let mut r = render(stored);
    r.headers_mut().insert(
        IDEMPOTENT_REPLAYED.clone(),
        HeaderValue::from_static("true"),
    );
    r
}

/// The response `stored` describes (status, JSON body, `Location`), as first sent.
pub fn render(stored: StoredResponse) -> Response {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut r = (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        stored.body,
    )
        .into_response();
    if let Some(loc) = stored.location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        r.headers_mut().insert(header::LOCATION, loc);
    }
    r
}
