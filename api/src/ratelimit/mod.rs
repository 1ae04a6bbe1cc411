//! Request rate limits per API key: a token bucket (GCRA, from governor) whose size and
//! window come from the key's tenant (or the server default). Requests that present no
//! known key (health, metrics, docs, the registry, failed authentication, unknown routes)
//! spend a bucket of their client address instead ([`IpLimits`]). Answers carry the IETF
//! draft's `RateLimit-Policy` and `RateLimit` headers; a refusal is `429` with
//! `Retry-After`.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue};
use docintel_backend::model::TenantId;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::{StateInformationMiddleware, StateSnapshot};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::state::{InMemoryState, NotKeyed};
use governor::{NotUntil, Quota, RateLimiter};

pub mod shared;

/// `quota` requests per `window`; a quota of 0 means unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub quota: u32,
    pub window: Duration,
}

impl Limit {
    pub const DEFAULT: Limit = Limit {
        quota: 1000,
        window: Duration::from_secs(10),
    };

    fn period(&self) -> Duration {
        self.window / self.quota.max(1)
    }

    /// The GCRA quota: `quota` requests at once, refilled evenly over `window`; `None`
    /// when unlimited.
    fn gcra(&self) -> Option<Quota> {
        let quota = NonZeroU32::new(self.quota)?;
        Some(
            Quota::with_period(self.period())
                .unwrap_or_else(|| Quota::per_second(quota))
                .allow_burst(quota),
        )
    }
}

type Now = <DefaultClock as Clock>::Instant;

/// What a bucket's answer means for the request, under `policy`.
fn verdict(
    policy: &'static str,
    limit: Limit,
    outcome: Result<StateSnapshot, NotUntil<Now>>,
    now: Now,
) -> Verdict {
    match outcome {
        Ok(snapshot) => {
            let remaining = snapshot.remaining_burst_capacity();
            let empty = limit.quota.saturating_sub(remaining);
            Verdict::Allowed {
                policy,
                limit,
                remaining,
                reset_secs: (limit.period() * empty).as_secs_f64().ceil() as u64,
            }
        }
        Err(not_until) => Verdict::Limited {
            policy,
            limit,
            retry_after_secs: not_until.wait_time_from(now).as_secs_f64().ceil().max(1.0) as u64,
        },
    }
}

impl std::str::FromStr for Limit {
    type Err = String;
    /// `QUOTA/WINDOW_SECS`, e.g. `100/10`; `0` or `off` for unlimited.
    fn from_str(s: &str) -> Result<Self, String> {
        if s == "0" || s.eq_ignore_ascii_case("off") {
            return Ok(Limit {
                quota: 0,
                window: Duration::from_secs(1),
            });
        }
        let (q, w) = s
            .split_once('/')
            .ok_or("expected QUOTA/WINDOW_SECONDS, e.g. 100/10")?;
        let quota: u32 = q.trim().parse().map_err(|_| "bad quota")?;
        let window: u64 = w.trim().parse().map_err(|_| "bad window")?;
        if window == 0 || window > 86_400 {
            return Err("the window must be 1 to 86400 seconds".into());
        }
        Ok(Limit {
            quota,
            window: Duration::from_secs(window),
        })
    }
}

/// The `RateLimit-Policy` names: a key's (or its tenant's) budget, and an address's.
pub const KEY_POLICY: &str = "default";
pub const ADDRESS_POLICY: &str = "address";

type Bucket = RateLimiter<NotKeyed, InMemoryState, DefaultClock, StateInformationMiddleware>;

/// What a check decided, and what the headers say.
#[derive(Debug, Clone, Copy)]
pub enum Verdict {
    Unlimited,
    Allowed {
        policy: &'static str,
        limit: Limit,
        remaining: u32,
        reset_secs: u64,
    },
    Limited {
        policy: &'static str,
        limit: Limit,
        retry_after_secs: u64,
    },
}

impl Verdict {
    /// Adds `RateLimit-Policy`, `RateLimit` and (when limited) `Retry-After`.
    pub fn write_headers(&self, headers: &mut HeaderMap) {
        let (name, limit, remaining, reset) = match *self {
            Verdict::Unlimited => return,
            Verdict::Allowed {
                policy,
                limit,
                remaining,
                reset_secs,
            } => (policy, limit, remaining, reset_secs),
            Verdict::Limited {
                policy,
                limit,
                retry_after_secs,
            } => {
                if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                    headers.insert("retry-after", v);
                }
                (policy, limit, 0, retry_after_secs)
            }
        };
        let policy = format!("\"{name}\";q={};w={}", limit.quota, limit.window.as_secs());
        let state = format!("\"{name}\";r={remaining};t={reset}");
        if let (Ok(p), Ok(s)) = (
            HeaderValue::from_str(&policy),
            HeaderValue::from_str(&state),
        ) {
            headers.insert("ratelimit-policy", p);
            headers.insert("ratelimit", s);
        }
    }
}

