//! Provider contracts (PactFlow's bi-directional contract testing): a provider publishes
//! the OpenAPI document a version of it serves, and the broker compares consumers' pacts
//! with it (`docintel-contract-check`, the comparison the governance gate runs too). A
//! comparison is recorded like a verification of the pact by that provider version, so
//! the matrix and can-i-deploy count it; a real verification of the same pact and
//! provider version takes precedence.
//!
//! When: on a document's publication, with the pacts of each consumer's newest
//! [`RECENT`] versions and of its versions deployed or released; on a pact's publication,
//! with the documents of the provider's newest [`RECENT`] versions and of its versions
//! deployed or released. Each (pact content, document content) pair is compared once.
//!
//! Records: [`PROVIDER_CONTRACT`] (scope provider, key version: which document, by
//! digest, and the provider's self-verification), [`PROVIDER_CONTRACT_CONTENT`] (scope
//! provider, key digest: the document, stored once) and [`CONTRACT_COMPARISON`] (scope
//! the consumer–provider pair, key pact digest and document digest).

use std::collections::{BTreeSet, HashMap};

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::names::{check_name, content_sha};
use crate::quota::Usage;
use crate::records::{self, PactRef, Verification, Version, now, pair, split_pair};
use crate::{Broker, BrokerError, Caller, MAX_PACT_BYTES, Result};

pub const PROVIDER_CONTRACT: &str = "provider-contract";
pub const PROVIDER_CONTRACT_CONTENT: &str = "provider-contract-content";
pub const CONTRACT_COMPARISON: &str = "contract-comparison";

/// How many of a pacticipant's newest versions an eager comparison looks at.
pub const RECENT: usize = 20;
/// The most mismatches a comparison keeps: enough to act on, and a bound on its record.
pub const MAX_KEPT_MISMATCHES: usize = 20;
/// The longest mismatch a comparison keeps, in bytes: descriptions and field names are
/// the consumer's to write.
pub const MAX_MISMATCH_BYTES: usize = 1024;
/// How a comparison names itself where a verification names its verifier.
pub const VERIFIER: &str = "docintel-contract-check";

/// A provider version's published document.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ProviderContract {
    /// The document's digest ([`PROVIDER_CONTRACT_CONTENT`]'s key).
    pub sha: String,
    pub content_type: String,
    /// Whether the provider's own tests found it serves the document.
    pub self_verified: bool,
    #[serde(default)]
    pub verifier: Option<String>,
    #[serde(default)]
    pub verifier_version: Option<String>,
    pub created_at: String,
}

/// One pact content compared with one document.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ContractComparison {
    pub pact_sha: String,
    pub contract_sha: String,
    pub success: bool,
    /// What the pact asks for that the document does not promise (at most
    /// [`MAX_KEPT_MISMATCHES`]), or why they could not be compared.
    pub mismatches: Vec<String>,
    /// How many there were in all.
    pub mismatch_count: usize,
    pub created_at: String,
}

/// What a provider sends (both of PactFlow's shapes are read into it).
#[derive(Debug, Clone, Default)]
pub struct ProviderContractRequest {
    /// Base64 of the document.
    pub content: Option<String>,
    /// `oas`.
    pub specification: Option<String>,
    pub content_type: Option<String>,
    /// The provider's own verification of the document.
    pub self_verification: Value,
    pub branch: Option<String>,
    pub tags: Vec<String>,
    pub build_url: Option<String>,
}

/// What a publication did.
#[derive(Debug)]
pub struct PublishedContract {
    pub provider: String,
    pub version: Version,
    pub contract: ProviderContract,
    /// Comparisons made with consumers' pacts: (consumer, its version, success).
    pub compared: Vec<(String, String, bool)>,
}

