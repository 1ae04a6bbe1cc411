//! The matrix and can-i-deploy: which consumer and provider versions have been verified
//! together, and whether a version may be deployed alongside what an environment runs.

use super::records::{PactRef, Version};
use super::{Broker, BrokerError, Environment, Result, Verification};

/// One `q[]` of a matrix query.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MatrixSelector {
    pub pacticipant: String,
    pub version: Option<String>,
    pub branch: Option<String>,
    pub tag: Option<String>,
    pub latest: bool,
    pub main_branch: bool,
}

/// `GET /matrix` (and `/can-i-deploy`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MatrixQuery {
    pub selectors: Vec<MatrixSelector>,
    /// Deploying into this environment: the other side is what it runs.
    pub environment: Option<String>,
    /// Deploying alongside the latest versions with this tag (the older way).
    pub tag: Option<String>,
    /// The other side is each pacticipant's latest version.
    pub latest: bool,
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

impl Broker {
    pub async fn matrix(&self, query: &MatrixQuery) -> Result<Matrix> {
        if query.selectors.is_empty() {
            return Err(BrokerError::invalid(
                "q",
                "Please provide 1 or more version selectors.",
            ));
        }
        let environment = match &query.environment {
            Some(name) => Some(self.environment_named(name).await?.ok_or_else(|| {
                BrokerError::invalid(
                    "environment",
                    format!("Environment with name '{name}' does not exist"),
                )
            })?),
            None => None,
        };
        let mut reasons: Vec<(&'static str, String)> = Vec::new();
        let mut sides = Vec::new();
        for s in &query.selectors {
            if self.find_pacticipant(&s.pacticipant).await?.is_none() {
                return Err(BrokerError::invalid(
                    "q",
                    format!("Pacticipant {} not found", s.pacticipant),
                ));
            }
            let side = self.resolve(s).await?;
            if side.versions.is_empty() {
                reasons.push(("error", missing_version(s)));
            }
            sides.push(side);
        }
        let mut rows = Vec::new();
        let mut unknown = 0;
        if let [side] = sides.as_slice() {
            let others = Others {
                environment: environment.as_ref(),
                tag: query.tag.as_deref(),
            };
            for version in &side.versions {
                self.deploy_rows(
                    &side.name,
                    version,
                    &others,
                    &mut rows,
                    &mut reasons,
                    &mut unknown,
                )
                .await?;
            }
            if environment.is_none() && query.tag.is_none() {
                reasons.push((
                    "warning",
                    "WARN: It is recommended to specify the environment into which you are deploying. Without the environment, this result will not be reliable.".to_owned(),
                ));
            }
        } else {
            for a in &sides {
                for b in &sides {
                    if a.name != b.name {
                        self.pair_rows(a, b, &mut rows).await?;
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
                    reasons.push((
                        "error",
                        format!(
                            "The verification for the pact between {consumer} and {provider} failed"
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

    async fn resolve(&self, s: &MatrixSelector) -> Result<Side> {
        let all = self.versions(&s.pacticipant).await?;
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
        let mut versions: Vec<Version> = all.into_iter().map(|v| v.value).filter(keep).collect();
        if s.latest && versions.len() > 1 {
            versions.drain(..versions.len() - 1);
        }
        Ok(Side {
            name: s.pacticipant.clone(),
            versions,
        })
    }

    /// Rows for deploying `version` of `name` next to what `others` names: every
    /// provider it has a pact with (which must be there), and every consumer there
    /// with a pact with it.
    async fn deploy_rows(
        &self,
        name: &str,
        version: &Version,
        others: &Others<'_>,
        rows: &mut Vec<MatrixRow>,
        reasons: &mut Vec<(&'static str, String)>,
        unknown: &mut usize,
    ) -> Result<()> {
        let pacts = self.all_pacts().await?;
        // As a consumer: its pacts, verified by the providers' versions there.
        for (consumer, provider, pact) in pacts
            .iter()
            .filter(|(c, _, p)| c == name && p.key == version.number)
        {
            let verifications = self.verifications(consumer, provider).await?;
            match others.versions(self, provider).await? {
                None => {
                    // No environment nor tag: the latest verification of this content.
                    let latest = verifications.iter().rev().find(|v| v.sha == pact.value.sha);
                    let provider_version = match latest {
                        Some(v) => self.version(provider, &v.provider_version).await.ok(),
                        None => None,
                    };
                    rows.push(row(
                        consumer,
                        version,
                        provider,
                        provider_version,
                        &pact.value,
                        latest.cloned(),
                    ));
                }
                Some(there) if there.is_empty() => {
                    *unknown += 1;
                    reasons.push((
                        "error",
                        format!(
                            "There is no verified pact between version {} of {consumer} and a version of {provider} {} (no version is currently recorded as deployed/released in this environment)",
                            version.number,
                            others.describe()
                        ),
                    ));
                }
                Some(there) => {
                    for pv in there {
                        let v = verifications
                            .iter()
                            .rev()
                            .find(|v| v.sha == pact.value.sha && v.provider_version == pv.number)
                            .cloned();
                        rows.push(row(consumer, version, provider, Some(pv), &pact.value, v));
                    }
                }
            }
        }
        // As a provider: the consumers there that have a pact with it.
        let mut consumers: Vec<&String> = pacts
            .iter()
            .filter(|(_, p, _)| p == name)
            .map(|(c, _, _)| c)
            .collect();
        consumers.dedup();
        consumers.sort();
        consumers.dedup();
        for consumer in consumers {
            let Some(there) = others.versions(self, consumer).await? else {
                continue;
            };
            let verifications = self.verifications(consumer, name).await?;
            for cv in there {
                let Some((_, _, pact)) = pacts
                    .iter()
                    .find(|(c, p, r)| c == consumer && p == name && r.key == cv.number)
                else {
                    continue;
                };
                let v = verifications
                    .iter()
                    .rev()
                    .find(|v| v.sha == pact.value.sha && v.provider_version == version.number)
                    .cloned();
                rows.push(row(
                    consumer,
                    &cv,
                    name,
                    Some(version.clone()),
                    &pact.value,
                    v,
                ));
            }
        }
        Ok(())
    }

    /// Rows between the versions of two selectors where `a` is the consumer.
    async fn pair_rows(&self, a: &Side, b: &Side, rows: &mut Vec<MatrixRow>) -> Result<()> {
        let verifications = self.verifications(&a.name, &b.name).await?;
        for cv in &a.versions {
            let Some(pact) = self
                .records
                .get::<PactRef>(
                    super::records::PACT,
                    &super::records::pair(&a.name, &b.name),
                    &cv.number,
                )
                .await?
            else {
                continue;
            };
            for pv in &b.versions {
                let v = verifications
                    .iter()
                    .rev()
                    .find(|v| v.sha == pact.value.sha && v.provider_version == pv.number)
                    .cloned();
                rows.push(row(&a.name, cv, &b.name, Some(pv.clone()), &pact.value, v));
            }
        }
        Ok(())
    }
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
}

impl Others<'_> {
    /// The versions of `pacticipant` there; `None` when neither an environment nor a
    /// tag was given.
    async fn versions(&self, broker: &Broker, pacticipant: &str) -> Result<Option<Vec<Version>>> {
        if let Some(env) = self.environment {
            let mut out = Vec::new();
            for d in broker.current(pacticipant, true, true).await? {
                if d.environment == env.uuid
                    && !out.iter().any(|v: &Version| v.number == d.version)
                    && let Ok(v) = broker.version(pacticipant, &d.version).await
                {
                    out.push(v);
                }
            }
            return Ok(Some(out));
        }
        if let Some(tag) = self.tag {
            let latest = broker
                .versions(pacticipant)
                .await?
                .into_iter()
                .rev()
                .find(|v| v.value.tags.iter().any(|t| t == tag));
            return Ok(Some(latest.map(|v| v.value).into_iter().collect()));
        }
        Ok(None)
    }

    fn describe(&self) -> String {
        match (self.environment, self.tag) {
            (Some(e), _) => format!("currently in {}", e.name),
            (None, Some(t)) => format!("with tag {t}"),
            (None, None) => String::new(),
        }
    }
}