/// The buckets of every key seen, and the limits of tenants that have their own. With
/// several API replicas on one database, keys spend quotas shared through it instead
/// ([`shared`]); this replica's own buckets are the fallback while it is unreachable.
pub struct Limits {
    default: Limit,
    per_tenant: RwLock<HashMap<TenantId, Limit>>,
    buckets: Mutex<HashMap<String, (Limit, Arc<Bucket>)>>,
    clock: DefaultClock,
    shared: Option<shared::SharedQuotas>,
}

impl Limits {
    pub fn new(default: Limit, per_tenant: impl IntoIterator<Item = (TenantId, Limit)>) -> Self {
        Self {
            default,
            per_tenant: RwLock::new(per_tenant.into_iter().collect()),
            buckets: Mutex::new(HashMap::new()),
            clock: DefaultClock::default(),
            shared: None,
        }
    }

    /// Counts quotas in `store`, shared with every replica on it.
    pub fn share_through(&mut self, store: Arc<dyn docintel_backend::store::Store>) {
        self.shared = Some(shared::SharedQuotas::new(store));
    }

    pub fn set_default(&mut self, limit: Limit) {
        self.default = limit;
    }

    /// Replaces the tenants' own limits (their keys' buckets restart with the new size).
    pub fn set_tenants(&self, per_tenant: impl IntoIterator<Item = (TenantId, Limit)>) {
        if let Ok(mut map) = self.per_tenant.write() {
            *map = per_tenant.into_iter().collect();
        }
    }

    /// Spends one request of the key (`key_hash`) of `tenant`.
    pub async fn check(&self, tenant: TenantId, key_hash: &str) -> Verdict {
        let limit = self.limit_of(tenant);
        if limit.quota == 0 {
            return Verdict::Unlimited;
        }
        if let Some(shared) = &self.shared {
            match shared.check(key_hash, limit).await {
                Ok(verdict) => return verdict,
                Err(e) => {
                    tracing::warn!(error = %e, "shared quota unreachable; limiting by this replica alone")
                }
            }
        }
        self.check_here(limit, key_hash)
    }

    fn limit_of(&self, tenant: TenantId) -> Limit {
        self.per_tenant
            .read()
            .ok()
            .and_then(|m| m.get(&tenant).copied())
            .unwrap_or(self.default)
    }

    /// Spends from this replica's own bucket of the key.
    fn check_here(&self, limit: Limit, key_hash: &str) -> Verdict {
        let Some(quota) = limit.gcra() else {
            return Verdict::Unlimited;
        };
        let bucket = {
            let Ok(mut buckets) = self.buckets.lock() else {
                return Verdict::Unlimited;
            };
            match buckets.get(key_hash) {
                Some((l, b)) if *l == limit => b.clone(),
                _ => {
                    let b = Arc::new(
                        RateLimiter::direct_with_clock(quota, self.clock.clone())
                            .with_middleware::<StateInformationMiddleware>(),
                    );
                    buckets.insert(key_hash.to_owned(), (limit, b.clone()));
                    b
                }
            }
        };
        verdict(KEY_POLICY, limit, bucket.check(), self.clock.now())
    }
}

type AddressBuckets =
    RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, DefaultClock, StateInformationMiddleware>;

/// Buckets of requests that present no known API key, per client address. An IPv6 client
/// counts per /64 (what one host or home network holds), so rotating addresses within
/// it buys nothing.
pub struct IpLimits {
    limit: Limit,
    buckets: Option<AddressBuckets>,
    clock: DefaultClock,
}

impl IpLimits {
    /// 300 requests, then 30 a second.
    pub const DEFAULT: Limit = Limit {
        quota: 300,
        window: Duration::from_secs(10),
    };

    pub fn new(limit: Limit) -> Self {
        let clock = DefaultClock::default();
        let buckets = limit.gcra().map(|quota| {
            RateLimiter::dashmap_with_clock(quota, clock.clone())
                .with_middleware::<StateInformationMiddleware>()
        });
        Self {
            limit,
            buckets,
            clock,
        }
    }

    /// Spends one request of `ip`'s bucket.
    pub fn check(&self, ip: IpAddr) -> Verdict {
        let Some(buckets) = &self.buckets else {
            return Verdict::Unlimited;
        };
        let outcome = buckets.check_key(&address_key(ip));
        verdict(ADDRESS_POLICY, self.limit, outcome, self.clock.now())
    }

    /// Forgets addresses whose bucket is full again (they would start full anyway).
    pub fn forget_idle(&self) {
        if let Some(b) = &self.buckets {
            b.retain_recent();
            b.shrink_to_fit();
        }
    }

    pub fn tracked(&self) -> usize {
        self.buckets.as_ref().map_or(0, |b| b.len())
    }
}

/// The request's Bearer key, checked once per request: its SHA-256 and its tenant (`None`
/// for a key that is not valid).
#[derive(Debug, Clone)]
pub struct CheckedKey {
    pub hash: String,
    pub grant: Option<docintel_backend::keys::KeyGrant>,
}

/// The part of an address that identifies one client.
pub(crate) fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !((1u128 << 64) - 1))),
        },
        v4 => v4,
    }
}

