//! "Pacts for verification": which pacts a provider build verifies, chosen by consumer
//! version selectors, with their pending and work-in-progress status, as
//! <https://docs.pact.io/pact_broker/advanced_topics/consumer_version_selectors> and
//! <https://docs.pact.io/pact_broker/advanced_topics/pending_pacts> define them.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::Deserialize;
use time::OffsetDateTime;

use crate::records::{self, Deployment, Environment, PactRef, Stored, Verification, Version};
use crate::{Broker, BrokerError, Result};

/// `POST /pacts/provider/P/for-verification`'s body.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "camelCase")]
pub struct ForVerification {
    #[serde(default)]
    pub provider_version_branch: Option<String>,
    #[serde(default)]
    pub provider_version_tags: Vec<String>,
    #[serde(default)]
    pub consumer_version_selectors: Vec<Selector>,
    #[serde(default)]
    pub include_pending_status: bool,
    #[serde(default)]
    pub include_wip_pacts_since: Option<String>,
}

/// One consumer version selector.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "camelCase")]
pub struct Selector {
    pub main_branch: Option<bool>,
    pub branch: Option<String>,
    pub fallback_branch: Option<String>,
    pub matching_branch: Option<bool>,
    pub tag: Option<String>,
    pub fallback_tag: Option<String>,
    pub latest: Option<bool>,
    pub consumer: Option<String>,
    pub deployed_or_released: Option<bool>,
    pub deployed: Option<bool>,
    pub released: Option<bool>,
    pub environment: Option<String>,
}

/// A pact to verify: one pact content, however many selected consumer versions share it.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiablePact {
    pub consumer: String,
    pub sha: String,
    /// Why it was selected: one description per (selector, consumer version).
    pub reasons: Vec<String>,
    /// Short forms ("latest from branch main"), for `shortDescription`.
    pub short: Vec<String>,
    pub consumer_versions: Vec<String>,
    pub pending: bool,
    pub wip: bool,
    /// The pact URL's `metadata` segment: how it was selected (WIP, pending), so that a
    /// verification published through that URL records it.
    pub metadata: String,
}

/// A consumer's pacts with the provider, by consumer version, in version order.
struct ConsumerPacts {
    main_branch: Option<String>,
    /// Whether any version of the consumer (with a pact or not) is on its main branch,
    /// or carries its name as a tag: what the default selection falls back on.
    main_branch_used: bool,
    main_branch_tagged: bool,
    /// (version, its pact), oldest version first.
    versions: Vec<(Stored<Version>, PactRef)>,
}

/// What one for-verification request reads of the broker, loaded once.
pub(crate) struct Snapshot {
    provider: String,
    /// Every consumer with a pact with the provider, by name.
    consumers: BTreeMap<String, ConsumerPacts>,
    environments: Vec<Environment>,
    /// Current deployments and supported releases, by pacticipant.
    deployed: HashMap<String, Vec<Deployment>>,
    released: HashMap<String, Vec<Deployment>>,
    /// The provider's successful verification results, by (consumer, content), oldest
    /// first.
    successes: HashMap<(String, String), Vec<Verification>>,
    provider_versions: HashMap<String, Version>,
    /// When each provider branch and tag was first used: the creation of its oldest
    /// version.
    first_on_branch: HashMap<String, OffsetDateTime>,
    first_tagged: HashMap<String, OffsetDateTime>,
}

