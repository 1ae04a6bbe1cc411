//! What one tenant may keep in the broker. Usage is counted from what is stored, so an
//! operator's deletes give room back, and only when a write would create something: a
//! republished pact or a repeated verification costs no count.

use std::collections::HashSet;

use crate::records::{self, Pacticipant};
use crate::{Broker, BrokerError, Caller, Result};

/// The most one tenant keeps (admin keys are not counted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// Pacticipants it owns, or first named in its pacts while nobody owns them.
    pub pacticipants: u64,
    /// Versions of those pacticipants.
    pub versions: u64,
    /// Pacts they published (one per consumer version and provider).
    pub pacts: u64,
    /// Bytes of pact content, of verification results they made as providers, and of the
    /// OpenAPI documents they published as providers.
    pub bytes: u64,
}

pub const TENANT_QUOTA: Quota = Quota {
    pacticipants: 100,
    versions: 10_000,
    pacts: 10_000,
    bytes: 256 * 1024 * 1024,
};

impl std::str::FromStr for Quota {
    type Err = String;

    /// `pacticipants=N,versions=N,pacts=N,bytes=N` (bytes also with a `KiB`, `MiB` or
    /// `GiB` suffix); a key left out keeps [`TENANT_QUOTA`]'s value.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let mut quota = TENANT_QUOTA;
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| format!("{part:?}: expected key=value"))?;
            let (digits, unit) = match value.trim() {
                v if key == "bytes" => [("KiB", 1u64 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30)]
                    .into_iter()
                    .find_map(|(suffix, unit)| v.strip_suffix(suffix).map(|d| (d, unit)))
                    .unwrap_or((v, 1)),
                v => (v, 1),
            };
            let n = digits
                .trim()
                .parse::<u64>()
                .ok()
                .and_then(|n| n.checked_mul(unit))
                .ok_or_else(|| format!("{part:?}: not a whole number"))?;
            match key.trim() {
                "pacticipants" => quota.pacticipants = n,
                "versions" => quota.versions = n,
                "pacts" => quota.pacts = n,
                "bytes" => quota.bytes = n,
                other => {
                    return Err(format!(
                        "unknown quota {other:?}: pacticipants, versions, pacts or bytes"
                    ));
                }
            }
        }
        Ok(quota)
    }
}

/// The most contracts one publication may carry.
pub const MAX_CONTRACTS: usize = 50;

/// What a tenant keeps, or what a write adds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub pacticipants: u64,
    pub versions: u64,
    pub pacts: u64,
    pub bytes: u64,
}

impl Usage {
    pub fn is_empty(&self) -> bool {
        *self == Usage::default()
    }
}

fn counts_against(p: &Pacticipant, tenant: &str) -> bool {
    match &p.owner {
        Some(owner) => owner == tenant,
        None => p.named_by.as_deref() == Some(tenant),
    }
}

impl Broker {
    /// What `tenant` keeps in the broker, in a fixed number of queries.
    pub async fn usage(&self, tenant: &str) -> Result<Usage> {
        let names: Vec<String> = self
            .pacticipants()
            .await?
            .into_iter()
            .filter(|p| counts_against(p, tenant))
            .map(|p| p.name)
            .collect();
        let mine: HashSet<&str> = names.iter().map(String::as_str).collect();
        let store = &self.records.0;
        let (versions, _) = store.broker_usage(records::VERSION, &names).await?;
        let published = self
            .records
            .pairs(records::PACT, |c, _| mine.contains(c))
            .await?;
        let (pacts, _) = store.broker_usage(records::PACT, &published).await?;
        let (_, content) = store
            .broker_usage(records::PACT_CONTENT, &published)
            .await?;
        let verified = self
            .records
            .pairs(records::VERIFICATION, |_, p| mine.contains(p))
            .await?;
        let (_, verifications) = store.broker_usage(records::VERIFICATION, &verified).await?;
        let (_, results) = store.broker_usage(records::TEST_RESULTS, &verified).await?;
        let (_, documents) = store
            .broker_usage(crate::PROVIDER_CONTRACT_CONTENT, &names)
            .await?;
        Ok(Usage {
            pacticipants: names.len() as u64,
            versions,
            pacts,
            bytes: content + verifications + results + documents,
        })
    }

    /// Refuses a write that would take the caller's tenant past its quota.
    /// Concurrent writes of one tenant may each pass before the other lands, so a tenant
    /// can exceed its quota by at most what it writes at once.
    pub(crate) async fn make_room(&self, caller: Caller, adding: Usage) -> Result<()> {
        if caller.admin || adding.is_empty() {
            return Ok(());
        }
        let used = self.usage(&caller.tenant.to_string()).await?;
        let q = self.quota;
        for (what, used, adding, limit) in [
            (
                "pacticipants",
                used.pacticipants,
                adding.pacticipants,
                q.pacticipants,
            ),
            ("versions", used.versions, adding.versions, q.versions),
            ("pacts", used.pacts, adding.pacts, q.pacts),
            (
                "bytes of pacts and results",
                used.bytes,
                adding.bytes,
                q.bytes,
            ),
        ] {
            if adding > 0 && used.saturating_add(adding) > limit {
                return Err(BrokerError::QuotaExceeded(format!(
                    "this team keeps {used} {what} in the broker and may keep at most {limit}; \
                     an operator deletes old versions or pacticipants to make room"
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quota_reads_as_documented() {
        assert_eq!("".parse::<Quota>(), Ok(TENANT_QUOTA));
        let q: Quota = "versions=50, bytes=2MiB".parse().unwrap();
        assert_eq!(
            q,
            Quota {
                versions: 50,
                bytes: 2 << 20,
                ..TENANT_QUOTA
            }
        );
        assert_eq!("pacts=7".parse::<Quota>().unwrap().pacts, 7);
        for bad in [
            "versions",
            "versions=x",
            "tags=3",
            "pacts=2MiB",
            "bytes=99999999999GiB",
        ] {
            assert!(bad.parse::<Quota>().is_err(), "{bad:?}");
        }
    }
}