impl Broker {
    /// `PUT /contracts/provider/P/version/V` and `POST /provider-contracts/provider/P/publish`:
    /// the provider's owner (or an admin, alone for docintel) publishes a version's
    /// document; it is compared with the consumers' pacts at once.
    pub async fn publish_provider_contract(
        &self,
        caller: Caller,
        provider: &str,
        number: &str,
        request: ProviderContractRequest,
    ) -> Result<PublishedContract> {
        check_name("pacticipantVersionNumber", number)?;
        if let Some(b) = &request.branch {
            check_name("branch", b)?;
        }
        for t in &request.tags {
            check_name("tags", t)?;
        }
        match request.specification.as_deref() {
            Some("oas") | None => {}
            Some(other) => {
                return Err(BrokerError::invalid(
                    "contractType",
                    format!(
                        "'{other}' is not supported: only oas (OpenAPI 3.x) documents are compared"
                    ),
                ));
            }
        }
        let content_type = request
            .content_type
            .clone()
            .unwrap_or_else(|| "application/json".to_owned());
        if !content_type.to_ascii_lowercase().contains("json") {
            return Err(BrokerError::invalid(
                "contentType",
                format!(
                    "'{content_type}' is not accepted: publish the document as JSON (application/json); YAML is not read, so that no alias can expand it"
                ),
            ));
        }
        let Some(success) = request.self_verification["success"].as_bool() else {
            return Err(BrokerError::invalid(
                "verificationResults",
                "success (true or false) is required: whether the provider's own tests found it serves the document",
            ));
        };
        let decoded = request
            .content
            .as_deref()
            .and_then(|s| {
                base64::engine::general_purpose::STANDARD
                    .decode(s.trim())
                    .ok()
            })
            .ok_or_else(|| BrokerError::invalid("content", "is not valid Base64"))?;
        if decoded.len() > MAX_PACT_BYTES {
            return Err(BrokerError::invalid(
                "content",
                format!("the document is larger than {MAX_PACT_BYTES} bytes"),
            ));
        }
        let document: Value = serde_json::from_slice(&decoded).map_err(|e| {
            BrokerError::invalid(
                "content",
                format!("could not be parsed as application/json: {e}"),
            )
        })?;
        let doc = docintel_contract_check::Document::new(document.clone())
            .map_err(|e| BrokerError::invalid("content", e.to_string()))?;
        self.claim(caller, provider).await?;
        let sha = content_sha(&document);
        if let Some(existing) = self
            .records
            .get::<ProviderContract>(PROVIDER_CONTRACT, provider, number)
            .await?
            && existing.value.sha != sha
            && !self.allow_modification
        {
            return Err(BrokerError::Conflict(vec![format!(
                "Cannot change the provider contract of {provider} version {number}: publish the new document with a new version number"
            )]));
        }
        let new_content = self
            .records
            .get::<Value>(PROVIDER_CONTRACT_CONTENT, provider, &sha)
            .await?
            .is_none();
        let adding = Usage {
            bytes: if new_content {
                document.to_string().len() as u64
            } else {
                0
            },
            ..self.new_version(provider, number).await?
        };
        self.make_room(caller, adding).await?;
        let version = self
            .touch_version(
                provider,
                number,
                request.branch.as_deref(),
                &request.tags,
                request.build_url.as_deref(),
            )
            .await?;
        self.records
            .insert(PROVIDER_CONTRACT_CONTENT, provider, &sha, &document)
            .await?;
        let contract = ProviderContract {
            sha: sha.clone(),
            content_type,
            self_verified: success,
            verifier: request.self_verification["verifier"]
                .as_str()
                .map(str::to_owned),
            verifier_version: request.self_verification["verifierVersion"]
                .as_str()
                .map(str::to_owned),
            created_at: now(),
        };
        let stored = self
            .records
            .upsert(PROVIDER_CONTRACT, provider, number, contract.clone(), |c| {
                *c = contract.clone()
            })
            .await?;
        let compared = self.compare_with_consumers(provider, &sha, &doc).await?;
        Ok(PublishedContract {
            provider: provider.to_owned(),
            version,
            contract: stored,
            compared,
        })
    }

    /// Deletes a provider's published documents (of one version, or all), and a document
    /// no remaining version published (comparisons stay: they belong to the contents).
    pub(crate) async fn forget_provider_contracts(
        &self,
        provider: &str,
        number: Option<&str>,
    ) -> Result<()> {
        self.records
            .delete(PROVIDER_CONTRACT, provider, number)
            .await?;
        let kept: BTreeSet<String> = self
            .records
            .list::<ProviderContract>(PROVIDER_CONTRACT, Some(provider))
            .await?
            .into_iter()
            .map(|c| c.value.sha)
            .collect();
        // Only the keys are needed, but a list reads bodies: documents are few per
        // provider, and this runs on an operator's delete.
        for content in self
            .records
            .0
            .broker_list(PROVIDER_CONTRACT_CONTENT, Some(provider))
            .await?
        {
            if !kept.contains(&content.key) {
                self.records
                    .delete(PROVIDER_CONTRACT_CONTENT, provider, Some(&content.key))
                    .await?;
            }
        }
        Ok(())
    }

