//! The embedded Pact Broker: the rules of the Pact Broker (pacticipants, versions with
//! branches and tags, pacts by content, verification results, environments, recorded
//! deployments and releases, pending and work-in-progress pacts, the matrix) over the
//! store. The façade serves it under the Pact Broker's HAL API, so the Pact Foundation's
//! own clients work against it unchanged; messages are the Pact Broker's own.
//!
//! Who may write: a pacticipant belongs to the tenant that first publishes as it (pacts
//! as a consumer, verification results as a provider, deployments); other tenants' keys
//! may read it but not publish as it. docintel itself ([`PROVIDER`]) is the platform's:
//! only admin keys publish its verification results and record its deployments, so no
//! tenant can claim it first. Admin keys may do anything, and alone manage environments
//! and delete. The operator may limit the broker to some tenants (`with_tenants`).

mod matrix;
mod quota;
mod records;
mod verifiable;

pub use matrix::{MAX_ROWS, MAX_SELECTORS, Matrix, MatrixQuery, MatrixRow, MatrixSelector};
pub use quota::{MAX_CONTRACTS, Quota, TENANT_QUOTA, Usage};
pub use records::{Deployment, Environment, Pacticipant, Stored, Verification, Version};
pub use verifiable::{ForVerification, Selector, VerifiablePact};

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine;
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use records::{PactRef, Records, now, pair};

use crate::model::TenantId;
use crate::store::Store;

/// Largest pact accepted (decoded). Real pacts are tens of KiB; this bounds the work and
/// the storage one request can buy.
pub const MAX_PACT_BYTES: usize = 2 * 1024 * 1024;
/// Longest pacticipant name, version number, branch, tag or environment name.
pub const MAX_NAME_CHARS: usize = 255;
/// The largest `testResults` of a verification, as JSON: enough for the results of
/// thousands of interactions, and what bounds the storage a result takes.
pub const MAX_TEST_RESULTS_BYTES: usize = 256 * 1024;
/// The pacticipant docintel is in the broker: reserved to admin keys.
pub const PROVIDER: &str = "docintel";
/// Branch names the Pact Broker takes as a pacticipant's main branch when none is set.
const MAIN_BRANCH_CANDIDATES: [&str; 3] = ["develop", "main", "master"];

pub type Result<T, E = BrokerError> = std::result::Result<T, E>;

/// The broker's errors, each answered as the Pact Broker answers it.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// 404 with the Pact Broker's message.
    #[error("{0}")]
    NotFound(String),
    /// 400 `{"errors": {field: [messages]}}`.
    #[error("invalid request: {0:?}")]
    Invalid(BTreeMap<String, Vec<String>>),
    /// 409: republishing different content for a consumer version.
    #[error("{}", .0.join(" "))]
    Conflict(Vec<String>),
    /// 403: the key may not write this.
    #[error("{0}")]
    Forbidden(String),
    /// 413: a part of the request is larger than the broker keeps.
    #[error("{0}")]
    TooLarge(String),
    /// 507: the tenant keeps as much in the broker as it may.
    #[error("{0}")]
    QuotaExceeded(String),
    #[error("too many concurrent changes to the same record; try again")]
    Busy,
    #[error(transparent)]
    Store(#[from] crate::Error),
}

impl BrokerError {
    fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Invalid(BTreeMap::from([(field.to_owned(), vec![message.into()])]))
    }
}

/// Who is calling: a tenant's key, and whether it is an admin key.
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    pub tenant: TenantId,
    pub admin: bool,
}

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

