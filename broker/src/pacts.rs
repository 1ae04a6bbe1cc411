//! Pacts: publication (checked whole before anything is written), content by digest,
//! and the latest pacts of a provider.

use std::collections::BTreeMap;

use base64::Engine;
use serde_json::Value;

use crate::broker::version_notice;
use crate::names::{check_name, check_pacticipant_name, content_sha, pact_problem};
use crate::quota::{MAX_CONTRACTS, Usage};
use crate::records::{self, PactRef, Stored, Version, now, pair};
use crate::requests::PublishRequest;
use crate::{Broker, BrokerError, Caller, MAX_PACT_BYTES, Result};

/// A pact as the broker serves it.
#[derive(Debug, Clone)]
pub struct Pact {
    pub consumer: String,
    pub provider: String,
    pub consumer_version: String,
    pub sha: String,
    pub content: Value,
    pub created_at: String,
}

/// What a publication did, for the response.
#[derive(Debug)]
pub struct Published {
    pub pacticipant: String,
    pub version: Version,
    pub pacts: Vec<Pact>,
    /// `(type, text)` notices, as the Pact Broker words them.
    pub notices: Vec<(&'static str, String)>,
}

impl Broker {
    // ---- pacts ----

    /// `POST /contracts/publish`: every contract is checked before anything is written,
    /// so a refused publication stores nothing.
    pub async fn publish(&self, caller: Caller, request: PublishRequest) -> Result<Published> {
        let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut fail = |field: &str, message: String| {
            errors.entry(field.to_owned()).or_default().push(message);
        };
        let name = request.pacticipant_name.clone().unwrap_or_default();
        let number = request
            .pacticipant_version_number
            .clone()
            .unwrap_or_default();
        for (field, value) in [
            ("pacticipantName", &name),
            ("pacticipantVersionNumber", &number),
        ] {
            let checked = if field == "pacticipantName" {
                check_pacticipant_name(field, value)
            } else {
                check_name(field, value)
            };
            if let Err(BrokerError::Invalid(e)) = checked {
                for (f, m) in e {
                    m.into_iter().for_each(|m| fail(&f, m));
                }
            }
        }
        let contracts = request.contracts.unwrap_or_default();
        if contracts.is_empty() {
            fail("contracts", "must be filled".to_owned());
        }
        if contracts.len() > MAX_CONTRACTS {
            return Err(BrokerError::invalid(
                "contracts",
                format!("at most {MAX_CONTRACTS} contracts may be published at once"),
            ));
        }
        let mut pacts = Vec::new();
        for (i, c) in contracts.iter().enumerate() {
            let consumer = c.consumer_name.clone().unwrap_or_default();
            let provider = c.provider_name.clone().unwrap_or_default();
            if consumer.is_empty() || provider.is_empty() {
                fail(
                    "contracts",
                    format!("consumerName and providerName are required (at index {i})"),
                );
                continue;
            }
            if consumer != name {
                fail(
                    "contracts",
                    format!(
                        "consumerName ('{consumer}') must match pacticipantName ('{name}') (at index {i})"
                    ),
                );
            }
            if c.specification.as_deref() != Some("pact") {
                fail(
                    "contracts",
                    format!("specification must be one of: pact (at index {i})"),
                );
            }
            if !c
                .content_type
                .as_deref()
                .is_some_and(|t| t.contains("json"))
            {
                fail(
                    "contracts",
                    format!("contentType must be one of: application/json (at index {i})"),
                );
            }
            let decoded = c.content.as_deref().and_then(|s| {
                base64::engine::general_purpose::STANDARD
                    .decode(s.trim())
                    .ok()
            });
            let Some(decoded) = decoded else {
                fail("contracts", format!("is not valid Base64 (at index {i})"));
                continue;
            };
            if decoded.len() > MAX_PACT_BYTES {
                fail(
                    "contracts",
                    format!("the pact is larger than {MAX_PACT_BYTES} bytes (at index {i})"),
                );
                continue;
            }
            let content = match serde_json::from_slice::<Value>(&decoded) {
                Ok(v) => v,
                Err(e) => {
                    fail(
                        "contracts",
                        format!(
                            "content could not be parsed as application/json: {e} (at index {i})"
                        ),
                    );
                    continue;
                }
            };
            if let Some(problem) = pact_problem(&content, &consumer, &provider) {
                fail("contracts", format!("{problem} (at index {i})"));
                continue;
            }
            for (field, value) in [("consumerName", &consumer), ("providerName", &provider)] {
                if let Err(BrokerError::Invalid(e)) = check_pacticipant_name(field, value) {
                    for (f, m) in e {
                        m.into_iter()
                            .for_each(|m| fail(&f, format!("{m} (at index {i})")));
                    }
                }
            }
            pacts.push((provider, content));
        }
        let branch = request.branch.filter(|b| !b.is_empty());
        let tags = request.tags.unwrap_or_default();
        if let Some(b) = &branch
            && let Err(BrokerError::Invalid(e)) = check_name("branch", b)
        {
            errors.extend(e);
        }
        for t in &tags {
            if let Err(BrokerError::Invalid(e)) = check_name("tags", t) {
                errors.extend(e);
            }
        }
        if !errors.is_empty() {
            return Err(BrokerError::Invalid(errors));
        }
        self.claim(caller, &name).await?;
        // Conflicts are found before anything is written, as the Pact Broker does.
        let mut conflicts = Vec::new();
        for (provider, content) in &pacts {
            if let Some(existing) = self
                .records
                .get::<PactRef>(records::PACT, &pair(&name, provider), &number)
                .await?
                && existing.value.sha != content_sha(content)
                && !self.allow_modification
            {
                conflicts.push(format!(
                    "Cannot change the content of the pact for {name} version {number} and provider {provider}, as race conditions will cause unreliable results for can-i-deploy. Each pact must be published with a unique consumer version number. Some Pact libraries generate random data when a concrete value for a type matcher is not specified, and this can cause the contract to mutate - ensure you have given example values for all type matchers. For more information see https://docs.pact.io/go/versioning"
                ));
            }
        }
        if !conflicts.is_empty() {
            return Err(BrokerError::Conflict(conflicts));
        }
        let contents: Vec<(&str, &Value)> = pacts.iter().map(|(p, c)| (p.as_str(), c)).collect();
        let adding = self.adds(&name, &number, &contents).await?;
        self.make_room(caller, adding).await?;
        let version = self
            .touch_version(
                &name,
                &number,
                branch.as_deref(),
                &tags,
                request.build_url.as_deref(),
            )
            .await?;
        let mut notices = vec![("debug", version_notice(&name, &number, &branch, &tags))];
        let mut published = Vec::new();
        for (provider, content) in pacts {
            let before = self.before_publication(&name, &provider).await?;
            let (pact, republished) = self
                .store_pact(caller, &name, &provider, &number, content)
                .await?;
            self.pact_published(&pact, before).await;
            notices.push(("success", match republished {
                Some(true) => format!("Pact successfully republished for {name} version {number} and provider {provider} with no content changes."),
                Some(false) => format!("Pact with changed content published over existing content for {name} version {number} and provider {provider}. This is not recommended in normal circumstances and may indicate that you have not configured your Pact pipeline correctly. For more information see https://docs.pact.io/go/versioning"),
                None => format!("Pact successfully published for {name} version {number} and provider {provider}."),
            }));
            published.push(pact);
        }
        Ok(Published {
            pacticipant: name,
            version,
            pacts: published,
            notices,
        })
    }