    /// A provider version's published contract and its document.
    pub async fn provider_contract(
        &self,
        provider: &str,
        number: &str,
    ) -> Result<(ProviderContract, Value)> {
        let missing = || {
            BrokerError::NotFound(format!(
                "No provider contract found for provider '{provider}' version '{number}'"
            ))
        };
        let contract = self
            .records
            .get::<ProviderContract>(PROVIDER_CONTRACT, provider, number)
            .await?
            .ok_or_else(missing)?
            .value;
        let document = self
            .records
            .get::<Value>(PROVIDER_CONTRACT_CONTENT, provider, &contract.sha)
            .await?
            .ok_or_else(missing)?
            .value;
        Ok((contract, document))
    }

    /// Compares a newly published document with the pacts its consumers' recent and
    /// deployed or released versions published.
    async fn compare_with_consumers(
        &self,
        provider: &str,
        contract_sha: &str,
        doc: &docintel_contract_check::Document,
    ) -> Result<Vec<(String, String, bool)>> {
        let scopes = self
            .records
            .pairs(records::PACT, |_, p| p == provider)
            .await?;
        let mut compared = Vec::new();
        for scope in scopes {
            let Some((consumer, _)) = split_pair(&scope) else {
                continue;
            };
            let pacts = self
                .records
                .list::<PactRef>(records::PACT, Some(&scope))
                .await?;
            let wanted = self
                .wanted_versions(consumer, pacts.iter().map(|p| p.key.as_str()))
                .await?;
            let mut done: HashMap<String, bool> = HashMap::new();
            for p in pacts.iter().filter(|p| wanted.contains(p.key.as_str())) {
                let success = match done.get(&p.value.sha) {
                    Some(s) => *s,
                    None => {
                        let content = self.content(consumer, provider, &p.value.sha).await?;
                        let result = self
                            .compare_once(&scope, &p.value.sha, contract_sha, &content, doc)
                            .await?;
                        done.insert(p.value.sha.clone(), result.success);
                        result.success
                    }
                };
                compared.push((consumer.to_owned(), p.key.clone(), success));
            }
        }
        Ok(compared)
    }

    /// Compares a newly published pact with the documents of the provider's recent and
    /// deployed or released versions (called as the pact is stored).
    pub(crate) async fn compare_with_provider(
        &self,
        consumer: &str,
        provider: &str,
        pact_sha: &str,
        pact: &Value,
    ) -> Result<()> {
        let contracts = self
            .records
            .list::<ProviderContract>(PROVIDER_CONTRACT, Some(provider))
            .await?;
        if contracts.is_empty() {
            return Ok(());
        }
        let wanted = self
            .wanted_versions(provider, contracts.iter().map(|c| c.key.as_str()))
            .await?;
        let shas: BTreeSet<&str> = contracts
            .iter()
            .filter(|c| wanted.contains(c.key.as_str()))
            .map(|c| c.value.sha.as_str())
            .collect();
        let scope = pair(consumer, provider);
        for sha in shas {
            let Some(document) = self
                .records
                .get::<Value>(PROVIDER_CONTRACT_CONTENT, provider, sha)
                .await?
            else {
                continue;
            };
            let Ok(doc) = docintel_contract_check::Document::new(document.value) else {
                continue;
            };
            self.compare_once(&scope, pact_sha, sha, pact, &doc).await?;
        }
        Ok(())
    }

