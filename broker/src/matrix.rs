//! The matrix and can-i-deploy: which consumer and provider versions have been verified
//! together, and whether a version may be deployed alongside what an environment runs.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::records::{PACT, PactRef, VERIFICATION, Version, pair, split_pair};
use crate::{Broker, BrokerError, Environment, Result, Verification, comparison_mismatches};

/// One `q[]` of a matrix query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct MatrixSelector {
    pub pacticipant: String,
    pub version: Option<String>,
    pub branch: Option<String>,
    pub tag: Option<String>,
    pub latest: bool,
    pub main_branch: bool,
}

/// `GET /matrix` (and `/can-i-deploy`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct MatrixQuery {
    pub selectors: Vec<MatrixSelector>,
    /// Deploying into this environment: the other side is what it runs.
    pub environment: Option<String>,
    /// Deploying alongside the latest versions with this tag (the older way).
    pub tag: Option<String>,
    /// The other side is each pacticipant's latest version (with the tag, or from its
    /// main branch, when those are given too).
    pub latest: bool,
    /// Deploying alongside the latest versions of each pacticipant's main branch (what
    /// `can-i-merge` asks).
    pub main_branch: bool,
}

/// One consumer version's pact with a provider, and its verification by one provider
/// version (or none yet).
#[derive(Debug, Clone)]
pub struct MatrixRow {
    pub consumer: String,
    pub consumer_version: Version,
    pub provider: String,
    pub provider_version: Option<Version>,
    pub pact_sha: String,
    pub pact_created_at: String,
    pub verification: Option<Verification>,
}

impl MatrixRow {
    pub fn success(&self) -> Option<bool> {
        self.verification.as_ref().map(|v| v.success)
    }
}

/// The answer: rows, and whether the selected version(s) may be deployed, and why.
#[derive(Debug, Clone)]
pub struct Matrix {
    pub rows: Vec<MatrixRow>,
    pub deployable: bool,
    /// `(type, text)`: "success", "error" or "warning", the Pact Broker's wording.
    pub reasons: Vec<(&'static str, String)>,
    pub success: usize,
    pub failed: usize,
    pub unknown: usize,
}

/// A resolved selector: the pacticipant and the versions it stands for.
struct Side {
    name: String,
    versions: Vec<Version>,
}

/// The most selectors one query may hold.
pub const MAX_SELECTORS: usize = 100;
/// The most rows one answer may hold: more means the question selects too much history
/// to be useful (ask for `latest`, a version or a branch instead).
pub const MAX_ROWS: usize = 10_000;

/// One consumer–provider pair's pacts and verification results, indexed once.
#[derive(Default)]
struct PairIndex {
    /// The pact each consumer version published.
    pacts: HashMap<String, PactRef>,
    /// The latest verification of each pact content.
    latest: HashMap<String, Verification>,
    /// The latest verification of each (content, provider version).
    by_provider_version: HashMap<(String, String), Verification>,
}

impl PairIndex {
    fn verified(&self, sha: &str, provider_version: &str) -> Option<Verification> {
        self.by_provider_version
            .get(&(sha.to_owned(), provider_version.to_owned()))
            .cloned()
    }
}

/// What one matrix query has read, so that nothing is read twice however many versions
/// and selectors it covers: each read is one store query, and the rows are built from
/// maps, so the cost is linear in the history read and the rows returned.
#[derive(Default)]
struct Reads {
    versions: HashMap<String, Vec<Version>>,
    pairs: HashMap<String, PairIndex>,
    /// Versions there (in the environment or with the tag), per pacticipant.
    there: HashMap<String, Option<Vec<Version>>>,
}

impl Reads {
    async fn versions(&mut self, broker: &Broker, name: &str) -> Result<&[Version]> {
        if !self.versions.contains_key(name) {
            let all = broker
                .versions(name)
                .await?
                .into_iter()
                .map(|v| v.value)
                .collect();
            self.versions.insert(name.to_owned(), all);
        }
        Ok(self
            .versions
            .get(name)
            .map(Vec::as_slice)
            .unwrap_or_default())
    }

