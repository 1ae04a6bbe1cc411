//! API-key authentication: a key (`Authorization: Bearer <key>`, or Basic with the key
//! as the password where a route takes it) resolves to exactly one tenant, through a
//! short-lived cache, and spends one of the key's requests.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRef, FromRequestParts, Request};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap};
use axum::response::{IntoResponse, Response};
use docintel_backend::Backend;
use docintel_backend::model::Tenant;
use sha2::Digest;

use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::ratelimit::{CheckedKey, IpLimits, Limits, Verdict, VerdictSlot};

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

    /// The tenant of a key (by its hash), from the cache or else the backend, which then
    /// fills the cache.
    pub async fn tenant<S>(&self, state: &S, key_hash: &str) -> Result<Option<Tenant>, ApiError>
    where
        Backend: FromRef<S>,
    {
        if let Some(t) = self.get(key_hash) {
            return Ok(Some(t));
        }
        let found = Backend::from_ref(state).authenticate_hash(key_hash).await?;
        if let Some(t) = &found {
            self.put(key_hash, t);
        }
        Ok(found)
    }
}

/// What authentication needs of the application: the backend, the key cache, the per-key
/// limits, and the process's own registry credential. Cheap to clone (`Arc`s).
#[derive(Clone)]
pub struct AuthState {
    pub backend: Backend,
    pub keys: Arc<KeyCache>,
    pub limits: Arc<Limits>,
    pub metrics: Arc<Metrics>,
    pub process_token: Arc<ProcessToken>,
}

impl FromRef<AuthState> for Backend {
    fn from_ref(auth: &AuthState) -> Backend {
        auth.backend.clone()
    }
}

/// A caller whose key resolved to a tenant and was within its limit.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub tenant: Tenant,
    /// The SHA-256 of the key, as the store and the limits know it.
    pub key_hash: String,
    /// The key as presented (the registry and the broker ask whether it is an admin's).
    pub key: String,
}

/// Which `Authorization` schemes a route takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schemes {
    /// `Bearer <key>` only: the versioned API.
    Bearer,
    /// `Bearer <key>`, or Basic with the key as the password (the clients of the
    /// registry and the Pact Broker send that).
    BearerOrBasic,
}

/// The key a request presents under `schemes`; `Unauthorized` says what is wrong.
pub fn presented_key(headers: &HeaderMap, schemes: Schemes) -> Result<String, ApiError> {
    match bearer(headers) {
        Ok(key) => Ok(key.to_owned()),
        Err(e) => match schemes {
            Schemes::Bearer => Err(e),
            Schemes::BearerOrBasic => basic_key(headers).ok_or(e),
        },
    }
}

/// Authenticates a request: its key (under `schemes`) through the key cache, then one
/// of the key's requests spent. The verdict goes into the request's [`VerdictSlot`] (in
/// `extensions`), from which the response gets its `RateLimit` headers. A key checked
/// earlier in the request ([`CheckedKey`]) is not looked up again. Errors:
/// `Unauthorized` (no, malformed or unknown key), `RateLimited`, or the backend's.
pub async fn authenticate(
    auth: &AuthState,
    headers: &HeaderMap,
    extensions: &Extensions,
    schemes: Schemes,
) -> Result<Authenticated, ApiError> {
    let key = presented_key(headers, schemes)?;
    // Usually checked already, by the request context (the per-address limit), from the
    // same header.
    let (key_hash, tenant) = match extensions.get::<CheckedKey>() {
        Some(CheckedKey {
            hash,
            tenant: Some(t),
        }) => (hash.clone(), Some(t.clone())),
        _ => {
            let hash = docintel_backend::keys::hash(&key);
            let tenant = auth.keys.tenant(auth, &hash).await?;
            (hash, tenant)
        }
    };
    let Some(tenant) = tenant else {
        return Err(ApiError::Unauthorized("invalid API key"));
    };
    tracing::Span::current().record("tenant", tenant.name.as_str());
    spend(auth, extensions, &tenant, &key_hash)
        .await
        .map_err(ApiError::RateLimited)?;
    Ok(Authenticated {
        tenant,
        key_hash,
        key,
    })
}