    /// Of `numbers` (a pacticipant's versions, oldest first), the newest [`RECENT`] and
    /// those deployed or released.
    async fn wanted_versions<'a>(
        &self,
        pacticipant: &str,
        numbers: impl DoubleEndedIterator<Item = &'a str>,
    ) -> Result<BTreeSet<String>> {
        let mut wanted: BTreeSet<String> = numbers.rev().take(RECENT).map(str::to_owned).collect();
        wanted.extend(
            self.current(pacticipant, true, true)
                .await?
                .into_iter()
                .map(|d| d.version),
        );
        Ok(wanted)
    }

    /// The comparison of a pact content with a document, made and recorded once.
    async fn compare_once(
        &self,
        scope: &str,
        pact_sha: &str,
        contract_sha: &str,
        pact: &Value,
        doc: &docintel_contract_check::Document,
    ) -> Result<ContractComparison> {
        let key = format!("{pact_sha}:{contract_sha}");
        if let Some(done) = self
            .records
            .get::<ContractComparison>(CONTRACT_COMPARISON, scope, &key)
            .await?
        {
            return Ok(done.value);
        }
        let (mismatches, count) = match docintel_contract_check::compare(pact, &[doc]) {
            Ok(c) => {
                let count = c.mismatches.len();
                let kept = c
                    .mismatches
                    .iter()
                    .take(MAX_KEPT_MISMATCHES)
                    .map(|m| truncate(m.to_string()))
                    .collect();
                (kept, count)
            }
            Err(e) => (vec![e.to_string()], 1),
        };
        let comparison = ContractComparison {
            pact_sha: pact_sha.to_owned(),
            contract_sha: contract_sha.to_owned(),
            success: count == 0,
            mismatches,
            mismatch_count: count,
            created_at: now(),
        };
        tracing::info!(
            pair = scope.replace('\u{1f}', " → "),
            success = comparison.success,
            mismatches = count,
            "pact compared with the provider's OpenAPI document"
        );
        self.records
            .insert(CONTRACT_COMPARISON, scope, &key, &comparison)
            .await?;
        Ok(comparison)
    }

    /// The comparisons of the pairs in `scopes`, as verifications by every provider
    /// version that published the compared document (for the matrix), oldest first.
    pub(crate) async fn comparisons_as_verifications(
        &self,
        scopes: &[String],
    ) -> Result<Vec<(String, Verification)>> {
        let comparisons = self
            .records
            .list_in::<ContractComparison>(CONTRACT_COMPARISON, scopes)
            .await?;
        if comparisons.is_empty() {
            return Ok(Vec::new());
        }
        let providers: BTreeSet<String> = comparisons
            .iter()
            .filter_map(|c| split_pair(&c.scope).map(|(_, p)| p.to_owned()))
            .collect();
        let providers: Vec<String> = providers.into_iter().collect();
        // Which versions of each provider published which document.
        let mut versions: HashMap<(String, String), Vec<(String, bool)>> = HashMap::new();
        for c in self
            .records
            .list_in::<ProviderContract>(PROVIDER_CONTRACT, &providers)
            .await?
        {
            versions
                .entry((c.scope.clone(), c.value.sha.clone()))
                .or_default()
                .push((c.key, c.value.self_verified));
        }
        let mut out = Vec::new();
        for c in comparisons {
            let Some((_, provider)) = split_pair(&c.scope) else {
                continue;
            };
            let key = (provider.to_owned(), c.value.contract_sha.clone());
            for (number, self_verified) in versions.get(&key).into_iter().flatten() {
                let mut mismatches = Vec::new();
                if !self_verified {
                    mismatches.push(format!(
                        "the provider's own verification of the OpenAPI document of version {number} failed"
                    ));
                }
                let count = mismatches.len() + c.value.mismatch_count;
                mismatches.extend(c.value.mismatches.iter().cloned());
                out.push((
                    c.scope.clone(),
                    Verification {
                        id: format!("{}-{}", c.value.pact_sha, number),
                        sha: c.value.pact_sha.clone(),
                        provider_version: number.clone(),
                        success: c.value.success && *self_verified,
                        build_url: None,
                        verified_by: json!({
                            "implementation": VERIFIER,
                            "version": env!("CARGO_PKG_VERSION"),
                            "mismatches": mismatches,
                            "mismatchCount": count,
                        }),
                        test_results: Value::Null,
                        created_at: c.value.created_at.clone(),
                        // A comparison is not a replay of the pact: it never changes the
                        // pact's WIP or pending status.
                        wip: false,
                        pending: None,
                    },
                ));
            }
        }
        Ok(out)
    }
}

/// `text`, cut to [`MAX_MISMATCH_BYTES`] at a character boundary.
fn truncate(mut text: String) -> String {
    if text.len() > MAX_MISMATCH_BYTES {
        let mut end = MAX_MISMATCH_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

/// The mismatches a verification made by a comparison carries (those kept, and how
/// many there were), if it is one.
pub fn comparison_mismatches(v: &Verification) -> Option<(Vec<String>, usize)> {
    (v.verified_by["implementation"] == VERIFIER).then(|| {
        let kept: Vec<String> = v.verified_by["mismatches"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m.as_str().map(str::to_owned))
            .collect();
        let count = v.verified_by["mismatchCount"]
            .as_u64()
            .map_or(kept.len(), |n| n as usize);
        (kept, count)
    })
}