    /// Indexes the pairs named by `scopes` that are not indexed yet, in two queries.
    async fn index(&mut self, broker: &Broker, scopes: &[String]) -> Result<()> {
        let missing: Vec<String> = scopes
            .iter()
            .filter(|s| !self.pairs.contains_key(*s))
            .cloned()
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        for scope in &missing {
            self.pairs.insert(scope.clone(), PairIndex::default());
        }
        for p in broker.records.list_in::<PactRef>(PACT, &missing).await? {
            if let Some(index) = self.pairs.get_mut(&p.scope) {
                index.pacts.insert(p.key, p.value);
            }
        }
        // Oldest first: a later result replaces an earlier one.
        for v in broker
            .records
            .list_in::<Verification>(VERIFICATION, &missing)
            .await?
        {
            if let Some(index) = self.pairs.get_mut(&v.scope) {
                index.latest.insert(v.value.sha.clone(), v.value.clone());
                index.by_provider_version.insert(
                    (v.value.sha.clone(), v.value.provider_version.clone()),
                    v.value,
                );
            }
        }
        // Comparisons with providers' OpenAPI documents count where no verification of
        // the same pact by the same provider version does.
        for (scope, v) in broker.comparisons_as_verifications(&missing).await? {
            if let Some(index) = self.pairs.get_mut(&scope) {
                let latest = index.latest.get(&v.sha);
                if latest.is_none_or(|l| comparison_mismatches(l).is_some()) {
                    index.latest.insert(v.sha.clone(), v.clone());
                }
                index
                    .by_provider_version
                    .entry((v.sha.clone(), v.provider_version.clone()))
                    .or_insert(v);
            }
        }
        Ok(())
    }

    async fn there(
        &mut self,
        broker: &Broker,
        others: &Others<'_>,
        name: &str,
    ) -> Result<Option<Vec<Version>>> {
        if let Some(known) = self.there.get(name) {
            return Ok(known.clone());
        }
        let found = others.versions(broker, self, name).await?;
        self.there.insert(name.to_owned(), found.clone());
        Ok(found)
    }
}

impl Broker {
    pub async fn matrix(&self, query: &MatrixQuery) -> Result<Matrix> {
        let generation = self.records.generation().await?;
        if let Some(kept) = self.memos.matrices.get(generation, query) {
            return Ok(kept.as_ref().clone());
        }
        let answer = self.compute_matrix(query).await?;
        self.memos.matrices.put(
            generation,
            query.clone(),
            std::sync::Arc::new(answer.clone()),
            answer.rows.len(),
        );
        Ok(answer)
    }