    /// `PUT /pacts/provider/P/consumer/C/version/V`: the older, one-pact publication.
    pub async fn put_pact(
        &self,
        caller: Caller,
        consumer: &str,
        provider: &str,
        number: &str,
        content: Value,
    ) -> Result<(Pact, bool)> {
        check_pacticipant_name("consumer", consumer)?;
        check_pacticipant_name("provider", provider)?;
        check_name("consumerVersionNumber", number)?;
        if let Some(problem) = pact_problem(&content, consumer, provider) {
            return Err(BrokerError::invalid("pact", problem));
        }
        self.claim(caller, consumer).await?;
        if let Some(existing) = self
            .records
            .get::<PactRef>(records::PACT, &pair(consumer, provider), number)
            .await?
            && existing.value.sha != content_sha(&content)
            && !self.allow_modification
        {
            return Err(BrokerError::Conflict(vec![format!(
                "Cannot change the content of the pact for {consumer} version {number} and provider {provider}, as race conditions will cause unreliable results for can-i-deploy. Each pact must be published with a unique consumer version number. For more information see https://docs.pact.io/go/versioning"
            )]));
        }
        self.make_room(
            caller,
            self.adds(consumer, number, &[(provider, &content)]).await?,
        )
        .await?;
        self.touch_version(consumer, number, None, &[], None)
            .await?;
        let before = self.before_publication(consumer, provider).await?;
        let (pact, republished) = self
            .store_pact(caller, consumer, provider, number, content)
            .await?;
        self.pact_published(&pact, before).await;
        Ok((pact, republished.is_none()))
    }