/// `POST /contracts/publish`'s body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublishRequest {
    pub pacticipant_name: Option<String>,
    pub pacticipant_version_number: Option<String>,
    #[serde(default)]
    pub branch: Option<String>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    pub build_url: Option<String>,
    pub contracts: Option<Vec<ContractToPublish>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContractToPublish {
    pub consumer_name: Option<String>,
    pub provider_name: Option<String>,
    pub specification: Option<String>,
    pub content_type: Option<String>,
    pub content: Option<String>,
    #[serde(default)]
    pub on_conflict: Option<String>,
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

/// `POST …/verification-results`' body (what pact_verifier and the CLI send).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerificationRequest {
    pub success: Option<bool>,
    pub provider_application_version: Option<String>,
    #[serde(default)]
    pub build_url: Option<String>,
    #[serde(default)]
    pub verified_by: Value,
    #[serde(default)]
    pub test_results: Value,
}

/// `POST /environments`' body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentRequest {
    pub name: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub production: Option<bool>,
}

/// Checks a name, version number, branch or tag: filled, one line, bounded, and
/// nothing that would make two names look alike or text render out of order (controls,
/// bidirectional overrides, zero-width and other invisible characters, spaces around it).
pub fn check_name(field: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(BrokerError::invalid(field, "can't be blank"));
    }
    if value.chars().any(char::is_control) {
        return Err(BrokerError::invalid(
            field,
            "cannot contain multiple lines or control characters",
        ));
    }
    if value.chars().any(invisible) {
        return Err(BrokerError::invalid(
            field,
            "cannot contain invisible or bidirectional formatting characters",
        ));
    }
    if value.trim() != value {
        return Err(BrokerError::invalid(
            field,
            "cannot start or end with a space",
        ));
    }
    if value == "." || value == ".." {
        return Err(BrokerError::invalid(field, "cannot be '.' or '..'"));
    }
    if value.chars().count() > MAX_NAME_CHARS {
        return Err(BrokerError::invalid(
            field,
            format!("is longer than {MAX_NAME_CHARS} characters"),
        ));
    }
    Ok(())
}

/// [`check_name`] for a pacticipant, which is also who may write as it: in Unicode NFC
/// (so one name has one spelling), without `..`, and in one alphabet (a Latin name with
/// a Cyrillic or Greek look-alike letter would be another team's name to a reader).
pub fn check_pacticipant_name(field: &str, value: &str) -> Result<()> {
    check_name(field, value)?;
    if value.contains("..") {
        return Err(BrokerError::invalid(field, "cannot contain '..'"));
    }
    if !unicode_normalization::is_nfc(value) {
        return Err(BrokerError::invalid(
            field,
            "must be in Unicode normalization form C (NFC)",
        ));
    }
    let scripts = [is_latin, is_cyrillic, is_greek]
        .iter()
        .filter(|script| value.chars().any(script))
        .count();
    if scripts > 1 {
        return Err(BrokerError::invalid(
            field,
            "cannot mix Latin, Cyrillic and Greek letters",
        ));
    }
    Ok(())
}

/// Characters that render as nothing or reorder what follows: zero-width spaces and
/// joiners, bidirectional marks, embeddings, overrides and isolates, the byte-order
/// mark, and the other format characters a name has no use for.
fn invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{180E}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}'
        | '\u{3164}' | '\u{FEFF}' | '\u{FFA0}'
        | '\u{FFF9}'..='\u{FFFB}'
        | '\u{E0000}'..='\u{E007F}'
    )
}

fn is_latin(c: char) -> bool {
    c.is_ascii_alphabetic() || matches!(c, '\u{00C0}'..='\u{024F}' | '\u{1E00}'..='\u{1EFF}')
}

fn is_cyrillic(c: char) -> bool {
    matches!(c, '\u{0400}'..='\u{052F}' | '\u{1C80}'..='\u{1C8F}' | '\u{2DE0}'..='\u{2DFF}' | '\u{A640}'..='\u{A69F}')
}

fn is_greek(c: char) -> bool {
    matches!(c, '\u{0370}'..='\u{03FF}' | '\u{1F00}'..='\u{1FFF}')
}

/// The digest the broker knows a pact's content by (of its canonical JSON, so key order
/// and whitespace do not make two publications of one pact differ).
pub fn content_sha(content: &Value) -> String {
    hex::encode(Sha256::digest(content.to_string().as_bytes()))
}

