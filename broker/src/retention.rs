//! Retention: what the Pact Broker's `clean` task removes, so that history stays as long
//! as it is useful (<https://docs.pact.io/pact_broker/administration/maintenance>).
//!
//! Kept, per pacticipant: the latest version overall and the last `keep_latest`, the
//! latest per branch and per tag, those currently deployed or released, and those younger
//! than `max_age_days` (the Pact Broker's default keep selectors). Kept besides, so that
//! every selector and can-i-deploy answers as before for what is kept: each pair's latest
//! version with a pact overall and per branch and tag; each pacticipant's first version
//! per branch and tag (when a provider branch began decides pending); and the provider
//! versions whose successful verification is the evidence that a kept pact is not
//! pending: the latest per provider branch and tag, and the earliest of all. Everything else goes, oldest first: the versions, their pacts, a pact's
//! content and verifications once no version refers to it, the verifications the
//! versions made as providers, their ended deployments and releases.

use std::collections::{BTreeSet, HashMap, HashSet};

use time::OffsetDateTime;

use crate::records::{
    DEPLOYMENT, DEPLOYMENT_OWNER, Deployment, PACT, PACT_CONTENT, PactRef, RELEASE, Stored,
    TEST_RESULTS, VERIFICATION, VERSION, Verification, Version, split_pair,
};
use crate::{Broker, Result};

/// What to keep and how to delete.
#[derive(Debug, Clone)]
pub struct Retention {
    /// The last versions of each pacticipant kept whatever else holds (at least 1).
    pub keep_latest: usize,
    /// Versions created within this many days are kept; `None`: age keeps nothing.
    pub max_age_days: Option<u32>,
    /// Versions deleted per batch: each record is its own statement, and a batch's
    /// reads are bounded, so publishes proceed while a clean runs.
    pub batch: usize,
    /// Count only.
    pub dry_run: bool,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            keep_latest: 1,
            max_age_days: Some(90),
            batch: 500,
            dry_run: false,
        }
    }
}

/// What a clean deleted (or, dry, would delete) and kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cleaned {
    pub versions_kept: u64,
    pub versions: u64,
    pub pacts: u64,
    pub contents: u64,
    pub verifications: u64,
    pub deployments: u64,
    pub batches: u64,
}

/// The history, read once.
struct History {
    versions: HashMap<String, Vec<Stored<Version>>>,
    /// Per pair: version number → its pact.
    pacts: HashMap<String, HashMap<String, PactRef>>,
    /// Per pair, oldest first.
    verifications: HashMap<String, Vec<Stored<Verification>>>,
    deployments: Vec<(&'static str, Stored<Deployment>)>,
}

/// What a clean has done so far, per (pair, key).
#[derive(Default)]
struct Sweep {
    /// How many versions still refer to each pact content.
    referrers: HashMap<(String, String), usize>,
    /// The verifications deleted already.
    gone: HashSet<(String, String)>,
}

impl Broker {
    /// Deletes the history the Pact Broker's `clean` would, in batches.
    pub async fn clean(&self, retention: &Retention) -> Result<Cleaned> {
        let history = self.history().await?;
        let keep = self.kept(&history, retention);
        let mut cleaned = Cleaned::default();
        // (pacticipant, version), oldest first across pacticipants.
        let mut doomed: Vec<&Stored<Version>> = history
            .versions
            .values()
            .flatten()
            .filter(|v| !keep.contains(&(v.scope.clone(), v.key.clone())))
            .collect();
        doomed.sort_by_key(|v| v.seq);
        cleaned.versions_kept = history
            .versions
            .values()
            .map(|v| v.len() as u64)
            .sum::<u64>()
            - doomed.len() as u64;
        // Which versions still refer to each content, per pair.
        let mut sweep = Sweep::default();
        for (scope, pacts) in &history.pacts {
            for p in pacts.values() {
                *sweep
                    .referrers
                    .entry((scope.clone(), p.sha.clone()))
                    .or_default() += 1;
            }
        }
        for batch in doomed.chunks(retention.batch.max(1)) {
            for version in batch {
                self.clean_version(
                    &history,
                    version,
                    &mut sweep,
                    retention.dry_run,
                    &mut cleaned,
                )
                .await?;
            }
            cleaned.batches += 1;
            tracing::info!(
                batch = cleaned.batches,
                versions = cleaned.versions,
                dry_run = retention.dry_run,
                "broker clean: batch done"
            );
        }
        Ok(cleaned)
    }