    async fn compute_matrix(&self, query: &MatrixQuery) -> Result<Matrix> {
        if query.selectors.is_empty() {
            return Err(BrokerError::invalid(
                "q",
                "Please provide 1 or more version selectors.",
            ));
        }
        if query.selectors.len() > MAX_SELECTORS {
            return Err(BrokerError::invalid(
                "q",
                format!("Please provide at most {MAX_SELECTORS} version selectors."),
            ));
        }
        // The Pact Broker's checks, all reported at once, in its order and words.
        let mut problems: Vec<String> = Vec::new();
        for s in &query.selectors {
            if s.version.is_some() && s.latest {
                problems.push(format!(
                    "A version number and latest flag cannot both be specified for {}",
                    s.pacticipant
                ));
            }
        }
        let mut unknown_names: Vec<&str> = Vec::new();
        for s in &query.selectors {
            if !unknown_names.contains(&s.pacticipant.as_str())
                && self.find_pacticipant(&s.pacticipant).await?.is_none()
            {
                unknown_names.push(&s.pacticipant);
                problems.push(format!("Pacticipant {} not found", s.pacticipant));
            }
        }
        let destinations = usize::from(query.tag.is_some())
            + usize::from(query.environment.is_some())
            + usize::from(query.main_branch);
        if destinations > 1 {
            problems.push(
                "Cannot specify more than one of tag, environment and mainBranch.".to_owned(),
            );
        }
        if query.latest && query.environment.is_some() {
            problems.push("Cannot specify both latest=true and an environment.".to_owned());
        }
        let environment = match &query.environment {
            Some(name) => self.environment_named(name).await?,
            None => None,
        };
        let mut errors = BTreeMap::new();
        if !problems.is_empty() {
            errors.insert("q".to_owned(), problems);
        }
        if let Some(name) = &query.environment
            && environment.is_none()
        {
            errors.insert(
                "environment".to_owned(),
                vec![format!("Environment with name '{name}' does not exist")],
            );
        }
        if !errors.is_empty() {
            return Err(BrokerError::Invalid(errors));
        }
        let mut reads = Reads::default();
        let mut reasons: Vec<(&'static str, String)> = Vec::new();
        let mut sides = Vec::new();
        for s in &query.selectors {
            let side = self.resolve(s, &mut reads).await?;
            if side.versions.is_empty() {
                reasons.push(("error", missing_version(s)));
            }
            sides.push(side);
        }
        let mut rows = Vec::new();
        let mut unknown = 0;
        let others = Others {
            environment: environment.as_ref(),
            tag: query.tag.as_deref(),
            latest: query.latest,
            main_branch: query.main_branch,
        };
        let specified: HashSet<&str> = sides.iter().map(|s| s.name.as_str()).collect();
        // As the Pact Broker infers them: with one selector, or when told which versions
        // the others are (an environment, a tag, the main branches, the latest), each
        // selected version is also weighed against the pacticipants it has pacts with
        // that no selector names.
        if sides.len() == 1 || others.named() {
            let skip = if sides.len() == 1 {
                HashSet::new()
            } else {
                specified.clone()
            };
            for side in &sides {
                self.deploy_rows(
                    side,
                    &others,
                    &skip,
                    &mut reads,
                    &mut rows,
                    &mut reasons,
                    &mut unknown,
                )
                .await?;
            }
        }
        if sides.len() == 1 && environment.is_none() && query.tag.is_none() && !query.main_branch {
            reasons.push((
                "warning",
                "WARN: It is recommended to specify the environment into which you are deploying. Without the environment, this result will not be reliable.".to_owned(),
            ));
        }
        if sides.len() > 1 {
            let names = &specified;
            // Only the pairs with pacts have rows (never a pacticipant with itself).
            let scopes = self
                .records
                .pairs(PACT, |c, p| {
                    c != p && names.contains(c) && names.contains(p)
                })
                .await?;
            reads.index(self, &scopes).await?;
            for a in &sides {
                for b in &sides {
                    if let Some(index) = reads.pairs.get(&pair(&a.name, &b.name)) {
                        pair_rows(a, b, index, &mut rows)?;
                    }
                }
            }
        }
        let mut success = 0;
        let mut failed = 0;
        for row in &rows {
            let consumer = format!(
                "version {} of {}",
                row.consumer_version.number, row.consumer
            );
            let provider = match &row.provider_version {
                Some(v) => format!("version {} of {}", v.number, row.provider),
                None => format!("a version of {}", row.provider),
            };
            match row.success() {
                Some(true) => success += 1,
                Some(false) => {
                    failed += 1;
                    let why = row
                        .verification
                        .as_ref()
                        .and_then(comparison_mismatches)
                        .map(|(m, count)| {
                            // A few name the problem: a row's reason stays short.
                            let shown = m.iter().take(3).cloned().collect::<Vec<_>>().join("; ");
                            let more = match count.saturating_sub(3) {
                                0 => String::new(),
                                n => format!(" (and {n} more)"),
                            };
                            format!(": compared with its OpenAPI document, {shown}{more}")
                        })
                        .unwrap_or_default();
                    reasons.push((
                        "error",
                        format!(
                            "The verification for the pact between {consumer} and {provider} failed{why}"
                        ),
                    ));
                }
                None => {
                    unknown += 1;
                    reasons.push((
                        "error",
                        format!("There is no verified pact between {consumer} and {provider}"),
                    ));
                }
            }
        }
        let deployable = !reasons.iter().any(|(kind, _)| *kind == "error");
        if deployable {
            reasons.insert(
                0,
                (
                    "success",
                    if rows.is_empty() {
                        "There are no missing dependencies".to_owned()
                    } else {
                        "All required verification results are published and successful".to_owned()
                    },
                ),
            );
        }
        Ok(Matrix {
            rows,
            deployable,
            reasons,
            success,
            failed,
            unknown,
        })
    }

    async fn resolve(&self, s: &MatrixSelector, reads: &mut Reads) -> Result<Side> {
        let main = if s.main_branch {
            self.pacticipant(&s.pacticipant).await?.main_branch
        } else {
            None
        };
        let keep = |v: &Version| {
            s.version.as_ref().is_none_or(|n| &v.number == n)
                && s.branch.as_ref().is_none_or(|b| v.branches.contains(b))
                && s.tag.as_ref().is_none_or(|t| v.tags.contains(t))
                && (!s.main_branch || main.as_ref().is_some_and(|m| v.branches.contains(m)))
        };
        let all = reads.versions(self, &s.pacticipant).await?;
        let versions: Vec<Version> = if s.latest {
            all.iter()
                .rev()
                .find(|v| keep(v))
                .cloned()
                .into_iter()
                .collect()
        } else {
            all.iter().filter(|v| keep(v)).cloned().collect()
        };
        Ok(Side {
            name: s.pacticipant.clone(),
            versions,
        })
    }

    /// Rows for deploying the side's versions next to what `others` names: every
    /// provider a version has a pact with (which must be there), and every consumer
    /// there with a pact with it.
    #[allow(clippy::too_many_arguments)]
    async fn deploy_rows(
        &self,
        side: &Side,
        others: &Others<'_>,
        skip: &HashSet<&str>,
        reads: &mut Reads,
        rows: &mut Vec<MatrixRow>,
        reasons: &mut Vec<(&'static str, String)>,
        unknown: &mut usize,
    ) -> Result<()> {
        let name = side.name.as_str();
        let as_consumer = self.records.pairs(PACT, |c, _| c == name).await?;
        let as_provider = self.records.pairs(PACT, |_, p| p == name).await?;
        let scopes: Vec<String> = as_consumer.iter().chain(&as_provider).cloned().collect();
        reads.index(self, &scopes).await?;
        let providers: Vec<&str> = as_consumer
            .iter()
            .filter_map(|s| split_pair(s).map(|(_, p)| p))
            .filter(|p| !skip.contains(p))
            .collect();
        let consumers: Vec<&str> = as_provider
            .iter()
            .filter_map(|s| split_pair(s).map(|(c, _)| c))
            .filter(|c| !skip.contains(c))
            .collect();
        for version in &side.versions {
            // As a consumer: its pacts, verified by the providers' versions there.
            for &provider in &providers {
                let scope = pair(name, provider);
                let Some(pact) = reads
                    .pairs
                    .get(&scope)
                    .and_then(|i| i.pacts.get(&version.number))
                    .cloned()
                else {
                    continue;
                };
                match reads.there(self, others, provider).await? {
                    None => {
                        // No environment nor tag: the latest verification of this content.
                        let latest = reads
                            .pairs
                            .get(&scope)
                            .and_then(|i| i.latest.get(&pact.sha))
                            .cloned();
                        let provider_version = match &latest {
                            Some(v) => reads
                                .versions(self, provider)
                                .await?
                                .iter()
                                .find(|pv| pv.number == v.provider_version)
                                .cloned(),
                            None => None,
                        };
                        push(
                            rows,
                            row(name, version, provider, provider_version, &pact, latest),
                        )?;
                    }
                    Some(there) if there.is_empty() => {
                        *unknown += 1;
                        reasons.push((
                            "error",
                            format!(
                                "There is no verified pact between version {} of {name} and {}",
                                version.number,
                                others.none_there(provider)
                            ),
                        ));
                    }
                    Some(there) => {
                        for pv in there {
                            let v = reads
                                .pairs
                                .get(&scope)
                                .and_then(|i| i.verified(&pact.sha, &pv.number));
                            push(rows, row(name, version, provider, Some(pv), &pact, v))?;
                        }
                    }
                }
            }
            // As a provider: the consumers there that have a pact with it.
            for &consumer in &consumers {
                let Some(there) = reads.there(self, others, consumer).await? else {
                    continue;
                };
                let Some(index) = reads.pairs.get(&pair(consumer, name)) else {
                    continue;
                };
                for cv in there {
                    let Some(pact) = index.pacts.get(&cv.number) else {
                        continue;
                    };
                    let v = index.verified(&pact.sha, &version.number);
                    push(
                        rows,
                        row(consumer, &cv, name, Some(version.clone()), pact, v),
                    )?;
                }
            }
        }
        Ok(())
    }
}

/// Adds a row, refusing an answer beyond [`MAX_ROWS`].
fn push(rows: &mut Vec<MatrixRow>, row: MatrixRow) -> Result<()> {
    if rows.len() >= MAX_ROWS {
        return Err(BrokerError::invalid(
            "q",
            format!(
                "The query selects more than {MAX_ROWS} rows; select fewer versions (latest, a version, a branch or a tag)."
            ),
        ));
    }
    rows.push(row);
    Ok(())
}

/// Rows between the versions of two selectors where `a` is the consumer.
fn pair_rows(a: &Side, b: &Side, index: &PairIndex, rows: &mut Vec<MatrixRow>) -> Result<()> {
    for cv in &a.versions {
        let Some(pact) = index.pacts.get(&cv.number) else {
            continue;
        };
        for pv in &b.versions {
            let v = index.verified(&pact.sha, &pv.number);
            push(rows, row(&a.name, cv, &b.name, Some(pv.clone()), pact, v))?;
        }
    }
    Ok(())
}

fn row(
    consumer: &str,
    consumer_version: &Version,
    provider: &str,
    provider_version: Option<Version>,
    pact: &PactRef,
    verification: Option<Verification>,
) -> MatrixRow {
    MatrixRow {
        consumer: consumer.to_owned(),
        consumer_version: consumer_version.clone(),
        provider: provider.to_owned(),
        provider_version,
        pact_sha: pact.sha.clone(),
        pact_created_at: pact.created_at.clone(),
        verification,
    }
}

fn missing_version(s: &MatrixSelector) -> String {
    let p = &s.pacticipant;
    if let Some(t) = &s.tag {
        format!("No version with tag {t} exists for {p}")
    } else if let Some(b) = &s.branch {
        format!("No version of {p} from branch {b} exists")
    } else if s.main_branch {
        format!("No version of {p} from the main branch exists")
    } else if let Some(n) = &s.version {
        format!("No pacts or verifications have been published for version {n} of {p}")
    } else {
        format!("No pacts or verifications have been published for {p}")
    }
}

/// What the selected version is to be deployed alongside.
struct Others<'a> {
    environment: Option<&'a Environment>,
    tag: Option<&'a str>,
    latest: bool,
    main_branch: bool,
}

impl Others<'_> {
    /// Whether the query says which versions of the other pacticipants to weigh.
    fn named(&self) -> bool {
        self.environment.is_some() || self.tag.is_some() || self.latest || self.main_branch
    }