/// Why `content` is not a pact between `consumer` and `provider` (the reason for a 400).
fn pact_problem(content: &Value, consumer: &str, provider: &str) -> Option<String> {
    let Some(object) = content.as_object() else {
        return Some(format!(
            "parsed content was expected to be a Hash but was a {}",
            json_class(content)
        ));
    };
    for (role, expected, field) in [
        ("consumer", consumer, "consumerName"),
        ("provider", provider, "providerName"),
    ] {
        match object
            .get(role)
            .and_then(|p| p.get("name"))
            .and_then(Value::as_str)
        {
            None => {
                return Some(format!(
                    "was not found at expected path $.{role}.name in the submitted pact file."
                ));
            }
            Some(name) if name != expected => {
                return Some(format!(
                    "{role} name in contract content ('{name}') must match {field} in contract params ('{expected}')"
                ));
            }
            Some(_) => {}
        }
    }
    let interactions = object
        .get("interactions")
        .or_else(|| object.get("messages"));
    match interactions {
        Some(Value::Array(items)) => items.iter().enumerate().find_map(|(i, item)| {
            (!item.get("description").is_some_and(Value::is_string))
                .then(|| format!("interaction {i} of the pact has no description: not a pact"))
        }),
        _ => Some("the pact has no interactions or messages array: not a pact".to_owned()),
    }
}

fn json_class(v: &Value) -> &'static str {
    match v {
        Value::Null => "NilClass",
        Value::Bool(_) => "Boolean",
        Value::Number(_) => "Number",
        Value::String(_) => "String",
        Value::Array(_) => "Array",
        Value::Object(_) => "Hash",
    }
}

/// The embedded broker.
#[derive(Clone)]
pub struct Broker {
    records: Records,
    /// Lets a consumer version's pact be republished with other content (the Pact
    /// Broker's `allow_dangerous_contract_modification`); off by default.
    allow_modification: bool,
    /// Tenants whose keys may use the broker; `None`: any tenant's.
    tenants: Option<Arc<[String]>>,
    /// What each tenant may keep.
    quota: Quota,
}

impl Broker {
    pub fn new(store: Arc<dyn Store>, allow_modification: bool) -> Self {
        Self {
            records: Records(store),
            allow_modification,
            tenants: None,
            quota: TENANT_QUOTA,
        }
    }

    /// Sets what each tenant may keep (default [`TENANT_QUOTA`]).
    pub fn with_quota(mut self, quota: Quota) -> Self {
        self.quota = quota;
        self
    }

    /// Limits the broker to these tenants' keys (admin keys are always admitted).
    pub fn with_tenants(mut self, tenants: Option<Vec<String>>) -> Self {
        self.tenants = tenants.map(Into::into);
        self
    }

    /// Whether a key of `tenant` may use the broker at all.
    pub fn admits(&self, tenant: &str, admin: bool) -> bool {
        admin
            || self
                .tenants
                .as_ref()
                .is_none_or(|t| t.iter().any(|name| name == tenant))
    }

    // ---- pacticipants and versions ----

    pub async fn pacticipants(&self) -> Result<Vec<Pacticipant>> {
        Ok(self
            .records
            .list::<Pacticipant>(records::PACTICIPANT, Some(""))
            .await?
            .into_iter()
            .map(|s| s.value)
            .collect())
    }

    pub async fn pacticipant(&self, name: &str) -> Result<Pacticipant> {
        self.find_pacticipant(name).await?.ok_or_else(|| {
            BrokerError::NotFound(format!("No pacticipant with name '{name}' found"))
        })
    }

    async fn find_pacticipant(&self, name: &str) -> Result<Option<Pacticipant>> {
        Ok(self
            .records
            .get::<Pacticipant>(records::PACTICIPANT, "", name)
            .await?
            .map(|s| s.value))
    }