    /// What publishing these pacts for a consumer version would add: the version if new,
    /// the providers new to the broker, the pacts new to the version, and their content.
    pub(crate) async fn adds(
        &self,
        consumer: &str,
        number: &str,
        pacts: &[(&str, &Value)],
    ) -> Result<Usage> {
        let mut adding = self.new_version(consumer, number).await?;
        for &(provider, content) in pacts {
            if self.find_pacticipant(provider).await?.is_none() {
                adding.pacticipants += 1;
            }
            if self
                .records
                .get::<PactRef>(records::PACT, &pair(consumer, provider), number)
                .await?
                .is_none()
            {
                adding.pacts += 1;
                adding.bytes += content.to_string().len() as u64;
            }
        }
        Ok(adding)
    }

    /// One version, if `pacticipant` has no version `number` yet: what writing it adds.
    pub(crate) async fn new_version(&self, pacticipant: &str, number: &str) -> Result<Usage> {
        let known = self
            .records
            .get::<Version>(records::VERSION, pacticipant, number)
            .await?
            .is_some();
        Ok(Usage {
            versions: u64::from(!known),
            ..Usage::default()
        })
    }

    /// Stores the content (once per digest) and the version's pact; `Some(same)` when the
    /// version had a pact with this provider already.
    pub(crate) async fn store_pact(
        &self,
        caller: Caller,
        consumer: &str,
        provider: &str,
        number: &str,
        content: Value,
    ) -> Result<(Pact, Option<bool>)> {
        self.ensure_pacticipant(caller, provider).await?;
        let scope = pair(consumer, provider);
        let sha = content_sha(&content);
        self.records
            .insert(records::PACT_CONTENT, &scope, &sha, &content)
            .await?;
        let created_at = now();
        let previous = self
            .records
            .get::<PactRef>(records::PACT, &scope, number)
            .await?
            .map(|e| e.value.sha == sha);
        // Compared with the provider's published documents, if it publishes any.
        self.compare_with_provider(consumer, provider, &sha, &content)
            .await?;
        let stored = self
            .records
            .upsert(
                records::PACT,
                &scope,
                number,
                PactRef {
                    sha: sha.clone(),
                    created_at: created_at.clone(),
                },
                |p| {
                    if p.sha != sha {
                        p.sha = sha.clone();
                        p.created_at = created_at.clone();
                    }
                },
            )
            .await?;
        Ok((
            Pact {
                consumer: consumer.to_owned(),
                provider: provider.to_owned(),
                consumer_version: number.to_owned(),
                sha,
                content,
                created_at: stored.created_at,
            },
            previous,
        ))
    }

    /// The pact a consumer version published for a provider.
    pub async fn pact(&self, consumer: &str, provider: &str, number: &str) -> Result<Pact> {
        let missing = || {
            BrokerError::NotFound(format!(
                "No pact found for consumer '{consumer}' version '{number}' and provider '{provider}'"
            ))
        };
        let r = self
            .records
            .get::<PactRef>(records::PACT, &pair(consumer, provider), number)
            .await?
            .ok_or_else(missing)?;
        let content = self.content(consumer, provider, &r.value.sha).await?;
        Ok(Pact {
            consumer: consumer.to_owned(),
            provider: provider.to_owned(),
            consumer_version: number.to_owned(),
            sha: r.value.sha,
            content,
            created_at: r.value.created_at,
        })
    }