/// What a pact's pending status is judged against: the provider branch, or one provider
/// tag, the verification will be published as.
#[derive(Clone, Copy)]
enum Label<'a> {
    Branch(&'a str),
    Tag(&'a str),
}

fn at(timestamp: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(timestamp, &time::format_description::well_known::Rfc3339).ok()
}

/// Adds a selected (consumer version, content) to `chosen`, merged with the pact of the
/// same content already there.
fn merge(
    chosen: &mut Vec<VerifiablePact>,
    consumer: &str,
    version: &str,
    sha: &str,
    reason: String,
    short: String,
    wip: bool,
) {
    let reason = format!("{reason} ({version})");
    match chosen
        .iter_mut()
        .find(|p| p.consumer == consumer && p.sha == sha)
    {
        Some(p) => {
            if !p.reasons.contains(&reason) {
                p.reasons.push(reason);
            }
            if !p.short.contains(&short) {
                p.short.push(short);
            }
            if !p.consumer_versions.iter().any(|v| v == version) {
                p.consumer_versions.push(version.to_owned());
            }
        }
        None => chosen.push(VerifiablePact {
            consumer: consumer.to_owned(),
            sha: sha.to_owned(),
            reasons: vec![reason],
            short: vec![short],
            consumer_versions: vec![version.to_owned()],
            pending: wip,
            wip,
            metadata: String::new(),
        }),
    }
}

impl ConsumerPacts {
    fn latest_where(&self, keep: impl Fn(&Version) -> bool) -> Option<&(Stored<Version>, PactRef)> {
        self.versions.iter().rev().find(|(v, _)| keep(&v.value))
    }
}

impl Selector {
    /// What the Pact Broker's ConsumerVersionSelectorContract refuses in this selector,
    /// in its words.
    fn problems(&self, provider_branch: Option<&str>, environments: &[Environment]) -> Vec<String> {
        let yes = |b: Option<bool>| b == Some(true);
        // The keys given, in the Pact Broker's two groups, sorted as it names them.
        let given = |keys: &[(&'static str, bool)]| -> Vec<&'static str> {
            let mut names: Vec<_> = keys.iter().filter(|k| k.1).map(|k| k.0).collect();
            names.sort_unstable();
            names
        };
        let branch_keys = given(&[
            ("latest", self.latest.is_some()),
            ("tag", self.tag.is_some()),
            ("fallbackTag", self.fallback_tag.is_some()),
            ("branch", self.branch.is_some()),
            ("fallbackBranch", self.fallback_branch.is_some()),
            ("matchingBranch", self.matching_branch.is_some()),
            ("mainBranch", self.main_branch.is_some()),
        ]);
        let environment_keys = given(&[
            ("environment", self.environment.is_some()),
            ("deployed", self.deployed.is_some()),
            ("released", self.released.is_some()),
            ("deployedOrReleased", self.deployed_or_released.is_some()),
        ]);
        let (branchy, environmental) = (branch_keys.len(), environment_keys.len());
        let mut out = Vec::new();
        let mut fail = |broken: bool, message: String| {
            if broken {
                out.push(message);
            }
        };
        // In the order ConsumerVersionSelectorContract's rules run.
        fail(
            self.consumer
                .as_deref()
                .is_some_and(|c| c.trim().is_empty()),
            "consumer cannot be blank".to_owned(),
        );
        fail(
            !yes(self.main_branch)
                && self.tag.is_none()
                && self.branch.is_none()
                && self.environment.is_none()
                && !yes(self.matching_branch)
                && !yes(self.deployed)
                && !yes(self.released)
                && !yes(self.deployed_or_released)
                && !yes(self.latest),
            "must specify a value for environment or tag or branch, or specify mainBranch=true, matchingBranch=true, latest=true, deployed=true, released=true or deployedOrReleased=true".to_owned(),
        );
        let others_than = |own: usize| branchy + environmental - own > 0;
        fail(
            yes(self.main_branch) && others_than(1 + usize::from(self.latest.is_some())),
            "cannot specify mainBranch=true with any other criteria apart from consumer".to_owned(),
        );
        fail(
            yes(self.main_branch) && self.latest == Some(false),
            "cannot specify mainBranch=true with latest=false".to_owned(),
        );
        fail(
            yes(self.matching_branch) && others_than(1),
            "cannot specify matchingBranch=true with any other criteria apart from consumer"
                .to_owned(),
        );
        fail(
            yes(self.matching_branch) && provider_branch.is_none_or(|b| b.trim().is_empty()),
            "the providerVersionBranch must be specified when the selector matchingBranch=true is used".to_owned(),
        );
        fail(
            self.tag.is_some() && self.branch.is_some(),
            "cannot specify both a tag and a branch".to_owned(),
        );
        let fields = |names: &[&str]| {
            let plural = if names.len() == 1 { "field" } else { "fields" };
            format!("{plural} {}", names.join("/"))
        };
        fail(
            branchy > 0 && environmental > 0,
            format!(
                "cannot specify the {} with the {}",
                fields(&branch_keys),
                fields(&environment_keys)
            ),
        );
        fail(
            self.fallback_tag.is_some() && !yes(self.latest),
            "fallbackTag can only be set if latest is true".to_owned(),
        );
        fail(
            self.fallback_tag.is_some() && self.tag.is_none(),
            "a tag must be specified when a fallbackTag is specified".to_owned(),
        );
        fail(
            self.fallback_branch.is_some() && self.branch.is_none(),
            "a branch must be specified when a fallbackBranch is specified".to_owned(),
        );
        fail(
            self.fallback_branch.is_some() && self.latest == Some(false),
            "fallbackBranch can only be set if latest is true".to_owned(),
        );
        fail(
            self.branch.is_some() && self.latest == Some(false),
            "cannot specify a branch with latest=false".to_owned(),
        );
        if let Some(name) = &self.environment {
            fail(
                !environments.iter().any(|e| &e.name == name),
                format!("environment with name '{name}' does not exist"),
            );
        }
        fail(
            yes(self.deployed) && yes(self.released),
            "cannot specify both deployed=true and released=true".to_owned(),
        );
        fail(
            yes(self.deployed) && yes(self.deployed_or_released),
            "cannot specify both deployed=true and deployedOrReleased=true".to_owned(),
        );
        fail(
            yes(self.released) && yes(self.deployed_or_released),
            "cannot specify both released=true and deployedOrReleased=true".to_owned(),
        );
        out
    }
}

fn parse_since(s: &str) -> Option<OffsetDateTime> {
    use time::format_description::well_known::Rfc3339;
    OffsetDateTime::parse(s, &Rfc3339).ok().or_else(|| {
        let date =
            time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).ok()?;
        Some(date.midnight().assume_utc())
    })
}

impl Broker {
    /// The pacts `provider` should verify, as the Pact Broker's `for-verification`
    /// resource selects them.
    pub async fn pacts_for_verification(
        &self,
        provider: &str,
        request: &ForVerification,
    ) -> Result<Vec<VerifiablePact>> {
        let generation = self.records.generation().await?;
        self.select_for_verification(generation, provider, request)
            .await
    }

    /// [`Self::pacts_for_verification`] from the records at `generation`, read by the
    /// caller (the HTTP resource keeps its rendered answers by it): the provider's history
    /// is read once per generation.
    pub(crate) async fn select_for_verification(
        &self,
        generation: i64,
        provider: &str,
        request: &ForVerification,
    ) -> Result<Vec<VerifiablePact>> {
        self.pacticipant(provider).await?;
        if request.consumer_version_selectors.len() > crate::matrix::MAX_SELECTORS {
            return Err(BrokerError::invalid(
                "consumerVersionSelectors",
                format!(
                    "at most {} selectors may be given",
                    crate::matrix::MAX_SELECTORS
                ),
            ));
        }
        // Each provider tag is weighed against every candidate pact: bounded like selectors.
        if request.provider_version_tags.len() > crate::matrix::MAX_SELECTORS {
            return Err(BrokerError::invalid(
                "providerVersionTags",
                format!("at most {} tags may be given", crate::matrix::MAX_SELECTORS),
            ));
        }
        let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let pending_or_wip =
            request.include_pending_status || request.include_wip_pacts_since.is_some();
        if request.provider_version_tags.is_empty()
            && pending_or_wip
            && request
                .provider_version_branch
                .as_deref()
                .is_some_and(|b| b.trim().is_empty())
        {
            errors.entry("providerVersionBranch".to_owned()).or_default().push(
                "when pending or WIP pacts are enabled and there are no tags provided, the provider version branch must not be an empty string, as it is used in the calculations for WIP/pending. A value must be provided (recommended), or it must not be set at all.".to_owned(),
            );
        }
        let since = match &request.include_wip_pacts_since {
            None => None,
            Some(s) => {
                let parsed = parse_since(s);
                if parsed.is_none() {
                    errors
                        .entry("includeWipPactsSince".to_owned())
                        .or_default()
                        .push("must be a date".to_owned());
                }
                parsed
            }
        };
        // Only read when a selector names one.
        let environments = if request
            .consumer_version_selectors
            .iter()
            .any(|s| s.environment.is_some())
        {
            self.environments().await?
        } else {
            Vec::new()
        };
        let problems: Vec<String> = request
            .consumer_version_selectors
            .iter()
            .enumerate()
            .flat_map(|(i, s)| {
                s.problems(request.provider_version_branch.as_deref(), &environments)
                    .into_iter()
                    .map(move |p| format!("{p} (at index {i})"))
            })
            .collect();
        if !problems.is_empty() {
            errors.insert("consumerVersionSelectors".to_owned(), problems);
        }
        if !errors.is_empty() {
            return Err(BrokerError::Invalid(errors));
        }
        let snapshot = match self.memos.snapshots.get(generation, &provider.to_owned()) {
            Some(kept) => kept,
            None => {
                let loaded = Arc::new(self.snapshot(provider).await?);
                self.memos.snapshots.put(
                    generation,
                    provider.to_owned(),
                    loaded.clone(),
                    loaded.weight(),
                );
                loaded
            }
        };
        let consumers = &snapshot.consumers;
        let defaults;
        let selectors: &[Selector] = if request.consumer_version_selectors.is_empty() {
            defaults = snapshot.default_selectors();
            &defaults
        } else {
            &request.consumer_version_selectors
        };
        // (consumer, sha) → the pact, in the order first selected.
        let mut chosen: Vec<VerifiablePact> = Vec::new();
        for selector in selectors {
            for (consumer, pacts) in consumers {
                if selector.consumer.as_deref().is_some_and(|c| c != consumer) {
                    continue;
                }
                for (version, sha, reason, short) in
                    snapshot.select(consumer, pacts, selector, request)?
                {
                    merge(&mut chosen, consumer, &version, &sha, reason, short, false);
                }
            }
        }
        for pact in &mut chosen {
            pact.pending = request.include_pending_status
                && snapshot.is_pending(&pact.consumer, &pact.sha, request);
        }
        if let Some(since) = since {
            let wip = snapshot.work_in_progress(since, request, &chosen);
            chosen.extend(wip);
        }
        for pact in &mut chosen {
            pact.metadata =
                crate::verifications::pact_metadata(pact, request.include_pending_status);
        }
        Ok(chosen)
    }

    /// Everything the selection reads, in a fixed number of queries however many
    /// consumers there are (per-consumer reads cost a store round trip each), and only
    /// what concerns this provider's pacts: other providers' histories and results,
    /// however large, are never read.
    async fn snapshot(&self, provider: &str) -> Result<Snapshot> {
        let pairs = self
            .records
            .pairs(records::PACT, |_, p| p == provider)
            .await?;
        let names: Vec<String> = pairs
            .iter()
            .filter_map(|scope| records::split_pair(scope).map(|(c, _)| c.to_owned()))
            .collect();
        let main_branches: HashMap<String, Option<String>> = self
            .pacticipants()
            .await?
            .into_iter()
            .map(|p| (p.name, p.main_branch))
            .collect();
        let mut with_provider = names.clone();
        with_provider.push(provider.to_owned());
        let mut versions: HashMap<String, Vec<Stored<Version>>> = HashMap::new();
        for v in self
            .records
            .list_in::<Version>(records::VERSION, &with_provider)
            .await?
        {
            versions.entry(v.scope.clone()).or_default().push(v);
        }
        let mut by_consumer: BTreeMap<String, HashMap<String, PactRef>> = BTreeMap::new();
        for pact in self
            .records
            .list_in::<PactRef>(records::PACT, &pairs)
            .await?
        {
            if let Some((consumer, _)) = records::split_pair(&pact.scope) {
                by_consumer
                    .entry(consumer.to_owned())
                    .or_default()
                    .insert(pact.key, pact.value);
            }
        }
        // Copied before the consumers take theirs: a pacticipant may have a pact with itself.
        let provider_versions = versions
            .get(provider)
            .into_iter()
            .flatten()
            .map(|v| (v.key.clone(), v.value.clone()))
            .collect();
        let mut first_on_branch: HashMap<String, OffsetDateTime> = HashMap::new();
        let mut first_tagged: HashMap<String, OffsetDateTime> = HashMap::new();
        for v in versions.get(provider).into_iter().flatten() {
            let Some(created) = at(&v.value.created_at) else {
                continue;
            };
            for (labels, first) in [
                (&v.value.branches, &mut first_on_branch),
                (&v.value.tags, &mut first_tagged),
            ] {
                for label in labels {
                    first
                        .entry(label.clone())
                        .and_modify(|t| *t = (*t).min(created))
                        .or_insert(created);
                }
            }
        }
        let mut consumers = BTreeMap::new();
        for (consumer, mut pacts) in by_consumer {
            let all = versions.remove(&consumer).unwrap_or_default();
            let main_branch = main_branches.get(&consumer).cloned().flatten();
            let used = |labels: fn(&Version) -> &Vec<String>| {
                main_branch
                    .as_ref()
                    .is_some_and(|m| all.iter().any(|v| labels(&v.value).contains(m)))
            };
            let main_branch_used = used(|v| &v.branches);
            let main_branch_tagged = used(|v| &v.tags);
            let versions = all
                .into_iter()
                .filter_map(|v| pacts.remove(&v.key).map(|p| (v, p)))
                .collect();
            consumers.insert(
                consumer,
                ConsumerPacts {
                    main_branch,
                    main_branch_used,
                    main_branch_tagged,
                    versions,
                },
            );
        }
        let current = |kind| {
            let names = &names;
            async move {
                let mut out: HashMap<String, Vec<Deployment>> = HashMap::new();
                for d in self.records.list_in::<Deployment>(kind, names).await? {
                    if d.value.current {
                        out.entry(d.scope).or_default().push(d.value);
                    }
                }
                Ok::<_, BrokerError>(out)
            }
        };
        let mut successes: HashMap<(String, String), Vec<Verification>> = HashMap::new();
        for v in self
            .records
            .list_in::<Verification>(records::VERIFICATION, &pairs)
            .await?
        {
            if let Some((consumer, _)) = records::split_pair(&v.scope)
                && v.value.success
            {
                successes
                    .entry((consumer.to_owned(), v.value.sha.clone()))
                    .or_default()
                    .push(v.value);
            }
        }
        Ok(Snapshot {
            provider: provider.to_owned(),
            consumers,
            environments: self.environments().await?,
            deployed: current(records::DEPLOYMENT).await?,
            released: current(records::RELEASE).await?,
            successes,
            provider_versions,
            first_on_branch,
            first_tagged,
        })
    }
}

impl Snapshot {
    /// What it holds: versions, verifications and versions of the provider.
    fn weight(&self) -> usize {
        let versions: usize = self.consumers.values().map(|c| c.versions.len()).sum();
        let successes: usize = self.successes.values().map(Vec::len).sum();
        versions + successes + self.provider_versions.len()
    }

    /// What `consumer` has currently deployed and, with `released`, released and supported.
    fn current(
        &self,
        consumer: &str,
        deployed: bool,
        released: bool,
    ) -> impl Iterator<Item = &Deployment> {
        [(deployed, &self.deployed), (released, &self.released)]
            .into_iter()
            .filter(|(wanted, _)| *wanted)
            .flat_map(move |(_, by)| by.get(consumer).into_iter().flatten())
    }

    /// What one selector picks of one consumer: (version, sha, reason, short reason).
    fn select(
        &self,
        consumer: &str,
        pacts: &ConsumerPacts,
        s: &Selector,
        request: &ForVerification,
    ) -> Result<Vec<(String, String, String, String)>> {
        let one = |e: Option<&(Stored<Version>, PactRef)>, reason: String, short: String| {
            e.map(|(v, p)| vec![(v.key.clone(), p.sha.clone(), reason, short)])
                .unwrap_or_default()
        };
        let on_branch = |b: &str| {
            let b = b.to_owned();
            move |v: &Version| v.branches.contains(&b)
        };
        if s.main_branch == Some(true) {
            let Some(main) = &pacts.main_branch else {
                return Ok(Vec::new());
            };
            return Ok(one(
                pacts.latest_where(on_branch(main)),
                format!("latest version of {consumer} from the main branch '{main}'"),
                "latest from main branch".to_owned(),
            ));
        }
        let branch = if s.matching_branch == Some(true) {
            request.provider_version_branch.clone()
        } else {
            s.branch.clone()
        };
        if let Some(branch) = branch {
            if s.latest == Some(false) {
                return Ok(pacts
                    .versions
                    .iter()
                    .filter(|(v, _)| v.value.branches.contains(&branch))
                    .map(|(v, p)| {
                        (
                            v.key.clone(),
                            p.sha.clone(),
                            format!("one of the versions of {consumer} from branch '{branch}'"),
                            format!("one of branch {branch}"),
                        )
                    })
                    .collect());
            }
            if let Some(found) = pacts.latest_where(on_branch(&branch)) {
                return Ok(one(
                    Some(found),
                    format!("latest version of {consumer} from branch '{branch}'"),
                    format!("latest from branch {branch}"),
                ));
            }
            if let Some(fallback) = &s.fallback_branch {
                return Ok(one(
                    pacts.latest_where(on_branch(fallback)),
                    format!(
                        "latest version of {consumer} from branch '{fallback}' (fallback branch used as no pact was found from branch '{branch}')"
                    ),
                    format!("latest from branch {fallback}"),
                ));
            }
            return Ok(Vec::new());
        }
        if let Some(tag) = &s.tag {
            let tagged = |t: &str| {
                let t = t.to_owned();
                move |v: &Version| v.tags.contains(&t)
            };
            if s.latest == Some(true) {
                if let Some(found) = pacts.latest_where(tagged(tag)) {
                    return Ok(one(
                        Some(found),
                        format!("latest version of {consumer} tagged '{tag}'"),
                        format!("latest with tag {tag}"),
                    ));
                }
                if let Some(fallback) = &s.fallback_tag {
                    return Ok(one(
                        pacts.latest_where(tagged(fallback)),
                        format!(
                            "latest version of {consumer} tagged '{fallback}' (fallback tag used as no pact was found with tag '{tag}')"
                        ),
                        format!("latest with tag {fallback}"),
                    ));
                }
                return Ok(Vec::new());
            }
            return Ok(pacts
                .versions
                .iter()
                .filter(|(v, _)| v.value.tags.contains(tag))
                .map(|(v, p)| {
                    (
                        v.key.clone(),
                        p.sha.clone(),
                        format!("all {consumer} versions tagged '{tag}'"),
                        format!("one of {tag}"),
                    )
                })
                .collect());
        }
        let deployed = s.deployed == Some(true) || s.deployed_or_released == Some(true);
        let released = s.released == Some(true) || s.deployed_or_released == Some(true);
        if deployed || released || s.environment.is_some() {
            let (deployed, released) = if deployed || released {
                (deployed, released)
            } else {
                (true, true)
            };
            let environment = match &s.environment {
                Some(name) => Some(
                    self.environments
                        .iter()
                        .find(|e| &e.name == name)
                        .ok_or_else(|| {
                            BrokerError::invalid(
                                "consumerVersionSelectors",
                                format!("environment with name '{name}' does not exist"),
                            )
                        })?,
                ),
                None => None,
            };
            let mut out = Vec::new();
            for d in self.current(consumer, deployed, released) {
                if environment
                    .as_ref()
                    .is_some_and(|e| e.uuid != d.environment)
                {
                    continue;
                }
                let Some((v, p)) = pacts.versions.iter().find(|(v, _)| v.key == d.version) else {
                    continue;
                };
                let env = self
                    .environments
                    .iter()
                    .find(|e| e.uuid == d.environment)
                    .map(|e| e.name.clone())
                    .unwrap_or_default();
                out.push((
                    v.key.clone(),
                    p.sha.clone(),
                    format!("{consumer} version in environment {env}"),
                    format!("deployed to {env}"),
                ));
            }
            return Ok(out);
        }
        // `latest: true` alone: each consumer's latest pact.
        Ok(one(
            pacts.versions.last(),
            format!(
                "latest version of {consumer} that has a pact with {}",
                self.provider
            ),
            "latest".to_owned(),
        ))
    }

    /// The Pact Broker's selection when none is given: each consumer's latest pact from
    /// its main branch (or, where the main branch was only ever used as a tag, with that
    /// tag; else its latest pact), and the deployed and released versions.
    fn default_selectors(&self) -> Vec<Selector> {
        let mut selectors: Vec<Selector> = self
            .consumers
            .iter()
            .map(|(name, pacts)| {
                let consumer = Some(name.clone());
                match &pacts.main_branch {
                    Some(_) if pacts.main_branch_used => Selector {
                        main_branch: Some(true),
                        consumer,
                        ..Selector::default()
                    },
                    Some(main) if pacts.main_branch_tagged => Selector {
                        tag: Some(main.clone()),
                        latest: Some(true),
                        consumer,
                        ..Selector::default()
                    },
                    _ => Selector {
                        latest: Some(true),
                        consumer,
                        ..Selector::default()
                    },
                }
            })
            .collect();
        selectors.push(Selector {
            deployed: Some(true),
            ..Selector::default()
        });
        selectors.push(Selector {
            released: Some(true),
            ..Selector::default()
        });
        selectors
    }

    /// Whether the content is pending for the provider branch (or tags) the
    /// verification will be published as: the Pact Broker's rule.
    fn is_pending(&self, consumer: &str, sha: &str, request: &ForVerification) -> bool {
        match (
            &request.provider_version_branch,
            request.provider_version_tags.as_slice(),
        ) {
            (Some(branch), _) => !self.settled(consumer, sha, Label::Branch(branch), true),
            (None, []) => !self
                .successes
                .contains_key(&(consumer.to_owned(), sha.to_owned())),
            (None, tags) => tags
                .iter()
                .any(|t| !self.settled(consumer, sha, Label::Tag(t), true)),
        }
    }

    /// Whether the content no longer needs to prove itself for `label`: a provider
    /// version with that branch (or tag) verified it successfully, or a version of
    /// another branch (tag) did before that branch (tag) was first used, which a branch
    /// cut from a verified one inherits. `wip_too`: whether verifications of the content
    /// as a work-in-progress pact count (they end its pending status, never its WIP
    /// status).
    fn settled(&self, consumer: &str, sha: &str, label: Label<'_>, wip_too: bool) -> bool {
        let (name, first, labels_of): (&str, _, fn(&Version) -> &Vec<String>) = match label {
            Label::Branch(b) => (b, self.first_on_branch.get(b), |v| &v.branches),
            Label::Tag(t) => (t, self.first_tagged.get(t), |v| &v.tags),
        };
        self.successes
            .get(&(consumer.to_owned(), sha.to_owned()))
            .into_iter()
            .flatten()
            .filter(|v| wip_too || !v.wip)
            .any(|v| {
                let Some(version) = self.provider_versions.get(&v.provider_version) else {
                    return false;
                };
                let labels = labels_of(version);
                labels.iter().any(|l| l == name)
                    || (labels.iter().any(|l| l != name)
                        && first.is_none_or(|f| at(&v.created_at).is_some_and(|c| c < *f)))
            })
    }

    /// Work-in-progress pacts: the latest pact of each consumer branch and of each
    /// consumer tag, published after `since`, not selected already, and not yet verified
    /// successfully (outside WIP verification) for the provider branch, or for one of
    /// the provider tags. None without a provider branch or tag to judge by.
    fn work_in_progress(
        &self,
        since: OffsetDateTime,
        request: &ForVerification,
        explicit: &[VerifiablePact],
    ) -> Vec<VerifiablePact> {
        let labels: Vec<Label<'_>> = match &request.provider_version_branch {
            Some(b) => vec![Label::Branch(b)],
            None => request
                .provider_version_tags
                .iter()
                .map(|t| Label::Tag(t))
                .collect(),
        };
        let mut wip = Vec::new();
        if labels.is_empty() {
            return wip;
        }
        for (consumer, pacts) in &self.consumers {
            // Oldest first, so the last one in is each branch's (tag's) latest.
            let mut heads: BTreeMap<(bool, &str), &(Stored<Version>, PactRef)> = BTreeMap::new();
            for entry in &pacts.versions {
                for b in &entry.0.value.branches {
                    heads.insert((false, b), entry);
                }
                for t in &entry.0.value.tags {
                    heads.insert((true, t), entry);
                }
            }
            for ((tagged, name), (version, pact)) in heads {
                if at(&pact.created_at).is_none_or(|p| p <= since)
                    || explicit
                        .iter()
                        .any(|c| &c.consumer == consumer && c.sha == pact.sha)
                    || labels
                        .iter()
                        .all(|l| self.settled(consumer, &pact.sha, *l, false))
                {
                    continue;
                }
                let (reason, short) = if tagged {
                    (
                        format!("latest version of {consumer} tagged '{name}'"),
                        format!("latest with tag {name}"),
                    )
                } else {
                    (
                        format!("latest version of {consumer} from branch '{name}'"),
                        format!("latest from branch {name}"),
                    )
                };
                merge(
                    &mut wip,
                    consumer,
                    &version.key,
                    &pact.sha,
                    reason,
                    short,
                    true,
                );
            }
        }
        wip
    }
}