    /// Admits a write as `name`, creating the pacticipant (owned by the caller) if new.
    /// An existing pacticipant is only ever written by its owner or an admin: one first
    /// named as the other side of someone's pact has no owner, and stays unwritable by
    /// tenants until an operator grants it ([`Broker::grant`]), since whoever wrote first
    /// could otherwise speak for it (verify pacts as that provider, say).
    async fn claim(&self, caller: Caller, name: &str) -> Result<Pacticipant> {
        check_pacticipant_name("pacticipantName", name)?;
        if name == PROVIDER && !caller.admin {
            return Err(BrokerError::Forbidden(format!(
                "only an admin key may publish as pacticipant '{PROVIDER}': it is this platform"
            )));
        }
        let tenant = caller.tenant.0.to_string();
        if !caller.admin && self.find_pacticipant(name).await?.is_none() {
            self.make_room(
                caller,
                Usage {
                    pacticipants: 1,
                    ..Usage::default()
                },
            )
            .await?;
        }
        let initial = Pacticipant {
            name: name.to_owned(),
            main_branch: None,
            owner: (!caller.admin).then(|| tenant.clone()),
            named_by: None,
            created_at: now(),
        };
        let claimed = self
            .records
            .upsert(records::PACTICIPANT, "", name, initial, |_| {})
            .await?;
        match claimed.owner.as_deref() {
            _ if caller.admin => Ok(claimed),
            Some(owner) if owner == tenant => Ok(claimed),
            Some(_) => Err(BrokerError::Forbidden(format!(
                "this key may not write as pacticipant '{name}': it belongs to another team"
            ))),
            None => Err(BrokerError::Forbidden(format!(
                "this key may not write as pacticipant '{name}': it was first named in another \
                 team's pact and has no owner yet; an operator grants it to its team \
                 (PATCH /pacticipants/{name} with an admin key and ownerTenant)"
            ))),
        }
    }

    /// Gives `name` to `tenant` (admin keys only), creating it if new: how a team gets
    /// a pacticipant that others' pacts named first.
    pub async fn grant(&self, caller: Caller, name: &str, tenant: TenantId) -> Result<Pacticipant> {
        require_admin(caller, "grant a pacticipant to a team")?;
        check_pacticipant_name("pacticipantName", name)?;
        if name == PROVIDER {
            return Err(BrokerError::invalid(
                "ownerTenant",
                format!("pacticipant '{PROVIDER}' is this platform's and cannot be granted"),
            ));
        }
        let owner = tenant.0.to_string();
        let initial = Pacticipant {
            name: name.to_owned(),
            main_branch: None,
            owner: Some(owner.clone()),
            named_by: None,
            created_at: now(),
        };
        self.records
            .upsert(records::PACTICIPANT, "", name, initial, |p| {
                p.owner = Some(owner.clone());
            })
            .await
    }

    /// The other side of a pact: created if new, without an owner.
    async fn ensure_pacticipant(&self, caller: Caller, name: &str) -> Result<Pacticipant> {
        check_pacticipant_name("providerName", name)?;
        let initial = Pacticipant {
            name: name.to_owned(),
            main_branch: None,
            owner: None,
            named_by: (!caller.admin).then(|| caller.tenant.0.to_string()),
            created_at: now(),
        };
        self.records
            .upsert(records::PACTICIPANT, "", name, initial, |_| {})
            .await
    }

    /// Sets a pacticipant's main branch (owner or admin).
    pub async fn set_main_branch(
        &self,
        caller: Caller,
        name: &str,
        main_branch: Option<String>,
    ) -> Result<Pacticipant> {
        if let Some(b) = &main_branch {
            check_name("mainBranch", b)?;
        }
        self.claim(caller, name).await?;
        self.records
            .upsert(
                records::PACTICIPANT,
                "",
                name,
                Pacticipant {
                    name: name.to_owned(),
                    main_branch: None,
                    owner: None,
                    named_by: None,
                    created_at: now(),
                },
                |p| p.main_branch = main_branch.clone(),
            )
            .await
    }

