//! API-key authentication: `Authorization: Bearer <key>` resolves to exactly one tenant.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use docintel_backend::model::Tenant;

use crate::error::ApiError;
use crate::ratelimit::{CheckedKey, Verdict, VerdictSlot};
use crate::state::AppState;

/// The authenticated tenant of a request.
#[derive(Debug, Clone)]
pub struct Auth(pub Tenant);

/// Keys seen recently, so a hot path does not query the store for every request. Entries
/// live briefly, which bounds how long a revoked key keeps working.
#[derive(Default)]
pub struct KeyCache {
    entries: RwLock<HashMap<String, (Tenant, Instant)>>,
}

const KEY_CACHE_TTL: Duration = Duration::from_secs(30);
const KEY_CACHE_MAX: usize = 10_000;

impl KeyCache {
    fn get(&self, key: &str) -> Option<Tenant> {
        let map = self.entries.read().ok()?;
        map.get(key)
            .filter(|(_, at)| at.elapsed() < KEY_CACHE_TTL)
            .map(|(t, _)| t.clone())
    }

    fn put(&self, key: &str, tenant: &Tenant) {
        if let Ok(mut map) = self.entries.write() {
            if map.len() >= KEY_CACHE_MAX {
                map.retain(|_, (_, at)| at.elapsed() < KEY_CACHE_TTL);
                if map.len() >= KEY_CACHE_MAX {
                    map.clear();
                }
            }
            map.insert(key.to_owned(), (tenant.clone(), Instant::now()));
        }
    }

    /// The tenant of a key (by its hash), from the cache or else the store, which then
    /// fills the cache.
    pub async fn tenant(
        &self,
        state: &AppState,
        key_hash: &str,
    ) -> Result<Option<Tenant>, ApiError> {
        if let Some(t) = self.get(key_hash) {
            return Ok(Some(t));
        }
        let found = state.backend.authenticate_hash(key_hash).await?;
        if let Some(t) = &found {
            self.put(key_hash, t);
        }
        Ok(found)
    }
}

/// The key of an `Authorization: Basic` header (the key as the password), as the Pact
/// Broker CLI sends it; only the broker's routes take it.
pub fn basic_key(headers: &axum::http::HeaderMap) -> Option<String> {
    use base64::Engine;
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, credential) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(credential.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    decoded
        .split_once(':')
        .map(|(_, p)| p.to_owned())
        .filter(|p| !p.is_empty())
}

/// The key of an `Authorization: Bearer <key>` header, if the request has one.
pub fn bearer_key(headers: &axum::http::HeaderMap) -> Option<&str> {
    bearer(headers).ok()
}

fn bearer(headers: &axum::http::HeaderMap) -> Result<&str, ApiError> {
    let value = headers.get(AUTHORIZATION).ok_or(ApiError::Unauthorized(
        "missing API key: send `Authorization: Bearer <key>`",
    ))?;
    let value = value
        .to_str()
        .map_err(|_| ApiError::Unauthorized("malformed Authorization header"))?;
    match value.split_once(' ') {
        Some((scheme, key)) if scheme.eq_ignore_ascii_case("bearer") && !key.trim().is_empty() => {
            Ok(key.trim())
        }
        _ => Err(ApiError::Unauthorized(
            "the Authorization header must use the Bearer scheme",
        )),
    }
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // Usually checked already, by the request context (the per-address limit).
        let checked = parts.extensions.remove::<CheckedKey>();
        let key = bearer(&parts.headers)?;
        let (hashed, tenant) = match checked {
            Some(CheckedKey {
                hash,
                tenant: Some(t),
            }) => (hash, Some(t)),
            _ => {
                let hash = docintel_backend::keys::hash(key);
                let tenant = state.keys.tenant(state, &hash).await?;
                (hash, tenant)
            }
        };
        let Some(tenant) = tenant else {
            return Err(ApiError::Unauthorized("invalid API key"));
        };
        tracing::Span::current().record("tenant", tenant.name.as_str());
        spend_request(parts, state, &tenant, &hashed)
            .await
            .map_err(ApiError::RateLimited)?;
        Ok(Auth(tenant))
    }
}

/// Spends one of the key's requests: the verdict goes where the response middleware
/// writes the `RateLimit` headers from; `Err(retry_after_secs)` when the key is over its
/// limit. Shared by the API and the Pact Broker façade so both count against one budget.
pub(crate) async fn spend_request(
    parts: &Parts,
    state: &AppState,
    tenant: &Tenant,
    hashed_key: &str,
) -> Result<(), u64> {
    let verdict = state.limits.check(tenant.id, hashed_key).await;
    if let Some(slot) = parts.extensions.get::<VerdictSlot>()
        && let Ok(mut slot) = slot.0.lock()
    {
        *slot = Some(verdict);
    }
    match verdict {
        Verdict::Limited {
            retry_after_secs, ..
        } => {
            state.metrics.rate_limited.inc();
            Err(retry_after_secs)
        }
        _ => Ok(()),
    }
}