/// The key of an `Authorization: Basic` header (the key as the password), as the Pact
/// Broker CLI sends it; only the broker's and the registry's routes take it.
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

impl<S: Send + Sync> FromRequestParts<S> for Auth
where
    AuthState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let auth = AuthState::from_ref(state);
        let found = authenticate(&auth, &parts.headers, &parts.extensions, Schemes::Bearer).await?;
        Ok(Auth(found.tenant))
    }
}

/// Spends one of the key's requests: the verdict goes where the response middleware
/// writes the `RateLimit` headers from; `Err(retry_after_secs)` when the key is over its
/// limit. The API, the registry and the Pact Broker all count against this one budget.
async fn spend(
    auth: &AuthState,
    extensions: &Extensions,
    tenant: &Tenant,
    hashed_key: &str,
) -> Result<(), u64> {
    let verdict = auth.limits.check(tenant.id, hashed_key).await;
    settle(auth, extensions, verdict)
}

/// Leaves `verdict` where the response middleware writes the `RateLimit` headers from,
/// and counts a refusal: `Err(retry_after_secs)` when over the limit.
fn settle(auth: &AuthState, extensions: &Extensions, verdict: Verdict) -> Result<(), u64> {
    if let Some(slot) = extensions.get::<VerdictSlot>()
        && let Ok(mut slot) = slot.0.lock()
    {
        *slot = Some(verdict);
    }
    match verdict {
        Verdict::Limited {
            retry_after_secs, ..
        } => {
            auth.metrics.rate_limited.inc();
            Err(retry_after_secs)
        }
        _ => Ok(()),
    }
}

/// The credential the process gives its own relay for the embedded registry: random per
/// process, never stored; compared by digest.
pub struct ProcessToken {
    token: String,
    digest: [u8; 32],
}

impl ProcessToken {
    pub fn random() -> Self {
        let token = docintel_backend::keys::generate();
        Self {
            digest: sha2::Sha256::digest(token.as_bytes()).into(),
            token,
        }
    }

    pub fn value(&self) -> &str {
        &self.token
    }

    pub fn verify(&self, candidate: &str) -> bool {
        let digest: [u8; 32] = sha2::Sha256::digest(candidate.as_bytes()).into();
        digest == self.digest
    }
}

/// Spends the client address's bucket for a request that presents no valid API key;
/// `Some` is the 429 to answer instead of serving it. Requests with a valid key are
/// limited per key, by [`Auth`]. A server that does not know its peers'
/// addresses (served without [`crate::serve::serve`]) skips this.
pub async fn spend_address(
    auth: &AuthState,
    ip_limits: &IpLimits,
    broker_path: Option<&str>,
    req: &mut Request,
) -> Option<Response> {
    // The broker's routes also take a key as Basic credentials (the Pact Broker CLI's
    // way), and spend that key's limit themselves.
    let key = bearer_key(req.headers()).map(str::to_owned).or_else(|| {
        broker_path
            .filter(|prefix| {
                let path = req.uri().path();
                path.strip_prefix(prefix)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
            })
            .and_then(|_| basic_key(req.headers()))
    });
    if let Some(key) = key {
        let hash = docintel_backend::keys::hash(&key);
        // A store error counts as no tenant here; `Auth` meets it again and answers 500.
        let tenant = auth.keys.tenant(auth, &hash).await.ok().flatten();
        // This process's own relay, writing to its embedded registry, is not a client.
        let valid = tenant.is_some() || auth.process_token.verify(&key);
        req.extensions_mut().insert(CheckedKey { hash, tenant });
        if valid {
            return None;
        }
    }
    let ip = req.extensions().get::<ConnectInfo<SocketAddr>>()?.0.ip();
    let verdict = ip_limits.check(ip);
    settle(auth, req.extensions(), verdict)
        .err()
        .map(|retry_after_secs| ApiError::RateLimited(retry_after_secs).into_response())
}