    pub async fn versions(&self, pacticipant: &str) -> Result<Vec<Stored<Version>>> {
        self.records.list(records::VERSION, Some(pacticipant)).await
    }

    pub async fn version(&self, pacticipant: &str, number: &str) -> Result<Version> {
        self.pacticipant(pacticipant).await?;
        self.records
            .get::<Version>(records::VERSION, pacticipant, number)
            .await?
            .map(|s| s.value)
            .ok_or_else(|| {
                BrokerError::NotFound(format!(
                    "No version with number '{number}' found for pacticipant '{pacticipant}'"
                ))
            })
    }

    /// Creates the version if new and adds `branch` and `tags` to it; the first branch of
    /// a pacticipant named like a main branch becomes its main branch, as in the Pact
    /// Broker (`auto_detect_main_branch`).
    async fn touch_version(
        &self,
        pacticipant: &str,
        number: &str,
        branch: Option<&str>,
        tags: &[String],
        build_url: Option<&str>,
    ) -> Result<Version> {
        check_name("pacticipantVersionNumber", number)?;
        if let Some(b) = branch {
            check_name("branch", b)?;
        }
        for t in tags {
            check_name("tags", t)?;
        }
        let initial = Version {
            number: number.to_owned(),
            branches: Vec::new(),
            tags: Vec::new(),
            build_url: build_url.map(str::to_owned),
            created_at: now(),
        };
        let version = self
            .records
            .upsert(records::VERSION, pacticipant, number, initial, |v| {
                if let Some(b) = branch
                    && !v.branches.iter().any(|x| x == b)
                {
                    v.branches.push(b.to_owned());
                }
                for t in tags {
                    if !v.tags.contains(t) {
                        v.tags.push(t.clone());
                    }
                }
            })
            .await?;
        if let Some(b) = branch
            && MAIN_BRANCH_CANDIDATES.contains(&b)
        {
            self.records
                .upsert(
                    records::PACTICIPANT,
                    "",
                    pacticipant,
                    Pacticipant {
                        name: pacticipant.to_owned(),
                        main_branch: None,
                        owner: None,
                        named_by: None,
                        created_at: now(),
                    },
                    |p| {
                        if p.main_branch.is_none() {
                            p.main_branch = Some(b.to_owned());
                        }
                    },
                )
                .await?;
        }
        Ok(version)
    }

    /// `PUT /pacticipants/P/branches/B/versions/V` (what the verifier sends before its
    /// results).
    pub async fn add_branch(
        &self,
        caller: Caller,
        pacticipant: &str,
        branch: &str,
        number: &str,
    ) -> Result<Version> {
        self.claim(caller, pacticipant).await?;
        self.make_room(caller, self.new_version(pacticipant, number).await?)
            .await?;
        self.touch_version(pacticipant, number, Some(branch), &[], None)
            .await
    }

