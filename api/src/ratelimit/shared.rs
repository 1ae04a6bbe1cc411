//! Request quotas shared by API replicas on one database. Each key's quota is counted
//! per fixed window in the database; a replica leases a slice of it at a time and
//! serves from the slice in memory, so the hot path stays a map lookup and the
//! database sees one round trip per slice.
//!
//! The bound: across all replicas a key is served at most `quota` requests per window
//! (slices are cut so the window's total never passes it). A replica's unspent slice is
//! lost when the window ends, so a key may be refused after `quota - (replicas - 1) ×
//! slice` requests at worst. Windows are fixed (aligned to the epoch), so across a
//! boundary a burst of up to 2 × quota in one window's length is possible, as with any
//! fixed-window counter. Windows follow each replica's clock: keep clocks in sync.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use docintel_backend::store::Store;
use time::OffsetDateTime;

use super::{KEY_POLICY, Limit, Verdict};

/// How many requests a replica leases at once: a twentieth of the quota, at most 50.
pub fn slice_size(quota: u32) -> u32 {
    (quota / 20).clamp(1, 50)
}

/// The slices this replica holds, per key.
pub struct SharedQuotas {
    store: Arc<dyn Store>,
    slices: Mutex<HashMap<String, Slice>>,
}

struct Slice {
    window_start: i64,
    left: u32,
    /// What the window had handed out in all at the last lease.
    granted: u32,
}

/// Keys tracked before windows that have ended are dropped.
const MAX_TRACKED: usize = 10_000;

impl SharedQuotas {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            slices: Mutex::new(HashMap::new()),
        }
    }

    /// Spends one request of `key_hash` under `limit` (not unlimited); `Err` when the
    /// database could not be asked (the caller falls back to this replica's own bucket).
    pub async fn check(
        &self,
        key_hash: &str,
        limit: Limit,
    ) -> Result<Verdict, docintel_backend::Error> {
        let window_ms = i64::try_from(limit.window.as_millis())
            .unwrap_or(i64::MAX)
            .max(1);
        let now = (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
        let window_start = now - now.rem_euclid(window_ms);
        let reset_secs = ((window_start + window_ms - now) as u64)
            .div_ceil(1000)
            .max(1);
        let allowed = |left: u32, granted: u32| Verdict::Allowed {
            policy: KEY_POLICY,
            limit,
            remaining: limit.quota.saturating_sub(granted) + left,
            reset_secs,
        };
        let limited = Verdict::Limited {
            policy: KEY_POLICY,
            limit,
            retry_after_secs: reset_secs,
        };
        if let Ok(mut slices) = self.slices.lock()
            && let Some(slice) = slices.get_mut(key_hash)
            && slice.window_start == window_start
        {
            if slice.left > 0 {
                slice.left -= 1;
                return Ok(allowed(slice.left, slice.granted));
            }
            if slice.granted >= limit.quota {
                return Ok(limited);
            }
        }
        let lease = self
            .store
            .lease_quota(key_hash, window_start, slice_size(limit.quota), limit.quota)
            .await?;
        let Ok(mut slices) = self.slices.lock() else {
            return Ok(limited);
        };
        if slices.len() >= MAX_TRACKED {
            slices.retain(|_, s| s.window_start == window_start);
        }
        let slice = slices.entry(key_hash.to_owned()).or_insert(Slice {
            window_start,
            left: 0,
            granted: 0,
        });
        if slice.window_start != window_start {
            *slice = Slice {
                window_start,
                left: 0,
                granted: 0,
            };
        }
        // Concurrent requests of one key may each have leased: their slices add up.
        slice.left += lease.got;
        slice.granted = slice.granted.max(lease.granted);
        if slice.left == 0 {
            return Ok(limited);
        }
        slice.left -= 1;
        Ok(allowed(slice.left, slice.granted))
    }
}
