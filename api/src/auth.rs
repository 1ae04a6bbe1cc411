//! API-key authentication: a key (`Authorization: Bearer <key>`, or Basic with the key
//! as the password where a route takes it) resolves to exactly one tenant and the scopes
//! the key holds, through a short-lived cache, and spends one of the key's requests.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRef, FromRequestParts, Request};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap};
use axum::response::{IntoResponse, Response};
use docintel_backend::Backend;
use docintel_backend::keys::{KeyGrant, Scope};
use docintel_backend::model::Tenant;
use sha2::Digest;

use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::ratelimit::{CheckedKey, IpLimits, Limits, Verdict, VerdictSlot};

/// The authenticated tenant of a request whose key holds the scope `S` names (see
/// [`Required`]); `Auth` alone asks for no scope.
#[derive(Debug, Clone)]
pub struct Auth<S: Required = AnyScope>(pub Tenant, pub PhantomData<S>);

/// The scope an [`Auth`] extractor requires.
pub trait Required: Send + Sync + 'static {
    const SCOPE: Option<Scope>;
}

macro_rules! scopes {
    ($($(#[$doc:meta])* $marker:ident => $scope:expr;)*) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, Copy)]
            pub struct $marker;
            impl Required for $marker {
                const SCOPE: Option<Scope> = $scope;
            }
        )*
    };
}

scopes! {
    /// Any valid key (operations about the key itself).
    AnyScope => None;
    DocumentsRead => Some(Scope::DocumentsRead);
    DocumentsWrite => Some(Scope::DocumentsWrite);
    WebhooksManage => Some(Scope::WebhooksManage);
    KeysManage => Some(Scope::KeysManage);
    AuditRead => Some(Scope::AuditRead);
}

/// Keys seen recently, so a hot path does not query the store for every request. An
/// entry lives at most 30 s, and all are forgotten as soon as the store's key generation
/// moves (a key revoked or changed, by any process): this process's own revocations at
/// once, other processes' within [`KEY_WATCH_INTERVAL`].
#[derive(Default)]
pub struct KeyCache {
    entries: RwLock<HashMap<String, (KeyGrant, Instant)>>,
    /// The store's key generation the entries were read at.
    generation: AtomicI64,
}

const KEY_CACHE_TTL: Duration = Duration::from_secs(30);
const KEY_CACHE_MAX: usize = 10_000;
/// How often each process asks whether a key changed elsewhere: one tiny query.
pub const KEY_WATCH_INTERVAL: Duration = Duration::from_millis(100);
/// A key's `last_used_at` is written about this often (by each process): the cache is
/// emptied this often, and a key read again from the store is noted as used.
pub const TOUCH_INTERVAL: Duration = Duration::from_secs(60);

impl KeyCache {
    fn get(&self, key: &str) -> Option<KeyGrant> {
        let map = self.entries.read().ok()?;
        map.get(key)
            .filter(|(_, at)| at.elapsed() < KEY_CACHE_TTL)
            .map(|(t, _)| t.clone())
    }

    fn put(&self, key: &str, grant: &KeyGrant, generation: i64) {
        if let Ok(mut map) = self.entries.write() {
            // Read before a change that has since cleared the cache: not kept.
            if generation != self.generation.load(Ordering::SeqCst) {
                return;
            }
            if map.len() >= KEY_CACHE_MAX {
                map.retain(|_, (_, at)| at.elapsed() < KEY_CACHE_TTL);
                if map.len() >= KEY_CACHE_MAX {
                    map.clear();
                }
            }
            map.insert(key.to_owned(), (grant.clone(), Instant::now()));
        }
    }

    /// Forgets every key if the store's generation is not `generation` any more.
    pub fn observe(&self, generation: i64) {
        if let Ok(mut map) = self.entries.write()
            && self.generation.swap(generation, Ordering::SeqCst) != generation
        {
            map.clear();
        }
    }

    /// What a key (by its hash) grants, from the cache or else the backend, which then
    /// fills the cache.
    pub async fn grant<S>(&self, state: &S, key_hash: &str) -> Result<Option<KeyGrant>, ApiError>
    where
        Backend: FromRef<S>,
    {
        if let Some(t) = self.get(key_hash) {
            return Ok(Some(t));
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let backend = Backend::from_ref(state);
        let found = backend.authenticate_hash(key_hash).await?;
        if let Some(t) = &found {
            self.put(key_hash, t, generation);
            // First use by this process since it (re)cached the key: note when it was
            // used, off the request's path.
            let key_hash = key_hash.to_owned();
            tokio::spawn(async move {
                if let Err(e) = backend.touch_key(&key_hash).await {
                    tracing::debug!(error = %e, "could not note a key's last use");
                }
            });
        }
        Ok(found)
    }

    /// Forgets every key (their grants are read again from the store).
    pub fn forget_all(&self) {
        if let Ok(mut map) = self.entries.write() {
            map.clear();
        }
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
/// `Unauthorized` (no, malformed, unknown or expired key), `RateLimited`, or the
/// backend's. What the key grants (its tenant, scopes, whether it is an admin's) when
/// it passes.
pub async fn authenticate(
    auth: &AuthState,
    headers: &HeaderMap,
    extensions: &Extensions,
    schemes: Schemes,
) -> Result<KeyGrant, ApiError> {
    let key = presented_key(headers, schemes)?;
    // Usually checked already, by the request context (the per-address limit), from the
    // same header.
    let (key_hash, grant) = match extensions.get::<CheckedKey>() {
        Some(CheckedKey {
            hash,
            grant: Some(g),
        }) => (hash.clone(), Some(g.clone())),
        _ => {
            let hash = docintel_backend::keys::hash(&key);
            let grant = auth.keys.grant(auth, &hash).await?;
            (hash, grant)
        }
    };
    let Some(grant) = grant else {
        return Err(ApiError::Unauthorized("invalid API key"));
    };
    if grant.expired(time::OffsetDateTime::now_utc()) {
        return Err(ApiError::Unauthorized("the API key has expired"));
    }
    tracing::Span::current().record("tenant", grant.tenant.name.as_str());
    docintel_backend::audit::identify(grant.tenant.id, &grant.id);
    spend(auth, extensions, &grant.tenant, &key_hash)
        .await
        .map_err(ApiError::RateLimited)?;
    Ok(grant)
}

/// Refuses a caller whose key does not hold `scope` (`403`, naming it).
pub fn require(grant: &KeyGrant, scope: Scope) -> Result<(), ApiError> {
    if grant.scopes.contains(scope) {
        Ok(())
    } else {
        Err(ApiError::InsufficientScope(scope))
    }
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

impl<S: Send + Sync, R: Required> FromRequestParts<S> for Auth<R>
where
    AuthState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let auth = AuthState::from_ref(state);
        let grant = authenticate(&auth, &parts.headers, &parts.extensions, Schemes::Bearer).await?;
        if let Some(scope) = R::SCOPE {
            require(&grant, scope)?;
        }
        // The key's id, for the access log and whoever reads it.
        tracing::Span::current().record("key", grant.id.as_str());
        let tenant = grant.tenant.clone();
        parts.extensions.insert(grant);
        Ok(Auth(tenant, PhantomData))
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

    /// Compares digests in constant time: how long a wrong guess takes says nothing of
    /// how much of it was right.
    pub fn verify(&self, candidate: &str) -> bool {
        use subtle::ConstantTimeEq;
        let digest: [u8; 32] = sha2::Sha256::digest(candidate.as_bytes()).into();
        digest.ct_eq(&self.digest).into()
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
        let grant = auth.keys.grant(auth, &hash).await.ok().flatten();
        // This process's own relay, writing to its embedded registry, is not a client.
        let valid = grant.is_some() || auth.process_token.verify(&key);
        req.extensions_mut().insert(CheckedKey { hash, grant });
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