/// Carries a request's verdict from the authentication extractor to the response.
#[derive(Clone, Default)]
pub struct VerdictSlot(pub Arc<Mutex<Option<Verdict>>>);

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_bucket_spends_then_refuses_with_a_retry_time() {
        let limits = Limits::new(
            Limit {
                quota: 3,
                window: Duration::from_secs(30),
            },
            [],
        );
        let t = TenantId(uuid::Uuid::now_v7());
        let mut remaining = Vec::new();
        for _ in 0..3 {
            match limits.check(t, "k").await {
                Verdict::Allowed { remaining: r, .. } => remaining.push(r),
                v => panic!("{v:?}"),
            }
        }
        assert_eq!(remaining, [2, 1, 0]);
        match limits.check(t, "k").await {
            Verdict::Limited {
                retry_after_secs, ..
            } => assert!((1..=10).contains(&retry_after_secs), "{retry_after_secs}"),
            v => panic!("{v:?}"),
        }
        // Another key has its own bucket.
        assert!(matches!(
            limits.check(t, "other").await,
            Verdict::Allowed { .. }
        ));
    }

    #[tokio::test]
    async fn tenants_get_their_own_limit_and_zero_is_unlimited() {
        let special = TenantId(uuid::Uuid::now_v7());
        let limits = Limits::new(
            Limit {
                quota: 1,
                window: Duration::from_secs(60),
            },
            [("0".parse::<Limit>().map(|l| (special, l)).unwrap())],
        );
        for _ in 0..100 {
            assert!(matches!(
                limits.check(special, "s").await,
                Verdict::Unlimited
            ));
        }
        let plain = TenantId(uuid::Uuid::now_v7());
        assert!(matches!(
            limits.check(plain, "p").await,
            Verdict::Allowed { .. }
        ));
        assert!(matches!(
            limits.check(plain, "p").await,
            Verdict::Limited { .. }
        ));
        assert_eq!("100/10".parse::<Limit>().unwrap().quota, 100);
        assert!("100".parse::<Limit>().is_err());
        assert!("5/0".parse::<Limit>().is_err());
    }

    #[tokio::test]
    async fn replicas_sharing_a_store_serve_one_quota_between_them() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn docintel_backend::store::Store> = Arc::new(
            docintel_backend::store::SqliteStore::open(&dir.path().join("d.db"))
                .await
                .unwrap(),
        );
        // A day's window: the test cannot straddle two windows but at midnight UTC.
        let limit = Limit {
            quota: 100,
            window: Duration::from_secs(86_400),
        };
        let replicas: Vec<Limits> = (0..3)
            .map(|_| {
                let mut l = Limits::new(limit, []);
                l.share_through(store.clone());
                l
            })
            .collect();
        let t = TenantId(uuid::Uuid::now_v7());
        let mut served = 0;
        for round in 0..100 {
            for (n, r) in replicas.iter().enumerate() {
                // Uneven demand: replica 0 is asked most.
                for _ in 0..=(2 - n) {
                    if matches!(r.check(t, "key").await, Verdict::Allowed { .. }) {
                        served += 1;
                    }
                }
            }
            let _ = round;
        }
        let slice = shared::slice_size(limit.quota);
        assert!(
            served <= limit.quota,
            "served {served} of a quota of {}",
            limit.quota
        );
        assert!(
            served >= limit.quota - 2 * slice,
            "served {served}: more was lost in unspent slices than the bound allows"
        );
        match replicas[2].check(t, "key").await {
            Verdict::Limited {
                retry_after_secs, ..
            } => assert!(retry_after_secs >= 1),
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn addresses_have_their_own_buckets_and_ipv6_counts_per_64() {
        let limits = IpLimits::new(Limit {
            quota: 2,
            window: Duration::from_secs(60),
        });
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let same_64: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other_64: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert!(matches!(limits.check(a), Verdict::Allowed { .. }));
        assert!(matches!(limits.check(same_64), Verdict::Allowed { .. }));
        assert!(matches!(limits.check(a), Verdict::Limited { .. }));
        assert!(matches!(limits.check(other_64), Verdict::Allowed { .. }));
        let v4: IpAddr = "192.0.2.1".parse().unwrap();
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert!(matches!(limits.check(v4), Verdict::Allowed { .. }));
        assert!(matches!(limits.check(mapped), Verdict::Allowed { .. }));
        assert!(matches!(limits.check(v4), Verdict::Limited { .. }));
        assert_eq!(limits.tracked(), 3);
        let off = IpLimits::new("off".parse().unwrap());
        assert!(matches!(off.check(v4), Verdict::Unlimited));
    }

    #[test]
    fn headers_use_the_draft_syntax() {
        let mut h = HeaderMap::new();
        Verdict::Allowed {
            policy: KEY_POLICY,
            limit: Limit {
                quota: 100,
                window: Duration::from_secs(10),
            },
            remaining: 50,
            reset_secs: 5,
        }
        .write_headers(&mut h);
        assert_eq!(h["ratelimit-policy"], "\"default\";q=100;w=10");
        assert_eq!(h["ratelimit"], "\"default\";r=50;t=5");
        assert!(!h.contains_key("retry-after"));
    }
}