    /// A pact by its content digest (what verifiable pacts link to), with the latest
    /// consumer version that published it.
    pub async fn pact_by_sha(&self, consumer: &str, provider: &str, sha: &str) -> Result<Pact> {
        let content = self.content(consumer, provider, sha).await?;
        let latest = self
            .records
            .list::<PactRef>(records::PACT, Some(&pair(consumer, provider)))
            .await?
            .into_iter()
            .rfind(|p| p.value.sha == sha);
        let (version, created_at) = latest
            .map(|p| (p.key, p.value.created_at))
            .unwrap_or_default();
        Ok(Pact {
            consumer: consumer.to_owned(),
            provider: provider.to_owned(),
            consumer_version: version,
            sha: sha.to_owned(),
            content,
            created_at,
        })
    }

    pub(crate) async fn content(&self, consumer: &str, provider: &str, sha: &str) -> Result<Value> {
        self.records
            .get::<Value>(records::PACT_CONTENT, &pair(consumer, provider), sha)
            .await?
            .map(|s| s.value)
            .ok_or_else(|| {
                BrokerError::NotFound(format!(
                    "No pact found for consumer '{consumer}' and provider '{provider}' with content {sha}"
                ))
            })
    }

    /// The latest pact of each consumer of `provider` (`pb:latest-provider-pacts`).
    pub async fn latest_provider_pacts(&self, provider: &str) -> Result<Vec<Pact>> {
        self.pacticipant(provider).await?;
        let mut latest: BTreeMap<String, Stored<PactRef>> = BTreeMap::new();
        let pairs = self
            .records
            .pairs(records::PACT, |_, p| p == provider)
            .await?;
        for p in self
            .records
            .list_in::<PactRef>(records::PACT, &pairs)
            .await?
        {
            if let Some((consumer, _)) = records::split_pair(&p.scope) {
                latest.insert(consumer.to_owned(), p);
            }
        }
        let mut pacts = Vec::new();
        for (consumer, r) in latest {
            pacts.push(self.pact(&consumer, provider, &r.key).await?);
        }
        Ok(pacts)
    }
}

/// A consumer version's pact with a provider, without its content: a line of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct PactListing {
    pub consumer: String,
    pub provider: String,
    pub consumer_version: String,
    pub sha: String,
    pub created_at: String,
}

/// Which consumer versions' pacts a list takes.
#[derive(Debug, Clone, Copy)]
pub enum ConsumerVersions<'a> {
    /// On each consumer's main branch.
    MainBranch,
    /// On this branch.
    Branch(&'a str),
    /// Currently deployed to, or released and supported in, this environment (by name or uuid).
    Environment(&'a str),
}

/// A provider state the pacts name, with the consumers whose pacts name it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderState {
    pub name: String,
    pub params: Value,
    pub consumers: Vec<String>,
}

impl Broker {
    /// The latest pact of every consumer–provider pair (the Pact Broker's `/pacts/latest`).
    pub async fn latest_pacts(&self) -> Result<Vec<PactListing>> {
        let pairs = self.records.pairs(records::PACT, |_, _| true).await?;
        let mut latest: BTreeMap<String, Stored<PactRef>> = BTreeMap::new();
        for p in self
            .records
            .list_in::<PactRef>(records::PACT, &pairs)
            .await?
        {
            latest.insert(p.scope.clone(), p);
        }
        Ok(latest.into_values().filter_map(listing).collect())
    }

