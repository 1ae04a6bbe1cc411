//! What the pages and badges show: each integration's latest pact and whether it has
//! been verified, read from the pacts' and verifications' records without their content.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::records::{self, PactRef, Stored, Verification, Version, pair, split_pair};
use crate::{Broker, MatrixSelector, Pact, Result};

/// Whether a pact's content has been verified, as a badge shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PactStatus {
    /// The latest verification of the content succeeded.
    Verified,
    /// The latest verification of the content failed.
    Failed,
    /// No verification of the content (or no such pact).
    Unknown,
}

impl PactStatus {
    /// The Pact Broker's badge wording.
    pub fn label(self) -> &'static str {
        match self {
            Self::Verified => "verified",
            Self::Failed => "failed",
            Self::Unknown => "unknown",
        }
    }

    fn of(verification: Option<&Verification>) -> Self {
        match verification.map(|v| v.success) {
            Some(true) => Self::Verified,
            Some(false) => Self::Failed,
            None => Self::Unknown,
        }
    }
}

/// A consumer version's pact, without its content, and the latest verification of that
/// content.
#[derive(Debug, Clone)]
pub struct LatestPact {
    pub consumer: String,
    pub provider: String,
    pub consumer_version: String,
    pub sha: String,
    pub created_at: String,
    pub status: PactStatus,
    pub verification: Option<Verification>,
}

/// A consumer–provider pair with a pact: its latest pact.
pub type Integration = LatestPact;

/// One line of a pair's matrix: a consumer version's pact and one verification of it
/// (or none yet).
#[derive(Debug, Clone)]
pub struct PairRow {
    pub consumer_version: Version,
    pub pact_sha: String,
    pub pact_created_at: String,
    pub provider_version: Option<Version>,
    pub verification: Option<Verification>,
}

impl PairRow {
    pub fn status(&self) -> PactStatus {
        PactStatus::of(self.verification.as_ref())
    }
}

/// Whether a version is one a selector's version, branch and tag pick.
fn picks(s: &MatrixSelector, v: &Version) -> bool {
    s.version.as_ref().is_none_or(|n| &v.number == n)
        && s.branch.as_ref().is_none_or(|b| v.branches.contains(b))
        && s.tag.as_ref().is_none_or(|t| v.tags.contains(t))
}

impl Broker {
    /// The integrations in name order, at most `limit` of them, and how many there are:
    /// the rest are not read at all, so the cost is the shown pairs' history.
    pub async fn integrations(&self, limit: usize) -> Result<(Vec<Integration>, usize)> {
        let mut scopes = self.records.pairs(records::PACT, |_, _| true).await?;
        scopes.sort();
        let total = scopes.len();
        scopes.truncate(limit);
        let mut latest: BTreeMap<String, Stored<PactRef>> = BTreeMap::new();
        // Oldest first: a later pact replaces an earlier one.
        for p in self
            .records
            .list_in::<PactRef>(records::PACT, &scopes)
            .await?
        {
            latest.insert(p.scope.clone(), p);
        }
        let mut verified: BTreeMap<(String, String), Verification> = BTreeMap::new();
        for v in self
            .records
            .list_in::<Verification>(records::VERIFICATION, &scopes)
            .await?
        {
            verified.insert((v.scope, v.value.sha.clone()), v.value);
        }
        Ok((
            latest
                .into_values()
                .filter_map(|p| {
                    let (consumer, provider) = split_pair(&p.scope)?;
                    let verification = verified.remove(&(p.scope.clone(), p.value.sha.clone()));
                    Some(LatestPact {
                        consumer: consumer.to_owned(),
                        provider: provider.to_owned(),
                        consumer_version: p.key,
                        sha: p.value.sha,
                        created_at: p.value.created_at,
                        status: PactStatus::of(verification.as_ref()),
                        verification,
                    })
                })
                .collect(),
            total,
        ))
    }

    /// The latest pact of the pair (of the consumer versions with `tag`, when given) and
    /// its status, counting only the verifications by provider versions with
    /// `provider_tag`, when given; `None` when there is no such pact.
    pub async fn latest_pact(
        &self,
        consumer: &str,
        provider: &str,
        tag: Option<&str>,
        provider_tag: Option<&str>,
    ) -> Result<Option<LatestPact>> {
        let scope = pair(consumer, provider);
        let tagged = match tag {
            Some(t) => Some(self.tagged(consumer, t).await?),
            None => None,
        };
        let Some(p) = self
            .records
            .list::<PactRef>(records::PACT, Some(&scope))
            .await?
            .into_iter()
            .rfind(|p| tagged.as_ref().is_none_or(|t| t.contains(&p.key)))
        else {
            return Ok(None);
        };
        self.with_status(consumer, provider, p.key, p.value, provider_tag)
            .await
            .map(Some)
    }

    /// A consumer version's pact and its status; `None` when it published none.
    pub async fn version_pact(
        &self,
        consumer: &str,
        provider: &str,
        number: &str,
    ) -> Result<Option<LatestPact>> {
        let Some(p) = self
            .records
            .get::<PactRef>(records::PACT, &pair(consumer, provider), number)
            .await?
        else {
            return Ok(None);
        };
        self.with_status(consumer, provider, p.key, p.value, None)
            .await
            .map(Some)
    }