    async fn history(&self) -> Result<History> {
        let mut versions: HashMap<String, Vec<Stored<Version>>> = HashMap::new();
        for v in self.records.list::<Version>(VERSION, None).await? {
            versions.entry(v.scope.clone()).or_default().push(v);
        }
        let mut pacts: HashMap<String, HashMap<String, PactRef>> = HashMap::new();
        for p in self.records.list::<PactRef>(PACT, None).await? {
            pacts.entry(p.scope).or_default().insert(p.key, p.value);
        }
        let mut verifications: HashMap<String, Vec<Stored<Verification>>> = HashMap::new();
        for v in self
            .records
            .list::<Verification>(VERIFICATION, None)
            .await?
        {
            verifications.entry(v.scope.clone()).or_default().push(v);
        }
        let mut deployments = Vec::new();
        for kind in [DEPLOYMENT, RELEASE] {
            for d in self.records.list::<Deployment>(kind, None).await? {
                deployments.push((kind, d));
            }
        }
        Ok(History {
            versions,
            pacts,
            verifications,
            deployments,
        })
    }

    /// The (pacticipant, version number)s kept.
    fn kept(&self, history: &History, retention: &Retention) -> HashSet<(String, String)> {
        let mut keep: HashSet<(String, String)> = HashSet::new();
        let young = retention
            .max_age_days
            .map(|days| OffsetDateTime::now_utc() - time::Duration::days(i64::from(days)));
        // When a provider's branch or tag began decides whether an earlier success counts.
        let providers: HashSet<&str> = history
            .pacts
            .keys()
            .filter_map(|scope| split_pair(scope).map(|(_, p)| p))
            .collect();
        for (name, versions) in &history.versions {
            let (mut first, latest) = labelled(versions.iter());
            if !providers.contains(name.as_str()) {
                first.clear();
            }
            let last = versions
                .iter()
                .rev()
                .take(retention.keep_latest.max(1))
                .map(|v| v.key.as_str());
            let recent = versions
                .iter()
                .filter(|v| {
                    young.is_some_and(|young| {
                        // A date that does not parse is not known to be old.
                        OffsetDateTime::parse(
                            &v.value.created_at,
                            &time::format_description::well_known::Rfc3339,
                        )
                        .map_or(true, |at| at >= young)
                    })
                })
                .map(|v| v.key.as_str());
            for number in first
                .into_values()
                .chain(latest.into_values())
                .chain(last)
                .chain(recent)
            {
                keep.insert((name.clone(), number.to_owned()));
            }
        }
        for (_, d) in &history.deployments {
            if d.value.current {
                keep.insert((d.scope.clone(), d.value.version.clone()));
            }
        }
        // Per pair, the consumer's latest version with a pact, overall and per branch
        // and tag: what "latest" selectors pick for the provider.
        for (scope, pacts) in &history.pacts {
            let Some((consumer, _)) = split_pair(scope) else {
                continue;
            };
            let with_pact: Vec<&Stored<Version>> = history
                .versions
                .get(consumer)
                .into_iter()
                .flatten()
                .filter(|v| pacts.contains_key(&v.key))
                .collect();
            let (_, latest) = labelled(with_pact.iter().copied());
            let overall = with_pact.last().map(|v| v.key.as_str());
            for number in latest.into_values().chain(overall) {
                keep.insert((consumer.to_owned(), number.to_owned()));
            }
        }
        // Pending is judged by successful verifications from the provider's branch or
        // tag: keep, per kept content and provider branch or tag, the latest provider
        // version that verified it.
        let mut kept_contents: BTreeSet<(String, String)> = BTreeSet::new();
        for (scope, pacts) in &history.pacts {
            let Some((consumer, _)) = split_pair(scope) else {
                continue;
            };
            for (number, p) in pacts {
                if keep.contains(&(consumer.to_owned(), number.clone())) {
                    kept_contents.insert((scope.clone(), p.sha.clone()));
                }
            }
        }
        let mut evidence: HashMap<(String, String, String), String> = HashMap::new();
        for (scope, verifications) in &history.verifications {
            let Some((_, provider)) = split_pair(scope) else {
                continue;
            };
            let provider_versions: HashMap<&str, &Version> = history
                .versions
                .get(provider)
                .into_iter()
                .flatten()
                .map(|v| (v.key.as_str(), &v.value))
                .collect();
            for v in verifications {
                if !kept_contents.contains(&(scope.clone(), v.value.sha.clone())) {
                    continue;
                }
                // The matrix without an environment shows a content's latest result.
                evidence.insert(
                    (scope.clone(), v.value.sha.clone(), "latest".to_owned()),
                    v.value.provider_version.clone(),
                );
                if !v.value.success {
                    continue;
                }
                // Oldest first: the first success stays the evidence for any branch begun
                // after it.
                evidence
                    .entry((scope.clone(), v.value.sha.clone(), "first".to_owned()))
                    .or_insert_with(|| v.value.provider_version.clone());
                let Some(pv) = provider_versions.get(v.value.provider_version.as_str()) else {
                    continue;
                };
                let names = pv
                    .branches
                    .iter()
                    .map(|b| format!("b:{b}"))
                    .chain(pv.tags.iter().map(|t| format!("t:{t}")))
                    // A verification from no branch nor tag answers pending without one.
                    .chain(std::iter::once(String::new()));
                for name in names {
                    evidence.insert(
                        (scope.clone(), v.value.sha.clone(), name),
                        v.value.provider_version.clone(),
                    );
                }
            }
        }
        for ((scope, _, _), number) in evidence {
            if let Some((_, provider)) = split_pair(&scope) {
                keep.insert((provider.to_owned(), number));
            }
        }
        keep
    }