    /// A provider's pacts published by the consumer versions `which` picks, of one
    /// consumer or of all, oldest first; `latest`: only each consumer's latest of them.
    pub async fn provider_pacts(
        &self,
        provider: &str,
        consumer: Option<&str>,
        which: ConsumerVersions<'_>,
        latest: bool,
    ) -> Result<Vec<PactListing>> {
        self.pacticipant(provider).await?;
        if let Some(c) = consumer {
            self.pacticipant(c).await?;
        }
        let environment = match which {
            ConsumerVersions::Environment(e) => Some(match self.environment_named(e).await? {
                Some(found) => found,
                None => self.environment(e).await?,
            }),
            _ => None,
        };
        let pairs = self
            .records
            .pairs(records::PACT, |c, p| {
                p == provider && consumer.is_none_or(|wanted| wanted == c)
            })
            .await?;
        let mut by_consumer: BTreeMap<String, Vec<Stored<PactRef>>> = BTreeMap::new();
        for p in self
            .records
            .list_in::<PactRef>(records::PACT, &pairs)
            .await?
        {
            if let Some((c, _)) = records::split_pair(&p.scope) {
                by_consumer.entry(c.to_owned()).or_default().push(p);
            }
        }
        let mut out = Vec::new();
        for (c, pacts) in by_consumer {
            let picked: std::collections::HashSet<String> = match (which, &environment) {
                (ConsumerVersions::Environment(_), Some(env)) => self
                    .current(&c, true, true)
                    .await?
                    .into_iter()
                    .filter(|d| d.environment == env.uuid)
                    .map(|d| d.version)
                    .collect(),
                _ => {
                    let branch = match which {
                        ConsumerVersions::Branch(b) => Some(b.to_owned()),
                        _ => self.pacticipant(&c).await?.main_branch,
                    };
                    let Some(branch) = branch else { continue };
                    self.versions(&c)
                        .await?
                        .into_iter()
                        .filter(|v| v.value.branches.contains(&branch))
                        .map(|v| v.key)
                        .collect()
                }
            };
            let mut chosen: Vec<PactListing> = pacts
                .into_iter()
                .filter(|p| picked.contains(&p.key))
                .filter_map(listing)
                .collect();
            if latest && chosen.len() > 1 {
                chosen.drain(..chosen.len() - 1);
            }
            out.extend(chosen);
        }
        Ok(out)
    }

    /// The provider states named by the latest pact of each consumer's main branch (or
    /// of `branch`'s), or by the pacts of the versions in an environment; by name, each
    /// with the consumers that name it (the Pact Broker's `provider-states` resource).
    pub async fn provider_states(
        &self,
        provider: &str,
        which: ConsumerVersions<'_>,
    ) -> Result<Vec<ProviderState>> {
        let latest = !matches!(which, ConsumerVersions::Environment(_));
        let mut states: BTreeMap<(String, String), ProviderState> = BTreeMap::new();
        for p in self.provider_pacts(provider, None, which, latest).await? {
            // One content at a time: only the states are kept.
            let content = self.content(&p.consumer, provider, &p.sha).await?;
            for (name, params) in states_of(&content) {
                let state = states
                    .entry((name.clone(), params.to_string()))
                    .or_insert_with(|| ProviderState {
                        name,
                        params,
                        consumers: Vec::new(),
                    });
                if !state.consumers.contains(&p.consumer) {
                    state.consumers.push(p.consumer.clone());
                }
            }
        }
        Ok(states.into_values().collect())
    }
}

fn listing(p: Stored<PactRef>) -> Option<PactListing> {
    let (consumer, provider) = records::split_pair(&p.scope)?;
    Some(PactListing {
        consumer: consumer.to_owned(),
        provider: provider.to_owned(),
        consumer_version: p.key,
        sha: p.value.sha,
        created_at: p.value.created_at,
    })
}

/// The provider states a pact's interactions (or messages) name: `providerStates`
/// (`[{name, params}]`, pact v3 and v4) or `providerState` (a name, pact v2).
fn states_of(content: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for list in ["interactions", "messages"] {
        for interaction in content[list].as_array().into_iter().flatten() {
            if let Some(name) = interaction["providerState"].as_str() {
                out.push((name.to_owned(), Value::Null));
            }
            for state in interaction["providerStates"]
                .as_array()
                .into_iter()
                .flatten()
            {
                if let Some(name) = state["name"].as_str() {
                    out.push((name.to_owned(), state["params"].clone()));
                }
            }
        }
    }
    out
}