    /// `PUT /pacticipants/P/versions/V/tags/T`.
    pub async fn add_tag(
        &self,
        caller: Caller,
        pacticipant: &str,
        number: &str,
        tag: &str,
    ) -> Result<Version> {
        self.claim(caller, pacticipant).await?;
        self.make_room(caller, self.new_version(pacticipant, number).await?)
            .await?;
        self.touch_version(pacticipant, number, None, &[tag.to_owned()], None)
            .await
    }

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
            let (pact, republished) = self
                .store_pact(caller, &name, &provider, &number, content)
                .await?;
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
        let (pact, republished) = self
            .store_pact(caller, consumer, provider, number, content)
            .await?;
        Ok((pact, republished.is_none()))
    }

    /// What publishing these pacts for a consumer version would add: the version if new,
    /// the providers new to the broker, the pacts new to the version, and their content.
    async fn adds(&self, consumer: &str, number: &str, pacts: &[(&str, &Value)]) -> Result<Usage> {
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
    async fn new_version(&self, pacticipant: &str, number: &str) -> Result<Usage> {
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
    async fn store_pact(
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

    async fn content(&self, consumer: &str, provider: &str, sha: &str) -> Result<Value> {
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

    // ---- verification results ----

    /// Records a verification of a pact's content by a provider version.
    pub async fn publish_verification(
        &self,
        caller: Caller,
        consumer: &str,
        provider: &str,
        sha: &str,
        request: VerificationRequest,
    ) -> Result<(Verification, Pact)> {
        let pact = self.pact_by_sha(consumer, provider, sha).await?;
        let Some(success) = request.success else {
            return Err(BrokerError::invalid("success", "is missing"));
        };
        let number = request.provider_application_version.unwrap_or_default();
        check_name("providerApplicationVersion", &number)?;
        let test_results = serde_json::to_string(&request.test_results).unwrap_or_default();
        if test_results.len() > MAX_TEST_RESULTS_BYTES {
            return Err(BrokerError::TooLarge(format!(
                "testResults is {} bytes of JSON; the broker keeps at most {MAX_TEST_RESULTS_BYTES}",
                test_results.len()
            )));
        }
        self.claim(caller, provider).await?;
        let adding = Usage {
            bytes: test_results.len() as u64,
            ..self.new_version(provider, &number).await?
        };
        self.make_room(caller, adding).await?;
        self.touch_version(provider, &number, None, &[], request.build_url.as_deref())
            .await?;
        let verification = Verification {
            id: uuid::Uuid::now_v7().to_string(),
            sha: sha.to_owned(),
            provider_version: number,
            success,
            build_url: request.build_url,
            verified_by: request.verified_by,
            test_results: Value::Null,
            created_at: now(),
        };
        let scope = pair(consumer, provider);
        if !request.test_results.is_null() {
            // Stored as measured: serialised once.
            self.records
                .0
                .broker_insert(
                    records::TEST_RESULTS,
                    &scope,
                    &verification.id,
                    &test_results,
                )
                .await?;
        }
        self.records
            .insert(
                records::VERIFICATION,
                &scope,
                &verification.id,
                &verification,
            )
            .await?;
        Ok((
            Verification {
                test_results: request.test_results,
                ..verification
            },
            pact,
        ))
    }

    /// Verifications of the pair, oldest first.
    pub async fn verifications(&self, consumer: &str, provider: &str) -> Result<Vec<Verification>> {
        Ok(self
            .records
            .list::<Verification>(records::VERIFICATION, Some(&pair(consumer, provider)))
            .await?
            .into_iter()
            .map(|s| s.value)
            .collect())
    }

    pub async fn verification(
        &self,
        consumer: &str,
        provider: &str,
        id: &str,
    ) -> Result<Verification> {
        let scope = pair(consumer, provider);
        let mut verification = self
            .records
            .get::<Verification>(records::VERIFICATION, &scope, id)
            .await?
            .map(|s| s.value)
            .ok_or_else(|| {
                BrokerError::NotFound(format!("No verification result with id '{id}' found"))
            })?;
        if let Some(results) = self
            .records
            .get::<Value>(records::TEST_RESULTS, &scope, id)
            .await?
        {
            verification.test_results = results.value;
        }
        Ok(verification)
    }

    // ---- environments, deployments, releases ----

    pub async fn environments(&self) -> Result<Vec<Environment>> {
        Ok(self
            .records
            .list::<Environment>(records::ENVIRONMENT, Some(""))
            .await?
            .into_iter()
            .map(|s| s.value)
            .collect())
    }

    pub async fn environment(&self, uuid: &str) -> Result<Environment> {
        self.environments()
            .await?
            .into_iter()
            .find(|e| e.uuid == uuid)
            .ok_or_else(|| {
                BrokerError::NotFound(format!("No environment with uuid '{uuid}' found"))
            })
    }

    pub async fn environment_named(&self, name: &str) -> Result<Option<Environment>> {
        Ok(self
            .records
            .get::<Environment>(records::ENVIRONMENT, "", name)
            .await?
            .map(|s| s.value))
    }

    pub async fn create_environment(
        &self,
        caller: Caller,
        request: EnvironmentRequest,
    ) -> Result<Environment> {
        require_admin(caller, "create environments")?;
        let name = request.name.unwrap_or_default();
        check_name("name", &name)?;
        if name.contains(char::is_whitespace) {
            return Err(BrokerError::invalid("name", "cannot contain spaces"));
        }
        let Some(production) = request.production else {
            return Err(BrokerError::invalid("production", "is missing"));
        };
        let environment = Environment {
            uuid: uuid::Uuid::new_v4().to_string(),
            display_name: request.display_name.or_else(|| Some(name.clone())),
            name: name.clone(),
            production,
            created_at: now(),
        };
        if !self
            .records
            .insert(records::ENVIRONMENT, "", &name, &environment)
            .await?
        {
            return Err(BrokerError::invalid(
                "name",
                format!("name '{name}' is already used by an existing environment."),
            ));
        }
        Ok(environment)
    }

    pub async fn delete_environment(&self, caller: Caller, uuid: &str) -> Result<()> {
        require_admin(caller, "delete environments")?;
        let environment = self.environment(uuid).await?;
        self.records
            .delete(records::ENVIRONMENT, "", Some(&environment.name))
            .await?;
        Ok(())
    }

    // ---- deletes (admin) ----

    /// Deletes a pacticipant with everything that belongs to it: its versions, the pacts
    /// it published or was published for, their verification results, its deployments
    /// and releases (the Pact Broker's `DELETE /pacticipants/{name}`).
    pub async fn delete_pacticipant(&self, caller: Caller, name: &str) -> Result<()> {
        require_admin(caller, "delete pacticipants")?;
        self.pacticipant(name).await?;
        for scope in self.pair_scopes(|c, p| c == name || p == name).await? {
            for kind in [
                records::PACT,
                records::PACT_CONTENT,
                records::VERIFICATION,
                records::TEST_RESULTS,
            ] {
                self.records.delete(kind, &scope, None).await?;
            }
        }
        for kind in [records::VERSION, records::DEPLOYMENT, records::RELEASE] {
            self.records.delete(kind, name, None).await?;
        }
        self.records
            .delete(records::PACTICIPANT, "", Some(name))
            .await?;
        Ok(())
    }

    /// Deletes one version of a pacticipant: the pacts it published, the verification
    /// results it made as a provider, its deployments and releases.
    pub async fn delete_version(
        &self,
        caller: Caller,
        pacticipant: &str,
        number: &str,
    ) -> Result<()> {
        require_admin(caller, "delete versions")?;
        self.version(pacticipant, number).await?;
        for scope in self.pair_scopes(|c, _| c == pacticipant).await? {
            self.records
                .delete(records::PACT, &scope, Some(number))
                .await?;
        }
        for scope in self.pair_scopes(|_, p| p == pacticipant).await? {
            for v in self
                .records
                .list::<Verification>(records::VERIFICATION, Some(&scope))
                .await?
            {
                if v.value.provider_version == number {
                    for kind in [records::TEST_RESULTS, records::VERIFICATION] {
                        self.records.delete(kind, &scope, Some(&v.key)).await?;
                    }
                }
            }
        }
        for kind in [records::DEPLOYMENT, records::RELEASE] {
            for d in self
                .records
                .list::<Deployment>(kind, Some(pacticipant))
                .await?
            {
                if d.value.version == number {
                    self.records.delete(kind, pacticipant, Some(&d.key)).await?;
                }
            }
        }
        self.records
            .delete(records::VERSION, pacticipant, Some(number))
            .await?;
        Ok(())
    }

    /// Deletes the pact a consumer version published for a provider (its content stays
    /// while another version shares it; verification results belong to the content).
    pub async fn delete_pact(
        &self,
        caller: Caller,
        consumer: &str,
        provider: &str,
        number: &str,
    ) -> Result<()> {
        require_admin(caller, "delete pacts")?;
        self.pact(consumer, provider, number).await?;
        self.records
            .delete(records::PACT, &pair(consumer, provider), Some(number))
            .await?;
        Ok(())
    }

    /// The consumer–provider scopes holding pacts, content or results, where `which`.
    async fn pair_scopes(&self, which: impl Fn(&str, &str) -> bool) -> Result<Vec<String>> {
        let mut scopes = std::collections::BTreeSet::new();
        for kind in [records::PACT, records::PACT_CONTENT, records::VERIFICATION] {
            scopes.extend(self.records.pairs(kind, &which).await?);
        }
        Ok(scopes.into_iter().collect())
    }

    /// Records that `number` of `pacticipant` is deployed to (or, `release`, released in)
    /// the environment. A deployment replaces the one before it to the same target.
    pub async fn record(
        &self,
        caller: Caller,
        pacticipant: &str,
        number: &str,
        environment: &str,
        target: Option<String>,
        release: bool,
    ) -> Result<(Deployment, Environment)> {
        let environment = self.environment(environment).await?;
        self.version(pacticipant, number).await?;
        self.claim(caller, pacticipant).await?;
        let kind = if release {
            records::RELEASE
        } else {
            records::DEPLOYMENT
        };
        let existing = self
            .records
            .list::<Deployment>(kind, Some(pacticipant))
            .await?;
        if release
            && let Some(same) = existing.iter().find(|d| {
                d.value.current
                    && d.value.version == number
                    && d.value.environment == environment.uuid
            })
        {
            return Ok((same.value.clone(), environment));
        }
        let target = target.filter(|t| !t.is_empty());
        if !release {
            for old in existing.iter().filter(|d| {
                d.value.current
                    && d.value.environment == environment.uuid
                    && d.value.target == target
            }) {
                self.records
                    .upsert(kind, pacticipant, &old.key, old.value.clone(), |d| {
                        d.current = false;
                        d.ended_at = Some(now());
                    })
                    .await?;
            }
        }
        let deployment = Deployment {
            uuid: uuid::Uuid::new_v4().to_string(),
            version: number.to_owned(),
            environment: environment.uuid.clone(),
            target,
            current: true,
            created_at: now(),
            ended_at: None,
        };
        self.records
            .insert(kind, pacticipant, &deployment.uuid, &deployment)
            .await?;
        Ok((deployment, environment))
    }

    /// What is currently deployed (and, with `released`, released and supported).
    pub async fn current(
        &self,
        pacticipant: &str,
        deployed: bool,
        released: bool,
    ) -> Result<Vec<Deployment>> {
        let mut out = Vec::new();
        for (kind, wanted) in [
            (records::DEPLOYMENT, deployed),
            (records::RELEASE, released),
        ] {
            if wanted {
                out.extend(
                    self.records
                        .list::<Deployment>(kind, Some(pacticipant))
                        .await?
                        .into_iter()
                        .map(|s| s.value)
                        .filter(|d| d.current),
                );
            }
        }
        Ok(out)
    }
}

fn require_admin(caller: Caller, what: &str) -> Result<()> {
    if caller.admin {
        Ok(())
    } else {
        Err(BrokerError::Forbidden(format!(
            "only an admin key may {what}"
        )))
    }
}

fn version_notice(name: &str, number: &str, branch: &Option<String>, tags: &[String]) -> String {
    let mut text = format!("Created {name} version {number}");
    if let Some(b) = branch {
        text.push_str(&format!(" with branch {b}"));
    }
    if !tags.is_empty() {
        text.push_str(&format!(
            "{} tags {}",
            if branch.is_some() { " and" } else { " with" },
            tags.join(", ")
        ));
    }
    text
}

#[cfg(test)]
mod tests;