    /// A pact with the latest verification of its content (by a provider version with
    /// `provider_tag`, when given).
    async fn with_status(
        &self,
        consumer: &str,
        provider: &str,
        number: String,
        pact: PactRef,
        provider_tag: Option<&str>,
    ) -> Result<LatestPact> {
        let by = match provider_tag {
            Some(t) => Some(self.tagged(provider, t).await?),
            None => None,
        };
        let verification = self
            .records
            .list::<Verification>(records::VERIFICATION, Some(&pair(consumer, provider)))
            .await?
            .into_iter()
            .map(|v| v.value)
            .rfind(|v| {
                v.sha == pact.sha && by.as_ref().is_none_or(|b| b.contains(&v.provider_version))
            });
        Ok(LatestPact {
            consumer: consumer.to_owned(),
            provider: provider.to_owned(),
            consumer_version: number,
            sha: pact.sha,
            created_at: pact.created_at,
            status: PactStatus::of(verification.as_ref()),
            verification,
        })
    }

    /// The latest pact's content, for its page.
    pub async fn latest_pact_content(&self, latest: &LatestPact) -> Result<Pact> {
        let content = self
            .content(&latest.consumer, &latest.provider, &latest.sha)
            .await?;
        Ok(Pact {
            consumer: latest.consumer.clone(),
            provider: latest.provider.clone(),
            consumer_version: latest.consumer_version.clone(),
            sha: latest.sha.clone(),
            content,
            created_at: latest.created_at.clone(),
        })
    }

    /// A pair's matrix, newest consumer version first: each pact of a consumer version
    /// `consumer` picks, with each verification of it by a provider version `provider`
    /// picks (`latest`: only the latest such version on each side), or one unverified
    /// line; at most `limit` lines, and whether there are more. Reads the pair's history
    /// once, and stops at the limit: many consumer versions sharing one content (each
    /// with all its results) cannot multiply the work.
    pub async fn pair_matrix(
        &self,
        consumer: &MatrixSelector,
        provider: &MatrixSelector,
        limit: usize,
    ) -> Result<(Vec<PairRow>, bool)> {
        self.pacticipant(&consumer.pacticipant).await?;
        self.pacticipant(&provider.pacticipant).await?;
        let scope = pair(&consumer.pacticipant, &provider.pacticipant);
        let by_number = |versions: Vec<Stored<Version>>| -> HashMap<String, Version> {
            versions
                .into_iter()
                .map(|v| (v.value.number.clone(), v.value))
                .collect()
        };
        let consumer_versions = by_number(self.versions(&consumer.pacticipant).await?);
        let provider_versions = by_number(self.versions(&provider.pacticipant).await?);
        let mut verifications: HashMap<String, Vec<Verification>> = HashMap::new();
        for v in self
            .records
            .list::<Verification>(records::VERIFICATION, Some(&scope))
            .await?
        {
            verifications
                .entry(v.value.sha.clone())
                .or_default()
                .push(v.value);
        }
        let mut rows = Vec::new();
        let pacts = self
            .records
            .list::<PactRef>(records::PACT, Some(&scope))
            .await?;
        for p in pacts.iter().rev() {
            let Some(cv) = consumer_versions.get(&p.key).filter(|v| picks(consumer, v)) else {
                continue;
            };
            let mut verified: Vec<Option<&Verification>> = verifications
                .get(&p.value.sha)
                .map(|list| {
                    list.iter()
                        .rev()
                        .filter(|v| {
                            provider_versions
                                .get(&v.provider_version)
                                .is_some_and(|pv| picks(provider, pv))
                        })
                        .map(Some)
                        .collect()
                })
                .unwrap_or_default();
            // The latest result of each provider version only.
            let mut seen = HashSet::new();
            verified.retain(|v| v.is_some_and(|v| seen.insert(v.provider_version.clone())));
            if provider.latest {
                verified.truncate(1);
            }
            let row = |v: Option<&Verification>| PairRow {
                consumer_version: cv.clone(),
                pact_sha: p.value.sha.clone(),
                pact_created_at: p.value.created_at.clone(),
                provider_version: v
                    .and_then(|v| provider_versions.get(&v.provider_version).cloned()),
                verification: v.cloned(),
            };
            if verified.is_empty() {
                verified.push(None);
            }
            for v in verified {
                if rows.len() == limit {
                    return Ok((rows, true));
                }
                rows.push(row(v));
            }
            if consumer.latest {
                break;
            }
        }
        Ok((rows, false))
    }

    /// The numbers of `pacticipant`'s versions with `tag`.
    async fn tagged(&self, pacticipant: &str, tag: &str) -> Result<HashSet<String>> {
        Ok(self
            .versions(pacticipant)
            .await?
            .into_iter()
            .filter(|v| v.value.tags.iter().any(|t| t == tag))
            .map(|v| v.value.number)
            .collect())
    }
}