    /// Deletes one version and what only it held.
    async fn clean_version(
        &self,
        history: &History,
        version: &Stored<Version>,
        sweep: &mut Sweep,
        dry_run: bool,
        cleaned: &mut Cleaned,
    ) -> Result<()> {
        let (name, number) = (version.scope.as_str(), version.key.as_str());
        let delete = |kind: &'static str, scope: String, key: String| async move {
            if dry_run {
                Ok(1)
            } else {
                self.records.delete(kind, &scope, Some(&key)).await
            }
        };
        // Its pacts as a consumer, and a content no kept version refers to any more.
        for (scope, pacts) in &history.pacts {
            if split_pair(scope).is_none_or(|(c, _)| c != name) {
                continue;
            }
            let Some(pact) = pacts.get(number) else {
                continue;
            };
            cleaned.pacts += delete(PACT, scope.clone(), number.to_owned()).await?;
            let left = sweep
                .referrers
                .entry((scope.clone(), pact.sha.clone()))
                .or_default();
            *left = left.saturating_sub(1);
            if *left == 0 {
                cleaned.contents += delete(PACT_CONTENT, scope.clone(), pact.sha.clone()).await?;
                for v in history.verifications.get(scope).into_iter().flatten() {
                    if v.value.sha == pact.sha && sweep.gone.insert((scope.clone(), v.key.clone()))
                    {
                        cleaned.verifications +=
                            delete(VERIFICATION, scope.clone(), v.key.clone()).await?;
                        delete(TEST_RESULTS, scope.clone(), v.key.clone()).await?;
                    }
                }
            }
        }
        // The verifications it made as a provider.
        for (scope, verifications) in &history.verifications {
            if split_pair(scope).is_none_or(|(_, p)| p != name) {
                continue;
            }
            for v in verifications {
                if v.value.provider_version == number
                    && sweep.gone.insert((scope.clone(), v.key.clone()))
                {
                    cleaned.verifications +=
                        delete(VERIFICATION, scope.clone(), v.key.clone()).await?;
                    delete(TEST_RESULTS, scope.clone(), v.key.clone()).await?;
                }
            }
        }
        for (kind, d) in &history.deployments {
            if d.scope == name && d.value.version == number {
                cleaned.deployments += delete(kind, d.scope.clone(), d.key.clone()).await?;
                delete(DEPLOYMENT_OWNER, (*kind).to_owned(), d.key.clone()).await?;
            }
        }
        if !dry_run {
            self.forget_provider_contracts(name, Some(number)).await?;
        }
        cleaned.versions += delete(VERSION, name.to_owned(), number.to_owned()).await?;
        Ok(())
    }
}

/// The first and the latest of `versions` (oldest first) per branch ("b:NAME") and tag
/// ("t:NAME"), by number.
fn labelled<'a>(
    versions: impl Iterator<Item = &'a Stored<Version>>,
) -> (HashMap<String, &'a str>, HashMap<String, &'a str>) {
    let (mut first, mut latest) = (HashMap::new(), HashMap::new());
    for v in versions {
        let labels = v.value.branches.iter().map(|b| format!("b:{b}"));
        for label in labels.chain(v.value.tags.iter().map(|t| format!("t:{t}"))) {
            first.entry(label.clone()).or_insert(v.key.as_str());
            latest.insert(label, v.key.as_str());
        }
    }
    (first, latest)
}