    /// The versions of `pacticipant` there; `None` when the query does not say.
    async fn versions(
        &self,
        broker: &Broker,
        reads: &mut Reads,
        pacticipant: &str,
    ) -> Result<Option<Vec<Version>>> {
        if let Some(env) = self.environment {
            let current = broker.current(pacticipant, true, true).await?;
            let history = reads.versions(broker, pacticipant).await?;
            let mut out: Vec<Version> = Vec::new();
            for d in current {
                if d.environment == env.uuid
                    && !out.iter().any(|v| v.number == d.version)
                    && let Some(v) = history.iter().find(|v| v.number == d.version)
                {
                    out.push(v.clone());
                }
            }
            return Ok(Some(out));
        }
        if let Some(tag) = self.tag {
            let latest = reads
                .versions(broker, pacticipant)
                .await?
                .iter()
                .rev()
                .find(|v| v.tags.iter().any(|t| t == tag))
                .cloned();
            return Ok(Some(latest.into_iter().collect()));
        }
        if self.main_branch {
            let main = broker
                .find_pacticipant(pacticipant)
                .await?
                .and_then(|p| p.main_branch);
            let all = reads.versions(broker, pacticipant).await?;
            let latest =
                main.and_then(|m| all.iter().rev().find(|v| v.branches.contains(&m)).cloned());
            return Ok(Some(latest.into_iter().collect()));
        }
        if self.latest {
            let latest = reads.versions(broker, pacticipant).await?.last().cloned();
            return Ok(Some(latest.into_iter().collect()));
        }
        Ok(None)
    }

    /// The Pact Broker's description of a pacticipant's absent version there.
    fn none_there(&self, pacticipant: &str) -> String {
        match (self.environment, self.tag) {
            (Some(e), _) => format!(
                "a version of {pacticipant} currently in {} (no version is currently recorded as deployed/released in this environment)",
                e.name
            ),
            (None, Some(t)) => {
                format!("the latest version of {pacticipant} with tag {t} (no such version exists)")
            }
            (None, None) if self.main_branch => format!(
                "the latest version of {pacticipant} from the main branch (no versions exist for this branch)"
            ),
            (None, None) => {
                format!("the latest version of {pacticipant} (no such version exists)")
            }
        }
    }
}
