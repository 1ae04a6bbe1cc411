//! The admission gate: places for requests served at once, per client address, and
//! for the operator's probes.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::limits::ServeLimits;
use crate::error::ApiError;

/// What the operator probes (see [`crate::ops_app`]): served with places of their own.
const PROBE_PATHS: [&str; 3] = ["/healthz", "/readyz", "/metrics"];

/// Places for probes. They are cheap and few; the bound only stops a flood of them from
/// being a way around [`ServeLimits::max_in_flight`].
const PROBE_SLOTS: usize = 32;

/// Requests in flight per client address.
struct PerAddress {
    cap: usize,
    counts: Mutex<HashMap<IpAddr, usize>>,
}

/// One request's place in its address's count, given back on drop.
struct AddressSlot {
    owner: Arc<PerAddress>,
    key: IpAddr,
}

impl PerAddress {
    fn enter(self: &Arc<Self>, ip: IpAddr) -> Option<AddressSlot> {
        let key = crate::ratelimit::address_key(ip);
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let n = counts.entry(key).or_insert(0);
        if *n >= self.cap {
            return None;
        }
        *n += 1;
        Some(AddressSlot {
            owner: self.clone(),
            key,
        })
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut counts = self
            .owner
            .counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = counts.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.remove(&self.key);
            }
        }
    }
}

/// Who may be served now: places overall, per address, and for probes.
pub(super) struct Gate {
    in_flight: Arc<Semaphore>,
    probes: Arc<Semaphore>,
    per_address: Option<Arc<PerAddress>>,
}

/// What an admitted request holds until its answer is ready.
pub(super) struct Admitted {
    _address: Option<AddressSlot>,
    _permit: OwnedSemaphorePermit,
}

impl Gate {
    pub(super) fn new(limits: &ServeLimits) -> Self {
        Self {
            in_flight: Arc::new(Semaphore::new(limits.max_in_flight.max(1))),
            probes: Arc::new(Semaphore::new(PROBE_SLOTS)),
            per_address: (limits.max_in_flight_per_address > 0).then(|| {
                Arc::new(PerAddress {
                    cap: limits.max_in_flight_per_address,
                    counts: Mutex::new(HashMap::new()),
                })
            }),
        }
    }

    pub(super) fn admit(&self, path: &str, peer: IpAddr) -> Result<Admitted, ApiError> {
        if PROBE_PATHS.contains(&path) {
            let permit = self
                .probes
                .clone()
                .try_acquire_owned()
                .map_err(|_| ApiError::Overloaded(1))?;
            return Ok(Admitted {
                _address: None,
                _permit: permit,
            });
        }
        // The address's own cap first: a refused request takes no place overall.
        let address = match &self.per_address {
            Some(per_address) => {
                Some(per_address.enter(peer).ok_or(ApiError::TooManyInFlight {
                    limit: per_address.cap,
                })?)
            }
            None => None,
        };
        let permit = self
            .in_flight
            .clone()
            .try_acquire_owned()
            .map_err(|_| ApiError::Overloaded(1))?;
        Ok(Admitted {
            _address: address,
            _permit: permit,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max_in_flight: usize, per_address: usize) -> ServeLimits {
        ServeLimits {
            max_in_flight,
            max_in_flight_per_address: per_address,
            ..ServeLimits::default()
        }
    }

    #[test]
    fn one_address_cannot_take_every_place() {
        let gate = Gate::new(&limits(4, 2));
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let first = gate.admit("/registry/subjects/x/versions", a).unwrap();
        let _second = gate.admit("/registry/subjects/x/versions", a).unwrap();
        let refused = gate.admit("/registry/subjects/x/versions", a).err();
        assert!(
            matches!(refused, Some(ApiError::TooManyInFlight { limit: 2 })),
            "{refused:?}"
        );
        // Another address still gets in, and the first gets its place back.
        let _other = gate.admit("/v2/documents", b).unwrap();
        drop(first);
        assert!(gate.admit("/v2/documents", a).is_ok());
        // One /64 is one client.
        let v6 = |s: &str| s.parse::<IpAddr>().unwrap();
        let _x = gate.admit("/", v6("2001:db8::1")).unwrap();
        let _y = gate.admit("/", v6("2001:db8::2")).unwrap();
        assert!(gate.admit("/", v6("2001:db8::3")).is_err());
    }

    #[test]
    fn probes_are_answered_when_every_place_is_taken() {
        let gate = Gate::new(&limits(2, 0));
        let held: Vec<_> = ["10.0.0.1", "10.0.0.2"]
            .iter()
            .map(|ip| gate.admit("/v2/documents", ip.parse().unwrap()).unwrap())
            .collect();
        let ip: IpAddr = "10.0.0.3".parse().unwrap();
        assert!(matches!(
            gate.admit("/v2/documents", ip),
            Err(ApiError::Overloaded(1))
        ));
        for probe in PROBE_PATHS {
            assert!(gate.admit(probe, ip).is_ok(), "{probe}");
        }
        drop(held);
        assert!(gate.admit("/v2/documents", ip).is_ok());
    }

    #[test]
    fn no_cap_per_address_when_it_is_off() {
        let gate = Gate::new(&limits(3, 0));
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let held: Vec<_> = (0..3).map(|_| gate.admit("/", a).unwrap()).collect();
        assert_eq!(held.len(), 3);
        assert!(matches!(gate.admit("/", a), Err(ApiError::Overloaded(1))));
    }
}
