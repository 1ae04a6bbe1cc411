//! Request rate limits per API key: a token bucket (GCRA, from governor) whose size and
//! window come from the key's tenant (or the server default). Answers carry the IETF
//! draft's `RateLimit-Policy` and `RateLimit` headers; a refusal is `429` with
//! `Retry-After`.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue};
use docintel_backend::model::TenantId;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};

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

type Bucket = RateLimiter<NotKeyed, InMemoryState, DefaultClock, StateInformationMiddleware>;

/// What a check decided, and what the headers say.
#[derive(Debug, Clone, Copy)]
pub enum Verdict {
    Unlimited,
    Allowed {
        limit: Limit,
        remaining: u32,
        reset_secs: u64,
    },
    Limited {
        limit: Limit,
        retry_after_secs: u64,
    },
}

impl Verdict {
    /// Adds `RateLimit-Policy`, `RateLimit` and (when limited) `Retry-After`.
    pub fn write_headers(&self, headers: &mut HeaderMap) {
        let (limit, remaining, reset) = match *self {
            Verdict::Unlimited => return,
            Verdict::Allowed {
                limit,
                remaining,
                reset_secs,
            } => (limit, remaining, reset_secs),
            Verdict::Limited {
                limit,
                retry_after_secs,
            } => {
                if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                    headers.insert("retry-after", v);
                }
                (limit, 0, retry_after_secs)
            }
        };
        let policy = format!("\"default\";q={};w={}", limit.quota, limit.window.as_secs());
        let state = format!("\"default\";r={remaining};t={reset}");
        if let (Ok(p), Ok(s)) = (
            HeaderValue::from_str(&policy),
            HeaderValue::from_str(&state),
        ) {
            headers.insert("ratelimit-policy", p);
            headers.insert("ratelimit", s);
        }
    }
}

/// The buckets of every key seen, and the limits of tenants that have their own.
pub struct Limits {
    default: Limit,
    per_tenant: RwLock<HashMap<TenantId, Limit>>,
    buckets: Mutex<HashMap<String, (Limit, Arc<Bucket>)>>,
    clock: DefaultClock,
}

impl Limits {
    pub fn new(default: Limit, per_tenant: impl IntoIterator<Item = (TenantId, Limit)>) -> Self {
        Self {
            default,
            per_tenant: RwLock::new(per_tenant.into_iter().collect()),
            buckets: Mutex::new(HashMap::new()),
            clock: DefaultClock::default(),
        }
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
    pub fn check(&self, tenant: TenantId, key_hash: &str) -> Verdict {
        let limit = self
            .per_tenant
            .read()
            .ok()
            .and_then(|m| m.get(&tenant).copied())
            .unwrap_or(self.default);
        let (Some(quota), Some(period)) = (NonZeroU32::new(limit.quota), Some(limit.period()))
        else {
            return Verdict::Unlimited;
        };
        let bucket = {
            let Ok(mut buckets) = self.buckets.lock() else {
                return Verdict::Unlimited;
            };
            match buckets.get(key_hash) {
                Some((l, b)) if *l == limit => b.clone(),
                _ => {
                    let q = Quota::with_period(period)
                        .unwrap_or_else(|| Quota::per_second(quota))
                        .allow_burst(quota);
                    let b = Arc::new(
                        RateLimiter::direct_with_clock(q, self.clock.clone())
                            .with_middleware::<StateInformationMiddleware>(),
                    );
                    buckets.insert(key_hash.to_owned(), (limit, b.clone()));
                    b
                }
            }
        };
        match bucket.check() {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                let empty = limit.quota.saturating_sub(remaining);
                Verdict::Allowed {
                    limit,
                    remaining,
                    reset_secs: (period * empty).as_secs_f64().ceil() as u64,
                }
            }
            Err(not_until) => Verdict::Limited {
                limit,
                retry_after_secs: not_until
                    .wait_time_from(self.clock.now())
                    .as_secs_f64()
                    .ceil()
                    .max(1.0) as u64,
            },
        }
    }
}

/// Carries a request's verdict from the authentication extractor to the response.
#[derive(Clone, Default)]
pub struct VerdictSlot(pub Arc<Mutex<Option<Verdict>>>);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_spends_then_refuses_with_a_retry_time() {
        let limits = Limits::new(
            Limit {
                quota: 3,
                window: Duration::from_secs(30),
            },
            [],
        );
        let t = TenantId(uuid::Uuid::now_v7());
        let remaining: Vec<u32> = (0..3)
            .map(|_| match limits.check(t, "k") {
                Verdict::Allowed { remaining, .. } => remaining,
                v => panic!("{v:?}"),
            })
            .collect();
        assert_eq!(remaining, [2, 1, 0]);
        match limits.check(t, "k") {
            Verdict::Limited {
                retry_after_secs, ..
            } => assert!((1..=10).contains(&retry_after_secs), "{retry_after_secs}"),
            v => panic!("{v:?}"),
        }
        // Another key has its own bucket.
        assert!(matches!(limits.check(t, "other"), Verdict::Allowed { .. }));
    }

    #[test]
    fn tenants_get_their_own_limit_and_zero_is_unlimited() {
        let special = TenantId(uuid::Uuid::now_v7());
        let limits = Limits::new(
            Limit {
                quota: 1,
                window: Duration::from_secs(60),
            },
            [("0".parse::<Limit>().map(|l| (special, l)).unwrap())],
        );
        for _ in 0..100 {
            assert!(matches!(limits.check(special, "s"), Verdict::Unlimited));
        }
        let plain = TenantId(uuid::Uuid::now_v7());
        assert!(matches!(limits.check(plain, "p"), Verdict::Allowed { .. }));
        assert!(matches!(limits.check(plain, "p"), Verdict::Limited { .. }));
        assert_eq!("100/10".parse::<Limit>().unwrap().quota, 100);
        assert!("100".parse::<Limit>().is_err());
        assert!("5/0".parse::<Limit>().is_err());
    }

    #[test]
    fn headers_use_the_draft_syntax() {
        let mut h = HeaderMap::new();
        Verdict::Allowed {
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
